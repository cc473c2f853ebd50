"""How large a budget effect could this run have found? The budget test's power, simulated from the runs.

Null-like datasets are the contender's own runs with their budget labels shuffled within each seed
(the budget test's null: what the data would look like if the budget changed nothing, with their
real noise, seed pairing and curve shapes). An effect of size d is injected by multiplying the
curves of the i-th of K budgets by exp(d * i / (K - 1)) over the compared window (a log-loss shift
growing from the smallest to the largest budget, as in results.stats.simulation). Power(d) is the share
of ``DATASETS`` such datasets that the budget test flags at ``level``; the same shuffles serve every d
(common random numbers), so power grows with d in practice (not guaranteed: a gap |x + d| can shrink
before it grows) and a bisection finds the smallest d with power >= 80%.

The answer is given in the headline unit: the mean movement in rerun units (results.stats.movement) of the
datasets at that d, comparable across contenders and tasks. Approximate, and from one run's noise: 40 datasets
per step leave about +-0.06 of sampling error on the power of each step, but the larger error is the run's own
seeds, reused by every dataset: on ten simulated 5-seed studies with no effect (budgets 20/40/80, level 0.05/18)
the true power at the answer was 0.29-0.73 (median 0.47), so the answer is optimistic — a movement this size
is found about half the time, not 80%. Where the runs already carry a budget effect, shuffling counts it as
noise, which makes the answer larger.
Checked against simulated studies with a known truth in tests/test_detectable.py.
"""

from __future__ import annotations

import math

import numpy as np

from results.stats.budget import SeedCurves, budget_test, distance, smoothed_log
from results.stats.movement import movement

POWER = 0.8
DATASETS = 40
BISECTIONS = 4
MOST_DOUBLINGS = 10


def _floor_distance(curves: SeedCurves, window: int) -> float:
    """Mean distance between different seeds at one budget: the scale the effect search starts from."""
    distances = []
    for by_seed in curves.values():
        smoothed = [smoothed_log(c, window) for c in by_seed.values()]
        distances += [distance(a, b) for i, a in enumerate(smoothed) for b in smoothed[i + 1:]]
    return float(np.mean(distances)) if distances else 0.0


class _Simulation:
    """The fixed shuffles of one contender's runs, tested with any injected effect."""

    def __init__(self, curves: SeedCurves, level: float, seed: int) -> None:
        self.budgets = sorted(curves)
        self.window = self.budgets[0]
        self.level = level
        self.n_permutations = max(199, math.ceil(4 / level))  # enough resolution to reach the level
        rng = np.random.default_rng(seed)
        cut = {b: {s: np.asarray(c[:self.window], dtype=np.float64) for s, c in by_seed.items()}
               for b, by_seed in curves.items()}
        seeds = sorted({s for by_seed in curves.values() for s in by_seed})
        self.shuffles = []
        for _ in range(DATASETS):
            dataset: dict[int, dict[int, np.ndarray]] = {b: {} for b in self.budgets}
            for s in seeds:
                present = [b for b in self.budgets if s in cut[b]]
                for b, source in zip(present, rng.permutation(present)):
                    dataset[b][s] = cut[int(source)][s]
            self.shuffles.append(dataset)

    def power(self, effect: float) -> tuple[float, float]:
        """Share of the datasets flagged, and their mean movement in rerun units, with ``effect`` injected."""
        scale = len(self.budgets) - 1
        flagged, sizes = 0, []
        for k, dataset in enumerate(self.shuffles):
            injected = {b: {s: (c * math.exp(effect * i / scale)).tolist() for s, c in dataset[b].items()}
                        for i, b in enumerate(self.budgets)}
            test = budget_test(injected, n_permutations=self.n_permutations, seed=k, interval=False)
            flagged += test.p_value is not None and test.p_value <= self.level
            size = movement(injected).value
            sizes.append(size if size is not None else math.nan)
        return flagged / len(self.shuffles), float(np.nanmean(sizes))


def detectable_movement(curves: SeedCurves, level: float, min_p: float | None, seed: int = 0) -> float | None:
    """The smallest movement (in rerun units) the budget test finds with 80% power at ``level`` (module docstring);
    None where no p-value this design can give (``min_p``) reaches the level, or no effect is found."""
    if min_p is None or min_p > level or len(curves) < 2:
        return None
    simulation = _Simulation(curves, level, seed)
    low, high = 0.0, _floor_distance(curves, simulation.window) or 0.01
    for _ in range(MOST_DOUBLINGS):
        power, size = simulation.power(high)
        if power >= POWER:
            break
        low, high = high, 2 * high
    else:
        return None
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        power, middle_size = simulation.power(middle)
        if power >= POWER:
            high, size = middle, middle_size
        else:
            low = middle
    return size
