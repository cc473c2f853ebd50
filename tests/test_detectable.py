"""The smallest detectable effect (results.stats.detectable), checked against simulated studies whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from results.stats.budget import budget_test
from results.stats.detectable import detectable_ratio
from results.stats.simulation import simulated_curves

BUDGETS = (20, 40, 80)
LEVEL = 0.05 / 18  # Holm's strictest step over 18 contenders


@pytest.mark.slow
def test_the_detectable_ratio_is_found_about_80_percent_of_the_time() -> None:
    """The detectable ratio from each of 3 studies' runs with no effect (5 seeds); then, over fresh studies of
    the same model with effects of known size, the power at the effect whose mean ratio is that one
    (interpolated). One study's noise moves its answer (the power at it ranged 0.28-0.79 over six studies
    tried), so the median over three is checked: about 0.8 (0.55-0.95 allows for the simulations' own error)."""
    rng = np.random.default_rng(20)
    detectable = []
    for k in range(3):
        observed = simulated_curves(rng, seeds=5, budgets=BUDGETS)
        detectable.append(detectable_ratio(observed, LEVEL, budget_test(observed, interval=False).min_p, seed=k))
    effects, ratios, powers = (1.0, 1.5, 2.0, 2.5, 3.0), [], []
    for effect in effects:
        runs = [budget_test(simulated_curves(rng, seeds=5, budgets=BUDGETS, effect=effect), interval=False, seed=k)
                for k in range(40)]
        ratios.append(np.mean([r.ratio for r in runs]))
        powers.append(np.mean([r.p_value <= LEVEL for r in runs]))
    assert ratios == sorted(ratios) and ratios[0] < min(detectable) and max(detectable) < ratios[-1]
    assert 0.55 <= np.median(np.interp(detectable, ratios, powers)) <= 0.95


def test_too_few_seeds_to_reach_the_level_give_no_detectable_effect() -> None:
    """3 seeds x 3 budgets: the smallest p-value is 1/36, above 0.05/18; no effect size is detectable."""
    curves = simulated_curves(np.random.default_rng(0), seeds=3, budgets=BUDGETS)
    test = budget_test(curves, interval=False)
    assert test.min_p == pytest.approx(1 / 36) and detectable_ratio(curves, LEVEL, test.min_p) is None


def test_the_answer_is_reproducible_from_its_seed() -> None:
    curves = simulated_curves(np.random.default_rng(1), seeds=4, budgets=BUDGETS)
    test = budget_test(curves, interval=False)
    assert detectable_ratio(curves, 0.05, test.min_p, seed=3) == detectable_ratio(curves, 0.05, test.min_p, seed=3)
