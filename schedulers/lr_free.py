"""LR-free optimizers in the registry style: fixed or searched LR, own parameters, hooks."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from registry import Registry
from schedulers.params import InvalidParameter, Param, Tunable, fixed_float, float_range, searched_float

if TYPE_CHECKING:  # the optimizers import torch when built; the registry itself stays torch-free
    import torch


@runtime_checkable
class SwitchesModes(Protocol):
    """An optimizer that trains at one point and evaluates at another (Schedule-Free's y and x sequences)."""

    def train(self) -> None: ...

    def eval(self) -> None: ...


@dataclass(frozen=True)
class LRFreeSpec(Tunable):
    name: str
    _: KW_ONLY
    package: str
    params: tuple[Param, ...]
    build: Callable[..., torch.optim.Optimizer]
    summary: str
    step: str  # the parameter scaling the optimizer's step size (what the transfer phase multiplies)
    switches_modes: bool = False  # needs optimizer.train()/.eval() around evaluation (ScheduleFree)
    # Whether the optimizer's state and hyperparameters ignore the run's length, so runs of any
    # budget agree step for step (prefix sharing). Schedule-Free's warm-up is a fraction of the run.
    horizon_free: bool = False

    @property
    def label(self) -> str:
        return self.name

    def create(self, parameters: Iterable[torch.nn.Parameter], values: dict[str, Any], *,
               total_steps: int, weight_decay: float = 0.0) -> torch.optim.Optimizer:
        """The optimizer; Prodigy and D-Adaptation print a line for every optimizer built (one per
        trial and run), which is swallowed to keep the terminal to EpochBench's own progress."""
        with contextlib.redirect_stdout(io.StringIO()):
            return self.build(parameters, weight_decay=weight_decay, total_steps=total_steps, **values)

    def train_mode(self, optimizer: torch.optim.Optimizer) -> None:
        """Call before training steps (ScheduleFree trains at its y sequence)."""
        if self.switches_modes:
            self._switching(optimizer).train()

    def eval_mode(self, optimizer: torch.optim.Optimizer) -> None:
        """Call before evaluation (ScheduleFree evaluates at its averaged x sequence)."""
        if self.switches_modes:
            self._switching(optimizer).eval()

    def _switching(self, optimizer: torch.optim.Optimizer) -> SwitchesModes:
        if not isinstance(optimizer, SwitchesModes):
            raise TypeError(f"{self.name} switches modes, but {type(optimizer).__name__} has no train()/eval()")
        return optimizer


def _prodigy(parameters, *, weight_decay: float, total_steps: int, d_coef: float) -> torch.optim.Optimizer:
    from prodigyopt import Prodigy
    return Prodigy(parameters, lr=1.0, d_coef=d_coef, weight_decay=weight_decay)


def _dadapt(parameters, *, weight_decay: float, total_steps: int, growth_rate: float,
            lr: float = 1.0) -> torch.optim.Optimizer:
    from dadaptation import DAdaptAdam
    return DAdaptAdam(parameters, lr=lr, growth_rate=growth_rate, weight_decay=weight_decay, decouple=True)


def _schedule_free(parameters, *, weight_decay: float, total_steps: int, lr: float,
                   warmup_frac: float) -> torch.optim.Optimizer:
    from schedulefree import AdamWScheduleFree
    return AdamWScheduleFree(parameters, lr=lr, warmup_steps=int(warmup_frac * total_steps),
                             weight_decay=weight_decay)


LR_FREE: Registry[LRFreeSpec] = Registry("LR-free optimizer", error=InvalidParameter, entries={s.name: s for s in [
    LRFreeSpec("Prodigy", package="prodigyopt", build=_prodigy, horizon_free=True, step="d_coef",
               summary="Prodigy (lr = 1, estimates D)", params=(
        searched_float("d_coef", 1.0, 0.1, 10.0, float_range(0.0, float("inf")), "scale of the estimated step size",
                       log=True),
    )),
    LRFreeSpec("DAdapt", package="dadaptation", build=_dadapt, horizon_free=True, step="lr",
               summary="D-Adaptation Adam (lr = 1)", params=(
        searched_float("growth_rate", 1.02, 1.01, 2.0, float_range(1.0, float("inf")),
                       "max growth of the D estimate per step"),
        fixed_float("lr", 1.0, float_range(0.0, float("inf")), "multiplier of the estimated step size (not tuned)"),
    )),
    LRFreeSpec("ScheduleFree", package="schedulefree", build=_schedule_free, switches_modes=True, step="lr",
               summary="Schedule-Free AdamW (no schedule; train/eval modes)", params=(
        searched_float("lr", 2.5e-3, 1e-4, 5e-2, float_range(0.0, 1.0), "base LR", log=True),
        searched_float("warmup_frac", 0.05, 0.0, 0.2, float_range(0.0, 1.0, low_open=False),
                       "fraction of the run's steps spent warming up", kind="relative"),
    )),
]})
