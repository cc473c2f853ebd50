"""The built-in recipe of every registry schedule: the schedule over Adam/AdamW, tuning the base LR too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.distributions import BaseDistribution, FloatDistribution

from schedulers.params import DEFAULT_INFIMUM_LR, DEFAULT_LR, Budget
from schedulers.recipes.contract import Recipe, weight_decay
from schedulers.registry import SchedulerSpec

if TYPE_CHECKING:
    from torch import nn
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

LR_SEARCH = (1e-4, 5e-2)  # Phase 1's base-LR range for scheduled recipes, log-uniform
ABSOLUTE_LRS = ("lr", "infimum_lr")  # the parameters of a scheduled recipe that are LRs, not fractions


def schedule_params(params: dict[str, Any]) -> dict[str, Any]:
    """A scheduled trial's parameters without the base LR: what the schedule itself takes."""
    return {k: v for k, v in params.items() if k != "lr"}


@dataclass(frozen=True)
class ScheduledRecipe(Recipe):
    """A registry schedule over Adam/AdamW: tunes the base LR and the schedule's parameters."""

    spec: SchedulerSpec
    steps_per_epoch: int
    optimizer: str = "AdamW"
    lr: float = DEFAULT_LR
    infimum_lr: float = DEFAULT_INFIMUM_LR

    @property
    def name(self) -> str:
        return self.spec.code

    @property
    def per_batch(self) -> bool:
        return self.spec.per_batch

    def budget(self, epochs: int, lr: float | None = None) -> Budget:
        """The schedule's view of a run: its length, batches per epoch, base LR (trial's or default), floor."""
        return Budget(epochs, self.steps_per_epoch, self.lr if lr is None else lr, self.infimum_lr)

    def search_space(self, epochs: int) -> dict[str, BaseDistribution]:
        return {"lr": FloatDistribution(*LR_SEARCH, log=True), **self.spec.search_space(self.budget(epochs))}

    def defaults(self, epochs: int) -> dict[str, Any]:
        budget = self.budget(epochs)
        defaults = self.spec.defaults(budget)
        return {"lr": self.lr, **{k: defaults[k] for k in self.spec.search_space(budget)}}

    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        own = schedule_params(params)
        for epochs in budgets:
            budget = self.budget(epochs, params["lr"])
            self.spec.validate({**self.spec.defaults(budget), **own}, [budget])

    @property
    def step_param(self) -> str:
        return "lr"

    def scale_steps(self, params: dict[str, Any], multiplier: float) -> dict[str, Any]:
        """Every LR of the schedule times ``multiplier``: the base LR and, where tuned, the floor (the only
        absolute LR a registry schedule takes; its other parameters are fractions of the run or the LR)."""
        return {k: v * multiplier if k in ABSOLUTE_LRS else v for k, v in params.items()}

    def build(self, parameters: Iterable[nn.Parameter], params: dict[str, Any],
              epochs: int) -> tuple[Optimizer, LRScheduler]:
        import torch

        from schedulers.torch_adapter import build_scheduler

        optimizer = getattr(torch.optim, self.optimizer)(parameters, lr=params["lr"],
                                                         weight_decay=weight_decay(self.optimizer))
        return optimizer, build_scheduler(optimizer, self.spec.code, schedule_params(params),
                                          self.budget(epochs, params["lr"]))

    def schedule_trace(self, params: dict[str, Any], epochs: int) -> list[tuple[float, ...]]:
        """Adam/AdamW hold no horizon: the built schedule's LRs are the whole dependence on the budget."""
        return self.stepper(*self.schedule_at(params, epochs, 0)).replay(epochs, self.steps_per_epoch)

    def planned_lrs(self, params: dict[str, Any], epochs: int) -> list[float]:
        """The LR after each scheduler step of a run of ``epochs`` (one per epoch, or per batch), from the
        closed form the torch schedule evaluates: what the report draws, without importing torch."""
        budget = self.budget(epochs, params["lr"])
        values = self.spec.resolve(budget, schedule_params(params))
        return [self.spec.lr_at(t, budget, values) for t in range(self.spec.horizon(budget))]
