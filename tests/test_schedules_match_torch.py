"""Registry shapes equal PyTorch's built-in schedulers step by step (1e-12 relative)."""

import math

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

from schedulers.params import Budget
from schedulers.shapes import warmup_epochs
from schedulers.trace import lr_trace

BUDGETS = [1, 7, 50, 200]
LR = 0.01
ETA_MIN = 1e-6


def builtin_trace(make, steps: int, lr: float = LR) -> list[float]:
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=lr)
    scheduler = make(optimizer)
    used = []
    for _ in range(steps):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return used


def assert_close(ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0), f"step {t}: {a!r} != {b!r}"


def per_epoch_cases(E: int):
    w = warmup_epochs(E)
    warm_cosine = (
        (lambda o: torch_sched.SequentialLR(o, [
            torch_sched.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=w),
            torch_sched.CosineAnnealingLR(o, T_max=E - w, eta_min=ETA_MIN)], milestones=[w]))
        if w > 0 else (lambda o: torch_sched.CosineAnnealingLR(o, T_max=E, eta_min=ETA_MIN))
    )
    return {
        "P": ({"power": 1.7}, lambda o: torch_sched.PolynomialLR(o, total_iters=E, power=1.7)),
        "C": ({"infimum_lr": ETA_MIN}, lambda o: torch_sched.CosineAnnealingLR(o, T_max=E, eta_min=ETA_MIN)),
        "E": ({"gamma": 0.93}, lambda o: torch_sched.ExponentialLR(o, gamma=0.93)),
        "L": ({"end_factor": 0.02},
              lambda o: torch_sched.LinearLR(o, start_factor=1.0, end_factor=0.02, total_iters=E)),
        "S": ({"step_size": max(1, E // 3), "gamma": 0.3},
              lambda o: torch_sched.StepLR(o, step_size=max(1, E // 3), gamma=0.3)),
        "CR": ({"t_0": max(1, E // 5), "t_mult": 2, "infimum_lr": ETA_MIN},
               lambda o: torch_sched.CosineAnnealingWarmRestarts(o, T_0=max(1, E // 5), T_mult=2, eta_min=ETA_MIN)),
        "WC": ({"infimum_lr": ETA_MIN}, warm_cosine),
    }


@pytest.mark.parametrize("epochs", BUDGETS)
@pytest.mark.parametrize("code", ["P", "C", "E", "L", "S", "CR", "WC"])
def test_per_epoch_schedule_equals_builtin(code: str, epochs: int) -> None:
    params, make = per_epoch_cases(epochs)[code]
    # The E LRs used in training, one per epoch.
    ours = lr_trace(code, Budget(epochs, lr=LR), params)
    theirs = builtin_trace(make, epochs)
    assert_close(ours, theirs)


@pytest.mark.parametrize("epochs", BUDGETS)
@pytest.mark.parametrize("steps_per_epoch", [3, 17])
def test_one_cycle_equals_builtin(epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    ours = lr_trace("OC", Budget(epochs, steps_per_epoch, LR), {"pct_start": 0.25})
    # cycle_momentum=False: the comparison is about LR only (SGD here has no momentum to cycle).
    theirs = builtin_trace(lambda o: torch_sched.OneCycleLR(
        o, max_lr=LR, total_steps=total, pct_start=0.25, cycle_momentum=False), total)
    assert_close(ours, theirs)


@pytest.mark.parametrize("epochs", BUDGETS)
@pytest.mark.parametrize("steps_per_epoch", [3, 17])
def test_cyclic_equals_builtin(epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    up = max(1, total // 4)
    ours = lr_trace("CY", Budget(epochs, steps_per_epoch, LR), {"step_size_up": up, "infimum_lr": 1e-4})
    # cycle_momentum=False: otherwise CyclicLR also cycles the optimizer's momentum / Adam beta1.
    theirs = builtin_trace(lambda o: torch_sched.CyclicLR(
        o, base_lr=1e-4, max_lr=LR, step_size_up=up, mode="triangular", cycle_momentum=False), total)
    assert_close(ours, theirs)
