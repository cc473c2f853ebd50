"""The smallest detectable effect (results.stats.detectable), checked against simulated studies whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from results.stats.budget import budget_test
from results.stats.detectable import detectable_movement
from results.stats.movement import movement
from results.stats.simulation import simulated_curves

BUDGETS = (20, 40, 80)
LEVEL = 0.05 / 18  # Holm's strictest step over 18 contenders


@pytest.mark.slow
def test_the_detectable_movement_has_the_power_measured_for_it() -> None:
    """The detectable movement from each of 3 studies' runs with no effect (5 seeds); then, over fresh studies of
    the same model with effects of known size, the power at the effect whose mean movement is that one
    (interpolated). The answer is optimistic: on ten such studies the power at it was 0.29-0.73 (median 0.47,
    as docs/method.md says), so the median over three is checked between 0.25 and 0.9 — far from the 0.14 the
    ratio-unit answer once gave, and not the 80% the simulation aims at."""
    rng = np.random.default_rng(20)
    detectable = []
    for k in range(3):
        observed = simulated_curves(rng, seeds=5, budgets=BUDGETS)
        detectable.append(detectable_movement(observed, LEVEL, budget_test(observed, interval=False).min_p, seed=k))
    effects, sizes, powers = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0), [], []
    for effect in effects:
        studies = [simulated_curves(rng, seeds=5, budgets=BUDGETS, effect=effect) for _ in range(40)]
        sizes.append(np.mean([movement(c).value for c in studies]))
        powers.append(np.mean([budget_test(c, interval=False, seed=k).p_value <= LEVEL for k, c in enumerate(studies)]))
    assert sizes == sorted(sizes) and sizes[0] < min(detectable) and max(detectable) < sizes[-1]
    assert 0.25 <= np.median(np.interp(detectable, sizes, powers)) <= 0.9


def test_too_few_seeds_to_reach_the_level_give_no_detectable_effect() -> None:
    """3 seeds x 3 budgets: the smallest p-value is 1/36, above 0.05/18; no effect size is detectable."""
    curves = simulated_curves(np.random.default_rng(0), seeds=3, budgets=BUDGETS)
    test = budget_test(curves, interval=False)
    assert test.min_p == pytest.approx(1 / 36) and detectable_movement(curves, LEVEL, test.min_p) is None


def test_the_answer_is_reproducible_from_its_seed() -> None:
    curves = simulated_curves(np.random.default_rng(1), seeds=4, budgets=BUDGETS)
    test = budget_test(curves, interval=False)
    first = detectable_movement(curves, 0.05, test.min_p, seed=3)
    assert first is not None and first == detectable_movement(curves, 0.05, test.min_p, seed=3)
