"""The one order in which EpochBench advances an optimizer and its LR schedule.

The trainer, the schedule replay that positions a resumed run, the traces prefix sharing
compares, ``lr-trace`` and the report's tuned schedules all step through :class:`Stepper`, so a
traced LR is the LR a training run used, bit for bit (prefix sharing is exact because of it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler


class Stepper:
    """Steps ``optimizer`` and, per batch or per epoch, its ``scheduler`` (None: no schedule)."""

    def __init__(self, optimizer: Optimizer, scheduler: LRScheduler | None, per_batch: bool) -> None:
        self.optimizer, self.scheduler, self.per_batch = optimizer, scheduler, per_batch

    def lr(self) -> float:
        """The step size the next step takes: the LR, times D-Adaptation/Prodigy's d where there is one."""
        group = self.optimizer.param_groups[0]
        return float(group["lr"]) * float(group.get("d", 1.0))

    def step(self) -> float:
        """One optimizer step (gradients already computed), then a per-batch schedule's; returns the LR used."""
        used = self.lr()
        self.optimizer.step()
        if self.scheduler is not None and self.per_batch:
            self.scheduler.step()
        return used

    def end_epoch(self) -> None:
        if self.scheduler is not None and not self.per_batch:
            self.scheduler.step()

    def replay(self, epochs: int, steps_per_epoch: int) -> list[tuple[float, ...]]:
        """Step through ``epochs`` epochs on an optimizer holding no gradients (its parameters stay
        unchanged); returns, per epoch, the LR of each step."""
        trace = []
        for _ in range(epochs):
            trace.append(tuple(self.step() for _ in range(steps_per_epoch)))
            self.end_epoch()
        return trace
