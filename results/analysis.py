"""Budget-sensitivity analysis of one task-model group of learning curves, as an ``Analysis`` record.

Every field is documented on its record in results.records (rendered in docs/output-schema.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from results import ALPHA
from results.records import (
    Analysis,
    BudgetTestResult,
    ContenderAnalysis,
    Decoupling,
    Diverged,
    Estimate,
    MovementResult,
    OrderAgreement,
    Outcome,
    PairTest,
    PaperValue,
    PerSeed,
    RankingRow,
    SchedulePredictors,
    SeedSlope,
    SeedSummary,
    Sensitivity,
    TopPair,
    as_interval,
    ready,
    str_keys,
)
from results.stats import movement as moving
from results.stats import pairwise, sequential
from results.stats import seeds_needed as planning
from results.stats.budget import INTERVAL_METHOD, METHOD, SeedCurves, budget_test, holm, significant
from results.stats.detectable import detectable_movement
from results.stats.metrics import (
    FinalLosses,
    Predictors,
    Slope,
    Summary,
    decoupling_matrix,
    decoupling_matrix_paper,
    finite_mean,
    loss_slope,
    lowest,
    lr_predictors,
    noise_floor,
    noise_ratio,
    order_tau,
    per_seed_decoupling,
    rank_stability,
    relative_change,
    seed_log_slopes,
    spearman,
    summarize,
)
from results.stats.movement import Movement
from schedulers.recipes import family_of


def _runs(group: pd.DataFrame) -> tuple[dict[int, dict[int, list[float]]], list[str]]:
    """Complete curves budget -> seed -> val losses, and the diverged runs' names (a non-finite loss counts)."""
    complete: dict[int, dict[int, list[float]]] = {}
    diverged = []
    for (budget, seed), run in group.sort_values("epoch").groupby(["budget", "seed"]):
        losses = run["val_loss"].astype(float).tolist()
        if (run["status"] == "diverged").any() or not all(math.isfinite(v) for v in losses):
            diverged.append(f"{budget}/{seed}")
        else:
            complete.setdefault(int(budget), {})[int(seed)] = losses
    return complete, diverged


def _seed_mean(by_seed: Mapping[int, Sequence[float]]) -> list[float]:
    return np.mean(np.asarray(list(by_seed.values()), dtype=np.float64), axis=0).tolist()


def _seed_summary(summary: Summary) -> SeedSummary:
    return SeedSummary(mean=summary.mean, std=summary.std, ci=as_interval(summary.ci), n=summary.n)


def _estimate(fitted: Slope) -> Estimate:
    return Estimate(value=fitted.slope, ci=as_interval(fitted.ci))


def _contender(name: str, curves: SeedCurves, diverged: list[str], moved: Movement | None, seed: int,
               all_budgets: Sequence[int]) -> ContenderAnalysis:
    seed_mean_only = moved is None
    means = {b: _seed_mean(by_seed) for b, by_seed in curves.items()}
    paper = decoupling_matrix_paper(means)
    finals = {b: [c[-1] for c in by_seed.values()] for b, by_seed in curves.items()}
    final = {b: _seed_summary(summarize(v)) for b, v in finals.items()}
    budgets = sorted(curves)
    first, last = final[budgets[0]].mean, final[budgets[-1]].mean
    per_seed = None if seed_mean_only else per_seed_decoupling(curves)
    floor = None if seed_mean_only else noise_floor(curves)
    paper_mean = finite_mean([v.value for v in paper.values()])
    if per_seed is not None:
        sensitivity = Sensitivity("per_seed", per_seed.summary.mean, as_interval(per_seed.summary.ci))
    else:
        sensitivity = Sensitivity("seed_mean", paper_mean, None)
    test = None if seed_mean_only else budget_test(curves, seed=seed)
    slopes = None if seed_mean_only else seed_log_slopes(final_losses(curves), all_budgets)
    return ContenderAnalysis(
        family=family_of(name),
        seeds={str(b): sorted(by_seed) for b, by_seed in sorted(curves.items())},
        diverged=Diverged(len(diverged), diverged),
        decoupling=Decoupling(decoupling_matrix(means), {k: PaperValue(*v) for k, v in paper.items()}, paper_mean),
        per_seed=None if per_seed is None else PerSeed(
            pairs=per_seed.pairs, per_seed=str_keys(per_seed.per_seed),
            mean=per_seed.summary.mean, std=per_seed.summary.std, ci=as_interval(per_seed.summary.ci),
            n=per_seed.summary.n, undefined=per_seed.undefined),
        noise_floor=floor,
        noise_ratio=noise_ratio(per_seed.summary.mean if per_seed else None, floor),
        final={str(b): final[b] for b in budgets},
        change_pct=relative_change(first, last) if len(budgets) >= 2 and first and last is not None else None,
        slope=_estimate(loss_slope(finals)),
        log_slope=_estimate(loss_slope(finals, log=True)),
        seed_slope=None if slopes is None else SeedSlope(str_keys(slopes.per_seed), slopes.mean,
                                                         as_interval(slopes.ci), slopes.n),
        sensitivity=sensitivity,
        budget_test=None if test is None else BudgetTestResult(
            statistic=test.ratio, interval=as_interval(test.ratio_interval), p_value=test.p_value, p_adjusted=None,
            sensitive=None, min_p=test.min_p, exact=test.exact, window=test.window, seeds=test.seeds, note=test.note,
            detectable=None),
        movement=None if moved is None else MovementResult(
            value=moved.value, ci=as_interval(moved.ci), per_seed=str_keys(moved.per_seed), seeds=moved.seeds,
            by_construction=moved.by_construction, note=moved.note),
        prefix_shared=prefix_shared(curves),
    )


