"""Does the budget move a contender's learning curve more than reruns do? A permutation test.

Data: complete validation curves per budget and seed. Every curve is cut to the *common window*
(the first W epochs, W = the smallest budget), put on a log scale (losses are positive, so no pair
drops out the way a smoothed loss <= 0 does on the paper's scale) and smoothed with the paper's
9-point filter over that window only, so two runs that share every step (prefix sharing) are
exactly 0 apart. The distance of two curves is the mean absolute difference of their smoothed log
losses (for small gaps, the mean relative gap).

Pairing: runs of one seed share initialisation and data order, so a same-seed distance across
budgets is not comparable with one between seeds. The statistic therefore uses **only pairs of
different seeds**: ``ratio`` = mean distance between different seeds at different budgets / mean
distance between different seeds at the same budget. With no budget effect both means estimate
the same thing (ratio about 1); a budget effect makes the first larger.

Null hypothesis: within each seed, the runs at the different budgets are exchangeable over the
common window (the budget changes nothing there). The permutation distribution permutes the budget
labels within every seed (exact when the permutations are few, else Monte Carlo), which keeps the
seed pairing intact; ``p_value`` is one-sided (ratio at least as large as observed). Smallest
reachable p: 1 / (K!)^(S-1) for K budgets and S seeds, e.g. 0.5 for 2 budgets x 2 seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TypeVar

import numpy as np

from results.stats.metrics import log_jackknife, savgol9

K = TypeVar("K")  # what a p-value belongs to: a contender's name, a pair of names
SeedCurves = Mapping[int, Mapping[int, Sequence[float]]]  # budget -> seed -> validation curve

METHOD = ("permutation test of the budget labels within each seed; statistic: mean distance between runs of "
          "different seeds at different budgets / the same between runs of different seeds at the same budget, "
          "over the first W epochs (W = the smallest budget) of the 9-point-smoothed log validation loss; "
          "one-sided; Holm-adjusted across contenders")
INTERVAL_METHOD = "leave-one-seed-out jackknife of log(ratio), t quantile (S - 1 df), 95%"
N_PERMUTATIONS = 9999


class BudgetTest(NamedTuple):
    """One contender's test; None numbers where the data cannot give them, and ``note`` says why."""

    ratio: float | None  # cross-budget / same-budget distance between different seeds (effect size)
    ratio_interval: tuple[float, float] | None  # INTERVAL_METHOD
    p_value: float | None
    min_p: float | None  # the smallest p-value this many seeds and budgets can give
    exact: bool  # every permutation enumerated (else Monte Carlo)
    window: int  # epochs compared
    seeds: int  # seeds with runs at two or more budgets
    note: str | None = None


def smoothed_log(curve: Sequence[float], window: int) -> np.ndarray:
    """The first ``window`` losses on a log scale, smoothed over that window only."""
    return np.asarray(savgol9(np.log(np.asarray(curve[:window], dtype=np.float64)).tolist()))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The distance of two smoothed log curves: their mean absolute gap."""
    return float(np.mean(np.abs(a - b)))


def _items(curves: SeedCurves) -> tuple[list[tuple[int, int]], int]:
    """(budget, seed) of every run of a seed that has two or more budgets, and the window."""
    seeds = sorted({s for by_seed in curves.values() for s in by_seed})
    items = [(b, s) for s in seeds for b in sorted(curves) if s in curves[b]]
    return [(b, s) for b, s in items if sum(1 for _, t in items if t == s) >= 2], min(curves)


def _ratios(distances: np.ndarray, seeds: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The statistic for each row of ``labels`` (labelings x items); nan where a mean is undefined."""
    other_seed = seeds[:, None] != seeds[None, :]
    same = labels[:, :, None] == labels[:, None, :]
    cross_mask, floor_mask = other_seed & ~same, other_seed & same
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (distances * cross_mask).sum(axis=(1, 2)) / cross_mask.sum(axis=(1, 2))
        floor = (distances * floor_mask).sum(axis=(1, 2)) / floor_mask.sum(axis=(1, 2))
        return cross / floor


