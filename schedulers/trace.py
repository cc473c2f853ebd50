"""LR traces: the LR actually used at each step, read back from a real torch optimizer (torch loads on use)."""

from __future__ import annotations

from typing import Any

from schedulers.params import Budget, distribution_to_json
from schedulers.recipes import ScheduledRecipe
from schedulers.registry import get_scheduler
from schedulers.theory import convex_bound


def lr_trace(code: str, budget: Budget, params: dict[str, Any] | None = None) -> list[float]:
    """One LR per scheduler step over the run (epochs, or epochs x batches if per-batch): the LRs a
    training run of this schedule uses, stepped as the trainer steps them (schedulers.stepping)."""
    recipe = ScheduledRecipe(get_scheduler(code), budget.steps_per_epoch, lr=budget.lr, infimum_lr=budget.infimum_lr)
    trace = recipe.schedule_trace({"lr": budget.lr, **(params or {})}, budget.epochs)
    return [lr for epoch in trace for lr in (epoch if recipe.per_batch else epoch[:1])]


def describe(code: str, budget: Budget) -> dict[str, Any]:
    """A registry entry as a JSON-ready object (defaults and search space at ``budget``)."""
    spec = get_scheduler(code)
    return {
        "code": spec.code,
        "name": spec.name,
        "family": spec.family,
        "per_batch": spec.per_batch,
        "summary": spec.summary,
        "defaults": spec.defaults(budget),
        "search_space": {k: distribution_to_json(v) for k, v in spec.search_space(budget).items()},
        "param_kinds": {p.name: p.kind for p in spec.params},
    }


def schedule_metrics(code: str, budget: Budget, params: dict[str, Any] | None = None) -> dict[str, float]:
    """Training-free numbers of a schedule: its LR budget sum(eta) and its convex bound.

    The bound uses the schedule relative to its base LR, with horizon + 1 entries evaluated
    at the horizon (G = D = 1): ``gamma_star`` is then the base LR the theory would pick. One LR per
    scheduler step (epochs for per-epoch schedules, batches for per-batch ones): the schedule's shape, not
    the SGD steps a run takes (the transfer report's bound: schedulers.theory.per_sgd_step).
    """
    spec = get_scheduler(code)
    values = spec.resolve(budget, params)
    horizon = spec.horizon(budget)
    relative = [spec.lr_at(t, budget, values) / budget.lr for t in range(horizon + 1)]
    bound = convex_bound(relative, horizon)
    return {"cumulative_lr": budget.lr * sum(relative[:horizon]), "bound_gamma_star": bound.gamma_star,
            "bound_omega_star": bound.omega_star}
