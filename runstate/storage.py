"""The Optuna storage is the state: how EpochBench names, opens, writes and reads it.

Every convention shared by the writer (the runner) and the reader (the report) lives here:
study names, trial statuses, which trials count as finished, which trial is a study's best,
and the stored configuration. It imports neither torch nor the runner, so reports can be
rebuilt from a storage on any machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, Trial, TrialState

from errors import UserError
from runstate.records import REASON, STATUS, TrainedRun, TuningTrial, write

JOURNAL_FILE = "epochbench.journal"  # the default state of a run folder: safe for many processes
DB_FILE = "epochbench.db"  # the default before journals; folders holding one keep using it
SCHEMES = "sqlite:///FILE, postgresql://USER@HOST/DB, mysql://..., journal:FILE"

# Finished work is never redone. "interrupted" trials (Ctrl-C), "error" trials (an exception) and
# trials left RUNNING by a killed process are not finished: they are redone from their start
# ("error" and killed ones at most --max-retries times, then the unit is stored as "failed").
FINISHED = frozenset({"complete", "diverged", "pruned", "invalid", "failed"})


def default_url(out: Path) -> str:
    """The storage of a run folder: its Optuna journal file (several workers may append to it at
    once), or the SQLite file of a folder written before journals became the default."""
    if (out / DB_FILE).is_file() and not (out / JOURNAL_FILE).exists():
        return f"sqlite:///{(out / DB_FILE).resolve()}"
    return f"journal:{(out / JOURNAL_FILE).resolve()}"


Phase = Literal["tune", "compare", "transfer"]


@dataclass(frozen=True)
class StudyName:
    """Which units a study holds: '<project>/tune/<contender>' (Phase 1), '<project>/compare/<contender>'
    (Phase 2), '<project>/transfer/<contender>/x<multiplier>' (one transfer grid point; repr: exact)."""

    project: str
    phase: Phase
    contender: str
    multiplier: float | None = None  # transfer studies only

    def __str__(self) -> str:
        name = f"{self.project}/{self.phase}/{self.contender}"
        return name if self.multiplier is None else f"{name}/x{self.multiplier!r}"

    @classmethod
    def parse(cls, text: str, project: str) -> StudyName | None:
        """The name ``text`` spells in ``project``; None for other projects' studies and the meta study."""
        parts = text.removeprefix(f"{project}/").split("/") if text.startswith(f"{project}/") else []
        if len(parts) == 2 and parts[0] in ("tune", "compare"):
            return cls(project, parts[0], parts[1])  # type: ignore[arg-type]
        if len(parts) == 3 and parts[0] == "transfer" and parts[2].startswith("x"):
            try:
                return cls(project, "transfer", parts[1], float(parts[2][1:]))
            except ValueError:
                return None
        return None


def study_name(project: str, phase: Phase, name: str) -> str:
    return str(StudyName(project, phase, name))


def transfer_study_name(project: str, name: str, multiplier: float) -> str:
    return str(StudyName(project, "transfer", name, multiplier))


def studies(storage: BaseStorage, project: str) -> list[StudyName]:
    """The Phase 1, Phase 2 and transfer studies ``storage`` holds for ``project``, by name."""
    return [n for s in sorted(study_names(storage)) if (n := StudyName.parse(s, project)) is not None]


def meta_name(project: str) -> str:
    return f"{project}/meta"


def exists(url: str) -> bool:
    """Whether opening ``url`` would find existing state (never creates a file)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    if url.startswith("journal:"):
        return Path(url.removeprefix("journal:")).is_file()
    return True


def open_storage(url: str, for_writing: bool = False) -> BaseStorage:
    """An Optuna storage for ``url``; unknown schemes and unreachable servers are UserErrors.

    Only ``for_writing`` may change the file: a journal's cut-off last line is then dropped."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        from runstate.journal_lock import InterruptSafeSymlinkLock

        path = Path(url.removeprefix("journal:"))
        if not path.parent.is_dir():
            raise UserError(f"--storage {url}: folder {path.parent} does not exist")
        lock = InterruptSafeSymlinkLock(str(path))  # Optuna's lock on appends, its release not interruptible
        if for_writing and path.is_file():
            _drop_partial_line(path, lock)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path), lock))
    if url.split(":", 1)[0].split("+", 1)[0] not in ("sqlite", "postgresql", "mysql"):
        raise UserError(f"--storage {url!r}: unknown kind of storage; allowed: {SCHEMES}")
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url))
        except Exception as err:  # sqlalchemy raises many kinds for bad URLs and dead servers
            if any(race in str(err) for race in _SCHEMA_RACES) and attempt < 4:
                time.sleep(0.2 * (attempt + 1))  # two workers created the schema at once: the other won
                continue
            raise UserError(f"cannot open storage {url}: {root_cause(err)}") from None
    raise AssertionError("unreachable")


# What creating one schema from two processes at once raises (SQLite; PostgreSQL's CREATE TABLE IF
# NOT EXISTS is not safe under concurrency either): the other process won, so open it again.
_SCHEMA_RACES = ("alembic_version", "already exists", "database is locked", "duplicate key value")


