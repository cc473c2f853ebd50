"""The generated damped-oscillator data: physics, shapes, seeded disjoint splits."""

import numpy as np
import pytest
import torch

from errors import UserError
from tasks import DataConfig, get_task
from tasks.data import Split, split_fractions
from tasks.osc import DT, MASS, STIFFNESS, X0, ZETAS, build_windows, simulate


def test_undamped_series_conserves_energy_and_matches_cosine() -> None:
    s = simulate(0.0)
    energy = 0.5 * s["v"] ** 2 + 0.5 * STIFFNESS * s["x"] ** 2
    # Average-acceleration Newmark conserves the energy of a linear undamped system exactly (up to rounding).
    assert np.max(np.abs(energy / energy[0] - 1)) < 1e-10
    assert len(s["t"]) == 10_001 and s["a"][0] == -20.0


def test_undamped_phase_error_is_newmark_period_elongation() -> None:
    """Average-acceleration Newmark is the trapezoidal rule on (x, v): for x'' = -w^2 x it maps
    x_n = x0 cos(n theta) exactly, with theta = 2 arctan(w dt / 2) (Hughes 1987, The Finite Element Method,
    ch. 9; its period elongation is T_num / T - 1 = (w dt)^2 / 12 + O(dt^4)). So the series
    lags the exact cosine by (w - w_num) t, and |x - x0 cos(w t)| <= x0 (w - w_num) t: with
    w = sqrt(200), dt = 1e-3 that is 2.36e-5 after 1 s and 2.36e-4 at t = 10 s."""
    s = simulate(0.0)
    t, x = s["t"], s["x"]
    omega = np.sqrt(STIFFNESS / MASS)
    omega_num = 2.0 / DT * np.arctan(omega * DT / 2.0)
    # The discrete solution itself, over all 10 s.
    assert np.max(np.abs(x - X0 * np.cos(omega_num * t))) < 1e-12
    # The phase error against the exact solution: within the derived envelope and reaching it.
    error = np.abs(x - X0 * np.cos(omega * t))
    envelope = X0 * (omega - omega_num) * t
    assert np.all(error <= envelope + 1e-12)
    assert error.max() == pytest.approx(envelope[-1], rel=0.02)
    assert error[t <= 1.0].max() < 2.4e-5
    # The measured period (zero crossings) shows the textbook elongation.
    i = np.nonzero(np.sign(x[:-1]) != np.sign(x[1:]))[0]
    zeros = t[i] - x[i] * DT / (x[i + 1] - x[i])
    period = 2 * (zeros[-1] - zeros[0]) / (len(zeros) - 1)
    assert period / (2 * np.pi / omega) - 1 == pytest.approx((omega * DT) ** 2 / 12, rel=1e-3)


def test_window_columns_are_the_normalised_series_at_their_offsets() -> None:
    """Each window is hist + pred consecutive samples of one series; columns x, v, a, zeta, each
    min-max normalised over all series of the dtype together."""
    hist, pred = 7, 3
    windows = build_windows("total", hist, pred)["windows"]
    series = [simulate(z) for z in ZETAS["total"]]
    per_series = len(series[0]["x"]) - (hist + pred) + 1
    assert windows.shape == (3 * per_series, hist + pred, 4)
    columns = {}
    for name in ("x", "v", "a"):
        joined = np.concatenate([s[name] for s in series])
        columns[name] = [(s[name] - joined.min()) / (joined.max() - joined.min()) for s in series]
    columns["zeta"] = [np.full(len(s["x"]), z / max(ZETAS["total"])) for s, z in zip(series, ZETAS["total"])]
    last = per_series - 1
    # (window index, series, start offset): first, middle and last windows of the series, across boundaries.
    for k, zeta_index, start in [(0, 0, 0), (1234, 0, 1234), (last, 0, last), (per_series, 1, 0),
                                 (2 * per_series + 4321, 2, 4321), (3 * per_series - 1, 2, last)]:
        for c, name in enumerate(("x", "v", "a", "zeta")):
            expected = columns[name][zeta_index][start:start + hist + pred]
            assert np.allclose(windows[k, :, c], expected, rtol=0, atol=1e-6), (k, name)


