"""The cross-task summary written out: summary.json, its figures and its report.md (sizes first, then the tests)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from results.figures.across_tasks import plot_critical_difference, plot_performance_profile
from results.records import (
    MEASURED,
    NOT_A_MEASUREMENT,
    NOT_RUN,
    PREFIX_SHARED,
    UNDEFINED,
    Analysis,
    Summary,
    TaskRanks,
    json_text,
)
from results.report.markdown import figure_lines
from results.report.markdown_format import fmt, table
from results.summary import merge_reports
from runstate.files import atomic_write_text

METRIC_WORDS = {"movement": "the movement in rerun units (a seed's own gap across budgets / the gap between seeds)",
                "seed_mean": "the paper pipeline's seed-mean decoupling"}
WHY_LEFT_OUT = {  # a status that is not ranked -> why, in report.md's words
    PREFIX_SHARED: "prefix-shared, 0 by construction (every longer run repeats the shorter one bit for bit)",
    NOT_A_MEASUREMENT: "not a measurement (the paper pipeline's seed-mean decoupling with a budget pair smoothed to "
                       "a loss <= 0, where the formula is no distance)",
    UNDEFINED: "undefined (the task's analysis gives no ranking value)",
    NOT_RUN: "not run",
}


def write_summary(analyses: Mapping[str, Analysis], links: Mapping[str, Path], out: Path) -> Path:
    """summary.json, the performance-profile and critical-difference plots and the cross-task report.md in
    ``out``."""
    merged = merge_reports(analyses)
    atomic_write_text(out / "summary.json", json_text(merged))
    figures = [plot_performance_profile(merged, out / "plots" / "performance_profile.png")] if merged.profile else []
    if merged.friedman:
        figures.append(plot_critical_difference(merged, merged.friedman, out / "plots" / "critical_difference.png"))
    return write_multi_markdown(merged, figures, out / "report.md", links=dict(links))


def names_text(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cell(contender: TaskRanks, task: str) -> str:
    """A size as the table shows it: the value, or what it is instead."""
    status = contender.status[task]
    if status == MEASURED:
        return fmt(contender.values[task], 3)
    return "0 by construction" if status == PREFIX_SHARED else status


def _horizon_free_lines(merged: Summary) -> list[str]:
    """The horizon-free contenders, apart: those 0 by construction wherever they ran in one line, any other with
    its sizes (what a rerun moves: its schedule ignores the budget)."""
    free = {n: c for n, c in merged.contenders.items() if c.horizon_free}
    zero = [n for n, c in free.items()
            if PREFIX_SHARED in c.status.values() and set(c.status.values()) <= {PREFIX_SHARED, NOT_RUN}]
    lines = []
    if zero:
        everywhere = all(NOT_RUN not in free[n].status.values() for n in zero)
        lines.append(f"- **Horizon-free: {names_text(zero)} {'is' if len(zero) == 1 else 'are'} 0 by construction "
                     f"on every task{'' if everywhere else ' {} ran'.format('it' if len(zero) == 1 else 'they')}** "
                     "(the LR at each step ignores the run's length and every longer run repeats the shorter one bit "
                     "for bit: the budget changes nothing). Reported apart and never ranked: a first place would only "
                     "restate how their schedule is built.")
    others = [n for n in free if n not in zero]
    if others:
        lines.append("- Horizon-free, reported apart and never ranked (the LR at each step ignores the run's length, "
                     "so a size above 0 is what a rerun moves, not the budget): " + "; ".join(
                         f"{n} " + ", ".join(f"{cell(free[n], t)} on {t}" for t in merged.tasks) for n in others)
                     + ".")
    return lines


def _left_out_lines(merged: Summary) -> list[str]:
    """Per reason, the horizon-aware contenders and the tasks whose values are not ranked."""
    lines = []
    for status, why in WHY_LEFT_OUT.items():
        where = {n: [t for t, s in c.status.items() if s == status] for n, c in merged.contenders.items()
                 if not c.horizon_free}
        if any(where.values()):
            lines.append(f"- Left out of the ranks, tests and profile, {why}: "
                         + "; ".join(f"{n} on {', '.join(tasks)}" for n, tasks in where.items() if tasks) + ".")
    return lines


def _friedman_line(merged: Summary) -> str:
    """The Friedman test's answer and the Nemenyi pairs it separates, or why there is no test."""
    friedman, alpha = merged.friedman, merged.alpha
    if friedman is None:
        return "No Friedman test: it needs at least 3 contenders ranked on at least 2 tasks, not all tied."
    names = friedman.contenders
    separated = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if friedman.nemenyi_p[a][b] <= alpha]
    line = (f"Friedman test over {len(friedman.tasks)} tasks and {len(names)} contenders: chi-squared "
            f"{fmt(friedman.statistic, 3)}, p = {fmt(friedman.p_value, 2)}. ")
    if friedman.p_value > alpha:
        return line + (f"Above {fmt(alpha)}: the mean ranks cannot be told apart, so no post-hoc comparison is made "
                       "(Demšar 2006).")
    if separated:
        return line + (f"Nemenyi's post-hoc test separates {len(separated)} pair(s) at {fmt(alpha)}: "
                       + ", ".join(f"{a}/{b}" for a, b in separated) + ".")
    return line + (f"Nemenyi's post-hoc test separates no pair at {fmt(alpha)}: with {len(friedman.tasks)} tasks "
                   "the mean ranks cannot be told apart.")


