"""Turn any registry entry into a real ``torch.optim.lr_scheduler.LRScheduler``."""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from schedulers.params import Budget
from schedulers.registry import SchedulerSpec, get_scheduler


class ScheduleLR(LRScheduler):
    """Evaluates a registry shape in closed form at ``last_epoch`` for every param group.

    Closed form (not recursive) means the state is just the step count: a
    ``state_dict()`` taken mid-run and loaded into a fresh scheduler continues with the
    identical sequence. Steps past the horizon hold the final value.
    """

    def __init__(self, optimizer: Optimizer, code: str, params: dict[str, Any], horizon: int,
                 last_epoch: int = -1) -> None:
        self.code = code
        self.params = dict(params)
        self.horizon = horizon
        super().__init__(optimizer, last_epoch)

    @property
    def spec(self) -> SchedulerSpec:
        return get_scheduler(self.code)

    def get_lr(self) -> list[float | Tensor]:
        t = min(self.last_epoch, self.horizon)
        return [self.spec.shape(t, self.horizon, base, **self.params) for base in self.base_lrs]


def build_scheduler(optimizer: Optimizer, code: str, params: dict[str, Any], budget: Budget) -> ScheduleLR:
    """A validated scheduler for ``budget``; the optimizer's LR is taken as the base LR."""
    spec = get_scheduler(code)
    values = spec.resolve(budget, params)
    return ScheduleLR(optimizer, code, values, spec.horizon(budget))
