"""osc: forecast a damped harmonic oscillator (Newmark-beta data) with LSTM_Seq2Seq."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from errors import UserError
from tasks.cache import load_or_build
from tasks.spec import DataConfig, ModelDefaults, TaskOption, TaskSpec, TorchLoss

if TYPE_CHECKING:
    from tasks.data import TaskData

MASS, STIFFNESS, X0, V0 = 1.0, 200.0, 0.1, 0.0
DT, T_END = 1e-3, 10.0
ZETAS = {"simple": (0.0,), "damped": (0.01,), "total": (0.0, 0.01, 0.02)}
MODES = {"S": ((0,), (0,)), "MS": ((0, 1, 2), (0,)), "M": ((0, 1, 2), (0, 1, 2))}  # column indices in, out


def simulate(zeta: float, dt: float = DT, t_end: float = T_END) -> dict[str, np.ndarray]:
    """Newmark-beta (average acceleration, gamma 1/2, beta 1/4) for m x'' + c x' + k x = 0."""
    gamma, beta = 0.5, 0.25
    m, k = MASS, STIFFNESS
    c = 2.0 * zeta * np.sqrt(k * m)
    steps = int(round(t_end / dt))
    x, v, a = np.empty(steps + 1), np.empty(steps + 1), np.empty(steps + 1)
    x[0], v[0], a[0] = X0, V0, -(c * V0 + k * X0) / m
    denominator = m + gamma * c * dt + beta * k * dt**2
    for i in range(steps):
        a[i + 1] = -(k * x[i] + (c + k * dt) * v[i]
                     + ((1 - gamma) * c * dt + 0.5 * (1 - 2 * beta) * k * dt**2) * a[i]) / denominator
        v[i + 1] = v[i] + (1 - gamma) * dt * a[i] + gamma * dt * a[i + 1]
        x[i + 1] = x[i] + dt * v[i] + 0.5 * dt**2 * ((1 - 2 * beta) * a[i] + 2 * beta * a[i + 1])
    return {"t": np.linspace(0.0, steps * dt, steps + 1), "x": x, "v": v, "a": a}


def _min_max(columns: np.ndarray) -> np.ndarray:
    low, high = columns.min(axis=0), columns.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return (columns - low) / span


def build_windows(dtype: str, hist: int, pred: int) -> dict[str, np.ndarray]:
    """Columns x, v, a, zeta min-max normalised over the dtype's series; windows per series."""
    series = [simulate(z) for z in ZETAS[dtype]]
    columns = [np.stack([s["x"], s["v"], s["a"], np.full_like(s["x"], z)], axis=1)
               for s, z in zip(series, ZETAS[dtype])]
    normalised = _min_max(np.concatenate(columns)).astype(np.float32)
    length = len(columns[0])
    windows = [np.lib.stride_tricks.sliding_window_view(normalised[i * length:(i + 1) * length], hist + pred, axis=0)
               for i in range(len(columns))]
    return {"windows": np.ascontiguousarray(np.concatenate(windows).transpose(0, 2, 1))}


def check_window(options: dict) -> None:
    if options["hist"] + options["pred"] > int(T_END / DT):
        raise UserError(f"--hist + --pred must be <= {int(T_END / DT)} (the series length), "
                        f"got {options['hist']} + {options['pred']}")


def load(config: DataConfig) -> TaskData:
    import torch

    from tasks.data import Split, TaskData, seeded_subset, split_fractions

    dtype, mode, hist, pred = (config.options[k] for k in ("dtype", "mode", "hist", "pred"))
    key = {"dtype": dtype, "hist": hist, "pred": pred, "dt": DT, "t_end": T_END, "v": 1}
    windows = torch.from_numpy(load_or_build(config.data_dir / "osc", "osc", key,
                                             lambda: build_windows(dtype, hist, pred))["windows"])
    cols_in, cols_out = MODES[mode]
    everything = Split((windows[:, :hist, list(cols_in)],), windows[:, hist:, list(cols_out)])
    everything = seeded_subset(everything, config.subset_ratio, config.split_seed)
    train, val, test = split_fractions(everything, (0.1, 0.1), config.split_seed)
    return TaskData(train, val, test, model_kwargs={"input_size": len(cols_in), "output_size": len(cols_out),
                                                    "pred": pred})


TASK = TaskSpec(
    name="osc",
    models={"LSTM_Seq2Seq": ModelDefaults(lr=0.01)},
    batch_size=64,
    loss=TorchLoss("HuberLoss"),
    classification=False,
    loader=load,
    options=(
        TaskOption("dtype", str, "simple", "series: simple (zeta 0), damped (0.01) or total (all three)",
                   choices=tuple(ZETAS)),
        TaskOption("mode", str, "S", "S (x -> x), MS (x, v, a -> x) or M (x, v, a -> x, v, a)", choices=tuple(MODES)),
        TaskOption("hist", int, 50, "history length in time steps", smoke=20, minimum=1),
        TaskOption("pred", int, 50, "prediction length in time steps", smoke=10, minimum=1),
    ),
    check_options=check_window,
    smoke={"subset_ratio": 0.01},
)
