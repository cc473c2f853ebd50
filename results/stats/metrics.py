"""Sensitivity metrics: final-loss change across budgets (per-seed slopes, rank stability with its interval),
learning-curve decoupling, its seed noise floor, t intervals over seeds and training-free predictors from LR
schedules.

Pure functions on plain numbers; nothing here knows about files, runs or torch.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from schedulers.theory import moving_bound

SG9 = (-21, 14, 39, 54, 59, 54, 39, 14, -21)  # 9-point quadratic Savitzky-Golay weights, /231


def final_loss_change(first: float, last: float) -> float:
    """|L(E_last) - L(E_first)| / |L(E_first)| in percent (the paper's number)."""
    return abs(relative_change(first, last))


def relative_change(first: float, last: float) -> float:
    """(L(E_last) - L(E_first)) / |L(E_first)| in percent: positive when the loss rose (worse)."""
    return (last - first) / abs(first) * 100.0


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation; None where undefined (no values; the std of one value)."""
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def savgol9(curve: Sequence[float]) -> list[float]:
    """SG-9 smoothing over the curve's own length; the first and last 4 points unchanged."""
    smoothed = list(curve)
    for k in range(4, len(curve) - 4):
        smoothed[k] = sum(w * curve[k - 4 + j] for j, w in enumerate(SG9)) / 231
    return smoothed


class PaperDecoupling(NamedTuple):
    """The paper pipeline's number, and whether a smoothed value it used was <= 0 (then it is not a distance)."""

    value: float
    non_positive: bool


def _smoothed_pair(x: Sequence[float], y: Sequence[float]) -> tuple[list[float], list[float]]:
    """Both curves smoothed over their own length, cut to the shorter one."""
    a, b = savgol9(x), savgol9(y)
    n = min(len(a), len(b))
    return a[:n], b[:n]


def _mean_relative_gap(a: Sequence[float], b: Sequence[float]) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return float(np.mean(np.abs(x - y) / (x + y)))


def decoupling(x: Sequence[float], y: Sequence[float]) -> float:
    """Mean of |x_k - y_k| / (x_k + y_k) over the shorter smoothed curve (the paper's metric).

    Non-positive smoothed values make the ratio meaningless; they raise instead of being hidden.
    """
    a, b = _smoothed_pair(x, y)
    if any(v <= 0 for v in a + b):
        raise ValueError("smoothed curve has non-positive values; decoupling is undefined")
    return statistics.fmean(abs(a[k] - b[k]) / (a[k] + b[k]) for k in range(len(a)))


def decoupling_paper(x: Sequence[float], y: Sequence[float]) -> PaperDecoupling:
    """The value the paper's pipeline prints: the same formula applied whatever the sign of the smoothed
    values (so it can be negative, or inf/nan where x_k + y_k = 0), flagged when any of them is <= 0.
    """
    a, b = _smoothed_pair(x, y)
    return PaperDecoupling(_mean_relative_gap(a, b), any(v <= 0 for v in a + b))


def decoupling_matrix(curves: Mapping[int, Sequence[float]]) -> dict[str, float | None]:
    """Decoupling for every budget pair 'Ei-Ej' (None where undefined) plus their 'mean'."""
    budgets = sorted(curves)
    result: dict[str, float | None] = {}
    for i, small in enumerate(budgets):
        for large in budgets[i + 1:]:
            try:
                result[f"{small}-{large}"] = decoupling(curves[small], curves[large])
            except ValueError:
                result[f"{small}-{large}"] = None
    defined = [v for v in result.values() if v is not None and math.isfinite(v)]
    result["mean"] = statistics.fmean(defined) if defined else None
    return result


def decoupling_matrix_paper(curves: Mapping[int, Sequence[float]]) -> dict[str, PaperDecoupling]:
    """Paper-compatible decoupling for every budget pair 'Ei-Ej' (no 'mean': see ``finite_mean``)."""
    budgets = sorted(curves)
    return {f"{small}-{large}": decoupling_paper(curves[small], curves[large])
            for small, large in itertools.combinations(budgets, 2)}


def finite_mean(values: Sequence[float | None]) -> float | None:
    """Mean of the finite values; None when there are none."""
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(kept) if kept else None


# -- Uncertainty ---------------------------------------------------------------------------------------------

CONFIDENCE = 0.95


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The t interval of the mean; None below two values (a constant sample gives the point interval).

    A t interval rather than a percentile bootstrap: with 3-5 seeds the bootstrap covers 0.7-0.9, the t interval
    its nominal level (the measured table: docs/method.md, benchmarks/interval_coverage.py)."""
    if len(values) < 2:
        return None
    data = np.asarray(values, dtype=np.float64)
    mean, sem = float(np.mean(data)), float(np.std(data, ddof=1) / np.sqrt(len(data)))  # scipy's sem, t.ppf
    if sem == 0:
        return mean, mean
    half = float(special.stdtrit(len(data) - 1, (1 + confidence) / 2)) * sem
    return mean - half, mean + half


def log_jackknife(whole: float, left_out: np.ndarray, confidence: float = CONFIDENCE,
                  ) -> tuple[np.ndarray, tuple[float, float]]:
    """Leave-one-seed-out jackknife of log(whole) from the estimates with each seed left out (all > 0): the per-seed
    pseudo-values, and the t interval (S - 1 df) around log(whole), exponentiated."""
    n = len(left_out)
    pseudo = n * math.log(whole) - (n - 1) * np.log(left_out)
    half = float(special.stdtrit(n - 1, (1 + confidence) / 2)) * float(np.std(pseudo, ddof=1)) / math.sqrt(n)
    return pseudo, (whole * math.exp(-half), whole * math.exp(half))


class Summary(NamedTuple):
    """Mean, sample std and t interval of per-seed values (None where undefined)."""

    mean: float | None
    std: float | None
    ci: tuple[float, float] | None
    n: int


class OverSeeds(NamedTuple):
    """A number per seed, and its mean over seeds with the t interval."""

    per_seed: dict[int, float]
    mean: float | None
    ci: tuple[float, float] | None
    n: int


def over_seeds(per_seed: dict[int, float]) -> OverSeeds:
    """``per_seed`` with its mean (None for no seed) and t interval."""
    values = list(per_seed.values())
    return OverSeeds(per_seed, float(np.mean(values)) if values else None, t_interval(values), len(values))


def summarize(values: Sequence[float]) -> Summary:
    """Mean, std and t interval of ``values`` (finite ones only)."""
    kept = [v for v in values if math.isfinite(v)]
    mean, std = mean_std(kept)
    return Summary(mean, std, t_interval(kept), len(kept))


# -- Per-seed decoupling and its noise floor -----------------------------------------------------------------

SeedCurves = Mapping[int, Mapping[int, Sequence[float]]]  # budget -> seed -> validation curve


class PerSeedDecoupling(NamedTuple):
    """Seed s at budget i vs seed s at budget j: per pair the mean over seeds, per seed the mean over pairs."""

    pairs: dict[str, float | None]
    per_seed: dict[int, float]
    summary: Summary
    undefined: int  # (seed, pair) comparisons left out because a smoothed value was <= 0


def _strict_or_none(x: Sequence[float], y: Sequence[float]) -> float | None:
    try:
        return decoupling(x, y)
    except ValueError:
        return None


def per_seed_decoupling(curves: SeedCurves) -> PerSeedDecoupling:
    """Cross-budget decoupling within each seed, summarised over seeds (strict values; undefined ones counted)."""
    by_pair: dict[str, list[float]] = {}
    by_seed: dict[int, list[float]] = {}
    undefined = 0
    for small, large in itertools.combinations(sorted(curves), 2):
        values = by_pair.setdefault(f"{small}-{large}", [])
        for s in sorted(set(curves[small]) & set(curves[large])):
            value = _strict_or_none(curves[small][s], curves[large][s])
            if value is None:
                undefined += 1
                continue
            values.append(value)
            by_seed.setdefault(s, []).append(value)
    per_seed = {s: statistics.fmean(v) for s, v in by_seed.items()}
    return PerSeedDecoupling({k: finite_mean(v) for k, v in by_pair.items()}, per_seed,
                             summarize(list(per_seed.values())), undefined)


def noise_floor(curves: SeedCurves) -> float | None:
    """Decoupling between different seeds at the same budget: the mean over seed pairs within each budget,
    then over budgets. What reruns alone produce; None with fewer than two seeds at every budget.
    """
    per_budget = []
    for by_seed in curves.values():
        values = [_strict_or_none(by_seed[s], by_seed[t]) for s, t in itertools.combinations(sorted(by_seed), 2)]
        per_budget.append(finite_mean(values))
    return finite_mean(per_budget)


def noise_ratio(cross_budget: float | None, floor: float | None) -> float | None:
    """Cross-budget decoupling / seed noise floor: about 1 means budgets differ no more than reruns do."""
    if cross_budget is None or floor is None or floor <= 0:
        return None
    return cross_budget / floor


# -- Final loss across budgets -------------------------------------------------------------------------------

class Slope(NamedTuple):
    """Change of final validation loss per doubling of the budget, with its 95% CI."""

    slope: float | None
    ci: tuple[float, float] | None


def loss_slope(finals: Mapping[int, Sequence[float]], log: bool = False) -> Slope:
    """Least-squares slope of final val loss (``log``: of its natural log, for losses spanning decades; none if
    a loss is <= 0) against log2(budget) over every (budget, seed) point.

    CI: scipy.stats.linregress slope +- t(0.975, n-2) * stderr (needs n >= 3 points and two budgets).
    """
    if log and any(v <= 0 for values in finals.values() for v in values):
        return Slope(None, None)
    points = [(math.log2(b), math.log(v) if log else v) for b, values in finals.items() for v in values
              if math.isfinite(v)]
    x, y = [p[0] for p in points], [p[1] for p in points]
    if len(set(x)) < 2:
        return Slope(None, None)
    fit = stats.linregress(x, y)
    if len(x) < 3:
        return Slope(float(fit.slope), None)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 2) * fit.stderr
    return Slope(float(fit.slope), (float(fit.slope - half), float(fit.slope + half)))


FinalLosses = Mapping[int, Mapping[int, float]]  # budget -> seed -> final validation loss


def seed_log_slopes(finals: FinalLosses, budgets: Sequence[int]) -> OverSeeds:
    """Per seed with a final loss at every budget of ``budgets``, the least-squares slope of its log final loss
    against log2(budget); mean and t interval over those seeds. A seed's own fit cancels what its runs share (its
    level), which the pooled ``loss_slope`` keeps as noise. Empty where a loss is <= 0 (no log scale)."""
    if len(budgets) < 2 or any(v <= 0 for by_seed in finals.values() for v in by_seed.values()):
        return over_seeds({})
    x = np.log2(np.asarray(sorted(budgets), dtype=np.float64))
    seeds = sorted(set.intersection(*(set(finals.get(b, {})) for b in budgets)))
    per_seed = {}
    for seed in seeds:
        y = np.log([finals[b][seed] for b in sorted(budgets)])
        if np.all(np.isfinite(y)):
            per_seed[seed] = float(np.polyfit(x, y, 1)[0])
    return over_seeds(per_seed)


# -- Across contenders ---------------------------------------------------------------------------------------

def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def rank_stability(finals: Mapping[str, Mapping[int, float]], tuning_budget: int) -> dict[int, float | None]:
    """Kendall's tau between the contenders' final-loss ranking at ``tuning_budget`` and at each other budget
    (only contenders with a value at both; None with fewer than two, or when a ranking is all ties).
    """
    budgets = sorted({b for per_budget in finals.values() for b in per_budget} - {tuning_budget})
    result: dict[int, float | None] = {}
    for budget in budgets:
        names = [n for n, v in finals.items() if tuning_budget in v and budget in v]
        if len(names) < 2:
            result[budget] = None
            continue
        tau = stats.kendalltau([finals[n][tuning_budget] for n in names], [finals[n][budget] for n in names])
        result[budget] = _finite_or_none(tau.statistic)
    return result


N_BOOTSTRAP = 2000


def _tau_b(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b between the columns of ``a`` and ``b`` (rows: resamples x contenders); nan where a row is
    all ties."""
    i, j = np.triu_indices(a.shape[1], 1)
    sa, sb = np.sign(a[:, i] - a[:, j]), np.sign(b[:, i] - b[:, j])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sa * sb).sum(axis=1) / np.sqrt((sa != 0).sum(axis=1) * (sb != 0).sum(axis=1))


