"""Tune short, train long: what reusing the tuned step size at another budget costs (the transfer phase).

Input: a tidy table (``COLUMNS``), one row per run: contender, budget, multiplier of the tuned step size
(1 = Phase 2's run), the step size ``lr`` itself, seed, final validation loss, status. Each (contender, budget,
seed, multiplier) once: a duplicate is an error.

Per contender and budget, over the seeds that ran every multiplier there (``seeds``):
- **loss per multiplier**: the geometric mean over seeds with exp of the t interval of the mean log loss
  (95%), and the arithmetic mean.
- **optimum**: on x = log2(multiplier) and y = the mean over seeds of log(final loss) (the log of the
  geometric mean: losses span decades across a grid, and a parabola in the loss itself then dips below
  0), the parabola through the lowest y and its two grid neighbours; its vertex is the optimal
  multiplier and exp of its minimum the loss there. **Guard:** the minimum may lie below the lowest y by no
  more than the lowest y lies below its nearer neighbour; a deeper dip is the parabola's, not the data's (a
  neighbour that blows up pulls it down by ln(k)/8), so the loss there is then the lowest y itself, and the dip
  is named (``dip``). A lowest y at the grid's first or last point is reported as ``at_edge`` ("low"/"high"),
  never extrapolated; next to a diverged point it is the grid point itself (``fit`` says which).
- **regret**: how much worse multiplier 1 is than the optimum, on the same scale: log regret = y at
  multiplier 1 minus the optimum's y, reported as ``percent`` = 100 (exp(log regret) - 1) and
  ``absolute`` = the geometric-mean loss at multiplier 1 minus the loss at the optimum (at the edge,
  against the lowest y: a lower bound, ``lower_bound``). Never more than multiplier 1's y minus the lowest y
  by more than the guard allows. Where multiplier 1 diverged in any seed the regret is ``diverged``
  (infinite).
- **transfer cost** (budgets other than the tuning budget): the regret there of the step size optimal at the
  tuning budget: per seed (the seeds both budgets ran), its log loss at the tuning budget's optimum (the
  fitted parabola inside its window, else the parabola through the three grid points centred nearest it where
  the guard accepts it, else the chord between the grid points either side) minus its own
  parabola at this budget's optimum. The regret at the tuning budget itself is the **tuning error**; the
  practitioner's regret mixes both. Where either optimum lies at the grid's edge the cost is a lower bound (for a
  loss unimodal in log step size: the true optimum lies further out), but where both lie at the same edge: read
  there it is 0 by construction, so it has no value (``SAME_EDGE``).
- A multiplier where any of those seeds diverged is left out of every fit and named (``diverged``).

Per contender, the **drift**: the least-squares slope of log2(optimal step size) against log2(budget) over the
budgets with an optimum; an optimum at the grid's edge enters at the edge, and the slope is then a bound
(``censored_direction``). Beside it the convex bound's slope for the same tuned schedule on its SGD steps
(``bound_slope``, from its gamma* per budget: schedulers.theory).

Intervals of the optimum, the regret, the transfer cost and the drift: leave-one-seed-out jackknife standard
error with a t quantile on n - 1 degrees of freedom (95%); null where a left-out fit moves the optimum to the
grid's edge (the estimate is then unstable at this grid), for bounds, or below three seeds (then nothing is left
out). Their coverage was checked by simulation (tests/test_transfer_analysis.py): see ``INTERVAL``.

Between contenders, at the longest budget: ranked by the transfer cost (by the regret where the tuning budget
was not trained): point estimates first, a diverged one last, bounds and undefined values apart (``unranked``).
Per seed the ranked value (the parabola is linear in its points, so the per-seed values average to the pooled
one), paired by seed and compared by the sign-flip test of results.stats.pairwise, Holm-adjusted over the pairs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from results import ALPHA
from results.records import (
    SAME_EDGE,
    Drift,
    MultiplierLoss,
    PairTest,
    Transfer,
    TransferBudget,
    TransferContender,
    TransferCost,
    TransferOptimum,
    TransferRank,
    TransferRegret,
    as_interval,
    ready,
    str_keys,
)
from results.stats import pairwise
from results.stats.metrics import t_interval

COLUMNS = ["contender", "budget", "multiplier", "lr", "seed", "final_val_loss", "status"]
CONFIDENCE = 0.95
MIN_SEEDS = 3  # the fewest seeds with an interval: a t quantile on one degree of freedom spans +-12.7 errors
INTERVAL = ("leave-one-seed-out jackknife standard error, t quantile on n - 1 degrees of freedom (95%); null below "
            "three seeds, for bounds, or where a left-out fit moves the optimum to the grid's edge")
OPTIMUM = ("vertex of the parabola in log2(multiplier) through the lowest mean log final loss (over seeds) and its "
           "two grid neighbours; its minimum no deeper below the lowest mean than that lies below its nearer "
           "neighbour (else the lowest mean, 'dip'); never extrapolated past the grid's ends ('at_edge')")
COST = ("regret at a budget of the step size optimal at the tuning budget: per seed (the seeds both budgets ran) "
        "its log loss there (a parabola through the nearest grid points, guarded, else their chord) minus its own "
        "parabola at that budget's optimum; jackknifed leaving each seed out of both budgets")
COMPARISONS = ("two-sided sign-flip permutation test over seeds of the paired difference in the per-seed value "
               "ranked (transfer cost, else regret) at the longest budget; Holm-adjusted over the pairs of "
               "contenders ranked")


class Optimum(NamedTuple):
    """Where the loss against log2(multiplier) is lowest, and how that was found."""

    x: float  # log2 of the optimal multiplier
    log_loss: float  # the fitted mean log loss there (the lowest mean itself where the guard refused a dip)
    fit: str  # "parabola", "grid point" (a diverged neighbour), "at edge"
    at_edge: str | None  # "low" / "high": the lowest mean at the grid's end
    weights: tuple[tuple[int, float], ...]  # (column, weight): the fitted loss as a weighted sum of columns
    dip: float | None = None  # how far the parabola's minimum fell below the best mean where the guard refused it
    window: tuple[int, ...] = ()  # the parabola's three columns (none without a parabola)


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
    curvature, slope, _ = np.polyfit(wx, wy, 2)
    if curvature <= 0:  # all three equal: no vertex
        return Optimum(xs[best], means[best], "grid point", None, ((best, 1.0),))
    vertex = float(np.clip(-slope / (2 * curvature), wx[0], wx[2]))
    weights = _parabola_weights(wx, vertex)
    fitted = float(np.dot(weights, wy))
    if invented(wy, fitted):
        return Optimum(vertex, means[best], "parabola", None, ((best, 1.0),), wy[1] - fitted, tuple(window))
    return Optimum(vertex, fitted, "parabola", None, tuple(zip(window, weights)), None, tuple(window))


def invented(ys: Sequence[float], fitted: float) -> bool:
    """The guard: a parabola's value ``fitted`` lies deeper below the lowest of its three points ``ys`` than that
    lies below the next lowest; a neighbour that blows up pulls it down so (by ln(k)/8 at its vertex), the data
    do not."""
    low, second = sorted(ys)[:2]
    return low - fitted > second - low


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

    def means(self, rows: np.ndarray | None = None) -> list[float]:
        """Per column, the seeds' (``rows``) mean log loss; inf where a seed diverged."""
        logs = self.log_loss if rows is None else self.log_loss[rows]
        return [float(np.mean(logs[:, k])) if ok else math.inf for k, ok in enumerate(self.usable)]

    def optimum(self, rows: np.ndarray | None = None) -> Optimum | None:
        return find_optimum(self.xs, self.means(rows), self.usable)

    def log_regret(self, optimum: Optimum, rows: np.ndarray | None = None) -> np.ndarray | None:
        """Per seed, its log loss at multiplier 1 minus its own parabola at ``optimum`` (its own loss at the best
        grid point where the guard refused a dip); None when the tuned step size diverged here."""
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
    finite = {(s, m): 0 < table.loc[(s, m), "final_val_loss"] < math.inf for s in seeds for m in multipliers}
    diverged = {m: [s for s in seeds if not complete.loc[(s, m)] or not finite[(s, m)]]
                for m in multipliers}  # a loss <= 0 has no log, an infinite one no mean: left out like a diverged run
    return BudgetGrid(multipliers, seeds, loss, {m: s for m, s in diverged.items() if s})