def test_loaded_inputs_and_targets_are_windows_of_x_v_a(tmp_path) -> None:
    """Mode M: every sample's input (hist steps) and target (pred steps) are the x, v, a columns of one window."""
    hist, pred = 7, 3
    windows = build_windows("simple", hist, pred)["windows"]
    index = {w[:, :3].tobytes(): k for k, w in enumerate(windows)}
    data = get_task("osc").load(DataConfig(data_dir=tmp_path, subset_ratio=0.02,
                                           options={"mode": "M", "hist": hist, "pred": pred}))
    for split in (data.train, data.val, data.test):
        joined = torch.cat([split.inputs[0], split.target], dim=1).numpy()
        assert all(sample.tobytes() in index for sample in joined)
    assert len({index[s.tobytes()] for s in torch.cat([data.train.inputs[0], data.train.target], 1).numpy()}) == \
        len(data.train)


@pytest.mark.parametrize("zeta", [0.01, 0.02])
def test_damped_amplitude_decays(zeta: float) -> None:
    x = simulate(zeta)["x"]
    per_second = [np.abs(x[i * 1000:(i + 1) * 1000]).max() for i in range(10)]
    assert all(a > b for a, b in zip(per_second, per_second[1:]))
    # Envelope 0.1 exp(-zeta omega t): after ~9.5 s the ratio is close to exp(-zeta sqrt(200) 9).
    assert per_second[9] / per_second[0] == pytest.approx(np.exp(-zeta * np.sqrt(200) * 9), rel=0.05)


@pytest.mark.parametrize("mode, n_in, n_out", [("S", 1, 1), ("MS", 3, 1), ("M", 3, 3)])
def test_window_shapes_per_mode(tmp_path, mode: str, n_in: int, n_out: int) -> None:
    options = {"mode": mode, "hist": 20, "pred": 10, "dtype": "total"}
    data = get_task("osc").load(DataConfig(data_dir=tmp_path, options=options))
    total = 3 * (10_001 - 30 + 1)
    assert len(data.train) + len(data.val) + len(data.test) == total
    assert len(data.val) == len(data.test) == round(0.1 * total)
    assert data.train.inputs[0].shape[1:] == (20, n_in)
    assert data.train.target.shape[1:] == (10, n_out)
    assert data.model_kwargs == {"input_size": n_in, "output_size": n_out, "pred": 10}
    assert 0.0 <= float(data.train.inputs[0].min()) and float(data.train.inputs[0].max()) <= 1.0


def test_split_is_seeded_and_disjoint(tmp_path) -> None:
    index = Split((torch.arange(1000),), torch.arange(1000))
    train, val, test = split_fractions(index, (0.1, 0.1), seed=3)
    ids = [set(s.target.tolist()) for s in (train, val, test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert set.union(*ids) == set(range(1000))
    again = split_fractions(index, (0.1, 0.1), seed=3)
    assert torch.equal(again[1].target, val.target)
    assert not torch.equal(split_fractions(index, (0.1, 0.1), seed=4)[1].target, val.target)

    first = get_task("osc").load(DataConfig(data_dir=tmp_path, subset_ratio=0.1, split_seed=7))
    second = get_task("osc").load(DataConfig(data_dir=tmp_path, subset_ratio=0.1, split_seed=7))
    other = get_task("osc").load(DataConfig(data_dir=tmp_path, subset_ratio=0.1, split_seed=8))
    assert torch.equal(first.val.target, second.val.target)
    assert not torch.equal(first.val.target, other.val.target)


def test_unknown_dtype_is_a_user_error(tmp_path) -> None:
    with pytest.raises(UserError, match="--dtype 'wobbly' is unknown; allowed: simple, damped, total"):
        get_task("osc").load(DataConfig(data_dir=tmp_path, options={"dtype": "wobbly"}))
