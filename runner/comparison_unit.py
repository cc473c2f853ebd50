"""A Phase 2 unit's checkpoint policy: where it resumes, when it saves, what it removes when done.

A unit is one run of fixed parameters at one budget with one seed. It resumes from its own
checkpoint, else from the fork point an earlier budget's run kept for it (prefix sharing,
runner.prefix), else from scratch. While it trains it saves its own checkpoint every
``checkpoint_every`` epochs (at most once per ``checkpoint_seconds``) and, at each fork point
where later budgets part from it, a checkpoint for them. Once it is stored, it removes its own
checkpoint and every fork point no unfinished run of its seed needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from runner.checkpoints import Checkpoints, encode
from runner.prefix import Start, fork_points
from runstate.records import TrainedRun
from runstate.storage import is_finished
from tasks.training import RunRecord, Trainer

Unit = tuple[int, int]  # (budget, seed)


@dataclass
class ComparisonRuns:
    """The Phase 2 units of one set of parameters in one study, and the checkpoints they share."""

    study: optuna.Study
    params: dict[str, Any]
    starts: dict[int, Start]  # per budget (runner.prefix.plan_starts)
    checkpoints: Checkpoints | None  # None: no checkpoints, every run from scratch
    every: int = 1  # save a unit's own checkpoint every so many epochs; 0: never
    seconds: float = 60.0  # ... and at least this long after its last save
    forks: dict[tuple[int, int], list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.forks = fork_points(self.starts)

    def unit_of(self, trial: FrozenTrial) -> Unit | None:
        """The (budget, seed) a trial trains, if it trains these parameters."""
        run = TrainedRun.from_trial(trial)
        return run.unit if run.params == self.params else None

    def identity(self, budget: int, seed: int, epoch: int | None = None) -> dict[str, Any]:
        """A checkpoint's identity: a unit's own, or (``epoch``) its fork point for later budgets."""
        own = {"params": self.params, "budget": budget, "seed": seed}
        return own if epoch is None else {**own, "epoch": epoch}

    def unfinished(self, budgets: list[int], seed: int) -> bool:
        done = {self.unit_of(t) for t in self.study.get_trials(deepcopy=False) if is_finished(t)}
        return any((b, seed) not in done for b in budgets)

    def unit(self, budget: int, seed: int) -> ComparisonUnit:
        return ComparisonUnit(self, budget, seed)


class ComparisonUnit:
    """One (budget, seed) run's resume, saves and clean-up."""

    def __init__(self, runs: ComparisonRuns, budget: int, seed: int) -> None:
        self.runs, self.budget, self.seed = runs, budget, seed
        self.origin = 0  # the epoch this unit's own training began (a fork point, or 0)
        self._last_save = time.perf_counter()

    def resume(self, trainer: Trainer) -> RunRecord | None:
        """Restore ``trainer`` from this unit's checkpoint or its fork point; the curves so far, or None."""
        checkpoints, start = self.runs.checkpoints, self.runs.starts[self.budget]
        if checkpoints is None:
            return None
        state = checkpoints.load(self.runs.identity(self.budget, self.seed))
        if state is not None:
            self.origin = state["origin"]
            return trainer.restore(state)
        if start.parent is not None:
            state = checkpoints.load(self.runs.identity(start.parent, self.seed, start.epoch))
            if state is not None:
                self.origin = start.epoch
                return trainer.restore(state, inherited=True)
        return None

    def saver(self, trial: optuna.Trial, trainer: Trainer) -> Callable[[int, RunRecord], None]:
        """The per-epoch hook that saves the checkpoints due after each epoch."""
        runs = self.runs

        def after_epoch(epoch: int, record: RunRecord) -> None:
            if runs.checkpoints is None:
                return
            done = epoch + 1
            children = runs.forks.get((self.budget, done))
            targets = [runs.identity(self.budget, self.seed, done)] if children and runs.unfinished(
                children, self.seed) else []
            due = time.perf_counter() - self._last_save >= runs.seconds  # fast epochs: fewer saves
            if runs.every and done % runs.every == 0 and done < self.budget and due:
                targets.append(runs.identity(self.budget, self.seed))
            if targets:
                data = encode({**trainer.state(record), "origin": self.origin})
                for identity in targets:
                    runs.checkpoints.save(trial, identity, data)
                self._last_save = time.perf_counter()

        return after_epoch

    def clean_up(self) -> None:
        """Once the unit is stored: its own checkpoint and the fork points no run of its seed needs."""
        runs = self.runs
        if runs.checkpoints is None:
            return
        runs.checkpoints.remove(runs.identity(self.budget, self.seed))
        for (parent, at), children in runs.forks.items():
            if not runs.unfinished(children, self.seed):
                runs.checkpoints.remove(runs.identity(parent, self.seed, at))
