"""Several analyses (different tasks/models) merged: per contender its rank on each task, the mean rank,
and an AlgoPerf-style performance profile.

The metric is each analysis' ``sensitivity`` (per-seed cross-budget decoupling, or the seed-mean
paper-compatible decoupling for seed-mean curves): lower is better, so rank 1 is the least sensitive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

TAUS = tuple(float(t) for t in np.round(np.geomspace(1.0, 1e4, 81), 6))  # factors of the best: decoupling spans decades


def _analysis(report: Mapping[str, Any]) -> Mapping[str, Any]:
    """A run report carries its analysis under 'analysis'; an analyze result is one."""
    return report.get("analysis", report)


def task_values(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """contender -> task -> sensitivity value (None where the contender was not run or is undefined)."""
    names = list(dict.fromkeys(n for r in reports.values() for n in _analysis(r)["contenders"]))
    return {n: {task: _analysis(r)["contenders"].get(n, {}).get("sensitivity", {}).get("value")
                for task, r in reports.items()} for n in names}


def task_ranks(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, dict[str, float | None]]:
    """Per task the rank of each contender with a value (1 = least sensitive; ties share the mean rank)."""
    tasks = list(dict.fromkeys(t for per_task in values.values() for t in per_task))
    ranks: dict[str, dict[str, float | None]] = {n: {} for n in values}
    for task in tasks:
        present = [n for n in values if values[n].get(task) is not None]
        for name, rank in zip(present, stats.rankdata([values[n][task] for n in present])):
            ranks[name][task] = float(rank)
        for name in values:
            ranks[name].setdefault(task, None)
    return ranks


def performance_profile(values: Mapping[str, Mapping[str, float | None]],
                        taus: tuple[float, ...] = TAUS) -> tuple[dict[str, list[float]], list[str]]:
    """rho_c(tau) = fraction of tasks where value_c <= tau * best value on that task.

    Ratios need a positive best: tasks whose best value is <= 0 are left out (and returned by name); a
    contender without a value on a task never counts as within tau there.
    """
    tasks = list(dict.fromkeys(t for per_task in values.values() for t in per_task))
    best = {t: min((v[t] for v in values.values() if v.get(t) is not None), default=None) for t in tasks}
    used = [t for t in tasks if best[t] is not None and best[t] > 0]
    profile = {}
    for name, per_task in values.items():
        ratios = np.array([per_task[t] / best[t] if per_task.get(t) is not None else np.inf for t in used])
        profile[name] = [float(np.mean(ratios <= tau)) if used else 0.0 for tau in taus]
    return profile, [t for t in tasks if t not in used]


def merge_reports(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The merged table (JSON-ready): ``tasks``; per contender ``values``, ``ranks`` and ``mean_rank`` (over the
    tasks it has a value on); ``profile`` (``taus`` and per contender the fraction of tasks within each tau) and
    ``profile_skipped`` (tasks without a positive best value).
    """
    values = task_values(reports)
    ranks = task_ranks(values)
    profile, skipped = performance_profile(values)
    contenders = {}
    for name in values:
        defined = [r for r in ranks[name].values() if r is not None]
        contenders[name] = {"values": values[name], "ranks": ranks[name],
                            "mean_rank": float(np.mean(defined)) if defined else None}
    order = sorted(contenders, key=lambda n: (contenders[n]["mean_rank"] is None, contenders[n]["mean_rank"] or 0, n))
    return {"metric": "sensitivity", "tasks": list(reports), "contenders": {n: contenders[n] for n in order},
            "profile": {"taus": list(TAUS), **{n: profile[n] for n in order}}, "profile_skipped": skipped}


def write_summary(analyses: Mapping[str, Mapping[str, Any]], links: Mapping[str, Path], out: Path) -> Path:
    """summary.json, the performance-profile plot and the cross-task report.md in ``out``."""
    from results.figures import plot_performance_profile
    from results.markdown import write_multi_markdown
    from runstate.files import atomic_write_text

    merged = merge_reports(analyses)
    atomic_write_text(out / "summary.json", json.dumps(merged, indent=2, allow_nan=False) + "\n")
    figure = plot_performance_profile(merged, out / "plots" / "performance_profile.png")
    return write_multi_markdown(merged, [figure], out / "report.md", links=dict(links))
