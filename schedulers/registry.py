"""The scheduler registry: one entry per schedule code, read by the CLI, tasks and runner."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any

from optuna.distributions import IntDistribution

from errors import UserError
from registry import Registry
from schedulers import shapes
from schedulers.families import Family
from schedulers.params import (
    DEFAULT_LR,
    Budget,
    InvalidParameter,
    Param,
    Tunable,
    at_least,
    fixed_float,
    float_range,
    infimum_lr,
    searched_choice,
    searched_float,
    searched_int,
)


@dataclass(frozen=True)
class SchedulerSpec(Tunable):
    """One registry entry: code and name, then everything else by keyword."""

    code: str
    name: str
    _: KW_ONLY
    family: Family
    shape: Callable[..., float]  # lr(t, horizon, base_lr, **params): the one source of truth
    params: tuple[Param, ...]
    summary: str
    per_batch: bool = False  # steps after every batch (OneCycle, Cyclic) instead of every epoch

    def horizon(self, budget: Budget) -> int:
        """Scheduler steps in a run: epochs, or epochs x batches for per-batch schedules."""
        return budget.epochs * (budget.steps_per_epoch if self.per_batch else 1)

    @property
    def label(self) -> str:
        return self.code

    def resolve(self, budget: Budget, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults at ``budget`` with ``overrides`` applied, validated at that budget."""
        values = {**self.defaults(budget), **(overrides or {})}
        self.validate(values, [budget])
        return values

    def lr_at(self, t: int, budget: Budget, values: dict[str, Any]) -> float:
        """LR after ``t`` scheduler steps; steps past the horizon hold the final value."""
        horizon = self.horizon(budget)
        return self.shape(min(t, horizon), horizon, budget.lr, **values)

    @property
    def horizon_free(self) -> bool:
        """Whether the LR at each step ignores the run's length once the parameters are fixed (a tuned run keeps
        its values at every budget): then runs of any budget agree step for step, as LR-free optimizers declare
        (LRFreeSpec.horizon_free). Checked on the defaults at the first of CHECK_BUDGETS against twice its
        length: N, E, S, CY and CR; a warm-up or decay over a fraction of the run (P, C, H, ...) is not."""
        short = CHECK_BUDGETS[0]
        values = self.resolve(short)
        return all(self.lr_at(t, short, values) == self.lr_at(t, replace(short, epochs=2 * short.epochs), values)
                   for t in range(self.horizon(short)))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        allowed = ", ".join(p.name for p in self.params) or "none"
        raise InvalidParameter(f"{self.code}: unknown parameter {name!r}; allowed: {allowed}")


def _upper_bound(with_warmup: bool) -> Param:
    """H/EH upper bound U: must be >= the decay length N = E - W at every budget."""
    def decay_length(b: Budget) -> int:
        return b.epochs - (shapes.warmup_epochs(b.epochs) if with_warmup else 0)

    return searched_int(
        "upper_bound", lambda b: 250, lambda b: IntDistribution(200, 400, step=50),
        (lambda v, b: v >= decay_length(b), lambda b: f"upper_bound >= {decay_length(b)} (the decay length)"),
        "hyperbola upper bound U (epochs)",
    )


def _fraction(name: str, default: float, low: float, high: float, doc: str) -> Param:
    return searched_float(name, default, low, high, float_range(0.0, 1.0), doc, kind="relative")


_POSITIVE = float_range(0.0, math.inf)
_DECAY_FACTOR = float_range(0.0, 1.0, high_open=False)

_HYPERBOLIC = (infimum_lr(), _upper_bound(False))
_HYPERBOLIC_WARM = (infimum_lr(), _upper_bound(True))

