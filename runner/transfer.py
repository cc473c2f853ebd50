"""The transfer phase: each contender's tuned parameters with every step size scaled by each
multiplier of ``--transfer-grid``, trained at every Phase 2 budget.

Each multiplier is one study of Phase 2-like units (runner.comparison.train_budgets): claims,
workers, checkpoints, exact resume and prefix sharing apply unchanged, and a grid that grows
trains only its new points. Multiplier 1 is Phase 2's own run, read from there, never retrained.
"""

from __future__ import annotations

from runner.comparison import train_budgets
from runner.trials import RunContext
from runstate.storage import best_params, transfer_study_name
from schedulers.params import InvalidParameter
from schedulers.recipes import Recipe


def transfer(ctx: RunContext, recipe: Recipe) -> bool:
    """The transfer runs of ``recipe`` that are free; True once all are finished. Call it once
    Phase 1 of ``recipe`` is finished (Phase 2 need not be: the runs do not depend on it)."""
    config = ctx.config
    seeds = list(range(1, config.transfer_seeds + 1))
    epochs = config.budget_epochs * len(seeds)
    params = best_params(ctx.storage, config.project, recipe.name)
    if params is None or recipe.step_param is None:
        why = "no complete Phase 1 trial" if params is None else "its recipe has no step size to scale"
        ctx.progress.note(f"[transfer] {recipe.name}: {why}; skipped")
        ctx.progress.skip(epochs * len(config.transfer_multipliers), key=("no transfer", recipe.name))
        return True
    finished = []
    for multiplier in config.transfer_multipliers:
        scaled = recipe.scale_steps(params, multiplier)
        try:
            recipe.validate(scaled, list(config.epoch_budgets))
        except InvalidParameter as err:
            ctx.progress.note(f"[transfer] {recipe.name} x{multiplier:g}: skipped, {err}")
            ctx.progress.skip(epochs, key=("invalid transfer", recipe.name, multiplier))
            continue
        study = ctx.study(transfer_study_name(config.project, recipe.name, multiplier))
        attrs = {"multiplier": multiplier, "tuned_params": params, "step_param": recipe.step_param}
        finished.append(train_budgets(ctx, recipe, study, scaled, seeds, "transfer",
                                      f"{recipe.name} x{multiplier:g}", attrs))
    return all(finished)
