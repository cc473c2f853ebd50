"""Does contender A's curve move less with the budget than B's? Paired sign-flip tests over seeds, Holm-adjusted.

The quantity compared is the movement (results.stats.movement): a contender's same-seed gap across budgets in units
of its own between-seed gap, so a contender whose seeds are all noisier is not called more budget-sensitive for it
(a run's own nondeterminism still counts as movement: results.stats.movement). A and B are paired by seed (runs with
seed s share its initialisation and data order); the per-seed units are the jackknife pseudo-values of log(movement
A / movement B) (leaving seed s out of both), which carry each seed's share of the numerators and of the rerun units
alike.

Test: two-sided sign-flip permutation test of their mean (exact over all 2^S sign patterns up to 2^16, Monte Carlo
beyond). Null hypothesis: the pseudo-values are symmetric about 0 (A and B move alike in rerun units). Pseudo-values
are not independent of one another (each comes from every seed), so the test is approximate, calibrated by
simulation (tests/test_pairwise.py, benchmarks/movement_calibration.py). Smallest reachable p: 2 / 2^S (0.25 with 3
seeds). Holm's adjustment over all pairs tested keeps the family-wise error rate at alpha; two contenders not
separated at alpha *cannot be told apart* by this run (not the same as equal). Contenders whose runs share every
step across budgets move exactly 0 by construction: they are named as such and not tested (there is nothing to
estimate). False alarms with equal movements and unequal rerun noise are measured in tests/test_pairwise.py and
benchmarks/movement_calibration.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from results.stats.budget import holm, significant
from results.stats.movement import Movement, log_ratio_pseudo

METHOD = ("two-sided sign-flip permutation test over seeds of the jackknife pseudo-values of log(movement a / "
          "movement b); Holm-adjusted over all pairs of contenders measured (those 0 by construction not tested)")
EXACT_UP_TO = 16  # seeds: 2^16 sign patterns are enumerated, beyond that Monte Carlo
N_FLIPS = 9999


def sign_patterns(n: int) -> np.ndarray:
    """Every one of the 2^n sign patterns of n seeds, one per row."""
    return np.array(list(itertools.product((1.0, -1.0), repeat=n)))


def sign_flip_p(differences: Sequence[float], rng: np.random.Generator, n_flips: int = N_FLIPS) -> float | None:
    """Two-sided p-value of mean(differences) = 0 by flipping signs; None below two seeds."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        return None
    if len(d) <= EXACT_UP_TO:
        signs = sign_patterns(len(d))
    else:
        signs = np.vstack([np.ones(len(d)), rng.choice((1.0, -1.0), size=(n_flips, len(d)))])
    means = np.abs(signs @ d) / len(d)
    return float(np.mean(means >= abs(d.mean()) * (1 - 1e-12)))  # float sums in another order: equal counts


class Comparison(NamedTuple):
    """A vs B: ``difference`` = the mean per-seed difference (negative: A lower)."""

    a: str
    b: str
    difference: float
    p_value: float | None
    p_adjusted: float | None
    separated: bool | None
    seeds: int


def compare_all(movements: Mapping[str, Movement], alpha: float, seed: int = 0) -> list[Comparison]:
    """Every pair of contenders with an estimated movement (in the given order), tested and Holm-adjusted together
    (``difference``: the mean pseudo-value of log(movement a / movement b))."""
    measured = [n for n, m in movements.items() if m.pseudo]
    return compare_differences({(a, b): log_ratio_pseudo(movements[a], movements[b])
                                for a, b in itertools.combinations(measured, 2)}, alpha, seed)


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
