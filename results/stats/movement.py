"""How far a contender's learning curve moves when only the budget changes, in units of how far a rerun moves it.

The headline size of budget sensitivity: one number per contender, comparable across contenders, tasks and
hardware. Scale and window: the budget test's (results.stats.budget): the first W epochs (W = the smallest
budget) of the log validation loss, 9-point smoothed over that window only.

    movement = mean over seeds of m_s  /  r

- m_s: seed s's own runs, mean over the budget pairs of the mean absolute gap between its curves. Runs of one
  seed share initialisation and data order, so what a seed shares (its level, its shape) cancels here and only
  the budget's effect and the run's own noise are left. Prefix-identical runs give exactly 0.
- r, the rerun unit: runs of different seeds at the same budget, each first moved by its seed's level (the mean
  of the seed's runs over the window), mean absolute gap over every budget and pair of seeds. A level shared by
  a seed's runs therefore costs nothing, and a seed that sits higher everywhere does not hide a budget effect.

0 = a seed's runs are identical across budgets over the window (the budget changes nothing, and the runs are
deterministic); 1 = a different budget moves the curve as far as a different seed does. A run's own nondeterminism
(GPU kernels, loader workers) counts in the numerator: with no budget effect the movement is that noise relative to
the seeds' spread (about 1 where all noise is the run's own), so a contender whose runs are less deterministic moves
more; deterministic runs (the CPU here) have none. Values compare across tasks run on the same budget grid (the
numerator averages over its budget pairs). Only seeds with a complete run at every budget count (a diverged long run
would leave a seed with its short gaps alone). The interval: leave-one-seed-out jackknife of log(movement), t
quantile with S - 1 degrees of freedom, 95% (the numerator and the rerun unit come from the same seeds, so both are
left out together); its coverage under independent, AR(1) and seed-level noise is measured in
benchmarks/movement_calibration.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from results.stats.budget import SeedCurves, smoothed_log
from results.stats.metrics import log_jackknife

METHOD = ("same-seed distance across budgets / level-removed distance between seeds at one budget (mean absolute "
          "gap of the 9-point-smoothed log validation loss over the first W epochs, W = the smallest budget)")
INTERVAL_METHOD = "leave-one-seed-out jackknife of log(movement), t quantile (S - 1 df), 95%"


class Movement(NamedTuple):
    """One contender's movement (module docstring); ``note`` says why a number is None."""

    value: float | None
    ci: tuple[float, float] | None
    per_seed: dict[int, float]  # m_s / r: each seed's own cross-budget gap in rerun units
    pseudo: dict[int, float]  # jackknife pseudo-values of log(movement), the per-seed units of comparisons
    seeds: int
    by_construction: bool  # every seed's runs identical over the window: exactly 0, nothing to estimate
    note: str | None = None


class SeedGaps(NamedTuple):
    """The two halves of the movement for the seeds complete at every budget."""

    seeds: list[int]
    own: np.ndarray  # per seed, its mean same-seed gap over the budget pairs
    between: np.ndarray  # seeds x seeds: level-removed gap between two seeds, mean over budgets (0 on the diagonal)


def seed_gaps(curves: SeedCurves, budgets: Sequence[int] | None = None) -> SeedGaps | str:
    """The gaps of the module docstring over ``budgets`` (default: the curves'), or why the curves give none."""
    budgets = sorted(curves if budgets is None else budgets)
    if len(budgets) < 2:
        return "fewer than two budgets"
    window = budgets[0]
    seeds = sorted(set.intersection(*(set(curves.get(b, {})) for b in budgets)))
    if not seeds:
        return "no seed ran every budget"
    if any(min(curves[b][s][:window]) <= 0 for b in budgets for s in seeds):
        return "a validation loss <= 0 (no log scale)"
    y = np.stack([[smoothed_log(curves[b][s], window) for s in seeds] for b in budgets])  # budgets x seeds x W
    own = np.mean([np.abs(y[i] - y[j]).mean(axis=-1) for i, j in itertools.combinations(range(len(budgets)), 2)],
                  axis=0)
    centred = y - y.mean(axis=(0, 2), keepdims=True)
    between = np.abs(centred[:, :, None, :] - centred[:, None, :, :]).mean(axis=(0, -1))
    return SeedGaps(seeds, own, between)


def movement(curves: SeedCurves, budgets: Sequence[int] | None = None) -> Movement:
    """The movement of one contender's complete curves (budget -> seed -> losses) over ``budgets`` (default: the
    curves'; a study's every budget, so that a contender whose long runs all diverged is not measured on its short
    gaps alone), with its jackknife interval."""
    gaps = seed_gaps(curves, budgets)
    if isinstance(gaps, str):
        return Movement(None, None, {}, {}, 0, False, gaps)
    seeds, own, between = gaps
    n = len(seeds)
    if not own.any():
        return Movement(0.0, None, {s: 0.0 for s in seeds}, {}, n, True)
    if n < 2:
        return Movement(None, None, {}, {}, n, False, "fewer than two seeds ran every budget")
    pair_sum = between.sum() / 2
    unit = pair_sum / (n * (n - 1) / 2)
    if unit == 0:
        return Movement(None, None, {}, {}, n, False, "no difference between seeds")
    value = float(own.mean() / unit)
    per_seed = {s: float(m / unit) for s, m in zip(seeds, own)}
    if n < 3:
        return Movement(value, None, per_seed, {}, n, False, "fewer than three seeds: no interval")
    left_own = (own.sum() - own) / (n - 1)
    left_unit = (pair_sum - between.sum(axis=1)) / ((n - 1) * (n - 2) / 2)
    if (left_own <= 0).any() or (left_unit <= 0).any():
        return Movement(value, None, per_seed, {}, n, False, "a seed left out leaves no gap: no interval")
    pseudo, interval = log_jackknife(value, left_own / left_unit)
    return Movement(value, interval, per_seed, {s: float(p) for s, p in zip(seeds, pseudo)}, n, False)


def log_ratio_pseudo(a: Movement, b: Movement) -> list[float]:
    """Per seed both estimated, the jackknife pseudo-value of log(movement a / movement b): the paired per-seed
    units the pairwise test flips (leaving a seed out leaves it out of both where both ran the same seeds; where
    not, each pseudo-value comes from its own contender's seeds, and the pairing cancels less)."""
    return [a.pseudo[s] - b.pseudo[s] for s in sorted(set(a.pseudo) & set(b.pseudo))]

