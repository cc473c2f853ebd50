"""report.md: the analysis for a reader who never saw the paper, verdict first, plots linked relatively."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runstate.files import atomic_write_text

READINGS = {
    "decoupling": "How far apart the validation curves of two budgets lie, epoch by epoch, after 9-point "
                  "smoothing: 0 means identical curves, 0.5 means one is three times the other; lower is less "
                  "budget-sensitive.",
    "non-positive": "A '*' marks pairs where smoothing pushed a loss to zero or below; the formula then stops "
                    "being a distance (values can be negative), so read those numbers as the paper's pipeline "
                    "output, not as a measurement.",
    "per-seed": "The same decoupling computed within each seed (seed s at one budget vs seed s at another), "
                "with a 95% bootstrap interval over seeds.",
    "noise floor": "The decoupling between different seeds at the same budget: what reruns alone produce; a "
                   "ratio near 1 means the budgets differ no more than reruns do.",
    "final loss": "The validation loss at the end of training for each budget, with a 95% bootstrap interval "
                  "over seeds; 'change %' compares the smallest and largest budget.",
    "slope": "How much the final validation loss changes per doubling of the budget (negative: longer "
             "training helps), with a 95% interval from the regression.",
    "rank stability": "Kendall's tau between the contenders' order at the tuning budget and at another budget: "
                      "1 means the same order, 0 an unrelated one.",
    "predictors": "Numbers computed from the learning-rate schedules alone, without training; Spearman's rho "
                  "says whether the schedule's own decoupling orders the contenders like the measured one.",
}


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: 4 significant digits, '-' for undefined."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def fmt_ci(ci: Sequence[float] | None) -> str:
    """A 95% interval as [low, high], '-' when undefined."""
    return "-" if ci is None else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines + [""]


def _diverged(contender: dict[str, Any]) -> str:
    d = contender["diverged"]
    return "0" if not d["count"] else f"{d['count']} ({', '.join(d['runs'])})"


def verdict(analysis: dict[str, Any]) -> list[str]:
    """Two or three sentences: who is least and most budget-sensitive, and whether that beats seed noise."""
    ranking = analysis["ranking"]
    if not ranking:
        return ["No contender has a defined budget sensitivity (fewer than two budgets, or every run diverged).", ""]
    best, worst = ranking[0], ranking[-1]
    lines = [f"**Least budget-sensitive: {best['name']}** (decoupling {fmt(best['value'])}); "
             f"most sensitive: {worst['name']} ({fmt(worst['value'])}), over {len(ranking)} contenders."]
    if best["tied_with"]:
        lines.append(f"Its 95% interval overlaps those of {', '.join(best['tied_with'])}, so these are tied.")
    ratios = {n: c["noise_ratio"] for n, c in analysis["contenders"].items() if c["noise_ratio"] is not None}
    if ratios:
        within = sorted(n for n, r in ratios.items() if r <= 1.5)
        lines.append("Budgets differ no more than reruns (ratio to the seed noise floor <= 1.5) for "
                     f"{', '.join(within)}." if within else "Every contender's budgets differ more than its reruns do.")
    elif analysis["seed_mean_only"]:
        lines.append("These curves are seed means (no per-seed data), so the seed noise floor is unknown and "
                     "small differences may be noise.")
    diverged = sum(c["diverged"]["count"] for c in analysis["contenders"].values())
    if diverged:
        lines.append(f"{diverged} diverged run(s) are left out of every metric and named in the tables.")
    return [" ".join(lines), ""]


def _setup(report: dict[str, Any]) -> list[str]:
    lines = ["## What was analysed", ""]
    config, environment = report.get("config"), report.get("environment")
    if config:
        lines += table(["setting", "value"], [[k, str(v)] for k, v in config.items()])
    if environment:
        lines += table(["environment", "value"], [[k, str(v)] for k, v in environment.items()])
    if report.get("training_time_s"):
        seconds = report["training_time_s"]
        lines += [f"Training time (summed over runs): {fmt(seconds['total'])} s — Phase 1 {fmt(seconds['tune'])} s, "
                  f"Phase 2 {fmt(seconds['compare'])} s.", ""]
    if report.get("epochs"):
        counts = report["epochs"]
        planned, trained = (sum(c[k] for c in counts.values()) for k in ("planned", "trained"))
        lines += ["Phase 2 epochs trained / planned (prefix sharing trains a shared LR prefix once): "
                  + ", ".join(f"{name} {c['trained']}/{c['planned']}" for name, c in counts.items())
                  + f"; in all {trained}/{planned}.", ""]
    if report.get("sources"):
        lines += ["Files: " + ", ".join(f"`{s}`" for s in report["sources"]) + ".", ""]
    if report.get("skipped"):
        lines += ["Skipped: " + "; ".join(f"`{p}` ({why})" for p, why in report["skipped"]) + ".", ""]
    if report.get("seed_mean_only"):
        lines += ["The curves are seed means with a min-max band (the paper's exports): per-seed numbers and the "
                  "noise floor are not available.", ""]
    return lines


def _phases(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if report.get("optimization"):
        lines += ["## Phase 1: tuning", ""]
        lines += table(["contender", "best val loss", "complete", "pruned", "failed", "best params"],
                       [[n, o["best_val_loss"], o["complete"], o["pruned"], o["failed"],
                         ", ".join(f"{k}={fmt(v)}" for k, v in (o["best_params"] or {}).items()) or "-"]
                        for n, o in report["optimization"].items()])
    if report.get("comparison_detail"):
        budgets = sorted({b for d in report["comparison_detail"].values() for b in d}, key=int)
        lines += ["## Phase 2: re-training at every budget (final val loss, mean ± std; diverged runs)", ""]
        lines += table(["contender", *budgets],
                       [[n, *(f"{fmt(d[b]['val_loss']['mean'])} ± {fmt(d[b]['val_loss']['std'])} "
                              f"({d[b]['diverged']} div.)" if b in d else "-" for b in budgets)]
                        for n, d in report["comparison_detail"].items()])
    return lines


def _metrics(analysis: dict[str, Any]) -> list[str]:
    contenders = analysis["contenders"]
    lines = ["## Sensitivity ranking (least sensitive first)", "",
             "Ranked by " + ("per-seed cross-budget decoupling (mean over seeds, 95% CI); contenders whose "
                             "intervals overlap are tied." if not analysis["seed_mean_only"] else
                             "the decoupling of the seed-mean curves (paper-compatible mean; no interval)."), ""]
    lines += table(["rank", "contender", "family", "decoupling", "95% CI", "tied with", "noise floor", "ratio",
                    "change %", "diverged"],
                   [[str(i + 1), r["name"], contenders[r["name"]]["family"], r["value"], fmt_ci(r["ci"]),
                     ", ".join(r["tied_with"]) or "-", contenders[r["name"]]["noise_floor"],
                     contenders[r["name"]]["noise_ratio"], contenders[r["name"]]["change_pct"],
                     _diverged(contenders[r["name"]])] for i, r in enumerate(analysis["ranking"])])
    lines += [READINGS["decoupling"], "", READINGS["per-seed"], "", READINGS["noise floor"], ""]
    pairs = list(next(iter(contenders.values()))["decoupling"]["paper"]) if contenders else []
    lines += ["## Decoupling per budget pair (seed-mean curves, paper-compatible)", ""]
    lines += table(["contender", *pairs, "mean", "diverged"],
                   [[n, *(fmt(c["decoupling"]["paper"][p]["value"]) + ("*" if c["decoupling"]["paper"][p]
                                                                       ["non_positive"] else "") for p in pairs),
                     c["decoupling"]["paper_mean"], _diverged(c)] for n, c in contenders.items()])
    lines += [READINGS["non-positive"], ""]
    budgets = [str(b) for b in analysis["budgets"]]
    lines += ["## Final validation loss per budget (mean [95% CI])", ""]
    lines += table(["contender", *budgets, "change %", "slope per doubling [95% CI]", "diverged"],
                   [[n, *(f"{fmt(c['final'][b]['mean'])} {fmt_ci(c['final'][b]['ci'])}" if b in c["final"] else "-"
                          for b in budgets), c["change_pct"], f"{fmt(c['slope']['value'])} {fmt_ci(c['slope']['ci'])}",
                     _diverged(c)] for n, c in contenders.items()])
    lines += [READINGS["final loss"], "", READINGS["slope"], ""]
    lines += [f"## Rank stability (vs the tuning budget, {analysis['tuning_budget']} epochs)", ""]
    lines += table(["budget", "Kendall tau"], [[b, t] for b, t in analysis["rank_stability"].items()])
    lines += [READINGS["rank stability"], ""]
    if analysis.get("predictors"):
        predictors = analysis["predictors"]
        lines += [f"## Training-free predictors (from {analysis['predictor_source']})", "",
                  f"Spearman rho (LR-curve decoupling vs measured): {fmt(analysis['predicted_vs_measured'])}.", ""]
        lines += table(["contender", "LR-curve decoupling", *(f"sum lr {b} / sum lr max" for b in budgets),
                        *(f"Omega* {b}" for b in budgets)],
                       [[n, p["lr_decoupling"]["mean"], *(p["cumulative_ratio"].get(b) for b in budgets),
                         *(p["omega_star"].get(b) for b in budgets)] for n, p in predictors.items()])
        lines += [READINGS["predictors"], ""]
    return lines


def _figures(figures: Sequence[Path], out: Path) -> list[str]:
    lines = ["## Plots", ""]
    for path in figures:
        link = Path(os.path.relpath(path, out.parent)).as_posix()
        lines += [f"![{path.stem.replace('_', ' ')}]({link})", ""]
    return lines


def write_markdown(report: dict[str, Any], figures: Sequence[Path], out: Path) -> Path:
    """Write ``out`` (report.md): verdict, what was analysed, phase tables, metrics with readings, plots.

    ``report`` is an analysis (results.analysis) optionally merged with a run report's keys (config,
    environment, optimization, comparison_detail) or analyze's (title, sources, skipped).
    """
    title = report.get("title") or "EpochBench: how sensitive are LR schedulers to the training budget?"
    lines = [f"# {title}", "", *verdict(report), *_setup(report), *_phases(report), *_metrics(report),
             *_figures(figures, out)]
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    return out


def write_multi_markdown(merged: dict[str, Any], figures: Sequence[Path], out: Path,
                         links: dict[str, Path] | None = None) -> Path:
    """The cross-task summary (results.multi_run): mean rank first, ranks per task, the profile plot.

    ``links`` maps a task to its own report.md, linked relatively.
    """
    tasks = merged["tasks"]
    ranked = [n for n, c in merged["contenders"].items() if c["mean_rank"] is not None]
    lines = ["# EpochBench across tasks: which schedulers are least sensitive to the training budget?", ""]
    if ranked:
        lines += [f"**Lowest mean rank: {ranked[0]}** (rank {fmt(merged['contenders'][ranked[0]]['mean_rank'])} "
                  f"on average over {len(tasks)} task(s); rank 1 = least budget-sensitive by decoupling).", ""]
    if links:
        lines += ["Per-task reports: " + ", ".join(
            f"[{t}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for t, p in links.items()) + ".", ""]
    lines += table(["contender", "mean rank", *tasks],
                   [[n, c["mean_rank"], *(f"{fmt(c['ranks'][t])} ({fmt(c['values'][t], 3)})"
                                          if c["ranks"][t] is not None else "-" for t in tasks)]
                    for n, c in merged["contenders"].items()])
    lines += ["Each cell: rank on that task (decoupling in brackets; ties share the mean rank). The performance "
              "profile shows, for each factor tau, on what fraction of tasks a contender's decoupling is within "
              "tau times the best one.", ""]
    if merged["profile_skipped"]:
        lines += [f"Left out of the profile (best value <= 0): {', '.join(merged['profile_skipped'])}.", ""]
    lines += _figures(figures, out)
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    return out
