"""The journal file's lock: Optuna's symlink lock, with a release an interrupt cannot split.

Optuna's ``JournalFileSymlinkLock.release`` renames the lock file, unlinks the renamed file, and on
an exception other than OSError unlinks the renamed file and re-raises. A Ctrl-C or SIGTERM (a
worker whose pool parent died is stopped by one) that lands before the rename therefore meets a
renamed file that does not exist: FileNotFoundError replaces the interrupt, so the interrupted unit
is stored as an exception and retried, and the lock stays held until another process breaks it
after the grace period. Seen under load in tests/stress.py
(test_a_killed_pool_parent_takes_its_workers_with_it). Here the interrupt waits until the release
is done.
"""

from __future__ import annotations

from optuna.storages.journal import JournalFileSymlinkLock

from runstate.interrupts import interrupts_held


class InterruptSafeSymlinkLock(JournalFileSymlinkLock):
    """Optuna's lock protocol and code; only ``release`` holds interrupts until it is done."""

    def release(self) -> None:
        with interrupts_held():
            super().release()
