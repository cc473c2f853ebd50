"""An EpochBench plugin: a schedule of your own and an SGD-with-momentum recipe, benchmarked
beside the built-in contenders without editing EpochBench.

    python run_all.py --task osc --preset smoke --plugin examples/plugin_schedules.py --schedulers TRI,SGDM,C
    python run_all.py report runs/osc-LSTM_Seq2Seq
    python run_all.py schedulers --plugin examples/plugin_schedules.py      # TRI is listed
    python run_all.py lr-trace TRI --epochs 20 --plugin examples/plugin_schedules.py

A plugin is any Python file (or importable module) that calls the ``register_*`` functions of
``runner.plugins`` when it is imported. The run stores the file's path and sha256 with its
settings: ``worker`` and ``report`` load it again from there, every pool worker loads it, and
resuming the run after the file changed is refused (its numbers could differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optuna.distributions import FloatDistribution

from runner.plugins import register_recipe, register_schedule
from schedulers.params import InvalidParameter, float_range, infimum_lr, searched_float
from schedulers.recipes import ScheduledRecipe, schedule_params
from schedulers.registry import SCHEDULERS, SchedulerSpec

# --- 1. A schedule: one pure function of (step t, horizon T, base LR, its parameters) -> LR. -----
# The registry entry around it gives its defaults, its Optuna search space and its checks; tuning,
# Phase 2, prefix sharing, checkpoints, lr-trace and the report's LR plots all use this function.


def triangle(t: int, horizon: int, base_lr: float, peak: float, infimum_lr: float) -> float:
    """Linear warm-up from base_lr / 10 to base_lr over the first ``peak`` of the run, then a linear
    decay that reaches ``infimum_lr`` at the horizon."""
    top = max(1, round(peak * horizon))
    if t < top:
        return base_lr * (0.1 + 0.9 * t / top)
    return base_lr + (infimum_lr - base_lr) * (t - top) / max(1, horizon - top)


register_schedule(SchedulerSpec(
    "TRI", "Triangular", family="warmup", shape=triangle,
    summary="linear warm-up to lr at peak x E, then linear decay to infimum_lr",
    params=(
        # default 0.3, searched on U[0.05, 0.5]; any value in (0, 1) is valid; "relative": a fraction of the run
        searched_float("peak", 0.3, 0.05, 0.5, float_range(0.0, 1.0), "fraction of the run at which the LR peaks",
                       kind="relative"),
        infimum_lr(),  # the LR floor, searched on logU[1e-7, 1e-4] like the built-in schedules'
    ),
))


# --- 2. A recipe: what a study tunes and how it builds the optimizer. ------------------------------
# ScheduledRecipe is the built-in "registry schedule over Adam/AdamW"; this one keeps its schedule
# (cosine, the registry's C) and swaps the optimizer for SGD with Nesterov momentum, tuning the
# momentum too. Any subclass of schedulers.recipes.Recipe works; the trainer only calls its contract.

SGD_WEIGHT_DECAY = 5e-4  # coupled (L2) weight decay, the usual choice for SGD


@dataclass(frozen=True)
class SGDMomentumCosine(ScheduledRecipe):
    """SGD + Nesterov momentum under cosine annealing: tunes lr, momentum and the LR floor."""

    @property
    def name(self) -> str:
        return "SGDM"

    def search_space(self, epochs: int) -> dict[str, Any]:
        return {**super().search_space(epochs), "momentum": FloatDistribution(0.8, 0.99)}

    def defaults(self, epochs: int) -> dict[str, Any]:
        return {**super().defaults(epochs), "momentum": 0.9}

    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        if not 0.0 <= params["momentum"] < 1.0:
            raise InvalidParameter(f"SGDM: momentum={params['momentum']!r}; allowed: [0, 1)")
        super().validate(schedule_only(params), budgets)

    def build(self, parameters, params: dict[str, Any], epochs: int):
        import torch

        from schedulers.torch_adapter import build_scheduler

        optimizer = torch.optim.SGD(parameters, lr=params["lr"], momentum=params["momentum"], nesterov=True,
                                    weight_decay=SGD_WEIGHT_DECAY)
        schedule = build_scheduler(optimizer, self.spec.code, schedule_params(schedule_only(params)),
                                   self.budget(epochs, params["lr"]))
        return optimizer, schedule

    def planned_lrs(self, params: dict[str, Any], epochs: int) -> list[float]:
        return super().planned_lrs(schedule_only(params), epochs)


def schedule_only(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the cosine schedule (and the base LR) take: all but the momentum."""
    return {k: v for k, v in params.items() if k != "momentum"}


# The factory gets the run's settings by keyword: steps_per_epoch, optimizer (the run's --optimizer,
# ignored here: this recipe is SGD), lr (the default base LR of the task/model) and infimum_lr.
register_recipe("SGDM", lambda *, steps_per_epoch, optimizer, lr, infimum_lr: SGDMomentumCosine(
    SCHEDULERS["C"], steps_per_epoch, optimizer, lr, infimum_lr))
