"""Seeds-needed (results.stats.seeds_needed): the simulated power of the exact sign-flip test by hand, and the plan
checked on generated pairs whose true difference is known (none: no count; one: a count with real power)."""

from __future__ import annotations

import numpy as np
import pytest

from results.stats.pairwise import sign_flip_p
from results.stats.seeds_needed import DATASETS, draws, floor_seeds, power, seeds_needed


def test_the_floor_of_the_sign_flip_test() -> None:
    """The smallest two-sided p of n seeds is 2 / 2^n: 6 seeds reach 0.05 (1/32), 5 do not (1/16)."""
    assert floor_seeds(0.05) == 6 and floor_seeds(0.0625) == 5 and floor_seeds(0.05 / 15) == 10
    assert power(5, 100.0, 1.0, 0.05, draws(0)) == 0.0  # unreachable, however large the effect


def test_power_at_the_floor_is_the_chance_that_every_sign_agrees() -> None:
    """Three seeds at level 1/4: only +++ and --- reject, so the power is P(all three share a sign): 1/4 with no
    effect, 1 with an overwhelming one, and for effect = sd, (Phi(1)^3 + Phi(-1)^3)."""
    rng = draws(1)
    binomial_sd = np.sqrt(0.25 * 0.75 / DATASETS)
    assert power(3, 0.0, 1.0, 0.25, rng) == pytest.approx(0.25, abs=3 * binomial_sd)
    assert power(3, 100.0, 1.0, 0.25, rng) == 1.0
    from scipy.stats import norm
    assert power(3, 1.0, 1.0, 0.25, rng) == pytest.approx(norm.cdf(1) ** 3 + norm.cdf(-1) ** 3, abs=0.07)


def test_no_count_without_evidence_of_a_difference() -> None:
    assert seeds_needed([0.5, -0.4, 0.1, -0.2, 0.05], 0.05) == (None, False, None)
    assert seeds_needed([0.3, 0.3], 0.05) == (None, False, None)  # two seeds: no interval, no evidence
    plan = seeds_needed([0.2, 0.2, 0.2], 0.05)  # every seed differs alike: only the floor limits the test
    assert plan.seeds == floor_seeds(0.05) and plan.evidence


def test_with_no_true_difference_no_count_is_named_in_at_least_90_percent_of_studies() -> None:
    """300 generated pairs of 5 seeds whose per-seed differences are N(0, 1): a finite count in at most 10%."""
    rng = np.random.default_rng(2)
    named = sum(seeds_needed(rng.standard_normal(5).tolist(), 0.05 / 6, seed=k).seeds is not None for k in range(300))
    assert named / 300 <= 0.10


def test_the_planned_count_has_real_power() -> None:
    """A pair that truly needs about 14-15 seeds (difference 1.2 sd at level 0.05 / 15): from 10 seeds, the median
    count named has a realised power between 0.7 and 0.95 — measured with the pairwise test itself
    (results.stats.pairwise.sign_flip_p) on 300 fresh datasets, not with the plan's own simulation. Single counts
    spread widely (benchmarks/movement_calibration.py): a plan, not a promise."""
    rng = np.random.default_rng(3)
    level = 0.05 / 15
    counts = [seeds_needed((1.2 + rng.standard_normal(10)).tolist(), level, seed=k).seeds for k in range(100)]
    named = sorted(c for c in counts if c is not None)
    assert len(named) >= 80  # the difference is clear from 10 seeds in most studies
    median = named[len(named) // 2]
    realised = np.mean([sign_flip_p((1.2 + rng.standard_normal(median)).tolist(), rng) <= level for _ in range(300)])
    assert 0.7 <= realised <= 0.95
