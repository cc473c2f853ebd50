"""Recipes: what one study tunes, and how its parameters become an optimizer (and schedule).

A recipe is the one contract between the trainer and a training algorithm, in the spirit of
AlgoPerf's submission API: Phase 1 asks it for a search space and defaults, both phases ask
it to validate parameters at every budget, and the trainer asks it to build the optimizer
and calls its hooks around training and evaluation. The trainer never asks which kind of
recipe it holds, so a new kind (a user's own optimizer + schedule pair) is one subclass.
Torch is imported only where an optimizer is built, so checking a recipe's parameters (the
CLI refusing bad input) costs no torch import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.distributions import BaseDistribution, FloatDistribution

from errors import UserError
from schedulers.lr_free import LR_FREE, LRFreeSpec
from schedulers.params import Budget
from schedulers.registry import SCHEDULERS, SchedulerSpec

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

OPTIMIZERS = ("Adam", "AdamW")  # torch.optim classes
LR_SEARCH = (1e-4, 5e-2)  # Phase 1's base-LR range for scheduled recipes, log-uniform

Batches = Callable[[], "list[tuple[torch.Tensor, ...]]"]


def weight_decay(optimizer: str) -> float:
    """The paper protocol's decoupled weight decay: 0.01 with AdamW, none with Adam."""
    return 0.01 if optimizer == "AdamW" else 0.0


def check_optimizer(optimizer: str) -> None:
    if optimizer not in OPTIMIZERS:
        raise UserError(f"--optimizer {optimizer!r} is unknown; allowed: {', '.join(OPTIMIZERS)}")


class Recipe(ABC):
    """What a study tunes. ``steps_per_epoch`` is fixed by the task's data and batch size."""

    name: str
    steps_per_epoch: int
    per_batch: bool = False  # whether the schedule steps after every batch (else every epoch)

    @abstractmethod
    def search_space(self, epochs: int) -> dict[str, BaseDistribution]:
        """Optuna distributions of the tuned parameters at a budget of ``epochs``."""

    @abstractmethod
    def defaults(self, epochs: int) -> dict[str, Any]:
        """Default values of the tuned parameters: Phase 1's first trial."""

    @abstractmethod
    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        """Raise InvalidParameter if ``params`` cannot work at one of ``budgets``."""

    @abstractmethod
    def build(self, parameters: Iterable[nn.Parameter], params: dict[str, Any],
              epochs: int) -> tuple[Optimizer, LRScheduler | None]:
        """The optimizer for a run of ``epochs``, and its LR schedule if it has one."""

    def schedule_trace(self, params: dict[str, Any], epochs: int) -> list[tuple[float, ...]] | None:
        """Per epoch of a run of ``epochs``, the LR of each optimizer step: everything besides the
        data and the seed that makes one budget's run differ from another's. Two budgets whose
        traces agree over their first k epochs train identically over those epochs (prefix sharing).
        None: the recipe cannot say (the default), so its runs are never shared."""
        return None

    def schedule_at(self, params: dict[str, Any], epochs: int,
                    epoch: int) -> tuple[Optimizer, LRScheduler | None]:
        """This recipe's optimizer on a dummy parameter, with its schedule stepped through the first
        ``epoch`` epochs of a run of ``epochs``: the schedule position a resumed run takes."""
        import torch
        from torch import nn

        optimizer, scheduler = self.build([nn.Parameter(torch.zeros(1))], params, epochs)
        replay(optimizer, scheduler, self.per_batch, self.steps_per_epoch, epoch)
        return optimizer, scheduler

    def train_mode(self, optimizer: Optimizer) -> None:
        """Called before each training epoch."""

    def eval_mode(self, optimizer: Optimizer, model: nn.Module, calibration: Batches) -> None:
        """Called before each evaluation; ``calibration()`` yields training inputs if needed."""


@dataclass(frozen=True)
class ScheduledRecipe(Recipe):
    """A registry schedule over Adam/AdamW: tunes the base LR and the schedule's parameters."""

    spec: SchedulerSpec
    steps_per_epoch: int
    optimizer: str = "AdamW"
    lr: float = 1e-2  # the default base LR
    infimum_lr: float = 1e-6  # the default LR floor

    @property
    def name(self) -> str:
        return self.spec.code

    @property
    def per_batch(self) -> bool:
        return self.spec.per_batch

    def budget(self, epochs: int, lr: float | None = None) -> Budget:
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
        return replay(*self.schedule_at(params, epochs, 0), self.per_batch, self.steps_per_epoch, epochs)


def replay(optimizer: Optimizer, scheduler: LRScheduler | None, per_batch: bool, steps_per_epoch: int,
           epochs: int) -> list[tuple[float, ...]]:
    """Step ``optimizer`` (holding no gradients) and ``scheduler`` through ``epochs`` epochs exactly as
    the trainer does; returns, per epoch, the LR of each step."""
    trace = []
    for _ in range(epochs):
        used = []
        for _ in range(steps_per_epoch):
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None and per_batch:
                scheduler.step()
        if scheduler is not None and not per_batch:
            scheduler.step()
        trace.append(tuple(used))
    return trace


def schedule_params(params: dict[str, Any]) -> dict[str, Any]:
    """A scheduled trial's parameters without the base LR: what the schedule itself takes."""
    return {k: v for k, v in params.items() if k != "lr"}


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


def contender_names() -> list[str]:
    """Every name a study can be run for: scheduler codes, then LR-free optimizers."""
    return [*SCHEDULERS, *LR_FREE]


def make_recipe(name: str, *, steps_per_epoch: int, optimizer: str = "AdamW", lr: float = 1e-2,
                infimum_lr: float = 1e-6) -> Recipe:
    """The recipe a study called ``name`` tunes (a scheduler code or an LR-free optimizer)."""
    check_optimizer(optimizer)
    if name in SCHEDULERS:
        return ScheduledRecipe(SCHEDULERS[name], steps_per_epoch, optimizer, lr, infimum_lr)
    if name in LR_FREE:
        return LRFreeRecipe(LR_FREE[name], steps_per_epoch, optimizer)
    raise UserError(f"unknown scheduler or LR-free optimizer {name!r}; known: {', '.join(contender_names())}")
