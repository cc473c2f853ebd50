"""Tune short, train long: what reusing the tuned step size at another budget costs (the transfer phase).

Input: a tidy table (``COLUMNS``), one row per run: contender, budget, multiplier of the tuned step size
(1 = Phase 2's run), the step size ``lr`` itself, seed, final validation loss, status.

Per contender and budget, over the seeds that ran every multiplier there (``seeds``):
- **loss per multiplier**: the geometric mean over seeds with exp of the t interval of the mean log loss
  (95%), and the arithmetic mean.
- **optimum**: on x = log2(multiplier) and y = the mean over seeds of log(final loss) (the log of the
  geometric mean: losses span decades across a grid, and a parabola in the loss itself then dips below
  0), the parabola through the lowest y and its two grid neighbours; its vertex is the optimal
  multiplier and exp of its minimum the loss there. A lowest y at the grid's first or last point is
  reported as ``at_edge`` ("low"/"high"), never extrapolated; next to a diverged point it is the grid
  point itself (``fit`` says which).
- **regret**: how much worse multiplier 1 is than the optimum, on the same scale: log regret = y at
  multiplier 1 minus the parabola's minimum, reported as ``percent`` = 100 (exp(log regret) - 1) and
  ``absolute`` = the geometric-mean loss at multiplier 1 minus the loss at the optimum (at the edge,
  against the lowest y: a lower bound, ``lower_bound``).
- A multiplier where any of those seeds diverged is left out of every fit and named (``diverged``).

Per contender, the **drift**: the least-squares slope of log2(optimal step size) against log2(budget) over the
budgets with an optimum inside the grid, beside the convex bound's slope for the same tuned schedule
(``bound_slope``, from its gamma* per budget: schedulers.theory).

Intervals of the optimum, the regret and the drift: leave-one-seed-out jackknife standard error with a t
quantile on n - 1 degrees of freedom (95%); null where a left-out fit moves the optimum to the grid's edge
(the estimate is then unstable at this grid) or below three seeds. Their coverage was checked by simulation
(tests/test_transfer.py): see ``INTERVAL``.

Between contenders, at the longest budget: per seed the log regret (its own log loss at multiplier 1 minus its
own parabola at the pooled optimum; the parabola is linear in its points, so their mean is the pooled log
regret), paired by seed and compared by the sign-flip test of results.stats.pairwise, Holm-adjusted over the pairs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from results import ALPHA
from results.records import (
    Drift,
    MultiplierLoss,
    PairTest,
    Transfer,
    TransferBudget,
    TransferContender,
    TransferOptimum,
    TransferRank,
    TransferRegret,
    as_interval,
    ready,
)
from results.stats import pairwise

COLUMNS = ["contender", "budget", "multiplier", "lr", "seed", "final_val_loss", "status"]
CONFIDENCE = 0.95
INTERVAL = ("leave-one-seed-out jackknife standard error, t quantile on n - 1 degrees of freedom (95%); null below "
            "three seeds or where a left-out fit moves the optimum to the grid's edge")
OPTIMUM = ("vertex of the parabola in log2(multiplier) through the lowest mean log final loss (over seeds) and its "
           "two grid neighbours; never extrapolated past the grid's ends ('at_edge')")
COMPARISONS = ("two-sided sign-flip permutation test over seeds of the paired difference in per-seed log regret "
               "at the longest budget; Holm-adjusted over all pairs of contenders")


class Optimum(NamedTuple):
    """Where the loss against log2(multiplier) is lowest, and how that was found."""

    x: float  # log2 of the optimal multiplier
    log_loss: float  # the fitted mean log loss there
    fit: str  # "parabola", "grid point" (a diverged neighbour), "at edge"
    at_edge: str | None  # "low" / "high": the lowest mean at the grid's end
    weights: tuple[tuple[int, float], ...]  # (column, weight): the fitted loss as a weighted sum of columns


def _parabola_weights(xs: Sequence[float], x: float) -> list[float]:
    """Lagrange weights: the parabola through (xs, ys) at x equals sum(w * ys), linear in ys."""
    return [math.prod((x - xs[m]) / (xs[k] - xs[m]) for m in range(3) if m != k) for k in range(3)]


def find_optimum(xs: Sequence[float], means: Sequence[float], usable: Sequence[bool]) -> Optimum | None:
    """The optimum of the module docstring over the grid ``xs`` (ascending log2 multipliers); None when no
    column is usable."""
    candidates = [k for k in range(len(xs)) if usable[k]]
    if not candidates:
        return None
    best = min(candidates, key=lambda k: means[k])
    if best in (0, len(xs) - 1):
        return Optimum(xs[best], means[best], "at edge", "low" if best == 0 else "high", ((best, 1.0),))
    window = [best - 1, best, best + 1]
    if not all(usable[k] for k in window):
        return Optimum(xs[best], means[best], "grid point", None, ((best, 1.0),))
    wx, wy = [xs[k] for k in window], [means[k] for k in window]
    curvature = np.polyfit(wx, wy, 2)[0]
    if curvature <= 0:  # all three equal: no vertex
        return Optimum(xs[best], means[best], "grid point", None, ((best, 1.0),))
    vertex = float(np.clip(-np.polyfit(wx, wy, 2)[1] / (2 * curvature), wx[0], wx[2]))
    weights = _parabola_weights(wx, vertex)
    return Optimum(vertex, float(np.dot(weights, wy)), "parabola", None, tuple(zip(window, weights)))


def jackknife_interval(estimate: float, left_out: Sequence[float | None]) -> tuple[float, float] | None:
    """``estimate`` +- t_{n-1} * the jackknife standard error from the leave-one-out ``left_out`` values."""
    n = len(left_out)
    if n < 3 or any(v is None or not math.isfinite(v) for v in left_out):
        return None
    values = np.asarray(left_out, dtype=np.float64)
    se = math.sqrt((n - 1) / n * float(np.sum((values - values.mean()) ** 2)))
    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)) * se
    return estimate - half, estimate + half


class BudgetGrid(NamedTuple):
    """One contender's runs at one budget: final loss per seed (rows) and multiplier (columns)."""

    multipliers: list[float]
    seeds: list[int]
    loss: np.ndarray  # seeds x multipliers, NaN where diverged
    diverged: dict[float, list[int]]  # multiplier -> seeds whose run diverged

    @property
    def xs(self) -> list[float]:
        return [math.log2(m) for m in self.multipliers]

    @property
    def usable(self) -> list[bool]:
        return [m not in self.diverged for m in self.multipliers]

    @property
    def log_loss(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(self.loss)

    def optimum(self, rows: np.ndarray | None = None) -> Optimum | None:
        logs = self.log_loss if rows is None else self.log_loss[rows]
        means = [float(np.mean(logs[:, k])) if ok else math.inf for k, ok in enumerate(self.usable)]
        return find_optimum(self.xs, means, self.usable)

    def log_regret(self, optimum: Optimum, rows: np.ndarray | None = None) -> np.ndarray | None:
        """Per seed, its log loss at multiplier 1 minus its own parabola at ``optimum``; None when the
        tuned step size diverged here."""
        logs = self.log_loss if rows is None else self.log_loss[rows]
        one = self.multipliers.index(1.0)
        if not self.usable[one]:
            return None
        return logs[:, one] - sum(w * logs[:, k] for k, w in optimum.weights)


def budget_grid(runs: pd.DataFrame) -> BudgetGrid | None:
    """The grid of one contender at one budget over the seeds that ran every multiplier (with 1 among them)."""
    multipliers = sorted(float(m) for m in runs["multiplier"].unique())
    if 1.0 not in multipliers or len(multipliers) < 2:
        return None
    per_seed = runs.groupby("seed")["multiplier"].nunique()
    seeds = sorted(int(s) for s in per_seed[per_seed == len(multipliers)].index)
    if not seeds:
        return None
    table = runs[runs["seed"].isin(seeds)].set_index(["seed", "multiplier"])
    complete = table["status"] == "complete"
    loss = np.array([[table.loc[(s, m), "final_val_loss"] if complete.loc[(s, m)] else np.nan for m in multipliers]
                     for s in seeds], dtype=np.float64)
    diverged = {m: [s for s in seeds if not complete.loc[(s, m)] or not table.loc[(s, m), "final_val_loss"] > 0]
                for m in multipliers}  # a loss <= 0 has no log: left out like a diverged run
    return BudgetGrid(multipliers, seeds, loss, {m: s for m, s in diverged.items() if s})


def _leave_one_out(n: int, statistic: Callable[[np.ndarray], float | None]) -> list[float | None]:
    return [statistic(np.delete(np.arange(n), i)) for i in range(n)]


def _interval_of(estimate: float | None, n: int,
                 statistic: Callable[[np.ndarray], float | None]) -> list[float] | None:
    if estimate is None:
        return None
    return as_interval(jackknife_interval(estimate, _leave_one_out(n, statistic)))


def _interior_x(grid: BudgetGrid, rows: np.ndarray) -> float | None:
    optimum = grid.optimum(rows)
    return None if optimum is None or optimum.at_edge else optimum.x


def _regret(grid: BudgetGrid, rows: np.ndarray | None = None) -> tuple[float, float, np.ndarray] | None:
    """(absolute, log) regret of the seeds ``rows`` and the per-seed log regrets; None when undefined."""
    optimum = grid.optimum(rows)
    if optimum is None:
        return None
    per_seed = grid.log_regret(optimum, rows)
    if per_seed is None:
        return None
    logs = grid.log_loss if rows is None else grid.log_loss[rows]
    one = float(np.exp(np.mean(logs[:, grid.multipliers.index(1.0)])))
    return one - math.exp(optimum.log_loss), float(per_seed.mean()), per_seed


def _regret_part(grid: BudgetGrid, rows: np.ndarray, part: Literal[0, 1]) -> float | None:
    found = _regret(grid, rows)
    return None if found is None else found[part]


def _geometric_mean(logs: np.ndarray) -> MultiplierLoss:
    """The seeds' geometric mean with exp of the t interval of their mean log (95%), and the arithmetic mean."""
    interval = pairwise.t_interval(list(logs))
    return MultiplierLoss(float(np.exp(logs.mean())), None if interval is None else [math.exp(v) for v in interval],
                          float(np.exp(logs).mean()), len(logs))


def analyze_budget(grid: BudgetGrid, tuned: float) -> TransferBudget:
    """Loss per multiplier, the optimum and the regret at one budget (module docstring); ``tuned`` is the
    tuned step size (multiplier 1), so the optimum is also given as a step size."""
    n = len(grid.seeds)
    loss = {f"{m:g}": _geometric_mean(grid.log_loss[:, k]) if m not in grid.diverged else
            MultiplierLoss(None, None, None, n) for k, m in enumerate(grid.multipliers)}
    diverged = {f"{m:g}": seeds for m, seeds in grid.diverged.items()}
    optimum = grid.optimum()
    if optimum is None:
        return TransferBudget(grid.seeds, loss, diverged, None, None)
    x_ci = None if optimum.at_edge else _interval_of(optimum.x, n, lambda rows: _interior_x(grid, rows))
    best = TransferOptimum(multiplier=2 ** optimum.x, lr=tuned * 2 ** optimum.x, loss=math.exp(optimum.log_loss),
                           fit=optimum.fit, at_edge=optimum.at_edge,
                           multiplier_ci=None if x_ci is None else [2 ** v for v in x_ci],
                           lr_ci=None if x_ci is None else [tuned * 2 ** v for v in x_ci])
    found = _regret(grid)
    regret = None
    if found is not None:
        absolute, log_regret, per_seed = found
        log_ci = _interval_of(log_regret, n, lambda rows: _regret_part(grid, rows, 1))
        regret = TransferRegret(
            absolute=absolute, percent=100 * math.expm1(log_regret), lower_bound=optimum.at_edge is not None,
            ci=_interval_of(absolute, n, lambda rows: _regret_part(grid, rows, 0)),
            percent_ci=None if log_ci is None else [100 * math.expm1(v) for v in log_ci],
            log=log_regret, per_seed_log=dict(zip(map(str, grid.seeds), per_seed.tolist())))
    return TransferBudget(grid.seeds, loss, diverged, best, regret)


def slope(budgets: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against log2(budget)."""
    return float(np.polyfit(np.log2(budgets), values, 1)[0])


def drift(grids: Mapping[int, BudgetGrid], bound_gamma: Mapping[int, float | None] | None) -> Drift | None:
    """Slope of log2(optimal step size) against log2(budget) over the budgets with an optimum inside the grid,
    its jackknife interval over seeds, and the convex bound's slope over the same budgets."""
    full = {b: x for b, g in grids.items() if (x := _interior_x(g, np.arange(len(g.seeds)))) is not None}
    budgets = sorted(full)
    if len(budgets) < 2:
        return None
    seeds = sorted(set(itertools.chain.from_iterable(grids[b].seeds for b in budgets)))
    estimate = slope(budgets, [full[b] for b in budgets])

    def without(seed: int) -> float | None:
        xs = [_interior_x(grids[b], np.array([i for i, s in enumerate(grids[b].seeds) if s != seed]))
              for b in budgets]
        defined = [x for x in xs if x is not None]
        return slope(budgets, defined) if len(defined) == len(xs) else None

    gammas = [g for b in budgets if (g := (bound_gamma or {}).get(b)) is not None and g > 0]
    bound = slope(budgets, [math.log2(g) for g in gammas]) if len(gammas) == len(budgets) else None
    interval = as_interval(jackknife_interval(estimate, [without(s) for s in seeds]))
    return Drift(estimate, interval, budgets, len(seeds), bound)


def analyze_transfer(table: pd.DataFrame, bound_gamma: Mapping[str, Mapping[int, float | None]] | None = None,
                     alpha: float = ALPHA, seed: int = 0, tuning_budget: int | None = None,
                     step_params: Mapping[str, str] | None = None) -> Transfer | None:
    """The transfer analysis of ``table`` (``COLUMNS``); ``bound_gamma``: per contender the convex bound's gamma*
    per budget of its tuned schedule (none for LR-free optimizers); ``step_params``: per contender the parameter
    its ``lr`` column holds; None for an empty table."""
    if table.empty:
        return None
    contenders: dict[str, TransferContender] = {}
    grids: dict[str, dict[int, BudgetGrid]] = {}
    for name, runs in table.groupby("contender", sort=False):
        name = str(name)
        tuned = float(runs["lr"].iloc[0] / runs["multiplier"].iloc[0])  # every row: the tuned step size x multiplier
        grids[name] = {int(b): g for b, rs in runs.groupby("budget") if (g := budget_grid(rs)) is not None}
        contenders[name] = TransferContender(tuned, {str(b): analyze_budget(g, tuned) for b, g in grids[name].items()},
                                             drift(grids[name], (bound_gamma or {}).get(name)))
    longest = max(int(b) for b in table["budget"])
    at_longest = {n: regret for n, c in contenders.items()
                  if str(longest) in c.budgets and (regret := c.budgets[str(longest)].regret) is not None}
    ranked = sorted(at_longest, key=lambda n: at_longest[n].percent)
    per_seed = {n: {int(s): v for s, v in at_longest[n].per_seed_log.items()} for n in ranked}
    comparisons = pairwise.compare_differences(
        {(a, b): [per_seed[a][s] - per_seed[b][s] for s in sorted(set(per_seed[a]) & set(per_seed[b]))]
         for a, b in itertools.combinations(ranked, 2)}, alpha, seed)
    ranking = [TransferRank(n, at_longest[n].percent, at_longest[n].percent_ci, at_longest[n].lower_bound,
                            pairwise.not_separated(n, comparisons, ranked)) for n in ranked]
    return ready(Transfer(
        contenders=contenders, tuning_budget=tuning_budget, longest_budget=longest,
        step_params=dict(step_params or {}), ranking=ranking, comparisons=[PairTest(*c) for c in comparisons],
        alpha=alpha, method={"optimum": OPTIMUM, "intervals": INTERVAL, "comparisons": COMPARISONS,
                             "loss_ci": "exp of the t interval of the mean log final loss over seeds (95%): an "
                                        "interval for the geometric mean",
                             "bound_slope": "slope of log2(gamma*) of the convex bound (Schaipp et al. 2025) for the "
                                            "tuned schedule at each budget against log2(budget)"}))
