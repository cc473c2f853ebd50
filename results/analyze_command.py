"""The `analyze` command: curve files in; analysis.json, plots and report.md out; decoupling as text.

One task-model group goes straight into OUT; several go into OUT/<group>/ each, with a cross-task
summary (results.summary) in OUT itself.
"""

from __future__ import annotations

from pathlib import Path

from results.analysis import ALPHA, analyze_curves
from results.figures.run import write_figures
from results.records import Analysis, AnalysisFile, json_text
from results.report.markdown import budget_pairs, fmt, paper_cell, write_markdown
from results.report.summary import write_summary
from results.sources.curve_files import load_curves
from runstate.files import atomic_write_text


def decoupling_lines(group: str, analysis: Analysis) -> list[str]:
    """The paper-compatible decoupling per scheduler and budget pair, as aligned text ('*': non-positive)."""
    contenders = analysis.contenders
    pairs = budget_pairs(contenders)
    rows = [["scheduler", *pairs, "mean"]]
    for name, c in contenders.items():
        rows.append([name, *(paper_cell(c, p, 6) for p in pairs), fmt(c.decoupling.paper_mean, 6)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"== {group}: decoupling of seed-mean validation curves (paper-compatible) =="]
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
              for r in rows]
    if any(p.non_positive for c in contenders.values() for p in c.decoupling.paper.values()):
        lines.append("* a smoothed value was <= 0: the paper's number, but not a distance")
    return lines


def analyze_paths(paths: list[Path], out: Path, tuning_budget: int | None = None, seed: int = 0,
                  alpha: float = ALPHA) -> list[str]:
    """Analyse every group found under ``paths`` into ``out``; returns the lines to print."""
    groups = load_curves(paths)
    several = len(groups.frames) > 1
    lines: list[str] = []
    analyses: dict[str, Analysis] = {}
    reports: dict[str, Path] = {}
    for group, frame in groups.frames.items():
        target = out / group if several else out
        analysis = analyze_curves(frame, tuning_budget=tuning_budget, seed=seed, alpha=alpha, detectable=True)
        written = AnalysisFile(f"EpochBench analysis: {group}", [str(p) for p in groups.sources[group]],
                               [[str(p), why] for p, why in groups.skipped.get(group, [])], analysis)
        atomic_write_text(target / "analysis.json", json_text(written))
        reports[group] = write_markdown(written, write_figures(analysis, frame, target), target / "report.md")
        analyses[group] = analysis
        lines += [*decoupling_lines(group, analysis), ""]
    if several:
        write_summary(analyses, reports, out)
    lines.append(f"wrote {out / 'report.md'}")
    return lines
