"""The adaptive transfer grid (--transfer-max-octaves): which multipliers the next round trains.

A round is every unit of the grid so far. Once it is finished, each budget's column with the lowest mean log final
loss over the transfer seeds (the column results.stats.transfer fits its optimum around) asks for new points:
- at the grid's first or last column: one grid step beyond that edge (the step between the edge and its
  neighbour), clipped to ``max_octaves`` octaves from the tuned step size; nothing where the edge is there already;
- inside the grid: the log midpoint between it and each neighbour more than half an octave away, so the parabola
  through it and its two neighbours stands on a grid of sqrt(2) there, not on a lopsided 2x one.
Every budget's new points train at every budget (one grid per contender). Rounds end when no budget asks for a
point not tried yet; the rule reads nothing but stored losses, so one worker, many, a resumed run and the report
see the same rounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

HALF_OCTAVE = 0.5  # the finest spacing around the lowest column
TOLERANCE = 1e-9  # in octaves: float noise of log2, not a grid step


def lowest(means: Sequence[float]) -> int | None:
    """The column with the lowest finite mean (the first of equal ones); None when every column diverged."""
    usable = [k for k, m in enumerate(means) if math.isfinite(m)]
    return min(usable, key=lambda k: means[k]) if usable else None


def asked(xs: Sequence[float], means: Sequence[float], max_octaves: float) -> list[float]:
    """The log2 multipliers one budget asks for (module docstring); ``xs``: the grid's ascending log2 multipliers,
    ``means``: each column's mean log final loss over the seeds (not finite: a seed diverged there)."""
    best = lowest(means)
    if best is None or len(xs) < 2:
        return []
    if best in (0, len(xs) - 1):
        side = -1 if best == 0 else 1
        beyond = xs[best] + side * abs(xs[best] - xs[best - side])
        beyond = max(-max_octaves, min(max_octaves, beyond))
        return [beyond] if side * (beyond - xs[best]) > TOLERANCE else []
    return [(xs[best] + xs[n]) / 2 for n in (best - 1, best + 1) if abs(xs[n] - xs[best]) > HALF_OCTAVE + TOLERANCE]


def mean_log_loss(losses: Iterable[float | None]) -> float:
    """The seeds' mean log final loss (in seed order), as results.stats.transfer takes it; inf where a seed diverged
    (None), or its loss has no log or no mean (<= 0, inf)."""
    values = list(losses)
    if not values or any(v is None or not 0 < v < math.inf for v in values):
        return math.inf
    return float(np.mean(np.log(np.asarray(values, dtype=np.float64))))


def next_round(multipliers: Sequence[float], means: Mapping[int, Sequence[float]], max_octaves: float,
               tried: Iterable[float]) -> list[float]:
    """The multipliers the next round trains, ascending: what any budget asks for (``means``: per budget, each of
    the ascending ``multipliers``' mean log loss) and was not ``tried`` (trained, or refused as invalid)."""
    xs = [math.log2(m) for m in multipliers]
    seen = [math.log2(m) for m in tried]
    new: set[float] = set()
    for column_means in means.values():
        for x in asked(xs, column_means, max_octaves):
            if all(abs(x - s) > TOLERANCE for s in [*seen, *(math.log2(m) for m in new)]):
                new.add(2.0 ** x)
    return sorted(new)