def _labelings(items: list[tuple[int, int]], n: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Budget labels permuted within each seed: every distinct labeling (the first seed kept fixed,
    since relabeling all seeds alike leaves the statistic unchanged) when there are at most ``n + 1``,
    else the observed labeling and ``n`` random ones."""
    seeds = sorted({s for _, s in items})
    blocks = [[i for i, (_, t) in enumerate(items) if t == s] for s in seeds]
    observed = np.asarray([b for b, _ in items])
    count = math.prod(math.factorial(len(block)) for block in blocks[1:])
    if count <= n + 1:
        rows = []
        for orders in itertools.product(*(itertools.permutations(block) for block in blocks[1:])):
            row = observed.copy()
            for block, order in zip(blocks[1:], orders):
                row[block] = observed[list(order)]
            rows.append(row)
        return np.stack(rows), True
    drawn = np.tile(observed, (n + 1, 1))
    for block in blocks:
        drawn[1:, block] = rng.permuted(drawn[1:, block], axis=1)
    return drawn, False


def ratio_interval(distances: np.ndarray, seeds: np.ndarray, labels: np.ndarray) -> tuple[float, float] | None:
    """INTERVAL_METHOD for the ratio: leave one seed out of both means at once (its runs, every pair they are in),
    pseudo-values of log(ratio), t quantile with S - 1 degrees of freedom. None below 3 seeds or where leaving a
    seed out leaves a mean undefined or 0."""
    unique, index = np.unique(seeds, return_inverse=True)
    n = len(unique)
    if n < 3:
        return None
    member = np.eye(n)[index]  # items x seeds
    other_seed = index[:, None] != index[None, :]
    same = labels[:, None] == labels[None, :]
    masks = (other_seed & ~same, other_seed & same)
    sums = [member.T @ (distances * mask) @ member for mask in masks]  # seeds x seeds
    counts = [member.T @ mask.astype(float) @ member for mask in masks]

    def left_out(matrix: np.ndarray) -> np.ndarray:  # the total without seed g's rows and columns, per g
        return matrix.sum() - matrix.sum(axis=0) - matrix.sum(axis=1) + np.diag(matrix)

    with np.errstate(divide="ignore", invalid="ignore"):
        whole = (sums[0].sum() / counts[0].sum()) / (sums[1].sum() / counts[1].sum())
        parts = (left_out(sums[0]) / left_out(counts[0])) / (left_out(sums[1]) / left_out(counts[1]))
    if not (np.isfinite(whole) and whole > 0 and np.all(np.isfinite(parts)) and np.all(parts > 0)):
        return None
    return log_jackknife(float(whole), parts)[1]


def budget_test(curves: SeedCurves, *, n_permutations: int = N_PERMUTATIONS, seed: int = 0,
                interval: bool = True) -> BudgetTest:
    """The test of the module docstring for one contender's complete curves (``interval``: also the
    bootstrap interval of the ratio)."""
    if len(curves) < 2:
        return BudgetTest(None, None, None, None, False, min(curves, default=0), 0, "fewer than two budgets")
    items, window = _items(curves)
    seeds = np.asarray([s for _, s in items])
    n_seeds = len(np.unique(seeds))
    if n_seeds < 2:
        return BudgetTest(None, None, None, None, False, window, n_seeds, "fewer than two seeds with two budgets")
    if any(min(curves[b][s][:window]) <= 0 for b, s in items):
        return BudgetTest(None, None, None, None, False, window, n_seeds, "a validation loss <= 0 (no log scale)")
    smoothed = np.stack([smoothed_log(curves[b][s], window) for b, s in items])
    distances = np.abs(smoothed[:, None, :] - smoothed[None, :, :]).mean(axis=2)
    rng = np.random.default_rng(seed)
    labels, exact = _labelings(items, n_permutations, rng)
    ratios = _ratios(distances, seeds, labels)
    observed = ratios[0]
    if not math.isfinite(observed):  # every run of a budget alike across seeds: no noise to compare with
        return BudgetTest(None, None, None, None, exact, window, n_seeds, "no difference between seeds")
    at_least = int(np.sum(ratios >= observed * (1 - 1e-12)))  # float sums in another order: equal counts
    blocks = [int((seeds == s).sum()) for s in np.unique(seeds)]
    min_p = 1 / math.prod(math.factorial(k) for k in blocks[1:])
    p_value = at_least / len(ratios)  # Monte Carlo: the observed labeling is one row, so (1 + hits) / (1 + n)
    spread = ratio_interval(distances, seeds, labels[0]) if interval else None
    return BudgetTest(float(observed), spread, p_value, float(max(min_p, 1 / len(ratios))), exact, window, n_seeds)


def holm(p_values: Mapping[K, float | None]) -> dict[K, float | None]:
    """Holm's step-down adjustment (controls the family-wise error rate); None stays None."""
    named = sorted(((p, n) for n, p in p_values.items() if p is not None))
    adjusted: dict[K, float | None] = {n: None for n, p in p_values.items() if p is None}
    running = 0.0
    for rank, (p, name) in enumerate(named):
        running = max(running, min(1.0, (len(named) - rank) * p))
        adjusted[name] = running
    return adjusted


def significant(p_adjusted: float | None, alpha: float) -> bool | None:
    """``p_adjusted <= alpha``; None where no test could run (no p-value)."""
    return None if p_adjusted is None else p_adjusted <= alpha


def seeds_for(alpha: float, tests: int, budgets: int) -> int:
    """The fewest seeds with which the budget test, Holm-adjusted over ``tests`` contenders, can reach
    ``alpha`` at all: its smallest p-value with S seeds is 1 / (K!)^(S - 1) for K budgets."""
    seeds = 2
    while math.factorial(budgets) ** (seeds - 1) * alpha < tests:
        seeds += 1
    return seeds
