"""The cross-task summary written out: summary.json, its figures and its report.md."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from results.figures.across_tasks import plot_critical_difference, plot_performance_profile
from results.records import Analysis, Summary, json_text
from results.report.markdown import figure_lines
from results.report.markdown_format import fmt, table
from results.summary import merge_reports
from runstate.files import atomic_write_text


def write_summary(analyses: Mapping[str, Analysis], links: Mapping[str, Path], out: Path) -> Path:
    """summary.json, the performance-profile plot and the cross-task report.md in ``out``."""
    merged = merge_reports(analyses)
    atomic_write_text(out / "summary.json", json_text(merged))
    figures = [plot_performance_profile(merged, out / "plots" / "performance_profile.png")]
    if merged.friedman:
        figures.append(plot_critical_difference(merged, merged.friedman, out / "plots" / "critical_difference.png"))
    return write_multi_markdown(merged, figures, out / "report.md", links=dict(links))


def _friedman_lines(merged: Summary) -> list[str]:
    """The Friedman test's answer and the Nemenyi pairs it separates, or why there is no test."""
    friedman, alpha = merged.friedman, merged.alpha
    if friedman is None:
        return ["No Friedman test: it needs at least 3 contenders ranked on at least 2 tasks, not all tied.", ""]
    names = friedman.contenders
    separated = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if friedman.nemenyi_p[a][b] <= alpha]
    line = (f"Friedman test over {len(friedman.tasks)} tasks and {len(names)} contenders: chi-squared "
            f"{fmt(friedman.statistic, 3)}, p = {fmt(friedman.p_value, 2)}. ")
    if friedman.p_value > alpha:
        line += (f"Above {fmt(alpha)}: the mean ranks cannot be told apart, so no post-hoc comparison is made "
                 "(Demšar 2006).")
    elif separated:
        line += (f"Nemenyi's post-hoc test separates {len(separated)} pair(s) at {fmt(alpha)}: "
                 + ", ".join(f"{a}/{b}" for a, b in separated) + ".")
    else:
        line += (f"Nemenyi's post-hoc test separates no pair at {fmt(alpha)}: with {len(friedman.tasks)} tasks "
                 "the mean ranks cannot be told apart.")
    return [line, ""]


def write_multi_markdown(merged: Summary, figures: Sequence[Path], out: Path,
                         links: dict[str, Path] | None = None) -> Path:
    """The cross-task summary (results.summary): mean rank first, ranks per task, the profile plot.

    ``links`` maps a task to its own report.md, linked relatively.
    """
    tasks = merged.tasks
    ranked = [n for n, c in merged.contenders.items() if c.mean_rank is not None]
    lines = ["# EpochBench across tasks: which schedulers are least sensitive to the training budget?", ""]
    if ranked:
        best = [n for n in ranked if merged.contenders[n].mean_rank == merged.contenders[ranked[0]].mean_rank]
        lines += [f"**Lowest mean rank: {' and '.join(best)}{' (tied)' if len(best) > 1 else ''}** "
                  f"(rank {fmt(merged.contenders[ranked[0]].mean_rank)} "
                  f"on average over {len(tasks)} task(s); rank 1 = least budget-sensitive by each task's ranking "
                  "value).", ""]
    lines += _friedman_lines(merged)
    if merged.missing:
        lines += ["Not ranked (no value on every task, so not compared on the same tasks): " + "; ".join(
            f"{n} (missing on {', '.join(where)})" for n, where in merged.missing.items()) + ".", ""]
    if merged.not_measured:
        lines += ["Of those, not a measurement (the paper pipeline's seed-mean decoupling with a budget pair smoothed "
                  "to a loss <= 0, where the formula is no distance): " + "; ".join(
                      f"{n} on {', '.join(where)}" for n, where in merged.not_measured.items())
                  + ". Prefix-shared contenders (every longer run repeats the shorter one) count as exactly 0.", ""]
    if links:
        lines += ["Per-task reports: " + ", ".join(
            f"[{t}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for t, p in links.items()) + ".", ""]
    lines += table(["contender", "mean rank", *tasks],
                   [[n, c.mean_rank, *(f"{fmt(c.ranks[t])} ({fmt(c.values[t], 3)})" if c.ranks[t] is not None
                                       else f"- ({fmt(c.values[t], 3)})" for t in tasks)]
                    for n, c in merged.contenders.items()])
    lines += ["Each cell: rank on that task among the contenders ranked on every task (in brackets the task's "
              "ranking value: the shift, or the seed-mean decoupling for seed-mean curves; ties share the mean "
              "rank). The performance profile shows, for each factor tau, on what fraction of tasks a contender's "
              "decoupling (its sensitivity) is within "
              "tau times the best one.", ""]
    if merged.profile_skipped:
        lines += [f"Left out of the profile (best value <= 0): {', '.join(merged.profile_skipped)}.", ""]
    lines += figure_lines(figures, out)
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    return out