def prefix_shared(curves: SeedCurves) -> bool | None:
    """Every seed's run at a longer budget equal, bit for bit, to its run at each shorter budget over that one's
    epochs; None below two budgets."""
    compared = [(curves[long][s][:short], curves[short][s]) for short, long in itertools.combinations(sorted(curves), 2)
                for s in set(curves[short]) & set(curves[long])]
    if len(curves) < 2 or not compared:  # nothing compared is not "the same runs"
        return None
    return all(list(a) == list(b) for a, b in compared)


def final_losses(curves: SeedCurves) -> FinalLosses:
    """budget -> seed -> the last validation loss of its complete run."""
    return {b: {s: c[-1] for s, c in by_seed.items()} for b, by_seed in curves.items()}


def _outcome(contenders: Mapping[str, ContenderAnalysis], runs: Mapping[str, tuple[SeedCurves, list[str]]],
             tuning: int, seed_mean_only: bool, alpha: float, seed: int) -> Outcome:
    """Who ends lowest per budget, the per-seed slopes compared pair by pair (sign-flip over seeds, Holm over the
    pairs), and the tuning budget's order at the longest budget with its bootstrap interval."""
    means = {n: {int(b): f.mean for b, f in c.final.items() if f.mean is not None} for n, c in contenders.items()}
    slopes = {n: {int(s): v for s, v in c.seed_slope.per_seed.items()} for n, c in contenders.items()
              if c.seed_slope is not None and c.seed_slope.per_seed}
    differences = {(a, b): [slopes[a][s] - slopes[b][s] for s in sorted(set(slopes[a]) & set(slopes[b]))]
                   for a, b in itertools.combinations(slopes, 2)}
    budgets = sorted({b for m in means.values() for b in m})
    order = None
    if len(budgets) >= 2 and len(contenders) >= 2:
        # the budget farthest from the tuning budget: the longest, or the shortest where the tuning budget is longest
        other = max(budgets, key=lambda b: (abs(math.log(b) - math.log(tuning)), b))
        found = order_tau({n: final_losses(complete) for n, (complete, _) in runs.items()}, tuning, other, seed)
        order = OrderAgreement(tuning, other, found.tau, None if seed_mean_only else as_interval(found.ci),
                               found.seeds)
    return Outcome(lowest=str_keys(lowest(means)),
                   slope_comparisons=None if seed_mean_only else [
                       PairTest(*c) for c in pairwise.compare_differences(differences, alpha, seed)],
                   order=order)


def _decide(contenders: dict[str, ContenderAnalysis], alpha: float) -> None:
    """Holm-adjust the contenders' budget-test p-values together and decide each at ``alpha``."""
    tests = {n: c.budget_test for n, c in contenders.items() if c.budget_test is not None}
    for name, adjusted in holm({n: t.p_value for n, t in tests.items()}).items():
        decided = replace(tests[name], p_adjusted=adjusted, sensitive=significant(adjusted, alpha))
        contenders[name] = replace(contenders[name], budget_test=decided)