SCHEDULERS: Registry[SchedulerSpec] = Registry("scheduler", error=InvalidParameter, entries={s.code: s for s in [
    SchedulerSpec("N", "No scheduler", family="traditional", shape=shapes.constant,
                  params=(), summary="constant base LR (baseline)"),
    SchedulerSpec("P", "PolynomialLR", family="traditional", shape=shapes.polynomial,
                  summary="lr (1 - t/E)^p", params=(
        searched_float("power", 0.5, 0.5, 3.0, _POSITIVE, "polynomial power p"),
    )),
    SchedulerSpec("C", "CosineAnnealingLR", family="traditional", shape=shapes.cosine,
                  params=(infimum_lr(),), summary="cosine from lr to infimum_lr over E"),
    SchedulerSpec("E", "ExponentialLR", family="traditional", shape=shapes.exponential,
                  summary="lr gamma^t", params=(
        searched_float("gamma", 0.96, 0.9, 0.99, _DECAY_FACTOR, "decay per epoch"),
    )),
    SchedulerSpec("L", "LinearLR", family="traditional", shape=shapes.linear,
                  summary="linear from lr to end_factor lr over E", params=(
        searched_float("end_factor", lambda b: max(b.infimum_lr / b.lr, 1e-6), 1e-3, 0.1, _DECAY_FACTOR,
                       "final LR / lr", log=True),
    )),
    SchedulerSpec("S", "StepLR", family="traditional", shape=shapes.step,
                  summary="lr gamma^floor(t/step_size)", params=(
        searched_int("step_size", lambda b: max(1, b.epochs // 3),
                     lambda b: IntDistribution(max(1, b.epochs // 10), max(2, b.epochs // 2)),
                     at_least(1), "epochs between decays"),
        searched_float("gamma", 0.1, 0.05, 0.5, _DECAY_FACTOR, "decay per step"),
    )),
    SchedulerSpec("OC", "OneCycleLR", family="cyclic", per_batch=True, shape=shapes.one_cycle,
                  summary="cos warm-up to lr, cos anneal to lr/(25e4), per batch", params=(
        _fraction("pct_start", 0.3, 0.1, 0.5, "fraction of the run spent warming up"),
        fixed_float("div_factor", 25.0, float_range(1.0, math.inf, low_open=False), "lr / initial LR"),
        fixed_float("final_div_factor", 1e4, float_range(1.0, math.inf, low_open=False), "initial LR / final LR"),
    )),
    SchedulerSpec("CY", "CyclicLR", family="cyclic", per_batch=True, shape=shapes.cyclic,
                  summary="triangular between infimum_lr and lr, per batch", params=(
        searched_int("step_size_up", lambda b: max(1, b.epochs * b.steps_per_epoch // 4),
                     lambda b: IntDistribution(b.steps_per_epoch,
                                               max(b.steps_per_epoch + 1, b.epochs * b.steps_per_epoch // 2)),
                     at_least(1), "batches per half cycle"),
        infimum_lr(),
    )),
    SchedulerSpec("H", "HyperbolicLR", family="hyperbolic", shape=shapes.hyperbolic,
                  params=_HYPERBOLIC, summary="hyperbolic decay, epoch-insensitive"),
    SchedulerSpec("EH", "ExpHyperbolicLR", family="hyperbolic", shape=shapes.exp_hyperbolic,
                  params=(infimum_lr(positive=True), _upper_bound(False)), summary="hyperbolic decay in log space"),
    SchedulerSpec("WH", "Warmup + HyperbolicLR", family="warmup", shape=shapes.warmup_hyperbolic,
                  params=_HYPERBOLIC_WARM, summary="linear warm-up over E//10, then H"),
    SchedulerSpec("WEH", "Warmup + ExpHyperbolicLR", family="warmup", shape=shapes.warmup_exp_hyperbolic,
                  params=(infimum_lr(positive=True), _upper_bound(True)), summary="linear warm-up over E//10, then EH"),
    SchedulerSpec("WC", "Warmup + CosineAnnealingLR", family="warmup", shape=shapes.warmup_cosine,
                  params=(infimum_lr(),), summary="linear warm-up from 0.01 lr over E//10, then cosine"),
    SchedulerSpec("WSD", "Warmup-Stable-Decay", family="theory-inspired", shape=shapes.warmup_stable_decay,
                  summary="warm-up, constant, cool-down over the last fraction", params=(
        _fraction("cooldown_frac", 0.2, 0.1, 0.5, "fraction of the post-warm-up run spent cooling down"),
        searched_choice("cooldown_shape", "linear", ("linear", "1-sqrt"), "cool-down curve"),
        infimum_lr(),
    )),
    SchedulerSpec("ISR", "Inverse square root", family="theory-inspired", shape=shapes.inverse_sqrt,
                  params=(infimum_lr(),), summary="warm-up over W, then lr sqrt(W/t)"),
    SchedulerSpec("CR", "CosineAnnealingWarmRestarts", family="cyclic", shape=shapes.cosine_restarts,
                  summary="cosine restarted every t_0 (x t_mult) epochs", params=(
        searched_int("t_0", lambda b: max(1, b.epochs // 4),
                     lambda b: IntDistribution(max(1, b.epochs // 10), max(2, b.epochs // 2)),
                     at_least(1), "epochs in the first cosine period"),
        searched_int("t_mult", lambda b: 1, lambda b: IntDistribution(1, 2), at_least(1), "period growth factor"),
        infimum_lr(),
    )),
    SchedulerSpec("CW", "Constant with warmup", family="warmup", shape=shapes.constant_with_warmup,
                  params=(infimum_lr(),), summary="warm-up over E//10, then constant lr"),
    SchedulerSpec("EML", "EML-operator schedule", family="theory-inspired", shape=shapes.eml_schedule,
                  summary="ln-shaped warm-up, (e^{k(1-q)}-1)/(e^k-1) decay", params=(
        searched_float("warmup_frac", 0.1, 0.01, 0.3, float_range(0.0, 1.0, low_open=False),
                       "fraction of the run spent warming up", kind="relative"),
        searched_float("sharpness", 1.0, 0.5, 5.0, _POSITIVE, "decay sharpness k"),
        infimum_lr(),
    )),
]})
CHECK_BUDGETS = (Budget(10, 4, DEFAULT_LR), Budget(200, 352, 1e-3))  # a new schedule must work at both


def get_scheduler(code: str) -> SchedulerSpec:
    """Look up a code; unknown codes raise one line listing the known ones."""
    return SCHEDULERS[code]


def check_schedule(spec: SchedulerSpec) -> None:
    """Refuse a new schedule that does not work at CHECK_BUDGETS (schedulers.recipes.register_schedule)."""
    try:
        for budget in CHECK_BUDGETS:
            values = spec.resolve(budget)
            spec.search_space(budget)
            lrs = [spec.lr_at(t, budget, values) for t in range(spec.horizon(budget) + 1)]
            bad = next((lr for lr in lrs if not (math.isfinite(lr) and lr >= 0)), None)
            if bad is not None:
                raise ValueError(f"its defaults give the LR {bad!r} at {budget.epochs} epochs; an LR must be "
                                 "finite and >= 0")
    except Exception as err:  # the user's code: any fault is this schedule's
        raise UserError(f"schedule {spec.code!r} fails its checks: {type(err).__name__}: {err}") from None
