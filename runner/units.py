"""Units of work in one study: do every unit not finished yet, sharing them with other workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

import optuna
from optuna.trial import FrozenTrial

from runner.claims import is_live, timing
from runner.progress import Progress
from runstate.storage import is_finished

U = TypeVar("U", bound=Hashable)  # how a study's trials name its units: a trial index, (budget, seed)
POLL_SECONDS = 1.0  # at most: a shorter heartbeat (tests simulating a lost machine) polls as often


def work_through(study: optuna.Study, units: dict[U, int], unit_of: Callable[[FrozenTrial], U | None],
                 run: Callable[[U], bool], progress: Progress,
                 ready: Callable[[U, set[U | None]], bool] = lambda unit, done: True) -> bool:
    """Run ``units`` ({unit: its training epochs}, runner.plan) in order, skipping finished ones and
    those other workers hold or that are not ``ready(unit, done units)`` yet. True once every unit is
    finished; False when only such units are left, so the caller can find free work elsewhere before it
    waits (``idle``).

    ``run(unit)`` trains one unit and returns False if it yielded the unit to another worker.
    Alone on a storage this is a plain loop over the missing units, so results do not depend
    on interruptions; with other workers each unit is trained by exactly one of them.
    """
    while True:
        trials = study.get_trials(deepcopy=False)
        done = {unit_of(t) for t in trials if is_finished(t)}
        held = {unit_of(t) for t in trials if is_live(t)}
        for unit in [u for u in units if u in done]:
            progress.skip(units[unit], key=(study.study_name, unit))  # counted once per process
        todo = [u for u in units if u not in done]
        if not todo:
            return True
        free = [u for u in todo if u not in held and ready(u, done)]
        if not free:
            return False
        if run(free[0]):  # False: another worker claimed it first
            progress.skip(0, key=(study.study_name, free[0]))  # trained here: its epochs were counted


def idle() -> None:
    """Wait before looking for work again: POLL_SECONDS, or the heartbeat interval if shorter."""
    time.sleep(min(POLL_SECONDS, timing()[0]))
