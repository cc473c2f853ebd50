"""How many seeds would tell two contenders apart? The power of the test actually used, simulated.

The pairwise tests (results.stats.pairwise) flip the signs of per-seed differences; near their floor (every
sign must agree, smallest p = 2 / 2^S) they have far less power than a t test, so a t approximation promises too
few seeds. Here the power at n seeds is simulated for that test itself: n per-seed differences drawn normal with
the planning effect and the observed sd, tested at ``level`` (exact sign-flip enumeration up to EXACT_UP_TO
seeds, its normal limit |sum d| / sqrt(sum d^2) >= z beyond, where the floor no longer binds), over DATASETS
datasets with common random numbers, so power grows with n.

Planning effect: the observed mean difference is the truth's estimate only on average; the pair reaching this
question is the one whose difference looked largest, and n grows like 1 / effect^2, so planning on the point
estimate promises too few seeds most of the time. The plan uses the lower one-sided PLANNING_CONFIDENCE bound of
|mean| (t over the seeds) instead, a value the effect exceeds with that confidence. Where the two-sided 95% t
interval of the mean difference contains 0 the data show no evidence of a difference: no count is named (more
seeds may never separate them). Calibrated by simulation in tests/test_seeds_needed.py and
benchmarks/movement_calibration.py.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import special

POWER = 0.8
EXACT_UP_TO = 14  # seeds: every sign pattern enumerated; beyond, the sign-flip statistic's normal limit
DATASETS = 400
MOST_SEEDS = 200  # "more than this" beyond
EVIDENCE = 0.95  # two-sided t interval of the mean difference that must exclude 0
PLANNING_CONFIDENCE = 0.6  # one-sided lower bound of |mean difference| planned for
METHOD = (f"power of the exact sign-flip test (its normal limit beyond {EXACT_UP_TO} seeds) simulated over "
          f"{DATASETS} datasets per seed count, for an effect equal to the lower one-sided "
          f"{PLANNING_CONFIDENCE:.0%} t bound of the observed mean difference and the observed sd, at Holm's "
          f"strictest level; no count where the 95% t interval of the difference contains 0")


class SeedsNeeded(NamedTuple):
    """The plan for one pair; ``seeds`` None with ``evidence`` False: no evidence of a difference."""

    seeds: int | None  # fewest seeds with simulated power >= POWER; MOST_SEEDS + 1 = "more than MOST_SEEDS"
    evidence: bool
    planning_effect: float | None


def _flip_patterns(n: int) -> np.ndarray:
    return np.array(list(itertools.product((1.0, -1.0), repeat=n)))


def power(n: int, effect: float, sd: float, level: float, rng: np.random.Generator) -> float:
    """Share of DATASETS simulated studies of ``n`` seeds that the sign-flip test rejects at ``level``."""
    if n < floor_seeds(level):
        return 0.0
    data = effect + sd * rng.standard_normal((DATASETS, n))
    if n <= EXACT_UP_TO:
        sums = np.abs(data @ _flip_patterns(n).T)  # datasets x patterns
        observed = np.abs(data.sum(axis=1))
        p = (sums >= observed[:, None] * (1 - 1e-12)).mean(axis=1)
        return float(np.mean(p <= level))
    z = float(special.ndtri(1 - level / 2))
    return float(np.mean(np.abs(data.sum(axis=1)) / np.sqrt((data**2).sum(axis=1)) >= z))


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
    for n in range(floor_seeds(level), MOST_SEEDS + 1):
        if power(n, planned, sd, level, np.random.default_rng(seed)) >= POWER:  # the same draws for every n
            return SeedsNeeded(n, True, planned)
    return SeedsNeeded(MOST_SEEDS + 1, True, planned)


def floor_seeds(level: float) -> int:
    """The fewest seeds whose smallest sign-flip p-value, 2 / 2^n, reaches ``level``."""
    return max(2, math.ceil(math.log2(2 / level)))