def root_cause(err: BaseException) -> str:
    """The first line of the innermost cause: "database disk image is malformed", "disk is full",
    not the wrapper above it (Optuna's "exceeding max length", sqlalchemy's statement dump)."""
    seen = err
    while (inner := seen.__cause__ or getattr(seen, "orig", None)) is not None and inner is not seen:
        seen = inner
    text = str(seen).strip()
    return text.splitlines()[0] if text else type(seen).__name__


def _drop_partial_line(path: Path, lock) -> None:
    """Truncate a journal to its last complete line (a crash or a full disk cut the last one off).

    Optuna reads past a partial last line, but the next append would extend it into garbage
    that breaks every later read. Under the append lock, so an append in flight is not cut."""
    lock.acquire()
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            keep = size
            while keep > 0:  # back to just after the last newline, reading backwards in blocks
                start = max(0, keep - 65536)
                handle.seek(start)
                newline = handle.read(keep - start).rfind(b"\n")
                keep = start + newline + 1 if newline >= 0 else start
                if newline >= 0:
                    break
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        lock.release()
    print(f"warning: journal {path} ended in a cut-off line (a crash or a full disk?); dropped its last "
          f"{size - keep} bytes", file=sys.stderr)


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith(("postgresql", "mysql")):
        return {"connect_args": {"connect_timeout": 5}}
    return {}


def load_study(storage: BaseStorage, name: str) -> optuna.Study | None:
    """The study called ``name``, or None if the storage has none."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def trials(storage: BaseStorage, name: str) -> list[FrozenTrial]:
    """The trials of study ``name`` (none if it does not exist)."""
    study = load_study(storage, name)
    return study.get_trials(deepcopy=False) if study is not None else []


def is_finished(trial: FrozenTrial) -> bool:
    return trial.state != TrialState.RUNNING and trial.user_attrs.get(STATUS) in FINISHED


def finished_runs(storage: BaseStorage, name: str, params: dict[str, Any] | None) -> dict[tuple[int, int], TrainedRun]:
    """(budget, seed) -> the finished run of ``params`` in the Phase 2 or transfer study ``name`` (a retry's outcome
    over its failed attempt): what the rounds of --compare-seeds auto, the transfer grid and the report read."""
    found: dict[tuple[int, int], TrainedRun] = {}
    for trial in trials(storage, name):
        run = TrainedRun.from_trial(trial)
        if is_finished(trial) and run.params == params and (run.status != "failed" or run.unit not in found):
            found[run.unit] = run
    return found


def tuning_finished(storage: BaseStorage, project: str, name: str, n_trials: int) -> bool:
    """Whether every Phase 1 trial (indexes 0..n_trials-1) of contender ``name`` is finished."""
    done = {TuningTrial.from_trial(t).index for t in trials(storage, study_name(project, "tune", name))
            if is_finished(t)}
    return all(index in done for index in range(n_trials))


def best_trial(trials_: list[FrozenTrial]) -> FrozenTrial | None:
    """The complete trial with the lowest value (the earliest on ties), or None."""
    complete = [t for t in trials_ if t.state == TrialState.COMPLETE]
    return min(complete, key=lambda t: (t.value, t.number)) if complete else None


def best_params(storage: BaseStorage, project: str, name: str) -> dict[str, Any] | None:
    """Phase 1's best parameters for contender ``name``, or None when no trial completed."""
    best = best_trial(trials(storage, study_name(project, "tune", name)))
    return best.params if best is not None else None


def finish(study: optuna.Study, trial: Trial, status: str, reason: str | None = None,
           value: float | None = None) -> None:
    """Store the outcome; statuses other than complete/pruned end the trial as FAIL."""
    write(trial, {STATUS: status, **({REASON: reason} if reason else {})})
    if status == "complete":
        study.tell(trial, value)
    elif status == "pruned":
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, state=TrialState.FAIL)


def stored_meta(storage: BaseStorage, project: str) -> dict[str, Any] | None:
    """What the last command stored about ``project`` (its config and environment), if any."""
    study = load_study(storage, meta_name(project))
    return dict(study.user_attrs) if study is not None else None


def store_meta(storage: BaseStorage, project: str, config: dict[str, Any], environment: dict[str, Any],
               steps_per_epoch: int) -> None:
    """The run's settings, where it ran, and its batches per epoch (to rebuild per-batch schedules)."""
    study = optuna.create_study(study_name=meta_name(project), storage=storage, load_if_exists=True)
    study.set_user_attr("config", json.loads(json.dumps(config)))
    study.set_user_attr("environment", environment)
    study.set_user_attr("steps_per_epoch", steps_per_epoch)


def projects(storage: BaseStorage) -> list[str]:
    return sorted(s.study_name.removesuffix("/meta") for s in optuna.get_all_study_summaries(storage)
                  if s.study_name.endswith("/meta"))


def study_names(storage: BaseStorage) -> set[str]:
    return {s.study_name for s in optuna.get_all_study_summaries(storage)}
