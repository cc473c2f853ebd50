"""The generated damped-oscillator data: physics, shapes, seeded disjoint splits."""

import numpy as np
import pytest
import torch

from errors import UserError
from tasks import DataConfig, get_task
from tasks.base import Split, split_fractions
from tasks.osc import STIFFNESS, simulate


def test_undamped_series_conserves_energy_and_matches_cosine() -> None:
    s = simulate(0.0)
    energy = 0.5 * s["v"] ** 2 + 0.5 * STIFFNESS * s["x"] ** 2
    # Average-acceleration Newmark conserves the energy of a linear undamped system exactly (up to rounding).
    assert np.max(np.abs(energy / energy[0] - 1)) < 1e-10
    first_second = s["t"] <= 1.0
    exact = 0.1 * np.cos(np.sqrt(200.0) * s["t"][first_second])
    assert np.max(np.abs(s["x"][first_second] - exact)) < 1e-3
    assert len(s["t"]) == 10_001 and s["a"][0] == -20.0


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
