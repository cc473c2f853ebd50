"""The built-in recipe of every LR-free optimizer (Prodigy, D-Adaptation, Schedule-Free): no schedule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.distributions import BaseDistribution

from schedulers.lr_free import LRFreeSpec
from schedulers.params import Budget
from schedulers.recipes.contract import Batches, Recipe, weight_decay

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch.optim import Optimizer


@dataclass(frozen=True)
class LRFreeRecipe(Recipe):
    """An LR-free optimizer with no schedule: tunes only the optimizer's own parameters."""

    spec: LRFreeSpec
    steps_per_epoch: int
    optimizer: str = "AdamW"  # the base optimizer chosen for the run: decides the weight decay

    @property
    def name(self) -> str:
        return self.spec.name

    def budget(self, epochs: int) -> Budget:
        return Budget(epochs, self.steps_per_epoch)

    def search_space(self, epochs: int) -> dict[str, BaseDistribution]:
        return self.spec.search_space(self.budget(epochs))

    def defaults(self, epochs: int) -> dict[str, Any]:
        return self.spec.defaults(self.budget(epochs))

    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        self.spec.validate(params, [self.budget(b) for b in budgets])

    @property
    def step_param(self) -> str:
        return self.spec.step

    def scale_steps(self, params: dict[str, Any], multiplier: float) -> dict[str, Any]:
        step = self.spec.step
        return {**params, step: params.get(step, self.spec.defaults(self.budget(1))[step]) * multiplier}

    def build(self, parameters: Iterable[nn.Parameter], params: dict[str, Any],
              epochs: int) -> tuple[Optimizer, None]:
        optimizer = self.spec.create(parameters, params, total_steps=epochs * self.steps_per_epoch,
                                     weight_decay=weight_decay(self.optimizer))
        return optimizer, None

    def schedule_trace(self, params: dict[str, Any], epochs: int) -> list[tuple[float, ...]] | None:
        """No schedule: every epoch alike if the optimizer ignores the horizon (spec.horizon_free)."""
        return [()] * epochs if self.spec.horizon_free else None

    def train_mode(self, optimizer: Optimizer) -> None:
        self.spec.train_mode(optimizer)

    def eval_mode(self, optimizer: Optimizer, model: nn.Module, calibration: Batches) -> None:
        """Schedule-Free evaluates at its averaged weights, whose BatchNorm statistics are recomputed."""
        self.spec.eval_mode(optimizer)
        if self.spec.switches_modes:
            recalibrate_batchnorm(model, calibration())


def recalibrate_batchnorm(model: nn.Module, batches: list[tuple[torch.Tensor, ...]]) -> None:
    """Recompute BatchNorm running statistics at the current weights (for Schedule-Free's x)."""
    import torch
    from torch import nn

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for inputs in batches:
            model(*inputs)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
