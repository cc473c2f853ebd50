"""Phase 2: re-train each contender's best parameters at every budget with every seed."""

from __future__ import annotations

from optuna.trial import FrozenTrial

from results.storage import best_params, finish, study_name
from runner.claims import claim
from runner.trials import RunContext, train_run
from runner.worker import work_through
from schedulers.recipes import Recipe


def compare(ctx: RunContext, recipe: Recipe) -> None:
    config = ctx.config
    params = best_params(ctx.storage, config.project, recipe.name)
    planned = [(budget, seed) for budget in config.epoch_budgets for seed in config.comparison_seeds]
    if params is None:
        ctx.progress.note(f"[phase 2] {recipe.name}: no complete Phase 1 trial; skipped")
        ctx.progress.skip(sum(budget for budget, _ in planned))
        return
    study = ctx.study(study_name(config.project, "compare", recipe.name))

    def unit_of(t: FrozenTrial) -> tuple[int, int] | None:
        if t.user_attrs.get("params") != params:
            return None
        return t.user_attrs.get("budget"), t.user_attrs.get("seed")

    def run(unit: tuple[int, int]) -> bool:
        budget, seed = unit
        with claim(study, study.ask, {"budget": budget, "seed": seed, "params": params, "device": ctx.device},
                   lambda t: unit_of(t) == unit, config.max_retries) as trial:
            if trial is None:
                return False
            ctx.progress.run_started("phase 2", recipe.name,
                                     f"run {planned.index(unit) + 1}/{len(planned)} ({budget} epochs, seed {seed})")
            record = train_run(ctx, ctx.train_config(recipe, params, budget, seed),
                               lambda epoch, rec: trial.report(rec.val_loss[-1], epoch),
                               f"compare/{recipe.name}/E{budget}-seed{seed}")
            for key, value in record.to_dict().items():
                if key != "status":
                    trial.set_user_attr(key, value)
            if record.status == "complete":
                finish(study, trial, "complete", value=record.val_loss[-1])
                ctx.progress.run_finished(f"val {record.val_loss[-1]:.4g}")
            else:
                finish(study, trial, "diverged", record.reason)
            return True

    work_through(study, planned, unit_of, run, lambda unit: unit[0], ctx.progress)
