"""Claims let several workers share one storage without training the same run twice.

A worker claims a unit of work (a Phase 1 trial index, a Phase 2 budget x seed) by opening a
RUNNING trial tagged with its id and a heartbeat it refreshes in the background. Among live
claims on the same unit the lowest trial number wins; the others yield. A claim is dead once
its worker process is gone (same host) or its heartbeat is older than ``STALE_AFTER`` seconds.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from optuna.trial import FrozenTrial, Trial, TrialState

from results.storage import finish, is_finished

HOST = socket.gethostname()
HEARTBEAT = 30.0
STALE_AFTER = 300.0


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_live(trial: FrozenTrial, now: float | None = None) -> bool:
    """Whether ``trial`` is a claim some running worker still holds."""
    if trial.state != TrialState.RUNNING or trial.user_attrs.get("worker", worker_id()) == worker_id():
        return False  # finished, unclaimed, or a leftover of this very process
    host, _, pid = trial.user_attrs["worker"].rpartition(":")
    if host == HOST:
        return _process_alive(int(pid))
    return (now or time.time()) - trial.user_attrs.get("alive", 0.0) < STALE_AFTER


def won(trial: Trial, rivals: list[FrozenTrial]) -> bool:
    """True if no live claim on the same unit among ``rivals`` is older (lower-numbered) than ``trial``."""
    return all(t.number > trial.number for t in rivals if is_live(t))


@contextmanager
def heartbeat(trial: Trial) -> Iterator[None]:
    """Tag ``trial`` with this worker and keep its heartbeat fresh while the block runs."""
    trial.set_user_attr("worker", worker_id())
    trial.set_user_attr("alive", time.time())
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT):
            try:
                trial.set_user_attr("alive", time.time())
            except Exception:  # the trial just finished (or the storage is gone): nothing to keep alive
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _unsettled(trial: FrozenTrial) -> bool:
    """A RUNNING trial whose unit is not written yet: just asked by another worker (not even
    tagged), or tagged by a live one. Ignoring the untagged ones let two workers both win a unit."""
    if trial.state != TrialState.RUNNING or "claimed" in trial.user_attrs:
        return False
    return "worker" not in trial.user_attrs or is_live(trial)


def _settled_trials(study, number: int, patience: float = 5.0) -> list[FrozenTrial]:
    """All trials, once every older claim in flight has written its unit (or ``patience`` ran out)."""
    deadline = time.time() + patience
    while True:
        trials = study.get_trials(deepcopy=False)
        unsettled = [t for t in trials[:number] if _unsettled(t)]
        if not unsettled or time.time() > deadline:
            return trials
        time.sleep(0.05)


@contextmanager
def claim(study, ask: Callable[[], Trial], attrs: dict,
          same_unit: Callable[[FrozenTrial], bool]) -> Iterator[Trial | None]:
    """Open a trial for one unit of work and keep it alive; None if another worker got there first.

    If the block is interrupted (Ctrl-C, an error) before it finished the trial, the trial is
    stored as "interrupted", which the next run redoes from its start.
    """
    trial = ask()
    with heartbeat(trial):  # tags the worker before the unit, so a visible unit is always claimed
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("claimed", True)
        others = _settled_trials(study, trial.number)
        others = [t for t in others if same_unit(t) and t.number != trial.number]
        if any(is_finished(t) for t in others) or not won(trial, others):
            finish(study, trial, "yielded")
            yield None
            return
        try:
            yield trial
        except BaseException:
            if study.get_trials(deepcopy=False)[trial.number].state == TrialState.RUNNING:
                finish(study, trial, "interrupted")
            raise
