"""One interface over what a study tunes: a scheduler code (with AdamW/Adam) or an LR-free optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optuna.distributions import BaseDistribution, FloatDistribution

from runner.config import LR_SEARCH, RunConfig
from schedulers.lr_free import LR_FREE, get_lr_free
from schedulers.params import Budget
from schedulers.registry import get_scheduler
from tasks.training import TrainConfig


def own_params(params: dict[str, Any]) -> dict[str, Any]:
    """A scheduler trial's parameters without the base LR: what the schedule itself takes."""
    return {k: v for k, v in params.items() if k != "lr"}


@dataclass(frozen=True)
class Contender:
    name: str
    config: RunConfig
    steps_per_epoch: int

    @property
    def is_lr_free(self) -> bool:
        return self.name in LR_FREE

    def budget(self, epochs: int, lr: float | None = None) -> Budget:
        return self.config.budget(epochs, self.steps_per_epoch, lr)

    def search_space(self) -> dict[str, BaseDistribution]:
        """What Phase 1 tunes: the base LR (schedulers only) plus the entry's own space."""
        budget = self.budget(self.config.epochs)
        if self.is_lr_free:
            return get_lr_free(self.name).search_space(budget)
        return {"lr": FloatDistribution(*LR_SEARCH, log=True), **get_scheduler(self.name).search_space(budget)}

    def default_params(self) -> dict[str, Any]:
        """The registry defaults for the searched parameters: Phase 1's first trial."""
        budget = self.budget(self.config.epochs)
        if self.is_lr_free:
            return get_lr_free(self.name).defaults(budget)
        defaults = get_scheduler(self.name).defaults(budget)
        return {"lr": self.config.lr, **{k: defaults[k] for k in self.search_space() if k != "lr"}}

    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        """Raise InvalidParameter if ``params`` cannot work at one of ``budgets``."""
        if self.is_lr_free:
            get_lr_free(self.name).validate(params, [self.budget(b) for b in budgets])
            return
        spec = get_scheduler(self.name)
        for epochs in budgets:
            budget = self.budget(epochs, params["lr"])
            spec.validate({**spec.defaults(budget), **own_params(params)}, [budget])

    def train_config(self, params: dict[str, Any], epochs: int, seed: int) -> TrainConfig:
        c = self.config
        common = {"model": c.model, "epochs": epochs, "batch_size": c.batch_size, "seed": seed,
                  "optimizer": c.optimizer, "infimum_lr": c.infimum_lr, "device": c.device, "precision": c.precision}
        if self.is_lr_free:
            return TrainConfig(lr=1.0, lr_free=self.name, params=params, **common)
        return TrainConfig(lr=params["lr"], scheduler=self.name, params=own_params(params), **common)
