"""Claims let several workers share one storage without training the same run twice.

A worker claims a unit of work (a Phase 1 trial index, a Phase 2 budget x seed) by opening a
RUNNING trial tagged with its id and a heartbeat it refreshes in the background. Among live
claims on the same unit the lowest trial number wins; the others yield. A claim is live while
its heartbeat is fresh: a PID says nothing across PID namespaces and a zombie or reused PID
looks alive, so the only PID use is a shortcut to *death* where a PID cannot lie (same boot and
PID namespace, no such process).

``EPOCHBENCH_HEARTBEAT_SECONDS`` (default 30) and ``EPOCHBENCH_STALE_SECONDS`` (default 300)
set the heartbeat interval and the age at which a claim is dead; they are read when used, so
tests can simulate a lost machine in seconds.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from optuna.trial import FrozenTrial, Trial, TrialState

from errors import UserError
from runstate.interrupts import interrupts_held
from runstate.records import CLAIMED, Attrs, Claim, UnitRecord, beat_attrs, retry_attrs, write
from runstate.storage import finish, is_finished

HEARTBEAT_ENV, STALE_ENV = "EPOCHBENCH_HEARTBEAT_SECONDS", "EPOCHBENCH_STALE_SECONDS"
HEARTBEAT, STALE_AFTER = 30.0, 300.0  # defaults
UNTAGGED_PATIENCE = 30.0  # a worker tags what it asked within ms; a loaded machine may take seconds

_identity: tuple[int, str] | None = None  # (pid, id): recomputed in a forked child


def worker_id() -> str:
    """'host:pid:token', unique per process wherever it runs (the token is a uuid4 made once per process)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}"
    return _identity[1]


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise UserError(f"{name}={text!r} must be a positive number of seconds")
    return value


def timing() -> tuple[float, float]:
    """(heartbeat interval, staleness) in seconds from the environment; a claim must outlive a few beats."""
    beat, stale = _seconds(HEARTBEAT_ENV, HEARTBEAT), _seconds(STALE_ENV, STALE_AFTER)
    if stale < 2 * beat:
        raise UserError(f"{STALE_ENV}={stale:g} must be at least twice {HEARTBEAT_ENV}={beat:g}, "
                        "or live workers would look dead")
    return beat, stale


