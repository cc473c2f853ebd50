"""integral: learn G(u)(y) = int_0^y u(x) dx from Gaussian-random-field inputs (DeepONet / TFONet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tasks.cache import load_or_build
from tasks.spec import DataConfig, ModelDefaults, TaskOption, TaskSpec, TorchLoss

if TYPE_CHECKING:
    from tasks.data import TaskData

GRID, SENSOR_STRIDE, QUERIES, COARSE = 1000, 10, 100, 100
LENGTH_SCALE = (0.1, 0.4)


def sample_fields(n: int, seed: int, chunk: int = 250) -> np.ndarray:
    """n GRF samples on GRID points, squared-exponential kernel, length scale ~ U(0.1, 0.4) each.

    Each field is drawn exactly on COARSE points (Cholesky) and extended to the fine grid by
    its kernel interpolant K_fc K_cc^-1; for these smooth kernels the interpolant's residual
    variance is far below float32 resolution, and it costs ~100x less than a fine Cholesky.
    """
    import torch  # here, not at import: the task registry stays torch-free

    rng = np.random.default_rng(seed)
    scales = torch.from_numpy(rng.uniform(*LENGTH_SCALE, size=n))
    noise = torch.from_numpy(rng.standard_normal((n, COARSE, 1)))
    fine = torch.linspace(0, 1, GRID, dtype=torch.float64)
    coarse = torch.linspace(0, 1, COARSE, dtype=torch.float64)
    d_cc = (coarse[:, None] - coarse[None, :]) ** 2
    d_fc = (fine[:, None] - coarse[None, :]) ** 2
    jitter = 1e-10 * torch.eye(COARSE, dtype=torch.float64)
    fields = []
    for start in range(0, n, chunk):
        two_l2 = 2 * scales[start:start + chunk, None, None] ** 2
        lower = torch.linalg.cholesky(torch.exp(-d_cc / two_l2) + jitter)
        weights = torch.linalg.solve_triangular(lower.mT, noise[start:start + chunk], upper=True)
        fields.append((torch.exp(-d_fc / two_l2) @ weights).squeeze(-1))
    return torch.cat(fields).numpy()


def integrate(u: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """int_0^y of the piecewise-linear interpolant of u (on linspace(0,1,GRID)) at each query y."""
    x = np.linspace(0.0, 1.0, u.shape[-1])
    cumulative = np.concatenate([np.zeros(u.shape[:-1] + (1,)), np.cumsum((u[..., 1:] + u[..., :-1]) / 2 * np.diff(x),
                                                                          axis=-1)], axis=-1)
    left = np.clip(np.searchsorted(x, queries, side="right") - 1, 0, len(x) - 2)
    offset = queries - x[left]
    slope = (u[..., left + 1] - u[..., left]) / (x[left + 1] - x[left])
    return cumulative[..., left] + offset * u[..., left] + 0.5 * slope * offset**2


def normalise(u: np.ndarray) -> np.ndarray:
    """u <- 2 (u - s_min)/(s_max - s_min) - 1 with population bounds mean(max)+std, mean(min)-std."""
    maxima, minima = u.max(axis=1), u.min(axis=1)
    s_max, s_min = maxima.mean() + maxima.std(), minima.mean() - minima.std()
    return 2.0 * (u - s_min) / (s_max - s_min) - 1.0


def build_dataset(n: int, seed: int) -> dict[str, np.ndarray]:
    u = normalise(sample_fields(n, seed))
    y = np.linspace(0.0, 1.0, QUERIES)
    return {"sensors": u[:, ::SENSOR_STRIDE].astype(np.float32), "y": y.astype(np.float32),
            "target": integrate(u, y).astype(np.float32)}


def load(config: DataConfig) -> TaskData:
    import torch

    from tasks.data import Split, TaskData, seeded_subset, split_fractions

    n_functions = config.options["n_functions"]
    key = {"n": n_functions, "seed": config.split_seed, "grid": GRID, "coarse": COARSE, "v": 1}
    arrays = load_or_build(config.data_dir / "integral", "integral", key,
                           lambda: build_dataset(n_functions, config.split_seed))
    everything = Split((torch.from_numpy(arrays["sensors"]),), torch.from_numpy(arrays["target"]))
    everything = seeded_subset(everything, config.subset_ratio, config.split_seed)
    train, val, test = split_fractions(everything, (0.1, 0.1), config.split_seed)
    return TaskData(train, val, test, model_kwargs={"sensors": GRID // SENSOR_STRIDE},
                    shared_inputs=(torch.from_numpy(arrays["y"]),))


TASK = TaskSpec(
    name="integral",
    models={"DeepONet": ModelDefaults(lr=0.005), "TFONet": ModelDefaults(lr=0.001)},
    batch_size=128,
    loss=TorchLoss("MSELoss"),
    classification=False,
    loader=load,
    options=(TaskOption("n_functions", int, 10_000, "number of generated functions", smoke=200, minimum=10),),
)