def _leave_one_out(n: int, statistic: Callable[[np.ndarray], float | None]) -> list[float | None]:
    return [statistic(np.delete(np.arange(n), i)) for i in range(n)]


def _interval_of(estimate: float | None, n: int,
                 statistic: Callable[[np.ndarray], float | None]) -> list[float] | None:
    """The jackknife interval; none below ``MIN_SEEDS`` (nothing is left out then: one seed has no left-out fit)."""
    if estimate is None or n < MIN_SEEDS:
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
    interval = t_interval(list(logs))
    return MultiplierLoss(float(np.exp(logs.mean())), None if interval is None else [math.exp(v) for v in interval],
                          float(np.exp(logs).mean()), len(logs))


def _percent(log: float | None) -> float | None:
    return None if log is None else 100 * math.expm1(log)


def _percents(interval: list[float] | None) -> list[float] | None:
    return None if interval is None else [100 * math.expm1(v) for v in interval]


DIVERGED_REGRET = TransferRegret(absolute=None, percent=None, lower_bound=False, ci=None, percent_ci=None, log=None,
                                 per_seed_log={}, diverged=True)


def budget_regret(grid: BudgetGrid, optimum: Optimum) -> TransferRegret | None:
    """The tuned step size's regret at this budget (module docstring); diverged (infinite) where it diverged."""
    if not grid.usable[grid.multipliers.index(1.0)]:
        return DIVERGED_REGRET
    found = _regret(grid)
    if found is None:
        return None
    absolute, log_regret, per_seed = found
    n = len(grid.seeds)
    return TransferRegret(
        absolute=absolute, percent=_percent(log_regret), lower_bound=optimum.at_edge is not None,
        ci=None if optimum.at_edge else _interval_of(absolute, n, lambda rows: _regret_part(grid, rows, 0)),
        percent_ci=None if optimum.at_edge else _percents(_interval_of(log_regret, n,
                                                                       lambda rows: _regret_part(grid, rows, 1))),
        log=log_regret, per_seed_log=dict(zip(map(str, grid.seeds), per_seed.tolist())), diverged=False)


