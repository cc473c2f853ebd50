"""The report, derived from the storage alone: report.json, curves.csv and plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from results.analysis import ALPHA, analyze_curves, json_ready
from results.metrics import decoupling_matrix, final_loss_change, mean_std
from results.transfer import COLUMNS as TRANSFER_COLUMNS
from results.transfer import analyze_transfer
from runstate import storage as store
from runstate.files import atomic_write_text
from schedulers.recipes import ScheduledRecipe, contender_names
from schedulers.registry import SCHEDULERS

SCHEMA_VERSION = 6  # 2: adds analysis, training_time_s and the curves.csv status column; 3: adds epochs;
# 4: adds the budget tests (analysis: alpha, method; per contender budget_test); 5: adds the pairwise tests
# (analysis: comparisons, top_pair, ranking metric; per contender shift, log_slope); 6: adds transfer
CURVE_COLUMNS = ["scheduler", "budget", "seed", "epoch", "lr", "train_loss", "val_loss"]


def _optimization(trials: list[FrozenTrial]) -> dict[str, Any]:
    finished = [t for t in trials if store.is_finished(t)]
    complete = [t for t in finished if t.state == TrialState.COMPLETE]
    best = store.best_trial(finished)
    return {
        "best_val_loss": best.value if best else None,
        "best_params": best.params if best else None,
        "complete": len(complete),
        "pruned": sum(t.state == TrialState.PRUNED for t in finished),
        "failed": sum(t.state == TrialState.FAIL for t in finished),
        "failure_reasons": sorted({t.user_attrs["reason"] for t in finished if t.user_attrs.get("reason")}),
    }


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


def collect_runs(storage: BaseStorage, project: str, name: str) -> list[dict[str, Any]]:
    """Finished Phase 2 runs of ``name`` made with its current best parameters."""
    params = store.best_params(storage, project, name)
    runs = [dict(t.user_attrs) for t in store.trials(storage, store.study_name(project, "compare", name))
            if store.is_finished(t) and t.user_attrs.get("params") == params and t.user_attrs["status"] != "failed"]
    return sorted(runs, key=lambda r: (r["budget"], r["seed"]))


def transfer_rows(storage: BaseStorage, project: str, name: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """transfer.csv rows of ``name`` (results.transfer.COLUMNS): its finished transfer runs made from its current
    best parameters, and its Phase 2 ``runs`` as multiplier 1 (none without transfer runs)."""
    params = store.best_params(storage, project, name)
    rows, tuned = [], None
    for multiplier, study in store.transfer_multipliers(storage, project, name).items():
        for trial in store.trials(storage, study):
            attrs = trial.user_attrs
            if store.is_finished(trial) and attrs.get("tuned_params") == params and attrs["status"] != "failed":
                step = attrs["step_param"]
                tuned = attrs["tuned_params"].get(step, attrs["params"][step] / multiplier)
                rows.append(_transfer_row(name, attrs, multiplier, attrs["params"][step], step))
    return rows + [_transfer_row(name, r, 1.0, tuned, rows[0]["step_param"]) for r in runs] if rows else []


def _transfer_row(name: str, run: dict[str, Any], multiplier: float, lr: float, step: str) -> dict[str, Any]:
    """One run's row, with its step parameter, training time and epochs trained (for the report, not the table)."""
    final = run["val_loss"][-1] if run["status"] == "complete" else None
    return {"contender": name, "budget": run["budget"], "multiplier": multiplier, "lr": lr, "seed": run["seed"],
            "final_val_loss": final, "status": run["status"], "wall_time": run.get("wall_time", 0.0),
            "epochs_trained": run.get("epochs_trained", run["budget"]), "step_param": step}


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


