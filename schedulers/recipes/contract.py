"""The recipe contract: what one study tunes, and how its parameters become an optimizer (and schedule).

A recipe is the one contract between the trainer and a training algorithm, in the spirit of
AlgoPerf's submission API: Phase 1 asks it for a search space and defaults, both phases ask it
to validate parameters at every budget, and the trainer asks it to build the optimizer and calls
its hooks around training and evaluation. The trainer never asks which kind of recipe it holds,
so a new kind (a user's own optimizer + schedule pair) is one subclass, registered with
:func:`schedulers.recipes.register_recipe`. Torch is imported only where an optimizer is built,
so checking a recipe's parameters (the CLI refusing bad input) costs no torch import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from optuna.distributions import BaseDistribution

from errors import UserError
from schedulers.stepping import Stepper

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

OPTIMIZERS = ("Adam", "AdamW")  # torch.optim classes: the base optimizer of the built-in recipes

Batches = Callable[[], "list[tuple[torch.Tensor, ...]]"]


def weight_decay(optimizer: str) -> float:
    """The paper protocol's decoupled weight decay: 0.01 with AdamW, none with Adam."""
    return 0.01 if optimizer == "AdamW" else 0.0


def check_optimizer(optimizer: str) -> None:
    if optimizer not in OPTIMIZERS:
        raise UserError(f"--optimizer {optimizer!r} is unknown; allowed: {', '.join(OPTIMIZERS)}")


class Recipe(ABC):
    """What a study tunes. ``steps_per_epoch`` is fixed by the task's data and batch size."""

    steps_per_epoch: int

    @property
    @abstractmethod
    def name(self) -> str:
        """The contender's name: its key in the studies, the report and ``--schedulers``."""

    @property
    def per_batch(self) -> bool:
        """Whether the schedule steps after every batch (else every epoch)."""
        return False

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

    def stepper(self, optimizer: Optimizer, scheduler: LRScheduler | None) -> Stepper:
        """How a run of this recipe steps its optimizer and schedule (the trainer's and every replay's)."""
        return Stepper(optimizer, scheduler, self.per_batch)

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
        self.stepper(optimizer, scheduler).replay(epoch, self.steps_per_epoch)
        return optimizer, scheduler

    @property
    def step_param(self) -> str | None:
        """The parameter that sets the size of the optimizer's steps, which the transfer phase scales
        (the base LR of a schedule, Prodigy's ``d_coef``); None: this recipe has none (no transfer)."""
        return None

    def scale_steps(self, params: dict[str, Any], multiplier: float) -> dict[str, Any] | None:
        """``params`` with every step size multiplied by ``multiplier`` (transfer phase); None where the
        recipe has no ``step_param``."""
        return None

    def train_mode(self, optimizer: Optimizer) -> None:
        """Called before each training epoch."""

    def eval_mode(self, optimizer: Optimizer, model: nn.Module, calibration: Batches) -> None:
        """Called before each evaluation; ``calibration()`` yields training inputs if needed."""
