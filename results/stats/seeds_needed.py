"""How many seeds would tell two contenders apart? The power of the test actually used, simulated.

The pairwise tests (results.stats.pairwise) flip the signs of per-seed differences; near their floor (every
sign must agree, smallest p = 2 / 2^S) they have far less power than a t test, so a t approximation promises too
few seeds. Here the power at n seeds is simulated for that test itself: n per-seed differences drawn normal with
the planning effect and the observed sd, tested at ``level`` (exact sign-flip enumeration up to EXACT_UP_TO
seeds, its t limit beyond, where the floor no longer binds), over DATASETS datasets with common random numbers
(n seeds take the first n of the same draws), so power grows with n in practice.

Planning effect: the observed mean difference is the truth's estimate only on average; a pair reaches this
question only where the data show a difference, which favours differences that came out large, and n grows like
1 / effect^2, so planning on the point estimate promises too few seeds most of the time. The plan uses the lower
one-sided PLANNING_CONFIDENCE bound of |mean| (t over the seeds) instead. Where the two-sided 95% t
interval of the mean difference contains 0 the data show no evidence of a difference: no count is named (more
seeds may never separate them). Calibrated by simulation in tests/test_seeds_needed.py and
benchmarks/movement_calibration.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import special

from results.stats.pairwise import sign_patterns

POWER = 0.8
EXACT_UP_TO = 14  # seeds: every sign pattern enumerated (16,384 of them); beyond, the test's t limit
DATASETS = 400
MOST_SEEDS = 200  # "more than this" beyond
EVIDENCE = 0.95  # two-sided t interval of the mean difference that must exclude 0
PLANNING_CONFIDENCE = 0.6  # one-sided lower bound of |mean difference| planned for
METHOD = (f"power of the exact sign-flip test (its t limit beyond {EXACT_UP_TO} seeds) simulated over "
          f"{DATASETS} datasets per seed count, for an effect equal to the lower one-sided "
          f"{PLANNING_CONFIDENCE:.0%} t bound of the observed mean difference and the observed sd, at Holm's "
          f"strictest level; no count where the 95% t interval of the difference contains 0")


class SeedsNeeded(NamedTuple):
    """The plan for one pair; ``seeds`` None with ``evidence`` False: no evidence of a difference."""

    seeds: int | None  # fewest seeds with simulated power >= POWER; MOST_SEEDS + 1 = "more than MOST_SEEDS"
    evidence: bool
    planning_effect: float | None


def draws(seed: int) -> np.ndarray:
    """The standard normal draws every seed count's datasets are made of (DATASETS x MOST_SEEDS): n seeds take the
    first n columns, so the counts share their draws (common random numbers)."""
    return np.random.default_rng(seed).standard_normal((DATASETS, MOST_SEEDS))


def power(n: int, effect: float, sd: float, level: float, noise: np.ndarray) -> float:
    """Share of the datasets ``effect + sd * noise[:, :n]`` that the sign-flip test of their mean rejects at
    ``level``: exactly up to EXACT_UP_TO seeds, beyond by its t limit (the studentised mean against t with n - 1
    degrees of freedom, which the sign-flip test approaches; its floor no longer binds there)."""
    if n < floor_seeds(level):
        return 0.0
    data = effect + sd * noise[:, :n]
    if n <= EXACT_UP_TO:
        sums = np.abs(data @ sign_patterns(n).T)  # datasets x patterns
        observed = np.abs(data.sum(axis=1))
        p = (sums >= observed[:, None] * (1 - 1e-12)).mean(axis=1)
        return float(np.mean(p <= level))
    t = np.abs(data.mean(axis=1)) / (data.std(axis=1, ddof=1) / np.sqrt(n))
    return float(np.mean(t >= special.stdtrit(n - 1, 1 - level / 2)))


def seeds_needed(differences: Sequence[float], level: float, seed: int = 0) -> SeedsNeeded:
    """The plan for one pair's per-seed differences (module docstring); no evidence below three seeds."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 3 or not np.all(np.isfinite(d)):
        return SeedsNeeded(None, False, None)
    mean, sd = abs(float(d.mean())), float(d.std(ddof=1))
    if sd == 0:  # every seed differs by the same amount: the test's floor is all that limits it
        return SeedsNeeded(floor_seeds(level), True, mean) if mean else SeedsNeeded(None, False, None)
    sem = sd / math.sqrt(len(d))
    if mean <= float(special.stdtrit(len(d) - 1, (1 + EVIDENCE) / 2)) * sem:
        return SeedsNeeded(None, False, None)
    planned = mean - float(special.stdtrit(len(d) - 1, PLANNING_CONFIDENCE)) * sem
    noise = draws(seed)
    for n in range(floor_seeds(level), MOST_SEEDS + 1):
        if power(n, planned, sd, level, noise) >= POWER:
            return SeedsNeeded(n, True, planned)
    return SeedsNeeded(MOST_SEEDS + 1, True, planned)


def floor_seeds(level: float) -> int:
    """The fewest seeds whose smallest sign-flip p-value, 2 / 2^n, reaches ``level``."""
    return max(2, math.ceil(math.log2(2 / level)))
