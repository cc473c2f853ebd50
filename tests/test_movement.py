"""The movement in rerun units (results.stats.movement): hand-computed cases, what it must ignore (a seed's level,
the noise's scale), and its interval's coverage on generated runs whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from results.stats.movement import movement
from results.stats.simulation import NOISE_KINDS, simulated_runs, true_movement

# three seeds, budgets 3 and 6 (window 3: too short for the 9-point filter), flat log curves: seed s sits at
# level[s] at budget 3 and level[s] + step[s] at budget 6
STEPS = {1: 0.1, 2: 0.3, 3: 0.6}


def _flat(levels: dict[int, float]) -> dict[int, dict[int, list[float]]]:
    return {3: {s: [math.exp(levels[s])] * 3 for s in STEPS},
            6: {s: [math.exp(levels[s] + STEPS[s])] * 6 for s in STEPS}}


def test_the_movement_by_hand() -> None:
    """Own gaps 0.1, 0.3, 0.6 (mean 1/3). Each seed's level is the mean of its runs, so its centred runs sit at
    -/+ step/2 and two seeds lie |step_s - step_t| / 2 apart at either budget: 0.1, 0.25, 0.15 (unit 1/6).
    Movement 2; leaving a seed out gives 0.45 / 0.15 = 3, 0.35 / 0.25 = 1.4 and 0.2 / 0.1 = 2, whose jackknife
    pseudo-values of the log give the t interval."""
    found = movement(_flat({1: 0.0, 2: 0.0, 3: 0.0}))
    assert found.value == pytest.approx(2.0)
    assert found.per_seed == pytest.approx({1: 0.6, 2: 1.8, 3: 3.6})
    pseudo = 3 * math.log(2.0) - 2 * np.log([3.0, 1.4, 2.0])
    assert list(found.pseudo.values()) == pytest.approx(pseudo)
    half = stats.t.ppf(0.975, 2) * np.std(pseudo, ddof=1) / math.sqrt(3)
    assert found.ci == pytest.approx((2.0 * math.exp(-half), 2.0 * math.exp(half)))
    assert not found.by_construction and found.seeds == 3


def test_a_level_shared_by_a_seeds_runs_costs_nothing() -> None:
    """Seeds that sit 0, 1 and 5 log units apart everywhere (curves that never cross): the same movement, to the
    last digits, as seeds at one level (the budget test's raw distance between seeds would be swamped)."""
    flat = movement(_flat({1: 0.0, 2: 0.0, 3: 0.0})).value
    assert movement(_flat({1: 0.0, 2: 1.0, 3: 5.0})).value == pytest.approx(flat)


def test_the_movement_does_not_depend_on_the_scale_of_the_noise() -> None:
    """Runs whose log deviations from a common curve are all twice as large (twice the rerun noise, twice the budget
    effect) move exactly as far in rerun units."""
    rng = np.random.default_rng(0)
    runs = simulated_runs(rng, kind="independent", seeds=5, budgets=(10, 20), effect=2.0)
    base = np.log(0.1 + np.exp(-3 * np.arange(20) / 10))
    doubled = {b: {s: np.exp(base[:b] + 2 * (np.log(c) - base[:b])).tolist() for s, c in by_seed.items()}
               for b, by_seed in runs.items()}
    assert movement(doubled).value == pytest.approx(movement(runs).value)


def test_runs_that_share_every_step_move_exactly_zero_by_construction() -> None:
    rng = np.random.default_rng(1)
    long = {s: (1 + rng.random(12)).tolist() for s in (1, 2, 3)}
    found = movement({6: {s: c[:6] for s, c in long.items()}, 12: long})
    assert found.value == 0.0 and found.by_construction and found.ci is None and found.pseudo == {}


def test_seeds_missing_a_budget_of_the_study_do_not_count() -> None:
    """Seed 3 has no run at budget 6 (it diverged): over the study's budgets it is left out; with two seeds left
    there is a value but no interval."""
    curves = _flat({1: 0.0, 2: 0.0, 3: 0.0})
    del curves[6][3]
    found = movement(curves, [3, 6])
    assert found.seeds == 2 and found.value == pytest.approx((0.1 + 0.3) / 2 / 0.1) and found.ci is None
    assert movement({3: curves[3]}, [3, 6]).note == "no seed ran every budget"


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("seeds", [5, 10])
def test_the_interval_covers_the_true_movement(kind: str, seeds: int) -> None:
    """200 generated studies per noise kind (budget effect 1 noise sd, budgets 10/20/40): the 95% jackknife interval
    contains the truth (its Monte Carlo value over 4,000 seeds) in at least 0.90 of them (nominal 0.95 less about two
    binomial sds; benchmarks/movement_calibration.py measures 1,000 studies per cell)."""
    budgets = (10, 20, 40)
    truth = true_movement(kind=kind, budgets=budgets, effect=1.0, seeds=4000)
    rng = np.random.default_rng(seeds)
    covered = 0
    for _ in range(200):
        ci = movement(simulated_runs(rng, kind=kind, seeds=seeds, budgets=budgets, effect=1.0)).ci
        covered += ci is not None and ci[0] <= truth <= ci[1]
    assert covered / 200 >= 0.90