def _detectable(contenders: dict[str, ContenderAnalysis], runs: Mapping[str, tuple[SeedCurves, list[str]]],
                alpha: float, seed: int) -> None:
    """Each tested contender's smallest detectable movement at Holm's strictest level, alpha / contenders tested."""
    tests = {n: c.budget_test for n, c in contenders.items() if c.budget_test and c.budget_test.p_value is not None}
    for name, test in tests.items():
        found = detectable_movement(runs[name][0], alpha / len(tests), test.min_p, seed)
        contenders[name] = replace(contenders[name], budget_test=replace(test, detectable=found))


def _stored_schedules(group: pd.DataFrame) -> dict[int, list[float]] | None:
    """Per budget the stored per-epoch LR of the lowest seed whose runs are complete at every budget (a
    diverged run's curve stops early); None without an lr column, with gaps, or without such a seed."""
    if "lr" not in group.columns:
        return None
    budgets = set(group["budget"])
    whole = group.groupby("seed").filter(lambda runs: set(runs["budget"]) == budgets
                                         and (runs["status"] == "complete").all())
    if whole.empty:
        return None
    first = whole[whole["seed"] == whole["seed"].min()].sort_values("epoch")
    if first["lr"].isna().any():
        return None
    return {int(b): g["lr"].astype(float).tolist() for b, g in first.groupby("budget")}


def _ranking(contenders: Mapping[str, ContenderAnalysis],
             comparisons: Sequence[pairwise.Comparison] | None) -> list[RankingRow]:
    """Least sensitive first: by ``movement`` with the pairwise tests' groups (0 by construction first, never
    "tied": not tested), or for seed means (no test) by ``sensitivity`` with ``tied_with`` null (unknown)."""
    rated: list[tuple[str, float, list[float] | None]]
    if comparisons is None:
        rated = [(n, c.sensitivity.value, None) for n, c in contenders.items() if c.sensitivity.value is not None]
    else:
        rated = [(n, c.movement.value, c.movement.ci) for n, c in contenders.items()
                 if c.movement is not None and c.movement.value is not None]
    rated.sort(key=lambda item: item[1])
    tested = [n for n, c in contenders.items() if c.movement is not None and not c.movement.by_construction]
    return [RankingRow(n, value, ci, "seed_mean" if comparisons is None else "movement",
                       None if comparisons is None else
                       [] if n not in tested else pairwise.not_separated(n, comparisons, [m for m, _, _ in rated
                                                                                          if m in tested]))
            for n, value, ci in rated]


def _top_pair(ranking: Sequence[RankingRow], movements: Mapping[str, Movement],
              comparisons: Sequence[pairwise.Comparison], alpha: float, seed: int) -> TopPair | None:
    """How many seeds would separate the two least-moving contenders estimated (results.stats.seeds_needed), at
    Holm's strictest level over the pairs tested."""
    pairs = sum(c.p_value is not None for c in comparisons)
    measured = [r.name for r in ranking if movements[r.name].pseudo]
    if len(measured) < 2 or not pairs:
        return None
    first, second = measured[:2]
    differences = moving.log_ratio_pseudo(movements[first], movements[second])
    plan = planning.seeds_needed(differences, alpha / pairs, seed)
    return TopPair([first, second], len(differences), plan.evidence, plan.seeds, plan.planning_effect, alpha / pairs)


def _schedule_predictors(found: Predictors) -> SchedulePredictors:
    return SchedulePredictors(
        lr_decoupling=found.lr_decoupling,
        cumulative_ratio=str_keys(found.cumulative_ratio),
        gamma_star=str_keys(found.gamma_star),
        omega_star=str_keys(found.omega_star))