class OrderTau(NamedTuple):
    """Kendall's tau between the contenders' mean final losses at two budgets, over the seeds every contender ran
    at both, with a percentile bootstrap interval over those seeds."""

    tau: float | None
    ci: tuple[float, float] | None
    seeds: int


def order_tau(finals: Mapping[str, FinalLosses], tuning_budget: int, budget: int, seed: int = 0) -> OrderTau:
    """Does the tuning budget's order of the contenders hold at ``budget``? Tau-b of the seed-mean final losses
    (contenders with both budgets); the interval resamples seeds with replacement, the same seeds for every
    contender (a seed's runs are paired across contenders), 2,000 times; none below three seeds or two
    contenders."""
    names = [n for n, f in finals.items() if f.get(tuning_budget) and f.get(budget)]
    if len(names) < 2:
        return OrderTau(None, None, 0)
    seeds = sorted(set.intersection(*(set(finals[n][b]) for n in names for b in (tuning_budget, budget))))
    if not seeds:
        return OrderTau(None, None, 0)
    short = np.asarray([[finals[n][tuning_budget][s] for n in names] for s in seeds])  # seeds x contenders
    long = np.asarray([[finals[n][budget][s] for n in names] for s in seeds])
    tau = float(_tau_b(short.mean(axis=0)[None], long.mean(axis=0)[None])[0])
    if len(seeds) < 3:
        return OrderTau(_finite_or_none(tau), None, len(seeds))
    drawn = np.random.default_rng(seed).multinomial(len(seeds), np.full(len(seeds), 1 / len(seeds)), N_BOOTSTRAP)
    values = _tau_b(drawn @ short, drawn @ long)  # sums, not means: the same order
    values = values[np.isfinite(values)]
    if not values.size:  # every resample ties at one budget (e.g. a first epoch every schedule trains alike)
        return OrderTau(_finite_or_none(tau), None, len(seeds))
    low, high = np.quantile(values, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return OrderTau(_finite_or_none(tau), (float(low), float(high)), len(seeds))


def lowest(means: Mapping[str, Mapping[int, float]]) -> dict[int, str]:
    """Per budget, the contender with the lowest mean final loss (contenders without one there left out)."""
    budgets = sorted({b for per_budget in means.values() for b in per_budget})
    return {b: min((n for n in means if b in means[n]), key=lambda n: means[n][b]) for b in budgets}


def spearman(predicted: Mapping[str, float | None], measured: Mapping[str, float | None]) -> float | None:
    """Spearman's rho over the contenders that have both numbers (None with fewer than three)."""
    names = [n for n in predicted if predicted[n] is not None and measured.get(n) is not None]
    if len(names) < 3:
        return None
    return _finite_or_none(stats.spearmanr([predicted[n] for n in names], [measured[n] for n in names]).statistic)


# -- Training-free predictors from LR schedules --------------------------------------------------------------

class Predictors(NamedTuple):
    """Schedule-only numbers of one contender across budgets."""

    lr_decoupling: dict[str, float | None]  # the decoupling formula on the LR curves, per pair (None where the
    # smoothed LR goes <= 0, as a step schedule's can: the formula is no distance there), plus 'mean'
    cumulative_ratio: dict[int, float | None]  # sum(lr) at E / sum(lr) at the largest budget
    gamma_star: dict[int, float | None]  # convex bound's best base LR, as a multiple of the schedule's peak LR
    omega_star: dict[int, float | None]  # convex bound at gamma_star (G = D = 1); scale-free


def lr_predictors(schedules: Mapping[int, Sequence[float]]) -> Predictors:
    """Predictors from the LR of each step per budget (as the runs used it).

    The bound follows schedulers.trace.schedule_metrics: the schedule relative to its base (here: peak) LR,
    evaluated at its last step. Omega* does not depend on that scale; gamma* scales inversely with it.
    """
    budgets = sorted(schedules)
    pairs = {k: None if v.non_positive else _finite_or_none(v.value)  # not a distance then (step schedules)
             for k, v in decoupling_matrix_paper(schedules).items()}
    total_max = sum(schedules[budgets[-1]])
    bounds = {b: moving_bound(schedules[b]) for b in budgets}
    return Predictors({**pairs, "mean": finite_mean(list(pairs.values()))},
                      {b: sum(schedules[b]) / total_max if total_max > 0 else None for b in budgets},
                      {b: None if bound is None else bound.gamma_star for b, bound in bounds.items()},
                      {b: None if bound is None else bound.omega_star for b, bound in bounds.items()})
