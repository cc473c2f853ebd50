"""The typed records that cross a layer: the analysis, the run report, the transfer section and the cross-task
summary. Every field is documented once, here (docs/output-schema.md is rendered from these records by
results.report.schema_doc), and ``to_json`` is the one way a record becomes report.json / analysis.json /
summary.json: keys in field order, a field marked ``inline`` merged into its parent, one marked ``omit_none``
left out while None.

Records hold JSON-ready values (``ready`` makes them so): budgets, seeds and multipliers that key a map are
strings, intervals are two-element lists, undefined numbers are None, so what a writer reads in memory is what
a reader of the JSON file sees.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")
K = TypeVar("K")
V = TypeVar("V")


def doc(text: str, *, omit_none: bool = False, inline: bool = False) -> Any:
    """A field with its one-line meaning (``omit_none``: absent from the JSON while None; ``inline``: its keys
    are merged into the parent's)."""
    metadata = {"doc": text, "omit_none": omit_none, "inline": inline}
    return field(default=None, metadata=metadata) if omit_none else field(metadata=metadata)


def json_ready(value: Any) -> Any:
    """JSON has no NaN, tuples or int keys: non-finite numbers become None, keys strings, numpy scalars floats."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def ready(record: R) -> R:
    """``record`` with every value JSON-ready (``json_ready``), nested records included."""
    def convert(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: convert(getattr(value, f.name))
                                                 for f in dataclasses.fields(value)})
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return json_ready(value)

    converted: R = convert(record)
    return converted


def as_interval(bounds: Sequence[float] | None) -> list[float] | None:
    """An interval as a record holds it: a two-element list (None stays None)."""
    return None if bounds is None else list(bounds)


def str_keys(mapping: Mapping[K, V]) -> dict[str, V]:
    """``mapping`` keyed as the JSON keys it: budgets and seeds as strings."""
    return {str(k): v for k, v in mapping.items()}


def to_json(value: Any) -> Any:
    """A record (or a map or list of them) as the JSON object the output files hold."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get("omit_none") and item is None:
                continue
            if f.metadata.get("inline"):
                out.update(to_json(item))
            else:
                out[f.name] = to_json(item)
        return out
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return json_ready(value)


def json_text(record: Any) -> str:
    """The file text of a record: ``to_json`` indented by 2, no NaN, a final newline."""
    return json.dumps(to_json(record), indent=2, allow_nan=False) + "\n"


def _load(kind: Any, value: Any) -> Any:
    """``value`` (from JSON) as the annotated ``kind``: records built, maps and lists walked, the rest as is."""
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        arms = [a for a in args if a is not type(None)]
        return _load(arms[0], value) if len(arms) == 1 else value
    if origin is dict:
        return {k: _load(args[1], v) for k, v in value.items()}
    if origin is list:
        return [_load(args[0], v) for v in value]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_json(kind, value)
    return value


def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
    """The record ``cls`` read back from its JSON object (``to_json``'s inverse); an ``inline`` field takes the
    keys no other field names."""
    assert dataclasses.is_dataclass(cls)
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    named = {f.name for f in fields if not f.metadata.get("inline")}
    values = {}
    for f in fields:
        raw = {k: v for k, v in data.items() if k not in named} if f.metadata.get("inline") else data.get(f.name)
        values[f.name] = _load(hints[f.name], raw)
    built: R = cls(**values)
    return built


# -- The analysis of one group of curves (results.analysis) ----------------------------------------------------

@dataclass(frozen=True)
class Diverged:
    """Diverged runs (a non-finite loss counts), left out of every metric."""

    count: int = doc("how many")
    runs: list[str] = doc('each as "budget/seed"')


@dataclass(frozen=True)
class PaperValue:
    """The paper pipeline's decoupling of one budget pair."""

    value: float | None = doc("the number the paper's pipeline prints")
    non_positive: bool = doc("a smoothed value was <= 0: the paper's number, but not a distance")


@dataclass(frozen=True)
class Decoupling:
    """Decoupling of the seed-mean validation curves (9-point Savitzky-Golay smoothing, then the mean of
    |x - y| / (x + y) over the shorter curve)."""

    strict: dict[str, float | None] = doc("per budget pair 'a-b', null where a smoothed value is <= 0; and 'mean'")
    paper: dict[str, PaperValue] = doc("per budget pair, the paper pipeline's value with its flag")
    paper_mean: float | None = doc("mean of the finite paper values")


@dataclass(frozen=True)
class PerSeed:
    """Seed s at budget i against seed s at budget j."""

    pairs: dict[str, float | None] = doc("per budget pair, the mean over seeds")
    per_seed: dict[str, float] = doc("per seed, the mean over budget pairs")
    mean: float | None = doc("mean over seeds")
    std: float | None = doc("standard deviation over seeds")
    ci: list[float] | None = doc("t interval of the mean (95%)")
    n: int = doc("seeds")
    undefined: int = doc("(seed, pair) comparisons left out because a smoothed value was <= 0")


@dataclass(frozen=True)
class SeedSummary:
    """A number over seeds."""

    mean: float | None = doc("mean over seeds")
    std: float | None = doc("sample standard deviation (null for one seed)")
    ci: list[float] | None = doc("t interval of the mean (95%; measured coverage: docs/method.md)")
    n: int = doc("seeds")


@dataclass(frozen=True)
class Estimate:
    """A fitted number with its interval."""

    value: float | None = doc("the estimate")
    ci: list[float] | None = doc("its t-based 95% interval")


@dataclass(frozen=True)
class SeedSlope:
    """The final loss's change per doubling of the budget, fitted seed by seed (results.stats.metrics.
    seed_log_slopes): each seed's own fit cancels what its runs share (its level)."""

    per_seed: dict[str, float] = doc("per seed with a final loss at every budget, the least-squares slope of its "
                                     "natural-log final validation loss against log2(budget)")
    mean: float | None = doc("mean over seeds; exp(mean) - 1 is the relative change per doubling (null where a "
                             "loss is <= 0 or no seed ran every budget)")
    ci: list[float] | None = doc("t interval of the mean over seeds (95%)")
    n: int = doc("seeds")


@dataclass(frozen=True)
class Sensitivity:
    """A contender's decoupling-based sensitivity (the performance profile's metric)."""

    metric: str = doc('"per_seed": the per-seed cross-budget decoupling mean; "seed_mean": for seed means only, '
                      "the paper-compatible mean")
    value: float | None = doc("the number")
    ci: list[float] | None = doc("its t interval (95%; null for seed means)")


@dataclass(frozen=True)
class BudgetTestResult:
    """Does the budget move the curve more than reruns do (results.stats.budget)."""

    statistic: float | None = doc("ratio of cross-budget to same-budget distances between different seeds "
                                  "(1 = no effect)")
    interval: list[float] | None = doc("its leave-one-seed-out jackknife interval (log scale, t quantile, 95%; null "
                                       "below three seeds)")
    p_value: float | None = doc("one-sided permutation p-value")
    p_adjusted: float | None = doc("Holm-adjusted over the contenders tested")
    sensitive: bool | None = doc("p_adjusted <= alpha")
    min_p: float | None = doc("the smallest p-value these seeds and budgets can give")
    exact: bool = doc("every permutation enumerated (else Monte Carlo)")
    window: int = doc("epochs compared (the smallest budget)")
    seeds: int = doc("seeds with runs at two or more budgets")
    note: str | None = doc("why a number is null")
    detectable: float | None = doc("the smallest movement (rerun units) the budget test flags with a simulated 80% "
                                   "power at Holm's strictest level, from its own runs (results.stats.detectable; "
                                   "optimistic: found about half the time on generated studies); null where not asked "
                                   "for or unreachable with these seeds")


@dataclass(frozen=True)
class MovementResult:
    """How far the curve moves when only the budget changes, in rerun units (results.stats.movement): the headline
    size; only seeds complete at every budget count."""

    value: float | None = doc("mean same-seed gap across budgets / mean level-removed gap between seeds at one "
                              "budget (log loss, 9-point smoothed, first W epochs): 0 = a seed's runs identical, "
                              "1 = as far as a different seed; null where the data give none (see note)")
    ci: list[float] | None = doc("leave-one-seed-out jackknife interval of log(value), t quantile, 95%, "
                                 "exponentiated (null below three seeds and for 0 by construction)")
    per_seed: dict[str, float] = doc("per seed, its own gap across budgets in rerun units")
    seeds: int = doc("seeds complete at every budget")
    by_construction: bool = doc("every seed's runs identical over the window (prefix sharing): exactly 0, not "
                                "estimated and not tested")
    note: str | None = doc("why value or ci is null")


@dataclass(frozen=True)
class ContenderAnalysis:
    """One scheduler or LR-free optimizer."""

    family: str = doc("the paper's scheduler family (traditional, cyclic, hyperbolic, warmup, theory-inspired, "
                      "LR-free)")
    seeds: dict[str, list[int]] = doc("per budget, the seeds of complete runs used in the metrics")
    diverged: Diverged = doc("diverged runs, left out of every metric")
    decoupling: Decoupling = doc("decoupling of the seed-mean curves")
    per_seed: PerSeed | None = doc("per-seed cross-budget decoupling (null for seed means)")
    noise_floor: float | None = doc("decoupling between different seeds at the same budget, averaged over pairs and "
                                    "budgets")
    noise_ratio: float | None = doc("per-seed cross-budget mean / noise floor; kept for comparison with earlier "
                                    "reports, not for a verdict (the floor covers whole curves, the cross-budget "
                                    "pairs the shorter one's epochs); budget_test compares like with like")
    final: dict[str, SeedSummary] = doc("per budget, the final validation loss over seeds")
    change_pct: float | None = doc("(L(E_last) - L(E_first)) / L(E_first) of the mean final loss in percent: "
                                   "positive when the longest budget ends worse")
    slope: Estimate = doc("final validation loss change per doubling of the budget")
    log_slope: Estimate = doc("the same for the natural log of the final loss (exp(value) - 1 = relative change "
                              "per doubling)")
    seed_slope: SeedSlope | None = doc("log_slope fitted per seed and averaged: what report.md's opening gives per "
                                       "doubling (null for seed means)")
    sensitivity: Sensitivity = doc("the decoupling-based sensitivity (the ranking number for seed means)")
    budget_test: BudgetTestResult | None = doc("the budget test (null for seed means)")
    movement: MovementResult | None = doc("the movement in rerun units (null for seed means)")
    prefix_shared: bool | None = doc("every run at a longer budget repeats the same seed's run at each shorter budget "
                                     "over its epochs, bit for bit (prefix sharing): the budget changes nothing there, "
                                     "a distance of exactly 0 whatever a filter's end points give; null below two "
                                     "budgets")


@dataclass(frozen=True)
class RankingRow:
    """One place of the ranking, least budget-sensitive first."""

    name: str = doc("the contender")
    value: float | None = doc("its movement, or for seed means its sensitivity value")
    ci: list[float] | None = doc("the movement's jackknife interval (null for seed means)")
    metric: str = doc('"movement" or "seed_mean"')
    tied_with: list[str] | None = doc("the contenders the pairwise tests cannot tell apart from this one at alpha "
                                      "(null for seed means: no test can run)")


@dataclass(frozen=True)
class PairTest:
    """A against B by a paired sign-flip test over seeds (results.stats.pairwise); with --compare-seeds auto, as the
    rounds decided it (results.stats.sequential: seeds_until_decided)."""

    a: str = doc("first contender")
    b: str = doc("second contender")
    difference: float = doc("mean over seeds of a's number minus b's (negative: a less sensitive / lower)")
    p_value: float | None = doc("two-sided sign-flip p-value (with --compare-seeds auto: the jackknife t test's at the "
                                "look where the pair ended)")
    p_adjusted: float | None = doc("Holm-adjusted over the pairs (null with --compare-seeds auto: its level is in "
                                   "seeds_until_decided)")
    separated: bool | None = doc("p_adjusted <= alpha (with --compare-seeds auto: told apart by the rounds)")
    seeds: int = doc("seeds compared")


@dataclass(frozen=True)
class TopPair:
    """How many seeds would separate the two least-moving contenders measured (results.stats.seeds_needed)."""

    pair: list[str] = doc("the two lowest movements estimated (contenders 0 by construction are not in it)")
    seeds: int = doc("seeds compared")
    evidence: bool = doc("the 95% t interval of their mean per-seed difference excludes 0; false: the data show no "
                         "evidence of a difference and no count is named")
    seeds_needed: int | None = doc("fewest seeds with simulated power >= 80% for the exact sign-flip test at "
                                   "``level`` (planning on a lower 60% bound of the difference; 201 = more than "
                                   "200); null without evidence")
    planning_effect: float | None = doc("the difference of log movements planned for")
    level: float = doc("alpha / number of pairs tested (Holm's strictest step)")


@dataclass(frozen=True)
class SchedulePredictors:
    """Training-free numbers from one contender's LR schedules (results.stats.metrics.lr_predictors)."""

    lr_decoupling: dict[str, float | None] = doc("the decoupling formula on the LR curves per budget pair (null "
                                                 "where the smoothed LR goes <= 0), and 'mean'")
    cumulative_ratio: dict[str, float | None] = doc("per budget, sum(lr) at E / sum(lr) at the largest budget")
    gamma_star: dict[str, float | None] = doc("per budget, the convex bound's best base LR as a multiple of the "
                                              "schedule's peak LR")
    omega_star: dict[str, float | None] = doc("per budget, the convex bound at gamma_star (G = D = 1)")


@dataclass(frozen=True)
class OrderAgreement:
    """Does the tuning budget's order of the contenders by final loss hold at the longest budget?"""

    tuning_budget: int = doc("the budget tuned at")
    budget: int = doc("the longest budget")
    tau: float | None = doc("Kendall's tau-b of the contenders' mean final losses at the two budgets, over the "
                            "seeds every contender ran at both (1: the same order, -1: reversed)")
    ci: list[float] | None = doc("percentile bootstrap interval over those seeds, nominal 95% (measured coverage: "
                                 "docs/method.md); null below three seeds")
    seeds: int = doc("seeds used")


@dataclass(frozen=True)
class Outcome:
    """What happens to what the user trains for, the final validation loss (report.md's opening)."""

    lowest: dict[str, str] = doc("per budget, the contender with the lowest mean final validation loss")
    slope_comparisons: list[PairTest] | None = doc("every pair of contenders by seed_slope, paired by seed: "
                                                   "difference = a's mean per-seed slope minus b's (negative: a "
                                                   "gains more from a longer budget); null for seed means")
    order: OrderAgreement | None = doc("the tuning budget's order at the longest budget (null for one budget or one "
                                       "contender)")


@dataclass(frozen=True)
class Analysis:
    """Budget-sensitivity analysis of one task-model group of learning curves (results.analysis)."""

    seed_mean_only: bool = doc("the curves are already seed means (paper exports): per-seed numbers are null")
    budgets: list[int] = doc("every budget, ascending")
    tuning_budget: int = doc("the budget whose ranking the others are compared with (default: the smallest)")
    contenders: dict[str, ContenderAnalysis] = doc("per scheduler / LR-free optimizer, its metrics")
    rank_stability: dict[str, float | None] = doc("per budget, Kendall's tau of the contenders' final-loss ranking "
                                                  "against the tuning budget's")
    outcome: Outcome = doc("the final-loss outcome per budget: who ends lowest, the change per doubling compared "
                           "between contenders, whether the tuning budget's order holds")
    predictors: dict[str, SchedulePredictors] | None = doc("per contender, training-free numbers from its LR "
                                                           "schedules (null without schedules)")
    predictor_source: str | None = doc('"given" (the caller\'s schedules), "lr column" (the stored per-epoch LR) '
                                       "or null")
    predicted_vs_measured: float | None = doc("Spearman's rho between LR-curve decoupling and measured sensitivity")
    ranking: list[RankingRow] = doc("contenders from least to most budget-sensitive")
    alpha: float = doc("the family-wise level of the budget and pairwise tests (Holm-adjusted: the budget tests "
                       "over the contenders, the comparisons over the pairs of contenders, the slope comparisons "
                       "over the pairs of contenders)")
    comparisons: list[PairTest] | None = doc("every pair of contenders with an estimated movement, by "
                                             "log(movement a / movement b) (null for seed means)")
    top_pair: TopPair | None = doc("seeds needed to separate the two lowest movements estimated (null for seed means)")
    method: dict[str, str] | None = doc("in words, how each test and interval is computed (null for seed means)")


@dataclass(frozen=True)
class AnalysisFile:
    """analysis.json as the ``analyze`` command writes it: where the curves came from, then the analysis."""

    title: str = doc("report.md's title")
    sources: list[str] = doc("the curve files read")
    skipped: list[list[str]] = doc("[file, why] of the files left out")
    analysis: Analysis = doc("the analysis' keys, merged in", inline=True)


# -- The transfer section (results.stats.transfer) -------------------------------------------------------------

@dataclass(frozen=True)
class MultiplierLoss:
    """Final validation loss at one multiplier of the tuned step size, over the seeds."""

    geometric_mean: float | None = doc("geometric mean (null where a seed diverged)")
    ci: list[float] | None = doc("exp of the t interval of the mean log loss (95%)")
    mean: float | None = doc("arithmetic mean")
    n: int = doc("seeds")


@dataclass(frozen=True)
class TransferOptimum:
    """Where the loss against log2(multiplier) is lowest."""

    multiplier: float = doc("the optimal multiplier of the tuned step size")
    lr: float = doc("the optimal step size")
    loss: float = doc("the fitted loss there")
    fit: str = doc('"parabola", "grid point" (a diverged neighbour) or "at edge"')
    at_edge: str | None = doc('"low" / "high": the lowest mean at the grid\'s end (never extrapolated)')
    multiplier_ci: list[float] | None = doc("jackknife 95% interval of the multiplier")
    lr_ci: list[float] | None = doc("the same as step sizes")
    dip: float | None = doc("where the parabola's minimum lay deeper below the lowest mean log loss than that lies "
                            "below its nearer neighbour: how deep (log); ``loss`` is then the lowest mean itself "
                            "(the guard: no loss below what was measured)")


@dataclass(frozen=True)
class TransferRegret:
    """How much worse multiplier 1 is than the optimum."""

    absolute: float | None = doc("geometric-mean loss at multiplier 1 minus the loss at the optimum (null: diverged)")
    percent: float | None = doc("100 (exp(log regret) - 1) (null: diverged)")
    lower_bound: bool = doc("the optimum is at the grid's edge: the regret is at least this")
    ci: list[float] | None = doc("jackknife 95% interval of ``absolute``")
    percent_ci: list[float] | None = doc("jackknife 95% interval of ``percent``")
    log: float | None = doc("log regret: mean log loss at multiplier 1 minus the optimum's (null: diverged)")
    per_seed_log: dict[str, float] = doc("per seed, its log regret")
    diverged: bool = doc("multiplier 1 diverged here in some seed: the regret is infinite")


@dataclass(frozen=True)
class TransferCost:
    """At a budget other than the tuning budget: the regret there of the step size optimal at the tuning budget."""

    multiplier: float = doc("the tuning budget's optimal multiplier, where the loss is read")
    percent: float | None = doc("100 (exp(log) - 1) (null: diverged, or both optima at the same edge)")
    percent_ci: list[float] | None = doc("jackknife 95% interval (each seed left out of both budgets)")
    log: float | None = doc("mean over seeds of the per-seed log cost (null: diverged, or both optima at the same "
                            "edge)")
    per_seed_log: dict[str, float] = doc("per seed, its log loss here at that multiplier minus its own at this "
                                         "budget's optimum")
    seeds: list[int] = doc("the seeds both budgets ran (paired)")
    censored: str | None = doc('"lower bound": this budget\'s optimum lies beyond the grid; "tuning optimum at the '
                               'edge": the tuning budget\'s does (read at the edge): either way the cost is at least '
                               'this where the loss is unimodal in log step size; "both optima at the same edge": '
                               'read there it is 0 by construction, so no number (null); null: a point estimate')
    diverged: bool = doc("a grid point the value needs diverged here: the cost is infinite")


SAME_EDGE = "both optima at the same edge"  # TransferCost.censored: no number


def cost_is_bound(censored: str | None) -> bool:
    """Whether a transfer cost censored so (TransferCost.censored) is a lower bound: each censored one with a value."""
    return censored is not None and censored != SAME_EDGE


@dataclass(frozen=True)
class TransferBudget:
    """One contender's transfer runs at one budget, over the seeds that ran every multiplier."""

    seeds: list[int] = doc("the seeds used")
    loss: dict[str, MultiplierLoss] = doc("per multiplier, the final validation loss")
    diverged: dict[str, list[int]] = doc("per multiplier, the seeds whose run diverged (left out of every fit)")
    optimum: TransferOptimum | None = doc("the fitted optimum (null when no multiplier is usable)")
    regret: TransferRegret | None = doc("the tuned step size's regret (null without an optimum); at the tuning "
                                       "budget the tuning error")
    transfer_cost: TransferCost | None = doc("the regret of the tuning budget's optimum (null at the tuning budget, "
                                             "or where undefined)")


@dataclass(frozen=True)
class Drift:
    """Slope of log2(optimal step size) against log2(budget)."""

    slope: float | None = doc("the least-squares slope over the budgets with an optimum, one at the grid's edge "
                              "entered at the edge (null where such edges pull both ways)")
    ci: list[float] | None = doc("its jackknife 95% interval over seeds (null for a bound or below three seeds)")
    budgets: list[int] = doc("the budgets used")
    seeds: int = doc("seeds")
    bound_slope: float | None = doc("the convex bound's slope for the same tuned schedule, on its SGD steps")
    bound: str | None = doc('"at least" / "at most": the slope is a bound (optima beyond the grid entered at its '
                            'edge); "unknown": they pull both ways; null: every optimum inside the grid')
    censored: list[int] = doc("the budgets whose optimum lies at the grid's edge")


@dataclass(frozen=True)
class TransferContender:
    """One contender's transfer analysis."""

    tuned_lr: float = doc("the tuned step size (multiplier 1)")
    budgets: dict[str, TransferBudget] = doc("per budget, its runs' analysis")
    drift: Drift | None = doc("the optimal step size's drift (null below two budgets with an interior optimum)")


@dataclass(frozen=True)
class TransferRank:
    """One contender at the longest budget: its transfer cost, the practitioner's regret and the tuning error."""

    name: str = doc("the contender")
    transfer_cost_percent: float | None = doc("the regret at the longest budget of the step size optimal at the "
                                              "tuning budget, percent")
    transfer_cost_ci: list[float] | None = doc("its jackknife 95% interval")
    regret_percent: float | None = doc("the practitioner's regret: the tuned step size's, percent")
    ci: list[float] | None = doc("its jackknife 95% interval")
    lower_bound: bool = doc("the regret is a lower bound (optimum at the grid's edge)")
    tuning_error_percent: float | None = doc("the tuned step size's regret at the tuning budget, percent")
    tuning_error_lower_bound: bool = doc("the tuning error is a lower bound (the tuning budget's optimum at the "
                                         "grid's edge)")
    regret_diverged: bool = doc("the tuned step size diverged at the longest budget (infinite regret)")
    diverged: bool = doc("the ranked value is infinite (diverged): ranked last")
    censored: str | None = doc("the ranked value is a bound or read at an edge (TransferCost.censored): not ranked")
    tied_with: list[str] = doc("the contenders the paired tests cannot tell apart from this one")


@dataclass(frozen=True)
class EpochCount:
    """Epochs planned (the runs' budgets) against trained (fewer where prefix sharing resumed a run)."""

    planned: int = doc("the runs' budgets summed")
    trained: int = doc("epochs actually trained")


@dataclass(frozen=True)
class Transfer:
    """Tune short, train long: what reusing the tuned step size at another budget costs."""

    contenders: dict[str, TransferContender] = doc("per contender, its transfer analysis")
    tuning_budget: int | None = doc("the budget the step size was tuned at")
    longest_budget: int = doc("the budget the ranking compares at")
    step_params: dict[str, str] = doc("per contender, the parameter its step size is")
    ranked_by: str = doc('"transfer cost" (where the tuning budget was trained, below the longest) or "regret"')
    ranking: list[TransferRank] = doc("point estimates by ``ranked_by`` at the longest budget, lowest first; "
                                      "diverged ones last")
    unranked: list[TransferRank] = doc("bounds and undefined values, listed apart")
    comparisons: list[PairTest] = doc("every pair ranked by its per-seed log value at the longest budget "
                                      "(difference: a - b)")
    alpha: float = doc("the level of the paired tests (Holm-adjusted)")
    in_sample_seeds: list[int] = doc("the seeds also used in Phase 1 (kept; the tuned value was chosen on their "
                                     "noise at the tuning budget, so the tuning error is optimistic there)")
    bound_steps_per_epoch: dict[str, int] = doc("per contender, the SGD steps per epoch its convex bound is "
                                                "evaluated on (T = budget x this)")
    method: dict[str, str] = doc("in words, how the optimum, the intervals and the tests are computed")
    epochs: EpochCount | None = doc("transfer epochs (multipliers other than 1); only in a run report",
                                    omit_none=True)


# -- The run report (results.run_report) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Tuning:
    """Phase 1 of one contender."""

    best_val_loss: float | None = doc("the best trial's validation loss")
    best_params: dict[str, Any] | None = doc("the best trial's parameters")
    complete: int = doc("trials completed")
    pruned: int = doc("trials pruned")
    failed: int = doc("trials failed")
    failure_reasons: list[str] = doc("the failed trials' reasons")


@dataclass(frozen=True)
class LossStats:
    """A number of Phase 2's complete runs at one budget."""

    mean: float | None = doc("mean over seeds")
    std: float | None = doc("sample standard deviation (null for one seed)")
    per_seed: list[float] = doc("per seed, in the order of ``seeds``")


@dataclass(frozen=True)
class BudgetRuns:
    """Phase 2's runs of one contender at one budget."""

    seeds: list[int] = doc("seeds of the complete runs")
    diverged: int = doc("runs that diverged")
    val_loss: LossStats = doc("final validation loss")
    test_loss: LossStats = doc("test loss")
    test_accuracy: LossStats | None = doc("test accuracy (classification tasks only)", omit_none=True)


@dataclass(frozen=True)
class Fault:
    """A unit that was retried or given up on."""

    phase: str = doc('"tune" or "compare"')
    unit: int | str | None = doc('the trial index (tune) or "budget/seed" (compare)')
    retry_of: list[Any] = doc("each earlier attempt's cause")
    status: str = doc("the unit's status")
    reason: str | None = doc("why it failed")


@dataclass(frozen=True)
class TrainingTime:
    """Seconds spent training, summed over runs."""

    tune: float = doc("Phase 1")
    compare: float = doc("Phase 2")
    total: float = doc("Phase 1, Phase 2 and transfer")
    checkpoints: float = doc("saving checkpoints")
    transfer: float | None = doc("the transfer runs (only with them)", omit_none=True)


@dataclass(frozen=True)
class SequentialPair:
    """How one pair's comparison ended under --compare-seeds auto (results.stats.sequential)."""

    a: str = doc("first contender")
    b: str = doc("second contender")
    outcome: str = doc('"rejected" (told apart), "futile" (stopped early: a difference the most seeds could show had '
                       'become unlikely; not shown equal), "max" (still open at --max-seeds), "open" (a round is still '
                       'to come), "untested" (a contender moves 0 by construction) or "no estimate" (no test at two '
                       'looks in a row: a movement without an estimate)')
    seeds: int = doc("seeds per contender at the look its numbers come from (a rejection freed by another pair's can "
                     "read an earlier look's p-value)")
    decided_at: int = doc("seeds per contender at the look where it ended (or the latest)")
    difference: float | None = doc("there, the mean per-seed jackknife pseudo-value of log(movement a / movement b)")
    p_value: float | None = doc("there, the two-sided jackknife t-test p-value")
    level: float | None = doc("the nominal p-level it was held to there: its Holm share of alpha, spent up to that "
                              "look")


@dataclass(frozen=True)
class SequentialContender:
    """One contender's seeds under --compare-seeds auto."""

    seeds: int = doc("seeds the rounds gave it (the looks use its first ``seeds`` seeds)")
    stopped: str | None = doc('why it stopped: "decided" (every pair told apart), "futile" (a pair stopped for '
                              'futility or without an estimate, the others told apart), "max" (a pair still open at '
                              '--max-seeds), "untested" (no pair to test: it moves 0 by construction, has no '
                              'estimate, or is alone); null while it trains on')
    seed_runs: int = doc("its finished Phase 2 runs in the storage (more than seeds x budgets where an earlier command "
                         "trained more seeds)")
    saved_seed_runs: int = doc("runs the fixed design at --max-seeds trains beyond these (negative: more are stored)")


@dataclass(frozen=True)
class SeedsUntilDecided:
    """--compare-seeds auto: Phase 2 in rounds, each contender until its pairwise comparisons are decided."""

    max_seeds: int = doc("--max-seeds: the fixed design it is measured against")
    seed_step: int = doc("--seed-step: seeds per round after the first")
    looks: list[int] = doc("the planned looks: seeds per contender after each round")
    looks_taken: list[int] = doc("the looks taken so far")
    alpha: float = doc("family-wise error rate over every pair and look")
    method: str = doc("the procedure and its sources")
    contenders: dict[str, SequentialContender] = doc("per contender with Phase 2 runs")
    pairs: list[SequentialPair] = doc("every pair of those contenders")
    seed_runs: int = doc("finished Phase 2 runs in the storage, summed over contenders")
    fixed_seed_runs: int = doc("runs the fixed design at --max-seeds trains")
    epochs: int = doc("planned epochs of those runs (their budgets, summed; prefix sharing trains fewer)")
    fixed_epochs: int = doc("the same for the fixed design")


@dataclass(frozen=True)
class RunReport:
    """report.json: everything a run's storage holds, analysed (results.run_report.build_report)."""

    schema_version: int = doc("the report's schema (results.run_report.SCHEMA_VERSION)")
    config: dict[str, Any] = doc("the resolved settings")
    environment: dict[str, Any] = doc("python/torch/optuna versions, platform, device, git commit, git_dirty, "
                                      "momentum behaviour; run_devices (finished units per device)")
    optimization: dict[str, Tuning] = doc("per contender, Phase 1")
    mean_final_val_loss: dict[str, dict[str, float]] = doc("per contender and budget, the mean final validation "
                                                           "loss of Phase 2's complete runs (the paper suite's shape)")
    per_budget_results: dict[str, dict[str, BudgetRuns]] = doc("per contender and budget, Phase 2's runs")
    final_loss_change_pct: dict[str, float] = doc("per contender, |L(E_last) - L(E_first)| / L(E_first) of the mean "
                                                  "final validation loss in percent (the paper's number)")
    decoupling: dict[str, dict[str, float | None]] = doc("per contender, the strict decoupling of the seed-mean "
                                                         "curves per budget pair and its 'mean'")
    faults: dict[str, list[Fault]] = doc("per contender with any, its retried or failed units")
    epochs: dict[str, EpochCount] = doc("per contender, Phase 2 epochs")
    training_time_s: TrainingTime = doc("seconds spent training")
    analysis: Analysis | None = doc("the budget-sensitivity analysis (null without Phase 2 runs)")
    transfer: Transfer | None = doc("the transfer analysis (null without transfer runs)")
    seeds_until_decided: SeedsUntilDecided | None = doc("--compare-seeds auto: the rounds, decisions and seeds saved "
                                                        "(absent with a fixed --compare-seeds)", omit_none=True)


# -- The cross-task summary (results.summary) --------------------------------------------------------------------

MEASURED, PREFIX_SHARED, NOT_A_MEASUREMENT, NOT_RUN, UNDEFINED = (
    "measured", "prefix-shared", "not a measurement", "not run", "undefined")  # TaskRanks.status


@dataclass(frozen=True)
class TaskRanks:
    """One contender across tasks: its sizes, and its ranks where it is tested."""

    horizon_free: bool = doc("its LR at each step ignores the run's length (the registry says so, or for a name "
                             "outside it, its runs are prefix-shared): the budget changes nothing in its schedule, so "
                             "it is reported apart and never ranked")
    values: dict[str, float | None] = doc("per task, its size: the task's ranking value; exactly 0 where "
                                          "prefix-shared; null where not run, undefined or not a measurement")
    status: dict[str, str] = doc('per task, what the value is: "measured"; "prefix-shared" (every longer run '
                                 'repeats the shorter one bit for bit: 0 by construction, not ranked); "not a '
                                 'measurement" (the paper pipeline\'s seed-mean decoupling with a budget pair '
                                 'smoothed to a loss <= 0: no distance, not ranked); "not run"; "undefined"')
    ranks: dict[str, float | None] = doc("per task, its rank within ``block`` (1 = moves least; null outside it)")
    mean_rank: float | None = doc("mean over the block's tasks (null outside the block)")


@dataclass(frozen=True)
class Block:
    """What the ranks, the tests and the profile use: horizon-aware contenders measured on the same tasks."""

    contenders: list[str] = doc("the contenders, each measured on every task of the block")
    tasks: list[str] = doc("the tasks (results.stats.across_tasks.complete_block: the most measurements, "
                           "3 contenders or more preferred)")


@dataclass(frozen=True)
class Friedman:
    """Friedman's test across tasks with Nemenyi's post-hoc p-values (results.stats.across_tasks)."""

    method: str = doc("in words")
    statistic: float = doc("Friedman's chi-squared")
    p_value: float = doc("its p-value")
    tasks: list[str] = doc("the tasks (blocks)")
    contenders: list[str] = doc("the contenders ranked")
    nemenyi_p: dict[str, dict[str, float]] = doc("per pair of contenders, Nemenyi's p-value")


@dataclass(frozen=True)
class Profile:
    """The performance profile: per contender of the block, the fraction of its tasks on which its size is within
    tau times the block's smallest there."""

    taus: list[float] = doc("the factors tau")
    fractions: dict[str, list[float]] = doc("per contender (its own key), the fraction at each tau", inline=True)


@dataclass(frozen=True)
class Summary:
    """summary.json: several analyses merged (results.summary.merge_reports)."""

    metrics: dict[str, str] = doc('per task, what its sizes are: its ranking metric ("movement", or "seed_mean" for '
                                  "the paper pipeline's seed-mean decoupling)")
    tasks: list[str] = doc("the tasks merged")
    contenders: dict[str, TaskRanks] = doc("per contender: the block's by mean rank, then the other horizon-aware "
                                           "ones, then the horizon-free ones")
    block: Block | None = doc("the horizon-aware contenders and tasks ranked and tested (null when no 2 of them are "
                              "measured on the same 2 tasks)")
    family: str | None = doc("the tests' family in words (null without a block)")
    friedman: Friedman | None = doc("null below 3 contenders or 2 tasks in the block, or when every task ties")
    alpha: float = doc("the Nemenyi level")
    profile: Profile | None = doc("the performance profile over the block (null without one)")
    profile_skipped: list[str] = doc("the block's tasks without a positive smallest value")


ROOTS = (RunReport, AnalysisFile, Summary)  # what is written as a file: report.json, analysis.json, summary.json
