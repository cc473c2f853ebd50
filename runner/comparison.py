"""Phase 2: re-train each contender's best parameters at every budget with every seed.

Each run is a unit any worker may claim; where it resumes, when it saves and what it removes
is the unit's checkpoint policy (runner.comparison_unit), found through the storage, so any
worker can continue what another one began.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runner.checkpoints import Checkpoints
from runner.claims import claim
from runner.comparison_unit import ComparisonRuns
from runner.prefix import Start, epochs_to_train, plan_starts
from runner.seed_rounds import seed_rounds, show_rounds
from runner.trials import RunContext, train_run
from runner.units import work_through
from runstate.records import CURVE_KEYS, TrainedRun, TransferOrigin, write
from runstate.storage import StudyName, best_params, finish
from schedulers.recipes import Recipe
from tasks.training import RunRecord


def plan(ctx: RunContext, recipe: Recipe, params: dict[str, Any]) -> dict[int, Start]:
    """Where each budget's runs start; everything from scratch without prefix sharing or checkpoints."""
    budgets = ctx.config.epoch_budgets
    if not ctx.config.share_prefix or ctx.artifacts is None:
        return {b: Start() for b in budgets}
    return plan_starts({b: recipe.schedule_trace(params, b) for b in budgets})


def compare(ctx: RunContext, recipe: Recipe) -> bool:
    """The Phase 2 runs of ``recipe`` that are free; True once all are finished (``work_through``).
    Call it once Phase 1 of ``recipe`` is finished."""
    config = ctx.config
    params = best_params(ctx.storage, config.project, recipe.name)
    if params is None:
        ctx.progress.note(f"[phase 2] {recipe.name}: no complete Phase 1 trial; skipped")
        ctx.progress.skip(config.plan.epochs_of(recipe.name, "compare"), key=("no Phase 1", recipe.name))
        return True
    name = StudyName(config.project, "compare", recipe.name)
    if not config.sequential:
        return train_budgets(ctx, recipe, name, params, "phase 2", recipe.name)
    rounds = seed_rounds(ctx.storage, config)
    show_rounds(ctx.progress, rounds, config)
    done = train_budgets(ctx, recipe, name, params, "phase 2", recipe.name, seeds=rounds.allowed[recipe.name])
    return done and rounds.stopped[recipe.name] is not None


def train_budgets(ctx: RunContext, recipe: Recipe, name: StudyName, params: dict[str, Any], phase: str, label: str,
                  transfer: TransferOrigin | None = None, seeds: int | None = None) -> bool:
    """Train ``params`` at every budget with every seed the plan gives study ``name`` (its first ``seeds``, if
    given: a round of --compare-seeds auto), each run a unit any worker may claim (Phase 2, and each multiplier of
    the transfer phase: ``transfer``); True once all are finished. ``phase`` and ``label`` name it in the
    progress."""
    config = ctx.config
    units = {unit: epochs for unit, epochs in config.plan.of(name).items() if seeds is None or unit[1] <= seeds}
    planned, unit_seeds = list(units), list(dict.fromkeys(seed for _, seed in units))
    study = ctx.study(str(name))
    key = study.study_name
    if key not in ctx.plans:  # replaying every budget's schedule takes seconds; a waiting worker asks often
        ctx.plans[key] = plan(ctx, recipe, params)
    checkpoints = Checkpoints(study, ctx.artifacts, ctx.progress.note) if ctx.artifacts is not None else None
    runs = ComparisonRuns(study, params, ctx.plans[key], checkpoints, config.checkpoint_every,
                          config.checkpoint_seconds)

    def run(unit: tuple[int, int]) -> bool:
        budget, seed = unit
        stored = TrainedRun(budget=budget, seed=seed, params=params, transfer=transfer, device=ctx.device)
        with claim(study, study.ask, stored.claim_attrs(), lambda t: runs.unit_of(t) == unit,
                   config.max_retries) as trial:
            if trial is None:
                return False
            trainer = ctx.trainer(recipe, params, budget, seed)
            saving = checkpoints.seconds if checkpoints is not None else 0.0
            this = runs.unit(budget, seed)
            record = this.resume(trainer)
            resumed = f", from epoch {len(record.val_loss)}" if record is not None else ""
            ctx.progress.run_started(phase, label, f"run {planned.index(unit) + 1}/{len(planned)} "
                                                   f"({budget} epochs, seed {seed}{resumed})")
            for epoch, value in enumerate(record.val_loss if record is not None else []):
                trial.report(value, epoch)
            save = this.saver(trial, trainer)

            def on_epoch(epoch: int, rec: RunRecord) -> None:
                trial.report(rec.val_loss[-1], epoch)
                save(epoch, rec)

            record = train_run(ctx, trainer, on_epoch, f"{key.split('/', 1)[1]}/E{budget}-seed{seed}", record)
            curves = record.to_dict()
            write(trial, replace(stored, curves={key: curves[key] for key in CURVE_KEYS},
                                 epochs_trained=len(record.val_loss) + (record.status != "complete") - this.origin,
                                 checkpoint_seconds=checkpoints.seconds - saving if checkpoints is not None else None
                                 ).result_attrs())
            if record.status == "complete":
                finish(study, trial, "complete", value=record.val_loss[-1])
                ctx.progress.run_finished(f"val {record.val_loss[-1]:.4g}")
            else:
                finish(study, trial, "diverged", record.reason)
            this.clean_up()
            return True

    starts = runs.starts
    if runs.forks and any(runs.unfinished(list(starts), seed) for seed in unit_seeds):  # work left
        total, shared = (n * len(unit_seeds) for n in (sum(starts), epochs_to_train(starts)))
        ctx.progress.note(f"[{phase}] {label}: prefix sharing trains {shared} of {total} epochs "
                          f"(saves {total - shared}, {100 * (total - shared) / total:.0f} %)",
                          key=("prefix sharing", key))
    return work_through(study, units, runs.unit_of, run, ctx.progress)
