"""Reading a run back from the storage: its Phase 1 trials, Phase 2 runs and transfer runs as plain records."""

from __future__ import annotations

from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from runstate import storage as store
from runstate.records import TrainedRun, TuningTrial, UnitRecord


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
        "failure_reasons": sorted({r for t in finished if (r := UnitRecord.from_trial(t).reason)}),
    }


def collect_runs(storage: BaseStorage, project: str, name: str) -> list[dict[str, Any]]:
    """Finished Phase 2 runs of ``name`` made with its current best parameters."""
    params = store.best_params(storage, project, name)
    runs = [run.as_dict() for t in store.trials(storage, store.study_name(project, "compare", name))
            if store.is_finished(t) and (run := TrainedRun.from_trial(t)).params == params and run.status != "failed"]
    return sorted(runs, key=lambda r: (r["budget"], r["seed"]))


def finished_units(storage: BaseStorage, project: str, name: str) -> set[tuple[int, int]]:
    """(budget, seed) of every finished Phase 2 run of ``name``'s current best parameters, failed ones included
    (a failed unit ends its round as much as a complete one: runner.seed_rounds)."""
    return set(store.finished_runs(storage, store.study_name(project, "compare", name),
                                   store.best_params(storage, project, name)))


def round_contenders(storage: BaseStorage, project: str, names: list[str], n_trials: int) -> list[str]:
    """The contenders the rounds of --compare-seeds auto wait for, as runner.seed_rounds counts them: every one of
    ``names`` but those whose Phase 1 is finished without a complete trial (they have no Phase 2)."""
    return [name for name in names if not store.tuning_finished(storage, project, name, n_trials)
            or store.best_params(storage, project, name) is not None]


def transfer_rows(storage: BaseStorage, project: str, name: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """transfer.csv rows of ``name`` (results.stats.transfer.COLUMNS): its finished transfer runs made from its current
    best parameters, and its Phase 2 ``runs`` as multiplier 1 (none without transfer runs)."""
    params = store.best_params(storage, project, name)
    rows, tuned = [], None
    studies = [s for s in store.studies(storage, project) if s.phase == "transfer" and s.contender == name]
    for study in studies:
        for trial in store.trials(storage, str(study)):
            if not store.is_finished(trial):
                continue
            run = TrainedRun.from_trial(trial)
            origin = run.transfer
            if origin is not None and origin.tuned_params == params and run.status != "failed":
                step = origin.step_param
                tuned = origin.tuned_params.get(step, run.params[step] / origin.multiplier)
                rows.append(_transfer_row(name, run.as_dict(), origin.multiplier, run.params[step], step))
    return rows + [_transfer_row(name, r, 1.0, tuned, rows[0]["step_param"]) for r in runs] if tuned is not None else []


def _transfer_row(name: str, run: dict[str, Any], multiplier: float, lr: float, step: str) -> dict[str, Any]:
    """One run's row, with its step parameter, training time and epochs trained (for the report, not the table)."""
    final = run["val_loss"][-1] if run["status"] == "complete" else None
    return {"contender": name, "budget": run["budget"], "multiplier": multiplier, "lr": lr, "seed": run["seed"],
            "final_val_loss": final, "status": run["status"], "wall_time": run.get("wall_time", 0.0),
            "epochs_trained": run["epochs_trained"], "step_param": step}


def faults(trials: list[FrozenTrial], phase: str) -> list[dict[str, Any]]:
    """Units that were retried (with each earlier attempt's cause) or given up on, in one study."""
    found = []
    for t in trials:
        unit = TuningTrial.from_trial(t) if phase == "tune" else TrainedRun.from_trial(t)
        if unit.retry_of or unit.status == "failed":
            where = unit.index if isinstance(unit, TuningTrial) else f"{unit.budget}/{unit.seed}"
            found.append({"phase": phase, "unit": where, "retry_of": unit.retry_of, "status": unit.status,
                          "reason": unit.reason})
    return found


def epochs_accounting(runs: list[dict[str, Any]]) -> dict[str, int]:
    """Epochs planned (the runs' budgets) vs trained: fewer where a run resumed another budget's run
    over their shared LR prefix (Phase 2 runs, or transfer rows)."""
    return {"planned": sum(r["budget"] for r in runs), "trained": sum(r["epochs_trained"] for r in runs)}


def training_seconds(tuning: list[FrozenTrial], runs: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds spent training in Phase 1 (every seed of every finished trial) and Phase 2."""
    tune = sum(r.get("wall_time", 0.0) for t in tuning if store.is_finished(t) for r in TuningTrial.from_trial(t).runs)
    return tune, sum(r.get("wall_time", 0.0) for r in runs)
