"""What a unit of work stores on its Optuna trial, typed: the one module that knows the attribute keys.

A unit's trial holds its claim (which worker holds it, its heartbeat: runner.claims), the unit
(which work it is, written when it is claimed), its result (written once trained) and its status
(runstate.storage.finish). The runner writes records with ``claim_attrs``/``result_attrs``; the
report reads them with ``from_trial``. The keys never change, so storages of every earlier
version read back: a key they lack gets the value that version meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial, Trial

Attrs = dict[str, Any]
STATUS, REASON = "status", "reason"  # the outcome of every unit (runstate.storage.finish)
CURVE_KEYS = ("lr", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "reason", "wall_time")


def _unit(trial: FrozenTrial, key: str) -> Any:
    """A unit field of a trial; None on a trial asked but not tagged yet (runner.claims)."""
    return trial.user_attrs.get(key)


def write(trial: Trial, attrs: Attrs) -> None:
    """Store ``attrs`` on ``trial``, in order."""
    for key, value in attrs.items():
        trial.set_user_attr(key, value)


@dataclass(frozen=True)
class Claim:
    """Who holds a unit: the worker's id ('host:pid:token'), its PID namespace and last heartbeat."""

    worker: str | None = None  # None: not tagged yet
    pid_namespace: str | None = None
    alive: float | None = None  # time of the last heartbeat
    claimed: bool = False  # the unit is written on the trial

    @classmethod
    def from_trial(cls, trial: FrozenTrial) -> Claim:
        attrs = trial.user_attrs
        return cls(attrs.get("worker"), attrs.get("pid_namespace"), attrs.get("alive"), "claimed" in attrs)

    def tag_attrs(self) -> Attrs:
        """The heartbeat first: a tagged claim always has one."""
        return {"alive": self.alive, "pid_namespace": self.pid_namespace, "worker": self.worker}


def beat_attrs(now: float) -> Attrs:
    return {"alive": now}


CLAIMED: Attrs = {"claimed": True}  # written after the unit: a visible unit is always claimed


def retry_attrs(causes: list[str]) -> Attrs:
    """Why the earlier attempts at this unit failed."""
    return {"retry_of": causes}


@dataclass(frozen=True, kw_only=True)
class UnitRecord:
    """What every unit stores beside its own fields: where it trained and how it ended."""

    device: str | None = None  # "cpu", "cuda:1"; storages before multi-GPU runs have none
    status: str = "running"  # until finished (runstate.storage.FINISHED)
    reason: str | None = None
    retry_of: list[str] = field(default_factory=list)

    @classmethod
    def from_trial(cls, trial: FrozenTrial) -> UnitRecord:
        """The fields every unit has, of any unit's trial."""
        return cls(**cls._common(trial.user_attrs))

    @staticmethod
    def _common(attrs: Attrs) -> Attrs:
        return {"device": attrs.get("device"), "status": attrs.get(STATUS, "running"), "reason": attrs.get(REASON),
                "retry_of": attrs.get("retry_of", [])}


@dataclass(frozen=True, kw_only=True)
class TuningTrial(UnitRecord):
    """A Phase 1 trial: trial ``index`` of its study, trained with every tuning seed."""

    index: int
    runs: list[Attrs] = field(default_factory=list)  # per tuning seed: {"seed": seed, curve key: value, ...}

    def claim_attrs(self) -> Attrs:
        return {"index": self.index, "device": self.device}

    def result_attrs(self) -> Attrs:
        return {"runs": self.runs}

    @classmethod
    def from_trial(cls, trial: FrozenTrial) -> TuningTrial:
        attrs = trial.user_attrs
        return cls(index=_unit(trial, "index"), runs=attrs.get("runs", []), **cls._common(attrs))


@dataclass(frozen=True)
class TransferOrigin:
    """What a transfer run scales: the tuned parameters, their step parameter and the multiplier."""

    multiplier: float
    tuned_params: Attrs
    step_param: str

    def to_attrs(self) -> Attrs:
        return {"multiplier": self.multiplier, "tuned_params": self.tuned_params, "step_param": self.step_param}


@dataclass(frozen=True, kw_only=True)
class TrainedRun(UnitRecord):
    """A Phase 2 run or a transfer run: ``params`` trained for ``budget`` epochs with ``seed``."""

    budget: int
    seed: int
    params: Attrs
    transfer: TransferOrigin | None = None  # None: a Phase 2 run
    curves: Attrs = field(default_factory=dict)  # tasks.training.RunRecord's fields but its status
    epochs_trained: int | None = None  # fewer than budget where it resumed a fork point; None: not trained yet
    checkpoint_seconds: float | None = None  # spent saving checkpoints; None: it saved none

    @property
    def unit(self) -> tuple[int, int]:
        return self.budget, self.seed

    def claim_attrs(self) -> Attrs:
        origin = self.transfer.to_attrs() if self.transfer is not None else {}
        return {**origin, "budget": self.budget, "seed": self.seed, "params": self.params, "device": self.device}

    def result_attrs(self) -> Attrs:
        seconds = {"checkpoint_seconds": self.checkpoint_seconds} if self.checkpoint_seconds is not None else {}
        return {**self.curves, "epochs_trained": self.epochs_trained, **seconds}

    @classmethod
    def from_trial(cls, trial: FrozenTrial) -> TrainedRun:
        """The run a trial stores; runs of versions before prefix sharing trained every epoch."""
        attrs = trial.user_attrs
        transfer = TransferOrigin(attrs["multiplier"], attrs["tuned_params"], attrs["step_param"]) \
            if "tuned_params" in attrs else None
        return cls(budget=_unit(trial, "budget"), seed=_unit(trial, "seed"), params=_unit(trial, "params"),
                   transfer=transfer,
                   curves={key: attrs[key] for key in CURVE_KEYS if key in attrs},
                   epochs_trained=attrs.get("epochs_trained", attrs.get("budget")),
                   checkpoint_seconds=attrs.get("checkpoint_seconds"), **cls._common(attrs))

    def as_dict(self) -> Attrs:
        """The run as the report reads it: its budget, seed, status, curves and training costs."""
        return {"budget": self.budget, "seed": self.seed, "params": self.params, "device": self.device,
                "status": self.status, **self.curves, "epochs_trained": self.epochs_trained,
                "checkpoint_seconds": self.checkpoint_seconds or 0.0}
