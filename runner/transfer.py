"""The transfer phase: each contender's tuned parameters with every step size scaled by each
multiplier of ``--transfer-grid``, trained at every Phase 2 budget.

Each multiplier is one study of Phase 2-like units (runner.comparison.train_budgets): claims,
workers, checkpoints, exact resume and prefix sharing apply unchanged, and a grid that grows
trains only its new points. Multiplier 1 is Phase 2's own run, read from there, never retrained.
"""

from __future__ import annotations

from runner.comparison import train_budgets
from runner.trials import RunContext
from runstate.records import TransferOrigin
from runstate.storage import StudyName, best_params
from schedulers.params import InvalidParameter
from schedulers.recipes import Recipe


def transfer(ctx: RunContext, recipe: Recipe) -> bool:
    """The transfer runs of ``recipe`` that are free; True once all are finished. Call it once
    Phase 1 of ``recipe`` is finished (Phase 2 need not be: the runs do not depend on it)."""
    config = ctx.config
    params = best_params(ctx.storage, config.project, recipe.name)
    if params is None or recipe.step_param is None:
        why = "no complete Phase 1 trial" if params is None else "its recipe has no step size to scale"
        ctx.progress.note(f"[transfer] {recipe.name}: {why}; skipped")
        ctx.progress.skip(config.plan.epochs_of(recipe.name, "transfer"), key=("no transfer", recipe.name))
        return True
    finished = []
    for multiplier in config.transfer_multipliers:
        name = StudyName(config.project, "transfer", recipe.name, multiplier)
        scaled = recipe.scale_steps(params, multiplier)
        assert scaled is not None  # None only where the recipe has no step_param, skipped above
        try:
            recipe.validate(scaled, list(config.epoch_budgets))
        except InvalidParameter as err:
            ctx.progress.note(f"[transfer] {recipe.name} x{multiplier:g}: skipped, {err}")
            ctx.progress.skip(sum(config.plan.of(name).values()), key=("invalid transfer", recipe.name, multiplier))
            continue
        finished.append(train_budgets(ctx, recipe, name, scaled, "transfer", f"{recipe.name} x{multiplier:g}",
                                      TransferOrigin(multiplier, params, recipe.step_param)))
    return all(finished)
