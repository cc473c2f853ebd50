"""The run plan: every unit of work of a run, listed once, with the epochs it trains.

A unit is a Phase 1 trial (one trial index, trained with every tuning seed at the tuning
budget), a Phase 2 run or a transfer run (one budget and seed in its study). Phase 2, the
transfer phase, the progress display and the pool's count of epochs done all read it. The points
an adaptive transfer grid adds in later rounds (runner.transfer_grid) are not listed: each trains
every budget with every transfer seed (``of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runstate.storage import StudyName


@dataclass(frozen=True)
class PlannedUnit:
    study: StudyName  # its phase, contender and (transfer) multiplier
    budget: int  # epochs per seed
    seed: int | None  # None: a Phase 1 trial, trained with every tuning seed
    index: int | None  # a Phase 1 trial's index
    epochs: int  # training epochs of the whole unit

    @property
    def key(self) -> Any:
        """How the study's trials name the unit (runner.units.work_through): an index, or (budget, seed)."""
        return self.index if self.seed is None else (self.budget, self.seed)


@dataclass(frozen=True)
class RunPlan:
    units: tuple[PlannedUnit, ...]
    tuning_epochs: int  # of one Phase 1 trial: every tuning seed at the tuning budget
    budgets: tuple[int, ...] = ()  # Phase 2's, where every transfer grid point trains
    transfer_seeds: tuple[int, ...] = ()

    @classmethod
    def build(cls, project: str, names: list[str], *, n_trials: int, tuning_budget: int, tuning_seeds: int,
              budgets: tuple[int, ...], comparison_seeds: list[int], multipliers: list[float],
              transfer_seeds: list[int], compare: bool) -> RunPlan:
        """Per contender: its Phase 1 trials, then (with ``compare``) its Phase 2 runs and its transfer runs."""
        tuning_epochs = tuning_seeds * tuning_budget
        units: list[PlannedUnit] = []
        for name in names:
            units += [PlannedUnit(StudyName(project, "tune", name), tuning_budget, None, index, tuning_epochs)
                      for index in range(n_trials)]
            if not compare:
                continue
            grid = [(StudyName(project, "compare", name), comparison_seeds)]
            grid += [(StudyName(project, "transfer", name, m), transfer_seeds) for m in multipliers]
            units += [PlannedUnit(study, budget, seed, None, budget)
                      for study, seeds in grid for budget in budgets for seed in seeds]
        return cls(tuple(units), tuning_epochs, budgets, tuple(transfer_seeds))

    @property
    def epochs(self) -> int:
        """Training epochs of the whole run without prefix sharing: what the progress display counts."""
        return sum(unit.epochs for unit in self.units)

    @property
    def studies(self) -> list[StudyName]:
        return list(dict.fromkeys(unit.study for unit in self.units))

    def of(self, study: StudyName) -> dict[Any, int]:
        """{unit key: epochs} of one study's units, in order; a transfer study's also for a point the grid grew
        (runner.transfer_grid): every budget with every transfer seed."""
        if study.phase == "transfer":
            return {(budget, seed): budget for budget in self.budgets for seed in self.transfer_seeds}
        return {unit.key: unit.epochs for unit in self.units if unit.study == study}

    def epochs_of(self, contender: str, phase: str) -> int:
        """Training epochs of every unit of ``contender`` in ``phase`` (what skipping it leaves out)."""
        return sum(u.epochs for u in self.units if u.study.contender == contender and u.study.phase == phase)

    def unit_epochs(self, study: StudyName, budget: int) -> int:
        """Training epochs of a unit ``study`` stores: a Phase 1 trial's, or a run's ``budget``."""
        return self.tuning_epochs if study.phase == "tune" else budget
