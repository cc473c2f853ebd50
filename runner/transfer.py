"""The transfer phase: each contender's tuned parameters with every step size scaled by each
multiplier of ``--transfer-grid``, trained at every Phase 2 budget.

Each multiplier is one study of Phase 2-like units (runner.comparison.train_budgets): claims,
workers, checkpoints, exact resume and prefix sharing apply unchanged, and a grid that grows
trains only its new points. Multiplier 1 is Phase 2's own run, read from there, never retrained.
With ``--transfer-max-octaves`` the grid grows in rounds (runner.transfer_grid), each planned from
the losses the storage holds once the round before is finished.
"""

from __future__ import annotations

from typing import Any

from runner.comparison import train_budgets
from runner.transfer_grid import mean_log_loss, next_round
from runner.trials import RunContext
from runstate.records import TransferOrigin
from runstate.storage import StudyName, best_params, finished_runs
from schedulers.params import InvalidParameter
from schedulers.recipes import Recipe


def transfer(ctx: RunContext, recipe: Recipe) -> bool:
    """The transfer runs of ``recipe`` that are free, round after round; True once the grid is final and every run
    of it finished. Call it once Phase 1 of ``recipe`` is finished (Phase 2 need not be, but a round after the
    first waits for it: its multiplier 1 is Phase 2's run)."""
    config = ctx.config
    params = best_params(ctx.storage, config.project, recipe.name)
    if params is None or recipe.step_param is None:
        why = "no complete Phase 1 trial" if params is None else "its recipe has no step size to scale"
        ctx.progress.note(f"[transfer] {recipe.name}: {why}; skipped")
        ctx.progress.skip(config.plan.epochs_of(recipe.name, "transfer"), key=("no transfer", recipe.name))
        return True
    tried: dict[float, bool | None] = {}  # multiplier -> all its runs finished (None: invalid, skipped)
    todo: list[float] | None = config.transfer_multipliers
    while todo:
        tried.update({m: _train(ctx, recipe, params, m) for m in todo})
        if False in tried.values():  # others hold some of this round's runs
            return False
        todo = _next_round(ctx, recipe, params, tried) if config.transfer_max_octaves else []
    return todo is not None


def _train(ctx: RunContext, recipe: Recipe, params: dict[str, Any], multiplier: float) -> bool | None:
    """The free runs of one grid point; True once all are finished, None where its step size is invalid."""
    config = ctx.config
    name = StudyName(config.project, "transfer", recipe.name, multiplier)
    epochs = sum(config.plan.of(name).values())
    if multiplier not in config.transfer_multipliers:  # a grown point: its epochs join the progress once
        ctx.progress.grow(epochs, key=("grown", str(name)))
    scaled = recipe.scale_steps(params, multiplier)
    assert scaled is not None and recipe.step_param is not None  # the caller skipped recipes without a step size
    try:
        recipe.validate(scaled, list(config.epoch_budgets))
    except InvalidParameter as err:
        ctx.progress.note(f"[transfer] {recipe.name} x{multiplier:g}: skipped, {err}")
        ctx.progress.skip(epochs, key=("invalid transfer", recipe.name, multiplier))
        return None
    return train_budgets(ctx, recipe, name, scaled, "transfer", f"{recipe.name} x{multiplier:g}",
                         TransferOrigin(multiplier, params, recipe.step_param))


def _next_round(ctx: RunContext, recipe: Recipe, params: dict[str, Any],
                tried: dict[float, bool | None]) -> list[float] | None:
    """The grid points the next round trains (runner.transfer_grid), from the stored final losses of every trained
    point and of Phase 2's runs (multiplier 1) with the transfer seeds; None while a Phase 2 run is missing."""
    config = ctx.config
    budgets, seeds = config.epoch_budgets, config.plan.transfer_seeds
    multipliers = sorted([1.0, *(m for m, done in tried.items() if done)])
    means: dict[int, list[float]] = {b: [] for b in budgets}
    for multiplier in multipliers:
        study = StudyName(config.project, "compare" if multiplier == 1.0 else "transfer", recipe.name,
                          None if multiplier == 1.0 else multiplier)
        losses = _final_losses(ctx, study, params if multiplier == 1.0 else recipe.scale_steps(params, multiplier))
        if any((b, s) not in losses for b in budgets for s in seeds):
            return None
        for budget in budgets:
            means[budget].append(mean_log_loss(losses[(budget, s)] for s in seeds))
    return next_round(multipliers, means, config.transfer_max_octaves, [1.0, *tried])


def _final_losses(ctx: RunContext, study: StudyName,
                  params: dict[str, Any] | None) -> dict[tuple[int, int], float | None]:
    """(budget, seed) -> the final validation loss of each finished run of ``params`` (None: diverged or failed)."""
    return {unit: run.curves["val_loss"][-1] if run.status == "complete" else None
            for unit, run in finished_runs(ctx.storage, str(study), params).items()}