def analyze_budget(grid: BudgetGrid, tuned: float) -> TransferBudget:
    """Loss per multiplier, the optimum and the regret at one budget (module docstring); ``tuned`` is the
    tuned step size (multiplier 1), so the optimum is also given as a step size."""
    n = len(grid.seeds)
    loss = {f"{m:g}": _geometric_mean(grid.log_loss[:, k]) if m not in grid.diverged else
            MultiplierLoss(None, None, None, n) for k, m in enumerate(grid.multipliers)}
    diverged = {f"{m:g}": seeds for m, seeds in grid.diverged.items()}
    optimum = grid.optimum()
    if optimum is None:
        return TransferBudget(grid.seeds, loss, diverged, None, None, None)
    x_ci = None if optimum.at_edge else _interval_of(optimum.x, n, lambda rows: _interior_x(grid, rows))
    best = TransferOptimum(multiplier=2 ** optimum.x, lr=tuned * 2 ** optimum.x, loss=math.exp(optimum.log_loss),
                           fit=optimum.fit, at_edge=optimum.at_edge,
                           multiplier_ci=None if x_ci is None else [2 ** v for v in x_ci],
                           lr_ci=None if x_ci is None else [tuned * 2 ** v for v in x_ci], dip=optimum.dip)
    return TransferBudget(grid.seeds, loss, diverged, best, budget_regret(grid, optimum), None)


# -- The transfer cost: the long budget's regret of the tuning budget's optimum -----------------------------------

