"""The report, derived from the storage alone: report.json, curves.csv and plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from results import storage as store
from results.files import atomic_write_text
from results.metrics import decoupling_matrix, final_loss_change, mean_std
from schedulers.lr_free import LR_FREE
from schedulers.registry import SCHEDULERS

SCHEMA_VERSION = 1
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
            if store.is_finished(t) and t.user_attrs.get("params") == params]
    return sorted(runs, key=lambda r: (r["budget"], r["seed"]))


def build_report(storage: BaseStorage, project: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """(report, tidy curves) for ``project``: a pure function of what the storage holds."""
    meta = store.stored_meta(storage, project) or {}
    config = meta["config"]
    present = store.study_names(storage)
    names = [n for n in [*SCHEDULERS, *LR_FREE] if store.study_name(project, "tune", n) in present]
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "config": config,
                              "environment": meta.get("environment", {}), "optimization": {}, "comparison": {},
                              "comparison_detail": {}, "sensitivity": {}, "decoupling": {}}
    rows = []
    for name in names:
        report["optimization"][name] = _optimization(store.trials(storage, store.study_name(project, "tune", name)))
        runs = collect_runs(storage, project, name)
        by_budget = {b: [r for r in runs if r["budget"] == b] for b in config["epoch_budgets"]}
        by_budget = {b: rs for b, rs in by_budget.items() if rs}
        if not by_budget:
            continue
        detail = {str(b): _budget_detail(rs) for b, rs in by_budget.items()}
        report["comparison_detail"][name] = detail
        report["comparison"][name] = {b: d["val_loss"]["mean"] for b, d in detail.items() if d["val_loss"]["mean"]
                                      is not None}
        means = list(report["comparison"][name].values())
        if len(means) >= 2:
            report["sensitivity"][name] = final_loss_change(means[0], means[-1])
        report["decoupling"][name] = decoupling_matrix({b: _seed_mean_curve(rs) for b, rs in by_budget.items()})
        for r in runs:
            for epoch, values in enumerate(zip(r["lr"], r["train_loss"], r["val_loss"])):
                row = {"scheduler": name, "budget": r["budget"], "seed": r["seed"], "epoch": epoch,
                       "lr": values[0], "train_loss": values[1], "val_loss": values[2]}
                if r.get("val_accuracy") is not None:
                    row["val_accuracy"] = r["val_accuracy"][epoch]
                rows.append(row)
    columns = CURVE_COLUMNS + (["val_accuracy"] if any("val_accuracy" in row for row in rows) else [])
    return _without_nan(report), pd.DataFrame(rows, columns=columns)


def _without_nan(value: Any) -> Any:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return value


def write_report(report: dict[str, Any], curves: pd.DataFrame, out: Path) -> list[Path]:
    """Write report.json and curves.csv atomically, and one learning-curve PNG per contender."""
    from results.plots import plot_curves

    atomic_write_text(out / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    atomic_write_text(out / "curves.csv", curves.to_csv(index=False))
    written = [out / "report.json", out / "curves.csv"]
    for name, group in curves.groupby("scheduler", sort=False):
        mean_curves = {int(b): g.groupby("epoch")["val_loss"].mean().tolist() for b, g in group.groupby("budget")}
        written.append(plot_curves(mean_curves, title=f"{name}: validation loss (seed mean)", ylabel="val loss",
                                   path=out / "plots" / f"val_loss_{name}.png", log_y=True))
    return written
