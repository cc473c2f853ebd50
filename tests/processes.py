"""Synchronising a test with the processes it starts: on events they produce, never on elapsed time.

A test waits for something the code under test writes (a stored trial state, a file) and looks
at a running process only while it is frozen (SIGSTOP), so what it sees cannot change under it.
The time limits here only stop a hang; no result depends on how fast a loaded machine runs.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import TypeVar

from optuna.trial import FrozenTrial, TrialState

HANG_SECONDS = 900  # a limit that only stops a hang: a loaded 2-core machine stays far inside it
POLL_SECONDS = 0.05

T = TypeVar("T")


def as_foreground_job() -> None:
    """``preexec_fn`` of a process that a test stops with Ctrl-C (SIGINT): SIGINT at its default, as in a
    terminal's foreground job. A shell starts background jobs with SIGINT ignored, and Python then
    never turns it into KeyboardInterrupt, so a test run from one would see Ctrl-C do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition: Callable[[], T], what: str, timeout: float = HANG_SECONDS) -> T:
    """Poll ``condition`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(POLL_SECONDS)
    return value


def _signal_all(pids: Iterable[int], number: signal.Signals, group: bool) -> None:
    """Send ``number``; a SIGSTOP returns only once every thread has stopped (kill() returns before:
    a thread on another core can still finish a write)."""
    pids = list(pids)
    for pid in pids:
        try:
            (os.killpg if group else os.kill)(pid, number)
        except ProcessLookupError:
            pass
    if number == signal.SIGSTOP:
        members = _group_members(pids) if group else pids
        wait_until(lambda: all(_is_stopped(pid) for pid in members), "SIGSTOP to take effect")


def _stat_fields(path: str) -> list[str] | None:
    try:
        with open(path) as handle:
            return handle.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
    except (OSError, IndexError):
        return None  # gone


def _group_members(groups: list[int]) -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()
            and (fields := _stat_fields(f"/proc/{name}/stat")) and int(fields[2]) in groups]


def _is_stopped(pid: int) -> bool:
    """Every thread of ``pid`` is stopped, or blocked in the kernel (D: a thread waiting there on a lock that a
    stopped sibling holds never reaches its stop; it runs no user code until thawed), or the process is gone."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    states = [fields[0] for tid in threads if (fields := _stat_fields(f"/proc/{pid}/task/{tid}/stat"))]
    return all(state in "tTZXD" for state in states)


@contextmanager
def frozen(pids: Iterable[int], group: bool = False):
    """SIGSTOP the processes (or process groups) for the block: nothing they do can change what it reads."""
    pids = list(pids)
    _signal_all(pids, signal.SIGSTOP, group)
    try:
        yield
    finally:
        _signal_all(pids, signal.SIGCONT, group)


def journal_locked(url: str) -> bool:
    """A process holds the lock of the journal file at ``url`` (False for other storages)."""
    from optuna.storages.journal._file import LOCK_FILE_SUFFIX

    return url.startswith("journal:") and os.path.lexists(url.removeprefix("journal:") + LOCK_FILE_SUFFIX)


def freeze_when(pids: Callable[[], Iterable[int]] | Iterable[int], condition: Callable[[], T], what: str,
                group: bool = False, timeout: float = HANG_SECONDS, storage: str | None = None) -> T:
    """Look at the processes only while they are frozen, until ``condition`` holds; return its value
    and leave them frozen (the caller kills them, or resumes them with ``thaw``).

    With ``storage``, they are never left frozen holding its journal's lock: Optuna lets another process
    break a lock held past its 30 s grace period, and the frozen holder's release then fails on thawing
    ("did not possess lock"); a killed holder would make the next process wait out that grace period."""
    deadline = time.monotonic() + timeout
    while True:
        stopped = list(pids() if callable(pids) else pids)
        _signal_all(stopped, signal.SIGSTOP, group)
        value = condition() if storage is None or not journal_locked(storage) else None
        if value:
            return value
        _signal_all(stopped, signal.SIGCONT, group)
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(POLL_SECONDS)


def thaw(pids: Iterable[int], group: bool = False) -> None:
    _signal_all(pids, signal.SIGCONT, group)


def thaw_group_but(group: int, held: int) -> None:
    """Resume every process of a frozen process group except ``held``."""
    _signal_all([pid for pid in _group_members([group]) if pid != held], signal.SIGCONT, group=False)


def stored_trials(url: str) -> list[tuple[str, FrozenTrial]]:
    """(study name, trial) of every trial in the storage at ``url``; [] while it does not exist yet."""
    from runstate.storage import exists, open_storage, study_names, trials

    if not exists(url):
        return []
    storage = open_storage(url)
    found = [(name, trial) for name in sorted(study_names(storage)) for trial in trials(storage, name)]
    if hasattr(storage, "engine"):
        storage.engine.dispose()  # no pooled connection outlives the look (PostgreSQL counts them)
    return found


def worker_pid(trial: FrozenTrial) -> int | None:
    """The PID in a claim's worker id ('host:pid:token'), or None for an unclaimed trial."""
    worker = trial.user_attrs.get("worker")
    return int(worker.split(":")[1]) if worker else None


def claims_held(url: str, pids: Iterable[int] | None = None) -> list[tuple[str, FrozenTrial]]:
    """Units claimed and still RUNNING in the storage, by any of ``pids`` (None: by anyone)."""
    wanted = None if pids is None else set(pids)
    return [(name, t) for name, t in stored_trials(url) if t.state == TrialState.RUNNING
            and "claimed" in t.user_attrs and (wanted is None or worker_pid(t) in wanted)]


def units_finished_by(url: str, pid: int) -> list[tuple[str, FrozenTrial]]:
    return [(name, t) for name, t in stored_trials(url) if t.state.is_finished() and worker_pid(t) == pid
            and t.user_attrs.get("status") == "complete"]