def _weights_at(grid: BudgetGrid, optimum: Optimum, means: Sequence[float],
                x: float) -> tuple[tuple[int, float], ...] | None:
    """The mean log loss at log2 multiplier ``x`` as a weighted sum of columns (``means``: the columns' mean log
    losses): a grid point itself; inside the optimum's window its fitted parabola (unless the guard refused its
    dip); else the parabola through the three grid points centred nearest ``x`` where the guard (``invented``)
    accepts it, else the chord between the grid points either side; None outside the grid."""
    xs = grid.xs
    if not xs[0] <= x <= xs[-1]:
        return None
    right = next(k for k, v in enumerate(xs) if v >= x)
    if xs[right] == x:
        return ((right, 1.0),)
    window = optimum.window
    if window and optimum.dip is None and xs[window[0]] <= x <= xs[window[-1]]:
        return tuple(zip(window, _parabola_weights([xs[k] for k in window], x)))
    left = right - 1
    centres = sorted((left, right), key=lambda k: abs(xs[k] - x))
    for centre in centres:
        near = [centre - 1, centre, centre + 1]
        if near[0] >= 0 and near[2] < len(xs) and all(grid.usable[k] for k in near):
            weights = _parabola_weights([xs[k] for k in near], x)
            if not invented([means[k] for k in near], float(np.dot(weights, [means[k] for k in near]))):
                return tuple(zip(near, weights))
            break
    share = (x - xs[left]) / (xs[right] - xs[left])
    return ((left, 1 - share), (right, share))


class Cost(NamedTuple):
    """The transfer cost of some seeds (see ``transfer_cost``)."""

    x: float  # log2 of the tuning budget's optimal multiplier
    per_seed: np.ndarray | None  # None where a column it needs diverged at the long budget
    censored: str | None


def _cost(tuning: BudgetGrid, long: BudgetGrid, rows: tuple[np.ndarray, np.ndarray]) -> Cost | None:
    """Per seed (``rows`` of each grid, the same seeds in the same order): its log loss at the long budget at the
    tuning budget's optimum (of those seeds) minus its own parabola at the long budget's optimum."""
    at_s, at_l = tuning.optimum(rows[0]), long.optimum(rows[1])
    if at_s is None or at_l is None or (weights := _weights_at(long, at_l, long.means(rows[1]), at_s.x)) is None:
        return None
    censored = SAME_EDGE if at_s.at_edge and at_s.at_edge == at_l.at_edge else \
        "tuning optimum at the edge" if at_s.at_edge else "lower bound" if at_l.at_edge else None
    if any(w != 0 and not long.usable[k] for k, w in weights):
        return Cost(at_s.x, None, censored)
    logs = long.log_loss[rows[1]]
    return Cost(at_s.x, sum(w * logs[:, k] for k, w in weights) - sum(w * logs[:, k] for k, w in at_l.weights),
                censored)


def transfer_cost(tuning: BudgetGrid, long: BudgetGrid) -> TransferCost | None:
    """The regret at the long budget of the step size optimal at the tuning budget, per seed over the seeds both
    grids ran, jackknifed jointly (a seed left out of both); None where a budget has no optimum or the tuning
    optimum lies outside the long budget's grid."""
    seeds = sorted(set(tuning.seeds) & set(long.seeds))
    if not seeds:
        return None
    both = (np.array([tuning.seeds.index(s) for s in seeds]), np.array([long.seeds.index(s) for s in seeds]))
    found = _cost(tuning, long, both)
    if found is None:
        return None
    multiplier = 2 ** found.x
    if found.per_seed is None or found.censored == SAME_EDGE:  # diverged, or 0 by construction: no number
        return TransferCost(multiplier, None, None, None, {}, seeds, found.censored, found.per_seed is None)

    def left_out(rows: np.ndarray) -> float | None:
        cost = _cost(tuning, long, (both[0][rows], both[1][rows]))
        return None if cost is None or cost.per_seed is None or cost.censored else float(cost.per_seed.mean())

    log = float(found.per_seed.mean())
    interval = None if found.censored else _interval_of(log, len(seeds), left_out)
    return TransferCost(multiplier, _percent(log), _percents(interval), log,
                        dict(zip(map(str, seeds), found.per_seed.tolist())), seeds, found.censored, False)


# -- The drift -----------------------------------------------------------------------------------------------------

