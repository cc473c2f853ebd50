"""Phase 2: re-train each contender's best parameters at every budget with every seed.

Runs save checkpoints (every ``checkpoint_every`` epochs) from which a rerun resumes exactly,
and, with prefix sharing, a budget continues the checkpoint an earlier budget's run kept where
their LRs part (runner.prefix). Both are found through the storage, so any worker can continue
what another one began.
"""

from __future__ import annotations

import time
from typing import Any

from optuna.trial import FrozenTrial

from results.storage import best_params, finish, is_finished, study_name
from runner.checkpoints import Checkpoints, encode
from runner.claims import claim
from runner.prefix import Start, epochs_to_train, fork_points, plan_starts
from runner.trials import RunContext, train_run
from runner.units import work_through
from schedulers.recipes import Recipe
from tasks.training import RunRecord, Trainer


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
    planned = [(budget, seed) for budget in config.epoch_budgets for seed in config.comparison_seeds]
    if params is None:
        ctx.progress.note(f"[phase 2] {recipe.name}: no complete Phase 1 trial; skipped")
        ctx.progress.skip(sum(config.unit_epochs("compare", budget) for budget, _ in planned),
                          key=("no Phase 1", recipe.name))
        return True
    study = ctx.study(study_name(config.project, "compare", recipe.name))
    if recipe.name not in ctx.plans:  # replaying every budget's schedule takes seconds; a waiting worker asks often
        ctx.plans[recipe.name] = plan(ctx, recipe, params)
    starts = ctx.plans[recipe.name]
    forks = fork_points(starts)
    checkpoints = Checkpoints(study, ctx.artifacts, ctx.progress.note) if ctx.artifacts is not None else None

    def unit_of(t: FrozenTrial) -> tuple[int, int] | None:
        if t.user_attrs.get("params") != params:
            return None
        return t.user_attrs.get("budget"), t.user_attrs.get("seed")

    def own(budget: int, seed: int) -> dict[str, Any]:
        return {"params": params, "budget": budget, "seed": seed}

    def fork(parent: int, epoch: int, seed: int) -> dict[str, Any]:
        return {"params": params, "budget": parent, "seed": seed, "epoch": epoch}

    def unfinished(budgets: list[int], seed: int) -> bool:
        done = {unit_of(t) for t in study.get_trials(deepcopy=False) if is_finished(t)}
        return any((b, seed) not in done for b in budgets)

    def restore(trainer: Trainer, budget: int, seed: int) -> tuple[RunRecord | None, int]:
        """(curves so far, epoch this unit's own training began): from its own checkpoint, else from
        its fork point in an earlier budget's run, else (None, 0)."""
        if checkpoints is None:
            return None, 0
        state = checkpoints.load(own(budget, seed))
        if state is not None:
            return trainer.restore(state), state["origin"]
        start = starts[budget]
        if start.parent is not None and (state := checkpoints.load(fork(start.parent, start.epoch, seed))):
            return trainer.restore(state, inherited=True), start.epoch
        return None, 0

    def run(unit: tuple[int, int]) -> bool:
        budget, seed = unit
        with claim(study, study.ask, {"budget": budget, "seed": seed, "params": params, "device": ctx.device},
                   lambda t: unit_of(t) == unit, config.max_retries) as trial:
            if trial is None:
                return False
            trainer = ctx.trainer(recipe, params, budget, seed)
            saving = checkpoints.seconds if checkpoints is not None else 0.0
            record, origin = restore(trainer, budget, seed)
            resumed = f", from epoch {len(record.val_loss)}" if record is not None else ""
            ctx.progress.run_started("phase 2", recipe.name, f"run {planned.index(unit) + 1}/{len(planned)} "
                                                             f"({budget} epochs, seed {seed}{resumed})")
            for epoch, value in enumerate(record.val_loss if record is not None else []):
                trial.report(value, epoch)
            last_save = time.perf_counter()

            def on_epoch(epoch: int, rec: RunRecord) -> None:
                nonlocal last_save
                trial.report(rec.val_loss[-1], epoch)
                if checkpoints is None:
                    return
                done, every = epoch + 1, config.checkpoint_every
                children = forks.get((budget, done))
                targets = [fork(budget, done, seed)] if children and unfinished(children, seed) else []
                due = time.perf_counter() - last_save >= config.checkpoint_seconds  # fast epochs: fewer saves
                if every and done % every == 0 and done < budget and due:
                    targets.append(own(budget, seed))
                if targets:
                    data = encode({**trainer.state(rec), "origin": origin})
                    for identity in targets:
                        checkpoints.save(trial, identity, data)
                    last_save = time.perf_counter()

            record = train_run(ctx, trainer, on_epoch, f"compare/{recipe.name}/E{budget}-seed{seed}", record)
            for key, value in record.to_dict().items():
                if key != "status":
                    trial.set_user_attr(key, value)
            trial.set_user_attr("epochs_trained", len(record.val_loss) + (record.status != "complete") - origin)
            if checkpoints is not None:
                trial.set_user_attr("checkpoint_seconds", checkpoints.seconds - saving)
            if record.status == "complete":
                finish(study, trial, "complete", value=record.val_loss[-1])
                ctx.progress.run_finished(f"val {record.val_loss[-1]:.4g}")
            else:
                finish(study, trial, "diverged", record.reason)
            if checkpoints is not None:
                checkpoints.remove(own(budget, seed))
                for (parent, at), children in forks.items():  # fork points no run needs any more
                    if not unfinished(children, seed):
                        checkpoints.remove(fork(parent, at, seed))
            return True

    if forks and any(unfinished(list(starts), seed) for seed in config.comparison_seeds):  # work left
        total, shared = (n * len(config.comparison_seeds) for n in (sum(starts), epochs_to_train(starts)))
        ctx.progress.note(f"[phase 2] {recipe.name}: prefix sharing trains {shared} of {total} epochs "
                          f"(saves {total - shared}, {100 * (total - shared) / total:.0f} %)",
                          key=("prefix sharing", recipe.name))
    return work_through(study, planned, unit_of, run, lambda unit: config.unit_epochs("compare", unit[0]),
                        ctx.progress)
