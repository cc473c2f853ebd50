"""The run report composed from the storage alone: the runs read back, their analysis, the transfer analysis."""

from __future__ import annotations

from typing import Any

import pandas as pd
from optuna.storages import BaseStorage

from results.analysis import ALPHA, analyze_curves, json_ready
from results.sources.storage import (
    collect_runs,
    epochs_accounting,
    faults,
    optimization_summary,
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

SCHEMA_VERSION = 6  # 2: adds analysis, training_time_s and the curves.csv status column; 3: adds epochs;
# 4: adds the budget tests (analysis: alpha, method; per contender budget_test); 5: adds the pairwise tests
# (analysis: comparisons, top_pair, ranking metric; per contender shift, log_slope); 6: adds transfer
CURVE_COLUMNS = ["scheduler", "budget", "seed", "epoch", "lr", "train_loss", "val_loss"]


def _budget_detail(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r["status"] == "complete"]
    detail: dict[str, Any] = {"seeds": [r["seed"] for r in ok], "diverged": len(runs) - len(ok)}
    for key, values in (("val_loss", [r["val_loss"][-1] for r in ok]), ("test_loss", [r["test_loss"] for r in ok]),
                        ("test_accuracy", [r["test_accuracy"] for r in ok if r.get("test_accuracy") is not None])):
        if key == "test_accuracy" and not values:
            continue
        mean, std = mean_std(values)
        detail[key] = {"mean": mean, "std": std, "per_seed": values}
    return detail


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


def build_report(storage: BaseStorage, project: str,
                 alpha: float = ALPHA) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(report, tidy curves, transfer table) for ``project``: a pure function of what the storage holds (and
    the level ``alpha`` of the tests)."""
    meta = store.stored_meta(storage, project) or {}
    config = meta["config"]
    tuned = {study.contender for study in store.studies(storage, project) if study.phase == "tune"}
    names = [n for n in contender_names() if n in tuned] + sorted(tuned - set(contender_names()))  # plugins' last
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "config": config,
                              "environment": meta.get("environment", {}), "optimization": {}, "comparison": {},
                              "comparison_detail": {}, "sensitivity": {}, "decoupling": {}, "faults": {},
                              "epochs": {}}
    rows, transfer = [], []
    schedules: dict[str, dict[int, list[float]]] = {}
    devices: dict[str, int] = {}  # finished units per device (several workers may use several GPUs)
    time_tune = time_compare = checkpointing = 0.0
    for name in names:
        tuning = store.trials(storage, store.study_name(project, "tune", name))
        report["optimization"][name] = optimization_summary(tuning)
        for trial in [*tuning, *store.trials(storage, store.study_name(project, "compare", name))]:
            if store.is_finished(trial) and (device := UnitRecord.from_trial(trial).device) is not None:
                devices[device] = devices.get(device, 0) + 1
        found = faults(tuning, "tune") + faults(store.trials(storage, store.study_name(project, "compare", name)),
                                               "compare")
        if found:
            report["faults"][name] = found
        runs = collect_runs(storage, project, name)
        transfer += transfer_rows(storage, project, name, runs)
        seconds = training_seconds(tuning, runs)
        time_tune, time_compare = time_tune + seconds[0], time_compare + seconds[1]
        checkpointing += sum(r.get("checkpoint_seconds", 0.0) for r in runs)
        # Every stored budget, whichever command added it: the report is a function of the storage.
        by_budget = {b: [r for r in runs if r["budget"] == b] for b in sorted({r["budget"] for r in runs})}
        if not by_budget:
            continue
        detail = {str(b): _budget_detail(rs) for b, rs in by_budget.items()}
        report["comparison_detail"][name] = detail
        report["epochs"][name] = epochs_accounting(runs)
        report["comparison"][name] = {b: d["val_loss"]["mean"] for b, d in detail.items() if d["val_loss"]["mean"]
                                      is not None}
        means = list(report["comparison"][name].values())
        if len(means) >= 2:
            report["sensitivity"][name] = final_loss_change(means[0], means[-1])
        report["decoupling"][name] = decoupling_matrix({b: _seed_mean_curve(rs) for b, rs in by_budget.items()})
        tuned = tuned_schedules(name, store.best_params(storage, project, name), sorted(by_budget),
                                meta.get("steps_per_epoch"), config["infimum_lr"])
        if tuned is not None:
            schedules[name] = tuned
        for r in runs:
            for epoch, values in enumerate(zip(r["lr"], r["train_loss"], r["val_loss"])):
                row = {"scheduler": name, "budget": r["budget"], "seed": r["seed"], "epoch": epoch,
                       "lr": values[0], "train_loss": values[1], "val_loss": values[2], "status": r["status"]}
                if r.get("val_accuracy") is not None:
                    row["val_accuracy"] = r["val_accuracy"][epoch]
                rows.append(row)
    columns = CURVE_COLUMNS + (["val_accuracy"] if any("val_accuracy" in row for row in rows) else []) + ["status"]
    curves = pd.DataFrame(rows, columns=columns)
    if devices:
        report["environment"] = {**report["environment"], "run_devices": devices}
    report["training_time_s"] = {"tune": time_tune, "compare": time_compare, "total": time_tune + time_compare,
                                 "checkpoints": checkpointing}
    tuning_budget = config["epochs"] if config["epochs"] in curves["budget"].values else None
    report["analysis"] = analyze_curves(curves, tuning_budget=tuning_budget, lr_schedules=schedules, alpha=alpha,
                                        detectable=True) \
        if not curves.empty else None
    table = pd.DataFrame(transfer, columns=TRANSFER_COLUMNS)
    predictors = (report["analysis"] or {}).get("predictors") or {}
    bound_gamma = {n: {int(b): g for b, g in p["gamma_star"].items()} for n, p in predictors.items()}
    report["transfer"] = analyze_transfer(table, bound_gamma, alpha, tuning_budget=config["epochs"],
                                          step_params={r["contender"]: r["step_param"] for r in transfer})
    if report["transfer"] is not None:
        trained = [r for r in transfer if r["multiplier"] != 1.0]
        report["transfer"]["epochs"] = epochs_accounting(trained)
        report["training_time_s"]["transfer"] = sum(r["wall_time"] for r in trained)
        report["training_time_s"]["total"] += report["training_time_s"]["transfer"]
    return json_ready(report), curves, table


