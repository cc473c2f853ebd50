"""A Ctrl-C while the journal's lock is being released (runstate.journal_lock).

The interrupt is raised from inside the release, just before its rename -- where, under load, a
SIGTERM from a dead pool parent once landed -- so no timing is involved."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from optuna.storages.journal import JournalFileSymlinkLock

from runstate.journal_lock import InterruptSafeSymlinkLock


@pytest.fixture
def interrupted_rename(monkeypatch: pytest.MonkeyPatch, ctrl_c_raises: None) -> None:
    """os.rename that receives a Ctrl-C as it starts."""
    real_rename = os.rename

    def rename(source: str, target: str) -> None:
        signal.raise_signal(signal.SIGINT)
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)


def held_lock(tmp_path: Path, kind: type[JournalFileSymlinkLock]) -> tuple[JournalFileSymlinkLock, Path]:
    journal = tmp_path / "journal.log"
    journal.touch()
    lock = kind(str(journal))
    assert lock.acquire()
    return lock, Path(str(journal) + ".lock")


def test_the_release_finishes_and_then_the_interrupt_arrives(tmp_path: Path, interrupted_rename: None) -> None:
    lock, lock_file = held_lock(tmp_path, InterruptSafeSymlinkLock)
    with pytest.raises(KeyboardInterrupt):
        lock.release()
    assert not lock_file.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["journal.log"]
    assert lock.acquire()  # free for the next writer at once, not after a grace period


def test_optunas_release_turns_the_interrupt_into_file_not_found(tmp_path: Path, interrupted_rename: None) -> None:
    """Why runstate.journal_lock exists; if this fails, Optuna fixed it and the subclass can go."""
    lock, lock_file = held_lock(tmp_path, JournalFileSymlinkLock)
    with pytest.raises(FileNotFoundError):
        lock.release()
    assert lock_file.is_symlink()  # still held: others wait for the grace period