def analyze_curves(curves: pd.DataFrame, *, tuning_budget: int | None = None,
                   lr_schedules: dict[str, dict[int, list[float]]] | None = None,
                   families: dict[str, str] | None = None, seed: int = 0, alpha: float = ALPHA,
                   detectable: bool = False, decided: Sequence[pairwise.Comparison] | None = None) -> Analysis:
    """Every metric of the ``Analysis`` record (results.records) for one group of tidy curves (see
    results.sources.curve_files).

    ``lr_schedules`` (contender -> budget -> LR per step) feed the predictors; without them the stored
    ``lr`` column is used when present. ``families`` overrides the registry's family per contender.
    ``seed`` seeds every bootstrap and permutation, so the result is reproducible; ``alpha`` is the
    family-wise level of the budget tests. ``detectable``: also simulate each budget test's smallest detectable
    effect (results.stats.detectable; seconds per contender, so reports ask for it and quick analyses need not).
    ``decided``: the pairwise comparisons a --compare-seeds auto run decided in rounds (results.seeds_report), in
    place of the fixed-sample tests.
    """
    if "status" not in curves.columns:
        curves = curves.assign(status="complete")
    seed_mean_only = "val_loss_min" in curves.columns
    runs = {str(name): _runs(group) for name, group in curves.groupby("scheduler", sort=False)}
    budgets = sorted({int(b) for b in curves["budget"]})
    movements = {} if seed_mean_only else {n: moving.movement(complete, budgets) for n, (complete, _) in runs.items()}
    contenders = {name: _contender(name, complete, diverged, movements.get(name), seed, budgets)
                  for name, (complete, diverged) in runs.items()}
    _decide(contenders, alpha)
    if detectable:
        _detectable(contenders, runs, alpha, seed)
    comparisons = None if seed_mean_only else list(decided) if decided is not None else pairwise.compare_all(
        movements, alpha, seed)
    ranking = _ranking(contenders, comparisons)
    for name, family in (families or {}).items():
        if name in contenders:
            contenders[name] = replace(contenders[name], family=family)
    tuning = tuning_budget if tuning_budget is not None else budgets[0]
    finals = {n: {int(b): f.mean for b, f in c.final.items() if f.mean is not None}
              for n, c in contenders.items()}
    source: str | None
    if lr_schedules is not None:
        schedules, source = lr_schedules, "given"
    else:
        stored = {str(n): _stored_schedules(g) for n, g in curves.groupby("scheduler", sort=False)
                  if contenders[str(n)].family != "LR-free"}  # their lr column is a step size, not a schedule
        schedules = {n: s for n, s in stored.items() if s}
        source = "lr column" if schedules else None
    predictors = {n: _schedule_predictors(lr_predictors(s)) for n, s in schedules.items() if len(s) >= 2}
    rho = spearman({n: p.lr_decoupling["mean"] for n, p in predictors.items()},
                   {n: c.sensitivity.value for n, c in contenders.items()})
    return ready(Analysis(
        seed_mean_only=seed_mean_only,
        budgets=budgets,
        tuning_budget=tuning,
        contenders=contenders,
        rank_stability=str_keys(rank_stability(finals, tuning)),
        outcome=_outcome(contenders, runs, tuning, seed_mean_only, alpha, seed),
        predictors=predictors or None,
        predictor_source=source if predictors else None,
        predicted_vs_measured=rho,
        ranking=ranking,
        alpha=alpha,
        comparisons=None if comparisons is None else [PairTest(*c) for c in comparisons],
        top_pair=None if comparisons is None else _top_pair(ranking, movements, comparisons, alpha, seed),
        method=None if seed_mean_only else {
            "budget_test": METHOD, "budget_test_interval": INTERVAL_METHOD,
            "detectable": "smallest movement (rerun units) the budget test flags with a simulated 80% power at alpha / "
                          "contenders tested: the runs with budget labels shuffled within seeds, an effect injected, "
                          "bisection on its size (40 datasets per step; optimistic: from one run's seeds, found about "
                          "half the time on generated studies)",
            "movement": moving.METHOD, "movement_ci": moving.INTERVAL_METHOD,
            "comparisons": pairwise.METHOD if decided is None else sequential.METHOD,
            "seeds_needed": planning.METHOD,
            "final_and_per_seed_ci": "t interval of the arithmetic mean over seeds (95%)",
            "slope_ci": "t interval of the least-squares slope over every budget x seed point (95%)",
            "seed_slope": "per seed, the least-squares slope of its log final loss against log2(budget); t interval of "
                          "their mean over seeds (95%)",
            "slope_comparisons": "two-sided sign-flip permutation test over seeds of the paired difference in "
                                 "per-seed slope; Holm-adjusted over all pairs of contenders",
            "order_ci": "percentile bootstrap over seeds (the same seeds for every contender, 2,000 resamples) of "
                        "Kendall's tau-b between the seed-mean final losses at the tuning and the longest budget, "
                        "nominal 95%"},
    ))
