"""The run report composed from the storage alone: the runs read back, their analysis, the transfer analysis."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from optuna.storages import BaseStorage

from results.analysis import ALPHA, analyze_curves
from results.records import (
    BudgetRuns,
    EpochCount,
    Fault,
    LossStats,
    RunReport,
    TrainingTime,
    Tuning,
    from_json,
    ready,
)
from results.seeds_report import seeds_until_decided
from results.sources.storage import (
    collect_runs,
    epochs_accounting,
    faults,
    finished_units,
    optimization_summary,
    round_contenders,
    training_seconds,
    transfer_rows,
)
from results.stats.metrics import decoupling_matrix, final_loss_change, mean_std
from results.stats.transfer import COLUMNS as TRANSFER_COLUMNS
from results.stats.transfer import analyze_transfer
from runstate import storage as store
from runstate.records import UnitRecord
from schedulers.recipes import ScheduledRecipe, contender_names
from schedulers.registry import SCHEDULERS
from schedulers.theory import moving_bound, per_sgd_step

SCHEMA_VERSION = 11  # 2: adds analysis, training_time_s and the curves.csv status column; 3: adds epochs;
# 4: adds the budget tests (analysis: alpha, method; per contender budget_test); 5: adds the pairwise tests
# (analysis: comparisons, top_pair, ranking metric; per contender shift, log_slope); 6: adds transfer;
# 7: renames three top-level keys so that none means two things: comparison -> mean_final_val_loss,
# comparison_detail -> per_budget_results, sensitivity (the final-loss change) -> final_loss_change_pct;
# 8: transfer: the optimum's loss guarded (optimum.dip), a diverged tuned step size an infinite regret
# (regret.diverged, null numbers), per budget transfer_cost, the ranking by it (ranked_by, unranked, each place's
# three numbers), drift bounds (slope null, bound, censored), in_sample_seeds, and bound_slope on SGD steps
# (bound_steps_per_epoch)
# 9: adds the final-loss outcome (analysis: outcome; per contender seed_slope; method: seed_slope,
# slope_comparisons, order_ci); final.ci and per_seed.ci become t intervals (were percentile bootstraps)
# 10: the headline size in rerun units: per contender movement (replaces shift), ranking metric "movement", the
# comparisons on log(movement ratio), top_pair with evidence and planning_effect (seeds_needed simulated for the
# exact sign-flip test); method: movement, movement_ci, seeds_needed (shift_ci gone)
# and summary.json ranks only measurements: per contender horizon_free and status (replacing missing and
# not_measured), block and family; profile over the block (null without one); metric -> metrics per task
# and config.transfer_max_octaves (the adaptive transfer grid); transfer: a transfer cost with both optima at the
# same edge has null numbers (censored "both optima at the same edge"; was a measured-looking 0), each ranking place's
# tuning_error_lower_bound
# 11: adds seeds_until_decided (--compare-seeds auto: the rounds, each pair's end, each contender's seeds) and
# config.compare_seeds "auto", max_seeds, seed_step; with auto, analysis.comparisons are the rounds' decisions
CURVE_COLUMNS = ["scheduler", "budget", "seed", "epoch", "lr", "train_loss", "val_loss"]


def _loss_stats(values: list[float]) -> LossStats:
    return LossStats(*mean_std(values), values)


def _budget_detail(runs: list[dict[str, Any]]) -> BudgetRuns:
    ok = [r for r in runs if r["status"] == "complete"]
    accuracy = [r["test_accuracy"] for r in ok if r.get("test_accuracy") is not None]
    return BudgetRuns([r["seed"] for r in ok], len(runs) - len(ok), _loss_stats([r["val_loss"][-1] for r in ok]),
                      _loss_stats([r["test_loss"] for r in ok]), _loss_stats(accuracy) if accuracy else None)


def _seed_mean_curve(runs: list[dict[str, Any]]) -> list[float]:
    curves = [r["val_loss"] for r in runs if r["status"] == "complete"]
    return [sum(values) / len(values) for values in zip(*curves)] if curves else []


def tuned_schedules(name: str, params: dict[str, Any] | None, budgets: list[int], steps_per_epoch: int | None,
                    infimum_lr: float) -> dict[int, list[float]] | None:
    """A scheduler's LR per step at each budget from its tuned parameters alone (no training).

    None for contenders without a registry schedule (LR-free optimizers, plugin recipe kinds) and
    for per-batch schedules of runs that did not store their steps per epoch."""
    spec = SCHEDULERS.get(name)
    if spec is None or params is None or (spec.per_batch and steps_per_epoch is None):
        return None
    recipe = ScheduledRecipe(spec, steps_per_epoch or 1, infimum_lr=infimum_lr)
    return {epochs: recipe.planned_lrs(params, epochs) for epochs in budgets}


def sgd_gamma_star(schedules: dict[str, dict[int, list[float]]],
                   steps_per_epoch: int | None) -> dict[str, dict[int, float | None]]:
    """Per contender and budget the convex bound's gamma* on the SGD steps its tuned schedule takes (T = budget x
    ``steps_per_epoch``); none for runs that did not store their steps per epoch."""
    if not steps_per_epoch:
        return {}
    found = {}
    for name, planned in schedules.items():
        per_batch = SCHEDULERS[name].per_batch
        bounds = {b: moving_bound(per_sgd_step(lrs, steps_per_epoch, per_batch)) for b, lrs in planned.items()}
        found[name] = {b: None if bound is None else bound.gamma_star for b, bound in bounds.items()}
    return found


def build_report(storage: BaseStorage, project: str,
                 alpha: float = ALPHA) -> tuple[RunReport, pd.DataFrame, pd.DataFrame]:
    """(report, tidy curves, transfer table) for ``project``: a pure function of what the storage holds (and
    the level ``alpha`` of the tests)."""
    meta = store.stored_meta(storage, project) or {}
    config = meta["config"]
    tuned = {study.contender for study in store.studies(storage, project) if study.phase == "tune"}
    names = [n for n in contender_names() if n in tuned] + sorted(tuned - set(contender_names()))  # plugins' last
    optimization: dict[str, Tuning] = {}
    mean_final: dict[str, dict[str, float]] = {}
    per_budget: dict[str, dict[str, BudgetRuns]] = {}
    change: dict[str, float] = {}
    decoupling: dict[str, dict[str, float | None]] = {}
    faulted: dict[str, list[Fault]] = {}
    epochs: dict[str, EpochCount] = {}
    rows, transfer = [], []
    schedules: dict[str, dict[int, list[float]]] = {}
    devices: dict[str, int] = {}  # finished units per device (several workers may use several GPUs)
    time_tune = time_compare = checkpointing = 0.0
    for name in names:
        tuning = store.trials(storage, store.study_name(project, "tune", name))
        optimization[name] = from_json(Tuning, optimization_summary(tuning))
        for trial in [*tuning, *store.trials(storage, store.study_name(project, "compare", name))]:
            if store.is_finished(trial) and (device := UnitRecord.from_trial(trial).device) is not None:
                devices[device] = devices.get(device, 0) + 1
        found = faults(tuning, "tune") + faults(store.trials(storage, store.study_name(project, "compare", name)),
                                               "compare")
        if found:
            faulted[name] = [from_json(Fault, f) for f in found]
        runs = collect_runs(storage, project, name)
        transfer += transfer_rows(storage, project, name, runs)
        tune_s, compare_s = training_seconds(tuning, runs)
        time_tune, time_compare = time_tune + tune_s, time_compare + compare_s
        checkpointing += sum(r.get("checkpoint_seconds", 0.0) for r in runs)
        # Every stored budget, whichever command added it: the report is a function of the storage.
        by_budget = {b: [r for r in runs if r["budget"] == b] for b in sorted({r["budget"] for r in runs})}
        if not by_budget:
            continue
        detail = {str(b): _budget_detail(rs) for b, rs in by_budget.items()}
        per_budget[name] = detail
        epochs[name] = from_json(EpochCount, epochs_accounting(runs))
        mean_final[name] = {b: d.val_loss.mean for b, d in detail.items() if d.val_loss.mean is not None}
        means = list(mean_final[name].values())
        if len(means) >= 2:
            change[name] = final_loss_change(means[0], means[-1])
        decoupling[name] = decoupling_matrix({b: _seed_mean_curve(rs) for b, rs in by_budget.items()})
        planned = tuned_schedules(name, store.best_params(storage, project, name), sorted(by_budget),
                                  meta.get("steps_per_epoch"), config["infimum_lr"])
        if planned is not None:
            schedules[name] = planned
        for r in runs:
            for epoch, values in enumerate(zip(r["lr"], r["train_loss"], r["val_loss"])):
                row = {"scheduler": name, "budget": r["budget"], "seed": r["seed"], "epoch": epoch,
                       "lr": values[0], "train_loss": values[1], "val_loss": values[2], "status": r["status"]}
                if r.get("val_accuracy") is not None:
                    row["val_accuracy"] = r["val_accuracy"][epoch]
                rows.append(row)
    columns = CURVE_COLUMNS + (["val_accuracy"] if any("val_accuracy" in row for row in rows) else []) + ["status"]
    curves = pd.DataFrame(rows, columns=columns)
    environment = meta.get("environment", {})
    if devices:
        environment = {**environment, "run_devices": devices}
    tuning_budget = config["epochs"] if config["epochs"] in curves["budget"].values else None
    waited_for = round_contenders(storage, project, [*config.get("schedulers", []), *config.get("lr_free", [])],
                                  config["n_trials"])
    rounds = seeds_until_decided(curves, {n: finished_units(storage, project, n) for n in waited_for}, config)
    analysis = analyze_curves(curves, tuning_budget=tuning_budget, lr_schedules=schedules, alpha=alpha,
                              detectable=True, decided=None if rounds is None else rounds[1]) \
        if not curves.empty else None
    table = pd.DataFrame(transfer, columns=TRANSFER_COLUMNS)
    steps = meta.get("steps_per_epoch")
    transferred = analyze_transfer(table, sgd_gamma_star(schedules, steps), alpha, tuning_budget=config["epochs"],
                                   step_params={r["contender"]: r["step_param"] for r in transfer},
                                   in_sample_seeds=range(1, config.get("n_seeds", 1) + 1),
                                   bound_steps={n: steps for n in schedules} if steps else None)
    time_transfer = None
    if transferred is not None:
        trained = [r for r in transfer if r["multiplier"] != 1.0]
        transferred = replace(transferred, epochs=from_json(EpochCount, epochs_accounting(trained)))
        time_transfer = sum(r["wall_time"] for r in trained)
    total = time_tune + time_compare
    seconds = TrainingTime(tune=time_tune, compare=time_compare,
                           total=total if time_transfer is None else total + time_transfer, checkpoints=checkpointing,
                           transfer=time_transfer)
    report = RunReport(schema_version=SCHEMA_VERSION, config=config, environment=environment,
                       optimization=optimization, mean_final_val_loss=mean_final, per_budget_results=per_budget,
                       final_loss_change_pct=change, decoupling=decoupling, faults=faulted, epochs=epochs,
                       training_time_s=seconds, analysis=analysis, transfer=transferred,
                       seeds_until_decided=None if rounds is None else rounds[0])
    return ready(report), curves, table
