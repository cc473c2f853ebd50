"""Reading a run back from the storage: its Phase 1 trials, Phase 2 runs and transfer runs as plain records."""

from __future__ import annotations

from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from runstate import storage as store


def optimization_summary(trials: list[FrozenTrial]) -> dict[str, Any]:
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


def collect_runs(storage: BaseStorage, project: str, name: str) -> list[dict[str, Any]]:
    """Finished Phase 2 runs of ``name`` made with its current best parameters."""
    params = store.best_params(storage, project, name)
    runs = [dict(t.user_attrs) for t in store.trials(storage, store.study_name(project, "compare", name))
            if store.is_finished(t) and t.user_attrs.get("params") == params and t.user_attrs["status"] != "failed"]
    return sorted(runs, key=lambda r: (r["budget"], r["seed"]))


def transfer_rows(storage: BaseStorage, project: str, name: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """transfer.csv rows of ``name`` (results.stats.transfer.COLUMNS): its finished transfer runs made from its current
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
    return rows + [_transfer_row(name, r, 1.0, tuned, rows[0]["step_param"]) for r in runs] if tuned is not None else []


def _transfer_row(name: str, run: dict[str, Any], multiplier: float, lr: float, step: str) -> dict[str, Any]:
    """One run's row, with its step parameter, training time and epochs trained (for the report, not the table)."""
    final = run["val_loss"][-1] if run["status"] == "complete" else None
    return {"contender": name, "budget": run["budget"], "multiplier": multiplier, "lr": lr, "seed": run["seed"],
            "final_val_loss": final, "status": run["status"], "wall_time": run.get("wall_time", 0.0),
            "epochs_trained": run.get("epochs_trained", run["budget"]), "step_param": step}


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


def training_seconds(tuning: list[FrozenTrial], runs: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds spent training in Phase 1 (every seed of every finished trial) and Phase 2."""
    tune = sum(r.get("wall_time", 0.0) for t in tuning if store.is_finished(t) for r in t.user_attrs.get("runs", []))
    return tune, sum(r.get("wall_time", 0.0) for r in runs)
