"""report.md: the analysis for a reader who never saw the paper, verdict first, plots linked relatively."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from results.records import Analysis, AnalysisFile, ContenderAnalysis, Estimate, PairTest, RunReport, TopPair
from results.report.markdown_format import fmt, fmt_ci, table, with_interval
from results.report.seeds_markdown import seeds_section
from results.report.transfer_markdown import transfer_section, transfer_verdict
from results.stats import seeds_needed as planning
from results.stats import sequential
from results.stats.budget import seeds_for
from runstate.files import atomic_write_text

TITLE = "EpochBench: how sensitive are LR schedulers to the training budget?"
READINGS = {
    "decoupling": "How far apart the validation curves of two budgets lie, epoch by epoch, after 9-point "
                  "smoothing (which leaves the first and last 4 epochs raw: curves of 8 epochs or fewer are not "
                  "smoothed at all): 0 means identical curves, 0.5 means one is three times the other; lower is less "
                  "budget-sensitive.",
    "non-positive": "A '*' marks pairs where smoothing pushed a loss to zero or below; the formula then stops "
                    "being a distance (values can be negative), so read those numbers as the paper's pipeline "
                    "output, not as a measurement.",
    "per-seed": "The same decoupling computed within each seed (seed s at one budget vs seed s at another), "
                "with a 95% t interval of its mean over seeds. Overlapping intervals describe; they do not test.",
    "budget test": "Ratio to reruns: how far apart the curves of different seeds lie across budgets, over the "
                   "epochs every budget shares (log loss, 9-point smoothing), divided by how far apart they lie at "
                   "the same budget; 1 means the budget changes no more than a rerun does. Its interval is a "
                   "leave-one-seed-out jackknife (docs/method.md: its coverage). p: permutation test of the budget "
                   "labels within each seed; adjusted p: Holm over the contenders, so 'sensitive' keeps the chance "
                   "of any false alarm at the stated level.",
    "movement": "Movement: how far a contender's curve moves when only the budget changes, in units of how far a "
                "rerun with another seed moves it — per seed, the gap between its own runs at two budgets, over "
                "the first W epochs (W = the smallest budget; log loss, 9-point smoothing over those epochs), "
                "averaged over budget pairs and seeds, divided by the gap between different seeds at one budget "
                "after removing each seed's level. 0 = a seed's runs are identical across budgets there (runs "
                "shared by prefix sharing are 0 by construction and not tested), 1 = as far as a different seed; "
                "a run's own nondeterminism, where there is any, counts as movement. Interval: "
                "leave-one-seed-out jackknife of its logarithm, t quantile, 95%. 'Cannot be told apart from': "
                "contenders whose movement a paired sign-flip test over seeds (jackknife pseudo-values of the log "
                "ratio) does not separate from this one's after Holm's adjustment over every pair — not shown "
                "different, which is not the same as shown equal.",
    "detectable": "Detectable movement: the movement (in rerun units) the budget test would flag with a simulated 80% "
                  "power, from the contender's own runs (budget labels shuffled within seeds, an effect injected); "
                  "optimistic — on generated studies a movement this size was found about half the time — and too "
                  "large when the runs already carry an effect; '-' where these seeds cannot reach the level at all.",
    "final loss": "The validation loss at the end of training for each budget: the mean over seeds with a 95% t "
                  "interval (measured coverage 0.93-0.96 from 3 seeds: docs/method.md); 'change %' compares "
                  "the largest budget with the smallest (positive: the longer training ended worse).",
    "seed slope": "Per-seed fit: each seed's own least-squares slope of its log final loss against log2 of the "
                  "budget, as % per doubling, averaged over seeds with a 95% t interval; a seed's fit removes what "
                  "its runs share (its level), so where seeds differ by level this interval is narrower than the "
                  "pooled one, and it still covers.",
    "log slope": "The same on a log scale, as a relative change: by how many percent the final validation loss "
                 "changes per doubling of the budget, with a 95% interval from the regression of its logarithm; "
                 "readable when the losses span decades.",
    "slope": "How much the final validation loss changes per doubling of the budget (negative: longer "
             "training helps), with a 95% interval from the regression.",
    "rank stability": "Kendall's tau between the contenders' order at the tuning budget and at another budget: "
                      "1 means the same order, 0 an unrelated one.",
    "predictors": "Numbers computed from the learning-rate schedules alone, without training; Spearman's rho "
                  "says whether the schedule's own decoupling orders the contenders like the measured one.",
}


def _percent_per_doubling(log_slope: Estimate) -> str:
    """A slope of the log loss as the relative change per doubling, in percent, with its interval."""
    if log_slope.value is None:
        return "-"

    value, ci = log_slope.value, log_slope.ci
    return with_interval(100 * math.expm1(value), None if ci is None else [100 * math.expm1(v) for v in ci])


def budget_pairs(contenders: Mapping[str, ContenderAnalysis]) -> list[str]:
    """Every budget pair ('a-b') any contender has, shortest first (a contender whose runs at one budget all
    diverged lacks that budget's pairs)."""
    pairs = {p for c in contenders.values() for p in c.decoupling.paper}
    return sorted(pairs, key=lambda p: tuple(int(b) for b in p.split("-")))


def paper_cell(contender: ContenderAnalysis, pair: str, digits: int = 4) -> str:
    """The paper-compatible decoupling of one pair, '*' where a smoothed value was <= 0, '-' where absent."""
    value = contender.decoupling.paper.get(pair)
    return "-" if value is None else fmt(value.value, digits) + ("*" if value.non_positive else "")


def _diverged(contender: ContenderAnalysis) -> str:
    d = contender.diverged
    return "0" if not d.count else f"{d.count} ({', '.join(d.runs)})"


def _per_doubling(value: float) -> str:
    """A slope of the log loss as the rounded relative change per doubling, in percent."""
    return f"{round(100 * math.expm1(value)):+d}%"


def _changes(analysis: Analysis) -> tuple[str, list[str]]:
    """Each contender's final-loss change per doubling (most gained first) in words, and the order used (empty
    where no contender has one: a loss <= 0 has no log scale)."""
    contenders = analysis.contenders
    per_seed = {n: c.seed_slope for n, c in contenders.items() if c.seed_slope and c.seed_slope.mean is not None}
    if per_seed:
        order = sorted(per_seed, key=lambda n: per_seed[n].mean or 0.0)
        seeds = sorted({per_seed[n].n for n in order})
        return (", ".join(f"{n} {_per_doubling(per_seed[n].mean or 0.0)}"
                          + ("" if (ci := per_seed[n].ci) is None else
                             f" [{_per_doubling(ci[0])}, {_per_doubling(ci[1])}]".replace("+", ""))
                          for n in order)
                + " (each seed's own fit of its log final loss against log2 of the budget; mean over "
                  + "/".join(map(str, seeds))
                  + (" seeds with a 95% t interval)" if max(seeds) > 1 else " seed: no interval)")), order
    pooled = {n: c.log_slope.value for n, c in contenders.items() if c.log_slope.value is not None}
    if not pooled:
        return "", []
    order = sorted(pooled, key=lambda n: pooled[n] or 0.0)
    text = ", ".join(f"{n} {_per_doubling(pooled[n] or 0.0)}" for n in order)
    return text + " (seed-mean curves: no interval)", order


def _slope_pairs(tests: Sequence[PairTest], order: Sequence[str], alpha: float) -> str:
    """Which contenders differ in their change per doubling, and the family the adjustment covers."""
    family = (f"paired sign-flip tests over seeds; family: the {len(tests)} pairs of contenders, Holm-adjusted at "
              f"{fmt(alpha)}")
    separated = {frozenset((t.a, t.b)) for t in tests if t.separated}
    if not separated:
        seeds = max(t.seeds for t in tests)
        reachable = len(tests) * 2 / 2**seeds  # Holm's first step at the sign-flip test's smallest p, 2 / 2^S
        floor = (f"; with {seeds} seeds the smallest adjusted p-value is {fmt(min(reachable, 1.0), 2)}, above "
                 f"{fmt(alpha)}: no pair could have been told apart, at least "
                 f"{math.ceil(math.log2(2 * len(tests) / alpha))} seeds are needed" if reachable > alpha else "")
        return f"No two contenders can be told apart on it ({family}{floor})."
    groups = [f"{n} from {', '.join(m for m in order[i + 1:] if frozenset((n, m)) in separated)}"
              for i, n in enumerate(order) if any(frozenset((n, m)) in separated for m in order[i + 1:])]
    return f"Told apart on it: {'; '.join(groups)} ({len(separated)} of {len(tests)} pairs; {family})."


def outcome_lines(analysis: Analysis) -> list[str]:
    """The opening: what a longer budget does to the final validation loss, which is what the user trains for."""
    outcome, contenders = analysis.outcome, analysis.contenders
    if not outcome.lowest:
        return []
    means = {b: {n: c.final[b].mean for n, c in contenders.items() if b in c.final} for b in outcome.lowest}
    at = [f"{b} epochs {n} ({fmt(means[b][n], 3)})" for b, n in outcome.lowest.items()]
    longest = list(outcome.lowest)[-1]
    top = max((n for n, v in means[longest].items() if v is not None), key=lambda n: means[longest][n] or 0.0)
    low, high = means[longest][outcome.lowest[longest]], means[longest][top]
    if top != outcome.lowest[longest] and low is not None and high is not None and low > 0:
        at[-1] += f"; the highest there, {top}, ends {high / low:.1f}x higher"
    lines = ["**What a longer budget does to the final validation loss** (mean over seeds):", "",
             f"- Lowest at {'; at '.join(at)}."]
    if len(analysis.budgets) >= 2:
        changes, order = _changes(analysis)
        if order:
            lines.append(f"- Change per doubling of the budget: {changes}.")
        if outcome.slope_comparisons:
            lines.append(f"- {_slope_pairs(outcome.slope_comparisons, order, analysis.alpha)}")
    diverged = [f"{n} {', '.join(c.diverged.runs)}" for n, c in contenders.items() if c.diverged.count]
    if diverged:  # a contender whose long runs diverged must not vanish from the opening
        lines.append(f"- Diverged (budget/seed; left out of every number above): {'; '.join(diverged)}.")
    order_tau = outcome.order
    if order_tau is not None and order_tau.tau is not None:
        spread = ("" if order_tau.ci is None else f" [{fmt(order_tau.ci[0], 2)}, {fmt(order_tau.ci[1], 2)}] "
                  f"(percentile bootstrap over {order_tau.seeds} seeds, nominal 95%)")
        lines.append(f"- The tuning budget's order ({order_tau.tuning_budget} epochs) at {order_tau.budget} epochs: "
                     f"Kendall tau {fmt(order_tau.tau, 2)}{spread}; 1 keeps the order, -1 reverses it.")
    return [*lines, ""]


def _sizes(analysis: Analysis) -> str | None:
    """How far each contender's curves move when only the budget changes, in rerun units, before any test."""
    moved = [r for r in analysis.ranking if r.metric == "movement"]
    if not moved:
        return None
    zero = [r.name for r in moved if _by_construction(analysis, r.name)]
    sized = [f"{r.name} {with_interval(r.value, r.ci)}" for r in moved if r.name not in zero]
    text = ("**How far the curves move when only the budget changes, in rerun units** (movement: a seed's own gap "
            "across budgets / the gap between seeds at one budget, level removed; 0 = a seed's runs identical, "
            "1 = as far as another seed; [95% jackknife interval]): " + (", ".join(sized) or "none estimated") + ".")
    if zero:
        text += f" 0 by construction (every run repeats the shorter budget's run, bit for bit): {', '.join(zero)}."
    return text + " Schedules that know their horizon (cosine, polynomial decay, WSD) are expected to move."


def _by_construction(analysis: Analysis, name: str) -> bool:
    moved = analysis.contenders[name].movement
    return moved is not None and moved.by_construction


def _test_lines(analysis: Analysis) -> list[str]:
    """Who is budget-sensitive by the budget test, and what the run could not tell."""
    tests = {n: c.budget_test for n, c in analysis.contenders.items()
             if c.budget_test and c.budget_test.p_value is not None}
    if not tests:
        return []
    alpha, budgets = analysis.alpha, len(analysis.budgets)
    seeds = sorted({t.seeds for t in tests.values()})
    found = sorted((n for n, t in tests.items() if t.sensitive), key=lambda n: tests[n].p_adjusted or 0.0)
    how = (f"at family-wise level {fmt(alpha)} (permutation test; family: the {len(tests)} contenders' budget "
           f"tests, Holm-adjusted; {'/'.join(map(str, seeds))} seeds, {budgets} budgets)")
    if not found:
        lines = [f"**No contender is shown to be budget-sensitive {how}.**"]
    else:
        lines = [f"**Budget-sensitive {how}: {', '.join(found)}.**", "Across budgets their curves lie " + "; ".join(
            f"{n} {fmt(tests[n].statistic, 3)}x (adjusted p {fmt(tests[n].p_adjusted, 2)})" for n in found)
            + " as far apart as across reruns."]
    others = [n for n in tests if n not in found]
    if others:
        lines.append(f"Not shown sensitive: {', '.join(others)} — which does not show they are insensitive.")
        detectable = [d for n in others if (d := tests[n].detectable) is not None]
        if detectable:
            lines.append(f"The budget test would flag a movement of about {fmt(min(detectable), 3)} to "
                         f"{fmt(max(detectable), 3)} rerun units with a simulated 80% power (per contender from "
                         "its own runs; optimistic: on generated studies found about half the time); smaller ones "
                         "can go unseen.")
    reachable = min(t.min_p for t in tests.values() if t.min_p is not None) * len(tests)
    if reachable > alpha:
        lines.append(f"With {seeds[0]} seeds the smallest adjusted p-value any contender can reach is "
                     f"{fmt(min(reachable, 1.0), 2)}, above {fmt(alpha)}: no result could have been significant. "
                     f"At least {seeds_for(alpha, len(tests), budgets)} seeds per budget are needed.")
    return lines


def _pairwise_lines(analysis: Analysis, comparisons: list[PairTest]) -> list[str]:
    """Whose curve moves less than whose by the pairwise tests, and how many seeds the two lowest need."""
    ranking = [r for r in analysis.ranking if not _by_construction(analysis, r.name)]
    if len(ranking) < 2:
        return ["Fewer than two contenders have an estimated movement (the others are 0 by construction or lack a "
                "seed that ran every budget): no pair to compare."]
    best = ranking[0]
    if not comparisons:
        return [f"No pair of contenders is compared: the test on movements needs three seeds complete at every "
                f"budget; the lowest movement is {best.name}'s ({fmt(best.value, 3)}) and the highest "
                f"{ranking[-1].name}'s ({fmt(ranking[-1].value, 3)}): point estimates only."]
    separated = [c for c in comparisons if c.separated]
    in_rounds = (analysis.method or {}).get("comparisons") == sequential.METHOD
    how = (f"group-sequential jackknife t tests over seeds on log(movement ratio), seeds added until decided; "
           f"family: the {len(comparisons)} pairs tested, Holm by the graphical approach at {fmt(sequential.ALPHA)} "
           "over every look" if in_rounds else
           f"paired sign-flip tests over seeds on log(movement ratio); family: the {len(comparisons)} pairs of "
           f"contenders measured in this task, Holm-adjusted at {fmt(analysis.alpha)}")
    if not separated:
        lines = [f"Between contenders, no pair can be told apart ({how}); the lowest movement is {best.name}'s "
                 f"({fmt(best.value, 3)}) and the highest {ranking[-1].name}'s ({fmt(ranking[-1].value, 3)}): "
                 "point estimates only."]
        seeds = min(c.seeds for c in comparisons)
        if not in_rounds and 2 / 2**seeds * len(comparisons) > analysis.alpha:
            lines.append(f"With {seeds} seeds the smallest adjusted p-value a pair can reach is "
                         f"{fmt(min(1.0, 2 / 2**seeds * len(comparisons)), 2)}, above {fmt(analysis.alpha)}: no pair "
                         "could have been told apart.")
    else:
        tied = best.tied_with or []
        lines = [f"Lowest movement: {best.name} ({fmt(best.value, 3)}); "
                 + (f"it cannot be told apart from {', '.join(tied)}" if tied else "it is separated from every other "
                    "contender measured") + f" ({how}; {len(separated)} of {len(comparisons)} pairs separated)."]
    if in_rounds and len(separated) < len(comparisons):
        lines.append("Not told apart: " + "; ".join(f"{c.a} and {c.b} ({c.seeds} seeds)" for c in comparisons
                                                    if not c.separated)
                     + " — stopped for futility or at --max-seeds: not shown equal (Seeds until decided).")
    top = analysis.top_pair
    if top and not any(c.separated and {c.a, c.b} == set(top.pair) for c in comparisons):
        lines.append(f"{top.pair[0]} and {top.pair[1]} (the two lowest movements with an interval): "
                     + _seeds_sentence(top))
    return lines


def _seeds_sentence(top: TopPair) -> str:
    """The seeds-needed plan in words: a count only where the data show a difference."""
    if not top.evidence or top.seeds_needed is None:
        return (f"the data show no evidence of a difference (the 95% t interval over {top.seeds} seeds contains 0), "
                "so no number of seeds can be promised to separate them.")
    count = (f"more than {planning.MOST_SEEDS}" if top.seeds_needed > planning.MOST_SEEDS
             else f"about {top.seeds_needed}")
    floor = planning.floor_seeds(top.level)
    why = (f"; {floor} is the fewest with which the test can reach its level at all"
           if top.seeds_needed == floor else "")
    return (f"separating them with 80% power would take {count} seeds (this run: {top.seeds}; the sign-flip "
            f"test's power simulated for a 60% lower bound of their difference{why}; a plan, not a promise: "
            "docs/method.md).")


def _seed_mean_sizes(analysis: Analysis) -> list[str]:
    """Seed-mean data: the prefix-identical contenders as 0 by construction (their decoupling is the filter's end
    points), then the lowest and highest of the rest, as point estimates."""
    shared = [r.name for r in analysis.ranking if analysis.contenders[r.name].prefix_shared]
    rest = [r for r in analysis.ranking if r.name not in shared]
    lines = []
    if shared:
        values = _and([fmt(analysis.contenders[n].sensitivity.value) for n in shared])
        lines.append(f"{_and(shared)} {'is' if len(shared) == 1 else 'are'} 0 by construction: every longer run "
                     "repeats the shorter one bit for bit over its epochs, so the budget changes nothing there "
                     f"(the decoupling, {values}, comes from the 9-point filter's raw end points: not a size).")
    if rest:
        lines.append(f"By decoupling the lowest of the other {len(rest)} is {rest[0].name} ({fmt(rest[0].value)}) "
                     f"and the highest {rest[-1].name} ({fmt(rest[-1].value)}): point estimates, not a test of one "
                     "contender against another.")
    return lines


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _all_flagged(contender: ContenderAnalysis) -> bool:
    pairs = contender.decoupling.paper.values()
    return bool(pairs) and all(p.non_positive for p in pairs)


def verdict(analysis: Analysis) -> list[str]:
    """The outcome first (final loss per budget), then how far the curves move, then the budget test's answer and
    the order of the point estimates, described as such."""
    ranking = analysis.ranking
    opening = outcome_lines(analysis)
    if not ranking:
        return [*opening, "No contender has a defined budget sensitivity (fewer than two budgets, or every run "
                "diverged).", ""]
    sizes = _sizes(analysis)
    opening += [sizes, ""] if sizes else []
    lines = _test_lines(analysis)
    if analysis.comparisons is None:
        lines += _seed_mean_sizes(analysis)
    else:
        lines += _pairwise_lines(analysis, analysis.comparisons)
    rest = [r for r in ranking if not analysis.contenders[r.name].prefix_shared]
    flagged = [r.name for r in rest[:1] + rest[-1:] if _all_flagged(analysis.contenders[r.name])]
    if analysis.seed_mean_only and flagged:
        lines.append(f"Every budget pair of {' and '.join(dict.fromkeys(flagged))} was smoothed to a loss <= 0 "
                     "somewhere, so these are the paper pipeline's numbers, not distances.")
    if analysis.seed_mean_only:
        lines.append("These curves are seed means (no per-seed data), so the seed noise floor is unknown, the budget "
                     "test cannot run and small differences may be noise.")
    diverged = sum(c.diverged.count for c in analysis.contenders.values())
    if diverged:
        lines.append(f"{diverged} diverged run(s) are left out of every metric and named in the tables.")
    return [*opening, " ".join(lines), ""]


def _setup(report: RunReport | AnalysisFile, analysis: Analysis) -> list[str]:
    lines = ["## What was analysed", ""]
    if isinstance(report, RunReport):
        lines += _run_setup(report)
    else:
        if report.sources:
            lines += ["Files: " + ", ".join(f"`{s}`" for s in report.sources) + ".", ""]
        if report.skipped:
            lines += ["Skipped: " + "; ".join(f"`{p}` ({why})" for p, why in report.skipped) + ".", ""]
    if analysis.seed_mean_only:
        lines += ["The curves are seed means with a min-max band (the paper's exports): per-seed numbers and the "
                  "noise floor are not available.", ""]
    return lines


def _run_setup(report: RunReport) -> list[str]:
    """The run's settings, environment, training time and epochs."""
    lines: list[str] = []
    if report.config:
        lines += table(["setting", "value"], [[k, str(v)] for k, v in report.config.items()])
    if report.environment:
        lines += table(["environment", "value"], [[k, str(v)] for k, v in report.environment.items()])
    seconds = report.training_time_s
    transfer = f", transfer {fmt(seconds.transfer)} s" if seconds.transfer is not None else ""
    lines += [f"Training time (summed over runs): {fmt(seconds.total)} s — Phase 1 {fmt(seconds.tune)} s, "
              f"Phase 2 {fmt(seconds.compare)} s{transfer}.", ""]
    if report.epochs:
        counts = report.epochs
        planned, trained = sum(c.planned for c in counts.values()), sum(c.trained for c in counts.values())
        lines += ["Phase 2 epochs trained / planned (prefix sharing trains a shared LR prefix once): "
                  + ", ".join(f"{name} {c.trained}/{c.planned}" for name, c in counts.items())
                  + f"; in all {trained}/{planned}.", ""]
    if report.transfer is not None and report.transfer.epochs is not None:
        count = report.transfer.epochs
        lines += [f"Transfer epochs trained / planned (multiplier 1 is Phase 2's run): {count.trained}/"
                  f"{count.planned}.", ""]
    return lines


def _phases(report: RunReport) -> list[str]:
    lines: list[str] = []
    if report.optimization:
        lines += ["## Phase 1: tuning", ""]
        lines += table(["contender", "best val loss", "complete", "pruned", "failed", "best params"],
                       [[n, o.best_val_loss, o.complete, o.pruned, o.failed,
                         ", ".join(f"{k}={fmt(v)}" for k, v in (o.best_params or {}).items()) or "-"]
                        for n, o in report.optimization.items()])
    if report.per_budget_results:
        budgets = sorted({b for d in report.per_budget_results.values() for b in d}, key=int)
        lines += ["## Phase 2: re-training at every budget (final val loss, mean ± std; diverged runs)", ""]
        lines += table(["contender", *budgets],
                       [[n, *(f"{fmt(d[b].val_loss.mean)} ± {fmt(d[b].val_loss.std)} "
                              f"({d[b].diverged} div.)" if b in d else "-" for b in budgets)]
                        for n, d in report.per_budget_results.items()])
    return lines


def _yes_no(flag: bool | None) -> str:
    return "-" if flag is None else "yes" if flag else "no"


def _metrics(analysis: Analysis) -> list[str]:
    contenders = analysis.contenders
    lines = ["## Sensitivity ranking (least sensitive first)", "",
             "Ordered by " + ("movement (in rerun units, with its jackknife interval); the budget test's columns say "
                              "whether "
                              "the budgets move the curves more than reruns do." if not analysis.seed_mean_only else
                              "the decoupling of the seed-mean curves (paper-compatible mean; no interval)."), ""]
    per_seed = not analysis.seed_mean_only  # seed means have no interval, no test: their columns would be empty
    rows = []
    for i, r in enumerate(analysis.ranking):
        c = contenders[r.name]
        t = c.budget_test
        tested = ["-"] * 6 if t is None else [t.statistic, fmt_ci(t.interval), t.p_value, t.p_adjusted,
                                              _yes_no(t.sensitive), t.detectable]
        rows.append([str(i + 1), r.name, c.family, r.value,
                     *([fmt_ci(r.ci), ", ".join(r.tied_with or []) or "-", *tested, c.sensitivity.value]
                       if per_seed else []),
                     c.change_pct, _diverged(c)])
    lines += table(["rank", "contender", "family", "movement" if per_seed else "decoupling",
                    *(["95% interval", "cannot be told apart from", "ratio to reruns", "its interval", "p",
                       "adjusted p", "sensitive", "detectable movement", "per-seed decoupling"] if per_seed else []),
                    "change % (+: worse)", "diverged"], rows)
    if per_seed:
        lines += [READINGS["movement"], "", READINGS["budget test"], "", READINGS["detectable"], ""]
    lines += [READINGS["decoupling"], ""]
    if per_seed:
        lines += [READINGS["per-seed"], ""]
    pairs = budget_pairs(contenders)
    lines += ["## Decoupling per budget pair (seed-mean curves, paper-compatible)", ""]
    lines += table(["contender", *pairs, "mean", "diverged"],
                   [[n, *(paper_cell(c, p) for p in pairs), c.decoupling.paper_mean, _diverged(c)]
                    for n, c in contenders.items()])
    lines += [READINGS["non-positive"], ""]
    budgets = [str(b) for b in analysis.budgets]
    lines += ["## Final validation loss per budget (mean [95% t interval])", ""]
    lines += table(["contender", *budgets, "change % (+: worse)", "slope per doubling [95% t interval]",
                    "% per doubling [95% t interval]", *(["% per doubling, per-seed fit"] if per_seed else []),
                    "diverged"],
                   [[n, *(with_interval(c.final[b].mean, c.final[b].ci) if b in c.final else "-"
                          for b in budgets), c.change_pct, with_interval(c.slope.value, c.slope.ci),
                     _percent_per_doubling(c.log_slope),
                     *([_percent_per_doubling(Estimate(c.seed_slope.mean, c.seed_slope.ci)) if c.seed_slope else "-"]
                       if per_seed else []),
                     _diverged(c)] for n, c in contenders.items()])
    lines += [READINGS["final loss"], "", READINGS["slope"], "", READINGS["log slope"], ""]
    if per_seed:
        lines += [READINGS["seed slope"], ""]
    lines += [f"## Rank stability (vs the tuning budget, {analysis.tuning_budget} epochs)", ""]
    lines += table(["budget", "Kendall tau"], [[b, t] for b, t in analysis.rank_stability.items()])
    lines += [READINGS["rank stability"], ""]
    if analysis.predictors:
        predictors = analysis.predictors
        lines += [f"## Training-free predictors (from {analysis.predictor_source})", "",
                  f"Spearman rho (LR-curve decoupling vs measured): {fmt(analysis.predicted_vs_measured)}.", ""]
        lines += table(["contender", "LR-curve decoupling", *(f"sum lr {b} / sum lr max" for b in budgets),
                        *(f"Omega* {b}" for b in budgets)],
                       [[n, p.lr_decoupling["mean"], *(p.cumulative_ratio.get(b) for b in budgets),
                         *(p.omega_star.get(b) for b in budgets)] for n, p in predictors.items()])
        lines += [READINGS["predictors"], ""]
    return lines


def figure_lines(figures: Sequence[Path], out: Path) -> list[str]:
    lines = ["## Plots", ""]
    for path in figures:
        link = Path(os.path.relpath(path, out.parent)).as_posix()
        lines += [f"![{path.stem.replace('_', ' ')}]({link})", ""]
    return lines


def write_markdown(report: RunReport | AnalysisFile, figures: Sequence[Path], out: Path) -> Path:
    """Write ``out`` (report.md) for a run report or an ``analyze`` result: verdict, what was analysed, phase
    tables, metrics with readings, plots."""
    analysis = report.analysis
    if analysis is None:
        raise ValueError("report.md needs an analysis: the run has no Phase 2 runs")
    run = report if isinstance(report, RunReport) else None
    title = report.title if isinstance(report, AnalysisFile) else TITLE
    transfer = run.transfer if run else None
    lines = [f"# {title}", "", *verdict(analysis), *transfer_verdict(transfer), *_setup(report, analysis),
             *(_phases(run) if run else []), *seeds_section(run.seeds_until_decided if run else None),
             *_metrics(analysis), *transfer_section(transfer),
             *figure_lines(figures, out)]
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    return out