def pid_namespace() -> str | None:
    """This boot and PID namespace (Linux), where a PID names exactly one process; None elsewhere."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return None


def _died_here(trial: FrozenTrial) -> bool:
    """True only if the claim's process certainly ended: same namespace and its PID is gone."""
    held = Claim.from_trial(trial)
    if held.worker is None or held.pid_namespace is None or held.pid_namespace != pid_namespace():
        return False
    try:
        os.kill(int(held.worker.split(":")[1]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, IndexError):
        return False
    return False


def _started(trial: FrozenTrial) -> float:
    return trial.datetime_start.timestamp() if trial.datetime_start is not None else 0.0


def is_live(trial: FrozenTrial, now: float | None = None) -> bool:
    """Whether ``trial`` is a claim some running worker still holds: its heartbeat is fresh."""
    held = Claim.from_trial(trial)
    if trial.state != TrialState.RUNNING or held.worker in (None, worker_id()):
        return False  # finished, unclaimed, or a leftover of this very process
    beat = held.alive if held.alive is not None else _started(trial)  # tagged a moment ago: maybe no beat yet
    fresh = (now or time.time()) - beat < timing()[1]
    return fresh and not _died_here(trial)


def won(trial: Trial, rivals: list[FrozenTrial]) -> bool:
    """True if no live claim on the same unit among ``rivals`` is older (lower-numbered) than ``trial``."""
    return all(t.number > trial.number for t in rivals if is_live(t))


@contextmanager
def heartbeat(trial: Trial) -> Iterator[None]:
    """Tag ``trial`` with this worker and keep its heartbeat fresh while the block runs."""
    interval = timing()[0]
    write(trial, Claim(worker_id(), pid_namespace(), time.time()).tag_attrs())
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                write(trial, beat_attrs(time.time()))
            except Exception:  # the trial just finished (or the storage is gone): nothing to keep alive
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _unsettled(trial: FrozenTrial, now: float) -> bool:
    """A RUNNING trial whose unit is not written yet: tagged by a live worker, or just asked by
    another worker and not even tagged (ignoring those let two workers both win a unit). An
    untagged trial is waited for up to UNTAGGED_PATIENCE (or the staleness): then its asker died."""
    held = Claim.from_trial(trial)
    if trial.state != TrialState.RUNNING or held.claimed:
        return False
    if held.worker is not None:
        return is_live(trial, now)
    return now - _started(trial) < min(UNTAGGED_PATIENCE, timing()[1])


def _settled_trials(study, number: int) -> list[FrozenTrial]:
    """All trials, once every older claim in flight has written its unit or died.

    A loaded machine may take seconds to tag a claim, and deciding before that trained units
    twice (a 5 s patience did); an untagged trial is waited for up to UNTAGGED_PATIENCE."""
    while True:
        trials = study.get_trials(deepcopy=False)
        now = time.time()
        if not any(_unsettled(t, now) for t in trials[:number]):
            return trials
        time.sleep(0.05)


def failed_attempt(trial: FrozenTrial, now: float | None = None) -> str | None:
    """Why an earlier attempt at a unit failed, or None if it did not (finished, live, or stopped
    on purpose: Ctrl-C and yielding are not failures and never use up retries)."""
    unit = UnitRecord.from_trial(trial)
    if unit.status == "error":
        return f"exception: {unit.reason or '?'}"
    if trial.state != TrialState.RUNNING or not Claim.from_trial(trial).claimed or is_live(trial, now):
        return None
    return "killed" if _died_here(trial) else "stale heartbeat"


@contextmanager
def claim(study, ask: Callable[[], Trial], attrs: Attrs, same_unit: Callable[[FrozenTrial], bool],
          max_retries: int = 2) -> Iterator[Trial | None]:
    """Open a trial for one unit of work and keep it alive; None if another worker got there first
    or the unit has failed more than ``max_retries`` times (it is then stored as "failed").

    An exception inside the block is stored on the trial as "error" with its reason and swallowed,
    so the worker goes on and the unit is retried; Ctrl-C stores "interrupted" and propagates.
    Retries and their causes are recorded on the trial (``retry_of``).
    """
    trial = None
    try:  # an interrupt at any point (even inside ask, before the trial is tagged) must not leave it RUNNING
        with interrupts_held():  # ask stores a RUNNING trial before it returns it (Phase 1 then samples
            trial = ask()        # and stores its parameters): one interrupted in between could not be marked
        with heartbeat(trial):  # tags the worker before the unit, so a visible unit is always claimed
            if not _take(study, trial, attrs, same_unit, max_retries):
                yield None
                return
            try:
                yield trial
            except Exception as err:  # a fault of this unit: recorded, retried, and the run goes on
                if _running(study, trial):
                    first_line = (str(err).strip().splitlines() or [""])[0]
                    finish(study, trial, "error", f"{type(err).__name__}: {first_line}"[:300])
    except BaseException:
        if trial is not None and _running(study, trial):
            finish(study, trial, "interrupted")
        raise


def _running(study, trial: Trial) -> bool:
    return study.get_trials(deepcopy=False)[trial.number].state == TrialState.RUNNING


def _take(study, trial: Trial, attrs: Attrs, same_unit: Callable[[FrozenTrial], bool], max_retries: int) -> bool:
    """Write the unit on the claim and decide: True if this worker trains it; otherwise the
    trial is finished as "yielded" (another worker has it) or "failed" (out of retries)."""
    write(trial, {**attrs, **CLAIMED})
    others = [t for t in _settled_trials(study, trial.number) if same_unit(t) and t.number != trial.number]
    if any(is_finished(t) for t in others) or not won(trial, others):
        finish(study, trial, "yielded")
        return False
    causes = [cause for t in others if t.number < trial.number and (cause := failed_attempt(t))]
    if causes:
        write(trial, retry_attrs(causes))
    if len(causes) > max_retries:
        finish(study, trial, "failed", f"gave up after {len(causes)} failed attempts ({'; '.join(causes)}); "
                                       f"--max-retries is {max_retries}")
        return False
    return True