def faults(trials: list[FrozenTrial], phase: str) -> list[dict[str, Any]]:
    """Units that were retried (with each earlier attempt's cause) or given up on, in one study."""
    found = []
    for t in trials:
        if t.user_attrs.get("retry_of") or t.user_attrs.get("status") == "failed":
            attrs = t.user_attrs
            unit = attrs.get("index") if phase == "tune" else f"{attrs.get('budget')}/{attrs.get('seed')}"
            found.append({"phase": phase, "unit": unit, "retry_of": t.user_attrs.get("retry_of", []),
                          "status": t.user_attrs.get("status", "running"), "reason": t.user_attrs.get("reason")})
    return found


def epochs_accounting(runs: list[dict[str, Any]]) -> dict[str, int]:
    """Phase 2 epochs planned (the runs' budgets) vs trained: fewer where a run resumed another
    budget's run over their shared LR prefix. Runs of earlier versions trained every epoch."""
    return {"planned": sum(r["budget"] for r in runs),
            "trained": sum(r.get("epochs_trained", r["budget"]) for r in runs)}


def _training_time(tuning: list[FrozenTrial], runs: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds spent training in Phase 1 (every seed of every finished trial) and Phase 2."""
    tune = sum(r.get("wall_time", 0.0) for t in tuning if store.is_finished(t) for r in t.user_attrs.get("runs", []))
    return tune, sum(r.get("wall_time", 0.0) for r in runs)


def build_report(storage: BaseStorage, project: str,
                 alpha: float = ALPHA) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(report, tidy curves, transfer table) for ``project``: a pure function of what the storage holds (and
    the level ``alpha`` of the tests)."""
    meta = store.stored_meta(storage, project) or {}
    config = meta["config"]
    present = store.study_names(storage)
    tuned = {name.rsplit("/", 1)[1] for name in present if name.startswith(store.study_name(project, "tune", ""))}
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
        report["optimization"][name] = _optimization(tuning)
        for trial in [*tuning, *store.trials(storage, store.study_name(project, "compare", name))]:
            if store.is_finished(trial) and "device" in trial.user_attrs:
                devices[trial.user_attrs["device"]] = devices.get(trial.user_attrs["device"], 0) + 1
        found = faults(tuning, "tune") + faults(store.trials(storage, store.study_name(project, "compare", name)),
                                               "compare")
        if found:
            report["faults"][name] = found
        runs = collect_runs(storage, project, name)
        transfer += transfer_rows(storage, project, name, runs)
        seconds = _training_time(tuning, runs)
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
        report["transfer"]["epochs"] = {"planned": sum(r["budget"] for r in trained),
                                        "trained": sum(r["epochs_trained"] for r in trained)}
        report["training_time_s"]["transfer"] = sum(r["wall_time"] for r in trained)
        report["training_time_s"]["total"] += report["training_time_s"]["transfer"]
    return json_ready(report), curves, table


def write_report(report: dict[str, Any], curves: pd.DataFrame, out: Path,
                 transfer: pd.DataFrame | None = None) -> list[Path]:
    """Write report.json, curves.csv (and transfer.csv) atomically, the plots, and report.md (what a person
    reads first)."""
    from results.figures import write_figures
    from results.markdown import write_markdown

    atomic_write_text(out / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    atomic_write_text(out / "curves.csv", curves.to_csv(index=False))
    written = [out / "report.json", out / "curves.csv"]
    if transfer is not None and not transfer.empty:
        atomic_write_text(out / "transfer.csv", transfer.to_csv(index=False))
        written.append(out / "transfer.csv")
    if report["analysis"] is None:
        return written
    figures = write_figures(report["analysis"], curves, out, report.get("transfer"), transfer)
    return [*written, *figures, write_markdown({**report, **report["analysis"]}, figures, out / "report.md")]


def write_outputs(storage: BaseStorage, project: str, out: Path, alpha: float = ALPHA) -> dict[str, Any]:
    """The report of what ``storage`` holds for ``project``, written to ``out`` and summarised on stdout."""
    from results.tables import print_summary

    report, curves, transfer = build_report(storage, project, alpha)
    write_report(report, curves, out, transfer)
    print_summary(report)
    return report