def _test_lines(merged: Summary) -> list[str]:
    """What was ranked and tested (the block, its family), the test's answer, the ranks, the profile."""
    block = merged.block
    lines = ["## Tests on what was measured", ""]
    if block is None:
        return lines + ["No ranks and no tests: no 2 horizon-aware contenders are measured on the same 2 tasks.", ""]
    lines += [f"Ranked and tested: {names_text(block.contenders)} on {names_text(block.tasks)}, the most "
              "measurements that horizon-aware contenders share (every one measured on every task, as Friedman's "
              f"test needs). Family: {merged.family}.", "", _friedman_line(merged), ""]
    outside = {n: [t for t, s in c.status.items() if s == MEASURED] for n, c in merged.contenders.items()
               if not c.horizon_free and n not in block.contenders}
    if any(outside.values()):
        lines += ["Horizon-aware, measured but outside the block (too few of its tasks measured): " + "; ".join(
            f"{n} (measured on {', '.join(tasks)})" for n, tasks in outside.items() if tasks) + ".", ""]
    lines += table(["contender", "mean rank", *block.tasks],
                   [[n, merged.contenders[n].mean_rank, *(merged.contenders[n].ranks[t] for t in block.tasks)]
                    for n in merged.contenders if n in block.contenders])
    lines += ["Each cell: the rank on that task among the block's contenders (1 = moves least; ties share the mean "
              "rank). The performance profile shows, for each factor tau, on what fraction of the block's tasks a "
              "contender's size is within tau times the smallest there.", ""]
    if merged.profile_skipped:
        lines += [f"Left out of the profile (smallest value <= 0): {', '.join(merged.profile_skipped)}.", ""]
    return lines


def write_multi_markdown(merged: Summary, figures: Sequence[Path], out: Path,
                         links: dict[str, Path] | None = None) -> Path:
    """The cross-task summary (results.summary): the sizes first (horizon-free apart, what is left out and why),
    then the tests on the measured horizon-aware block, the plots.

    ``links`` maps a task to its own report.md, linked relatively.
    """
    tasks = merged.tasks
    metrics = list(dict.fromkeys(merged.metrics.values()))
    words = METRIC_WORDS.get(metrics[0], metrics[0])
    if len(metrics) > 1:
        words = "each task's ranking value (" + "; ".join(f"{METRIC_WORDS.get(m, m)} on " + ", ".join(
            t for t in tasks if merged.metrics[t] == m) for m in metrics) + ")"
    aware = [n for n, c in merged.contenders.items() if not c.horizon_free]
    lines = ["# EpochBench across tasks: how far does each contender's curve move when only the budget changes?", "",
             f"Sizes first: on each task, how far the curve moves when only the budget changes, by {words}; "
             "0 = the budget changes nothing, larger = moves more. Sizes are compared within a task, not across.", ""]
    lines += _horizon_free_lines(merged)
    if aware:
        lines.append(f"- Horizon-aware: {names_text(aware)} (the LR at each step depends on the run's length, so "
                     "their curves are expected to move; the question is how far). Their sizes below; only they "
                     "are ranked and tested.")
    lines += [*_left_out_lines(merged), ""]
    lines += table(["contender", "schedule", *tasks],
                   [[n, "horizon-free" if c.horizon_free else "horizon-aware", *(cell(c, t) for t in tasks)]
                    for n, c in merged.contenders.items()])
    lines += _test_lines(merged)
    if links:
        lines += ["Per-task reports: " + ", ".join(
            f"[{t}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for t, p in links.items()) + ".", ""]
    if figures:
        lines += figure_lines(figures, out)
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    return out
