"""Shapes without a PyTorch twin: reference values, hand-computed boundaries, invariants."""

import math

import pytest

from schedulers import shapes
from schedulers.params import Budget
from schedulers.registry import SCHEDULERS
from schedulers.trace import lr_trace

H_REFERENCE = [1, 0.941808, 0.882424, 0.821540, 0.758716, 0.693299, 0.624249, 0.549756, 0.466171, 0.363740, 0.134841]
EH_REFERENCE = [1, 0.668726, 0.443525, 0.291127, 0.188549, 0.119943, 0.074408, 0.044455, 0.024941, 0.012283, 0.002523]


@pytest.mark.parametrize("code, reference", [("H", H_REFERENCE), ("EH", EH_REFERENCE)])
def test_hyperbolic_reference_values(code: str, reference: list[float]) -> None:
    spec = SCHEDULERS[code]
    budget = Budget(10, lr=1.0)
    values = [spec.lr_at(t, budget, {"infimum_lr": 1e-3, "upper_bound": 20}) for t in range(11)]
    assert values == pytest.approx(reference, abs=5e-7)


@pytest.mark.parametrize("code", ["H", "EH"])
def test_upper_bound_equal_to_horizon_ends_at_infimum(code: str) -> None:
    final = SCHEDULERS[code].lr_at(40, Budget(40, lr=0.05), {"infimum_lr": 1e-5, "upper_bound": 40})
    assert final == pytest.approx(1e-5, rel=1e-12)


@pytest.mark.parametrize("code", ["WH", "WEH"])
def test_warmup_starts_at_infimum_and_reaches_lr_at_w(code: str) -> None:
    spec, budget = SCHEDULERS[code], Budget(50, lr=0.01)
    params = {"infimum_lr": 1e-5, "upper_bound": 250}
    w = shapes.warmup_epochs(50)
    assert w == 5
    assert spec.lr_at(0, budget, params) == 1e-5
    assert spec.lr_at(2, budget, params) == pytest.approx(1e-5 + (0.01 - 1e-5) * 2 / 5, rel=1e-12)
    assert spec.lr_at(w, budget, params) == pytest.approx(0.01, rel=1e-12)
    # After warm-up the inner schedule runs over the remaining 45 epochs.
    inner, rest = SCHEDULERS[code[1:]], Budget(45, lr=0.01)
    for t in range(w, 51):
        assert spec.lr_at(t, budget, params) == pytest.approx(inner.lr_at(t - w, rest, params), rel=1e-12)


def test_wsd_linear_cooldown_boundaries() -> None:
    # E = 50 -> W = 5; stable-decay horizon 45, cooldown round(0.2 * 45) = 9 epochs from t = 5 + 36 = 41.
    spec, budget = SCHEDULERS["WSD"], Budget(50, lr=0.01)
    params = {"cooldown_frac": 0.2, "cooldown_shape": "linear", "infimum_lr": 0.0}
    lrs = [spec.lr_at(t, budget, params) for t in range(51)]
    assert lrs[0] == 0.0 and lrs[5] == 0.01
    assert all(v == 0.01 for v in lrs[5:42])
    assert lrs[42] == pytest.approx(0.01 * (1 - 1 / 9), rel=1e-12)
    assert lrs[46] == pytest.approx(0.01 * (1 - 5 / 9), rel=1e-12)
    assert lrs[50] == 0.0
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:]))


def test_wsd_one_minus_sqrt_cooldown() -> None:
    spec, budget = SCHEDULERS["WSD"], Budget(50, lr=1.0)
    params = {"cooldown_frac": 0.2, "cooldown_shape": "1-sqrt", "infimum_lr": 0.1}
    assert spec.lr_at(41, budget, params) == 1.0
    assert spec.lr_at(45, budget, params) == pytest.approx(0.1 + 0.9 * (1 - math.sqrt(4 / 9)), rel=1e-12)
    assert spec.lr_at(50, budget, params) == pytest.approx(0.1, rel=1e-12)


def test_inverse_sqrt_boundaries() -> None:
    spec, budget = SCHEDULERS["ISR"], Budget(100, lr=0.02)
    params = {"infimum_lr": 2e-4}
    assert spec.lr_at(0, budget, params) == 2e-4
    assert spec.lr_at(10, budget, params) == pytest.approx(0.02, rel=1e-12)
    assert spec.lr_at(40, budget, params) == pytest.approx(0.02 * math.sqrt(10 / 40), rel=1e-12)
    assert spec.lr_at(100, budget, params) == pytest.approx(0.02 * math.sqrt(0.1), rel=1e-12)
    lrs = [spec.lr_at(t, budget, params) for t in range(101)]
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11]))
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:]))


def test_constant_with_warmup() -> None:
    lrs = lr_trace("CW", Budget(30, lr=0.01), {"infimum_lr": 1e-4})
    assert lrs[0] == 1e-4
    assert lrs[1] == pytest.approx(1e-4 + (0.01 - 1e-4) / 3, rel=1e-12)
    assert lrs[3:] == [0.01] * 27


def test_eml_operator_identity_and_boundaries() -> None:
    for z in [1.0, 1.5, math.e]:
        assert shapes.eml(1.0, shapes.eml(shapes.eml(1.0, z), 1.0)) == pytest.approx(math.log(z), abs=1e-12)
    spec, budget = SCHEDULERS["EML"], Budget(100, lr=1.0)
    params = {"warmup_frac": 0.1, "sharpness": 1.0, "infimum_lr": 0.0}
    lrs = [spec.lr_at(t, budget, params) for t in range(101)]
    assert lrs[0] == 0.0
    assert lrs[5] == pytest.approx(math.log(1 + (math.e - 1) * 0.5), rel=1e-12)
    assert lrs[10] == pytest.approx(1.0, rel=1e-12)
    assert lrs[55] == pytest.approx((math.exp(0.5) - 1) / (math.e - 1), rel=1e-12)
    assert lrs[100] == pytest.approx(0.0, abs=1e-15)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11]))
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:]))
    # Continuity at the warm-up boundary: approaching from below and above meet at 1.
    assert spec.lr_at(9, budget, params) == pytest.approx(math.log(1 + (math.e - 1) * 0.9), rel=1e-12)


def test_eml_sharpness_changes_decay() -> None:
    spec, budget = SCHEDULERS["EML"], Budget(100, lr=1.0)
    sharp = spec.lr_at(55, budget, {"warmup_frac": 0.1, "sharpness": 3.0, "infimum_lr": 0.0})
    assert sharp == pytest.approx((math.exp(1.5) - 1) / (math.exp(3.0) - 1), rel=1e-12)
