"""Is contender A less budget-sensitive than B? Paired sign-flip tests over seeds, Holm-adjusted.

Per contender and seed, the **shift**: the mean, over the budget pairs (b < b') the seed ran, of the
distance between its curves at b and b' over b's epochs (the budget test's distance: mean absolute
difference of the 9-point-smoothed log validation loss, smoothed over that window only, so runs that
share every step are exactly 0 apart). Contenders run with seed s share its initialisation and data
order, so A and B are **paired by seed**: d_s = mean over the budget pairs both ran of (shift_A - shift_B).

Test: two-sided sign-flip permutation test of mean(d_s) (exact over all 2^S sign patterns up to
2^16, Monte Carlo beyond). Null hypothesis: A and B are exchangeable within each seed (d_s symmetric
about 0). Seeds are the independent units; budget pairs of one seed are averaged, never counted as
independent. Smallest reachable p: 2 / 2^S (0.25 with 3 seeds). Holm's adjustment over all pairs
tested keeps the family-wise error rate at alpha; two contenders not separated at alpha *cannot be
told apart* by this run (not the same as equal).

How many seeds would separate a pair: the paired t approximation, n such that
(t_{1-a/2, n-1} + t_{0.8, n-1}) * sd(d_s) / sqrt(n) <= |mean(d_s)| (80% power at level a = alpha / number of
pairs, Holm's strictest step) and 2 / 2^n <= a, with the observed mean and sd standing in for the truth.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats

from results.stats.budget import SeedCurves, distance, holm, significant, smoothed_log
from results.stats.metrics import OverSeeds, over_seeds

METHOD = ("two-sided sign-flip permutation test over seeds of the paired difference in shift (per seed, the mean "
          "over budget pairs of the distance between its 9-point-smoothed log validation curves over the shorter "
          "budget's epochs); Holm-adjusted over all pairs of contenders")
SHIFT_INTERVAL = "t interval of the mean over seeds (95%; assumes roughly normal per-seed shifts)"
EXACT_UP_TO = 16  # seeds: 2^16 sign patterns are enumerated, beyond that Monte Carlo
N_FLIPS = 9999
POWER = 0.8
MOST_SEEDS = 1000  # "more than this" beyond


def pair_shifts(curves: SeedCurves) -> dict[int, dict[tuple[int, int], float]]:
    """seed -> (b, b') -> distance of the seed's curves at b < b' over b's epochs (log scale, smoothed there)."""
    shifts: dict[int, dict[tuple[int, int], float]] = {}
    for short, long in itertools.combinations(sorted(curves), 2):
        for seed in sorted(set(curves[short]) & set(curves[long])):
            a, b = (smoothed_log(curves[budget][seed], short) for budget in (short, long))
            shifts.setdefault(seed, {})[(short, long)] = distance(a, b)
    return shifts


def shift(curves: SeedCurves, budgets: Sequence[int]) -> OverSeeds:
    """The contender's shift (module docstring) over the seeds that ran every budget pair of ``budgets``
    (a seed whose long run diverged would otherwise be averaged over its short gaps alone and look least
    sensitive); a loss <= 0 has no log scale, so such data give none."""
    if any(min(c) <= 0 for by_seed in curves.values() for c in by_seed.values()):
        return over_seeds({})
    every = set(itertools.combinations(sorted(budgets), 2))
    per_seed = {s: float(np.mean(list(p.values()))) for s, p in pair_shifts(curves).items() if set(p) == every}
    return over_seeds(per_seed)


def paired_differences(a: Mapping[int, Mapping[tuple[int, int], float]],
                       b: Mapping[int, Mapping[tuple[int, int], float]]) -> list[float]:
    """Per seed both ran, the mean over the budget pairs both ran of A's distance minus B's."""
    differences = []
    for seed in sorted(set(a) & set(b)):
        common = sorted(set(a[seed]) & set(b[seed]))
        if common:
            differences.append(float(np.mean([a[seed][p] - b[seed][p] for p in common])))
    return differences


def sign_flip_p(differences: Sequence[float], rng: np.random.Generator, n_flips: int = N_FLIPS) -> float | None:
    """Two-sided p-value of mean(differences) = 0 by flipping signs; None below two seeds."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        return None
    if len(d) <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    else:
        signs = np.vstack([np.ones(len(d)), rng.choice((1.0, -1.0), size=(n_flips, len(d)))])
    means = np.abs(signs @ d) / len(d)
    return float(np.mean(means >= abs(d.mean()) * (1 - 1e-12)))  # float sums in another order: equal counts


def seeds_to_separate(differences: Sequence[float], level: float, power: float = POWER) -> int | None:
    """Seeds a paired test at ``level`` needs for ``power`` against the observed mean difference (paired t
    approximation, module docstring); None below two seeds or when the observed mean is exactly 0."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2 or d.mean() == 0:
        return None
    sd, effect = float(d.std(ddof=1)), abs(float(d.mean()))
    for n in range(2, MOST_SEEDS + 1):
        reachable = 2 / 2**n <= level
        needed = (stats.t.ppf(1 - level / 2, n - 1) + stats.t.ppf(power, n - 1)) * sd / math.sqrt(n)
        if reachable and needed <= effect:
            return n
    return MOST_SEEDS + 1


class Comparison(NamedTuple):
    """A vs B: ``difference`` = mean over seeds of A's shift minus B's (negative: A less sensitive)."""

    a: str
    b: str
    difference: float
    p_value: float | None
    p_adjusted: float | None
    separated: bool | None
    seeds: int


def compare_all(shifts: Mapping[str, Mapping[int, Mapping[tuple[int, int], float]]], alpha: float,
                seed: int = 0) -> list[Comparison]:
    """Every pair of contenders (in the given order) tested and Holm-adjusted together."""
    return compare_differences({(a, b): paired_differences(shifts[a], shifts[b])
                                for a, b in itertools.combinations(shifts, 2)}, alpha, seed)


def compare_differences(differences: Mapping[tuple[str, str], Sequence[float]], alpha: float,
                        seed: int = 0) -> list[Comparison]:
    """Per pair (a, b), its per-seed differences a - b: each sign-flip tested, Holm-adjusted together
    (pairs with no seed in common are left out: never compared)."""
    rng = np.random.default_rng(seed)
    rows = [(a, b, float(np.mean(d)), sign_flip_p(d, rng), len(d)) for (a, b), d in differences.items() if len(d)]
    adjusted = holm({(a, b): p for a, b, _, p, _ in rows})
    return [Comparison(a, b, diff, p, adjusted[(a, b)], significant(adjusted[(a, b)], alpha), n)
            for a, b, diff, p, n in rows]


def not_separated(name: str, comparisons: Sequence[Comparison], names: Sequence[str]) -> list[str]:
    """The contenders of ``names`` this run cannot tell apart from ``name``: no adjusted significant
    difference, or never compared (no seed and budget pair in common)."""
    separated = {c.b if c.a == name else c.a for c in comparisons if name in (c.a, c.b) and c.separated}
    return [other for other in names if other != name and other not in separated]