def slope(budgets: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against log2(budget)."""
    return float(np.polyfit(np.log2(budgets), values, 1)[0])


def censored_direction(budgets: Sequence[int], edges: Mapping[int, str]) -> str | None:
    """Which way optima beyond the grid's edge (``edges``: budget -> "low" / "high"), entered at the edge, bias the
    least-squares slope: it is linear in each point with weight log2(budget) minus the mean, so a true optimum
    higher than its edge raises the slope where that weight is positive. "at least", "at most", "unknown" (both
    ways), or None (none censored)."""
    centre = float(np.mean(np.log2(budgets)))
    ways = {(edge == "high") == (math.log2(b) > centre) for b, edge in edges.items() if math.log2(b) != centre}
    if not ways:  # none censored, or only at the centre, where a point has no weight in the slope
        return None
    if len(ways) == 2:
        return "unknown"
    return "at most" if ways == {False} else "at least"


def drift(grids: Mapping[int, BudgetGrid], bound_gamma: Mapping[int, float | None] | None) -> Drift | None:
    """Slope of log2(optimal step size) against log2(budget) over every budget with an optimum, those at the grid's
    edge entered at the edge (the slope is then a bound, ``censored_direction``); its jackknife interval over
    seeds (only where no optimum is censored); the convex bound's slope over the same budgets."""
    found = {b: o for b, g in grids.items() if (o := g.optimum()) is not None}
    budgets = sorted(found)
    if len(budgets) < 2:
        return None
    seeds = sorted(set(itertools.chain.from_iterable(grids[b].seeds for b in budgets)))
    edges = {b: o.at_edge for b in budgets if (o := found[b]).at_edge is not None}
    direction = censored_direction(budgets, edges)
    estimate = None if direction == "unknown" else slope(budgets, [found[b].x for b in budgets])

    def without(seed: int) -> float | None:
        xs = [_interior_x(grids[b], np.array([i for i, s in enumerate(grids[b].seeds) if s != seed], dtype=int))
              for b in budgets]
        defined = [x for x in xs if x is not None]
        return slope(budgets, defined) if len(defined) == len(xs) else None

    gammas = [g for b in budgets if (g := (bound_gamma or {}).get(b)) is not None and g > 0]
    bound = slope(budgets, [math.log2(g) for g in gammas]) if len(gammas) == len(budgets) else None
    interval = None
    if estimate is not None and direction is None and len(seeds) >= MIN_SEEDS:
        interval = as_interval(jackknife_interval(estimate, [without(s) for s in seeds]))
    return Drift(estimate, interval, budgets, len(seeds), bound, direction, sorted(edges))


# -- Across contenders ---------------------------------------------------------------------------------------------

def _rank(name: str, contender: TransferContender, longest: int, tuning_budget: int | None) -> TransferRank:
    """One contender's three numbers at the longest budget: the transfer cost (what it is ranked by where the
    tuning budget was trained), the practitioner's regret and the tuning error."""
    at_longest = contender.budgets.get(str(longest))
    regret = at_longest.regret if at_longest else None
    cost = at_longest.transfer_cost if at_longest else None
    tuning = contender.budgets.get(str(tuning_budget)) if tuning_budget is not None else None
    error = tuning.regret if tuning else None
    if cost is not None:
        censored, diverged = cost.censored, cost.diverged
    else:
        censored = "lower bound" if regret is not None and regret.lower_bound else None
        diverged = regret is not None and regret.diverged
    return TransferRank(
        name=name, transfer_cost_percent=cost.percent if cost else None,
        transfer_cost_ci=cost.percent_ci if cost else None,
        regret_percent=regret.percent if regret else None, ci=regret.percent_ci if regret else None,
        lower_bound=bool(regret and regret.lower_bound), tuning_error_percent=error.percent if error else None,
        tuning_error_lower_bound=bool(error and error.lower_bound),
        regret_diverged=bool(regret and regret.diverged), diverged=diverged, censored=censored, tied_with=[])


def _key(rank: TransferRank, by_cost: bool) -> float | None:
    return rank.transfer_cost_percent if by_cost else rank.regret_percent


def _per_seed(contender: TransferContender, longest: int, by_cost: bool) -> dict[int, float]:
    detail = contender.budgets[str(longest)]
    source = detail.transfer_cost if by_cost else detail.regret
    return {int(s): v for s, v in source.per_seed_log.items()} if source else {}


def analyze_transfer(table: pd.DataFrame, bound_gamma: Mapping[str, Mapping[int, float | None]] | None = None,
                     alpha: float = ALPHA, seed: int = 0, tuning_budget: int | None = None,
                     step_params: Mapping[str, str] | None = None, in_sample_seeds: Sequence[int] = (),
                     bound_steps: Mapping[str, int] | None = None) -> Transfer | None:
    """The transfer analysis of ``table`` (``COLUMNS``); ``bound_gamma``: per contender the convex bound's gamma*
    per budget of its tuned schedule (none for LR-free optimizers), evaluated on ``bound_steps`` SGD steps per
    epoch; ``step_params``: per contender the parameter its ``lr`` column holds; ``in_sample_seeds``: the tuning
    seeds (named, kept); None for an empty table."""
    if table.empty:
        return None
    duplicated = table[table.duplicated(["contender", "budget", "seed", "multiplier"], keep=False)]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise ValueError(f"transfer rows: {len(duplicated)} rows share a (contender, budget, seed, multiplier), "
                         f"e.g. {first['contender']} at {first['budget']} epochs, seed {first['seed']}, "
                         f"x{first['multiplier']:g}: each run must be read once")
    contenders: dict[str, TransferContender] = {}
    for name, runs in table.groupby("contender", sort=False):
        name = str(name)
        tuned = float(runs["lr"].iloc[0] / runs["multiplier"].iloc[0])  # every row: the tuned step size x multiplier
        grids = {int(b): g for b, rs in runs.groupby("budget") if (g := budget_grid(rs)) is not None}
        budgets = {b: analyze_budget(g, tuned) for b, g in grids.items()}
        if tuning_budget in grids:
            budgets = {b: replace(d, transfer_cost=None if b == tuning_budget else
                                  transfer_cost(grids[tuning_budget], grids[b])) for b, d in budgets.items()}
        contenders[name] = TransferContender(tuned, str_keys(budgets), drift(grids, (bound_gamma or {}).get(name)))
    longest = max(int(b) for b in table["budget"])
    by_cost = tuning_budget is not None and tuning_budget != longest and any(
        (d := c.budgets.get(str(longest))) is not None and d.transfer_cost is not None for c in contenders.values())
    ranks = [_rank(n, c, longest, tuning_budget) for n, c in contenders.items()]
    measured = sorted((r for r in ranks if not r.censored and not r.diverged and _key(r, by_cost) is not None),
                      key=lambda r: _key(r, by_cost) or 0.0)
    diverged = [r for r in ranks if r.diverged and not r.censored]
    apart = [r for r in ranks if r not in measured and r not in diverged]
    per_seed = {r.name: _per_seed(contenders[r.name], longest, by_cost) for r in measured}
    names = [r.name for r in measured]
    comparisons = pairwise.compare_differences(
        {(a, b): [per_seed[a][s] - per_seed[b][s] for s in sorted(set(per_seed[a]) & set(per_seed[b]))]
         for a, b in itertools.combinations(names, 2)}, alpha, seed)
    ranking = [replace(r, tied_with=pairwise.not_separated(r.name, comparisons, names)) for r in measured] + diverged
    return ready(Transfer(
        contenders=contenders, tuning_budget=tuning_budget, longest_budget=longest,
        step_params=dict(step_params or {}), ranked_by="transfer cost" if by_cost else "regret", ranking=ranking,
        unranked=apart, comparisons=[PairTest(*c) for c in comparisons], alpha=alpha,
        in_sample_seeds=sorted(set(in_sample_seeds) & {int(s) for s in table["seed"]}),
        bound_steps_per_epoch=dict(bound_steps or {}),
        method={"optimum": OPTIMUM, "intervals": INTERVAL, "comparisons": COMPARISONS, "transfer_cost": COST,
                "loss_ci": "exp of the t interval of the mean log final loss over seeds (95%): an interval for the "
                           "geometric mean",
                "bound_slope": "slope of log2(gamma*) of the convex bound (Schaipp et al. 2025) for the tuned "
                               "schedule at each budget against log2(budget), on its SGD steps (one LR per step: "
                               "bound_steps_per_epoch steps per epoch)"}))
