"""Several analyses (different tasks/models) merged: per contender its rank on each task, the mean rank,
a Friedman test with Nemenyi's post-hoc test (Demsar 2006), and an AlgoPerf-style performance profile.

The metric is each analysis' ranking value (``shift`` for per-seed runs, the seed-mean paper-compatible
decoupling for seed-mean curves): lower is better, so rank 1 is the least sensitive. Ranks, mean ranks
and the tests use only the contenders that have a value on every task (a complete block design);
the others are named with the tasks they miss, never ranked on fewer tasks. The performance profile
needs ratios to the best value, which a shift of 0 (runs shared by prefix sharing) makes undefined,
so it uses each contender's ``sensitivity`` (the paper's decoupling, per seed where there are seeds).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from results import ALPHA

TAUS = tuple(float(t) for t in np.round(np.geomspace(1.0, 1e4, 81), 6))  # factors of the best: decoupling spans decades


def _analysis(report: Mapping[str, Any]) -> Mapping[str, Any]:
    """A run report carries its analysis under 'analysis'; an analyze result is one."""
    return report.get("analysis", report)


def task_values(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """contender -> task -> ranking value (None where the contender was not run or is undefined)."""
    names = list(dict.fromkeys(n for r in reports.values() for n in _analysis(r)["contenders"]))
    ranked = {task: {row["name"]: row["value"] for row in _analysis(r)["ranking"]} for task, r in reports.items()}
    return {n: {task: ranked[task].get(n) for task in reports} for n in names}


def task_sensitivities(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """contender -> task -> ``sensitivity`` value (the performance profile's metric)."""
    names = list(dict.fromkeys(n for r in reports.values() for n in _analysis(r)["contenders"]))
    return {n: {task: _analysis(r)["contenders"].get(n, {}).get("sensitivity", {}).get("value")
                for task, r in reports.items()} for n in names}


def missing_tasks(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, list[str]]:
    """Per contender without a value on some task, those tasks."""
    return {n: [t for t, v in per_task.items() if v is None] for n, per_task in values.items()
            if any(v is None for v in per_task.values())}


def friedman_nemenyi(values: Mapping[str, Mapping[str, float]]) -> dict[str, Any] | None:
    """Friedman's test that every contender ranks alike across tasks, and Nemenyi's pairwise post-hoc
    p-values (scikit-posthocs); None below 3 contenders or 2 tasks, or when every task ties every contender
    (the statistic is then undefined)."""
    import scikit_posthocs

    names = list(values)
    tasks = list(next(iter(values.values()), {}))
    if len(names) < 3 or len(tasks) < 2:
        return None
    matrix = np.asarray([[values[n][t] for n in names] for t in tasks], dtype=np.float64)  # tasks x contenders
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all ranks tied: 0 / 0, reported as None below
        statistic, p_value = stats.friedmanchisquare(*matrix.T)
    if not (math.isfinite(statistic) and math.isfinite(p_value)):
        return None
    nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(matrix)
    return {"method": "Friedman test over tasks (scipy.stats.friedmanchisquare); pairwise: Nemenyi post-hoc test "
                      "(scikit_posthocs.posthoc_nemenyi_friedman), which controls the family-wise error",
            "statistic": float(statistic), "p_value": float(p_value), "tasks": tasks, "contenders": names,
            "nemenyi_p": {a: {b: float(nemenyi.iloc[i, j]) for j, b in enumerate(names) if b != a}
                          for i, a in enumerate(names)}}


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


def merge_reports(reports: Mapping[str, Mapping[str, Any]], alpha: float | None = None) -> dict[str, Any]:
    """The merged table (JSON-ready): ``tasks``; per contender ``values``, ``ranks`` and ``mean_rank`` (among the
    contenders with a value on every task; null for the others); ``missing`` (contender -> tasks without a value);
    ``friedman`` (friedman_nemenyi, null where undefined); ``alpha`` (the Nemenyi level; default: the analyses');
    ``profile`` (``taus`` and per contender the fraction of tasks within each tau, by ``sensitivity``) and
    ``profile_skipped`` (tasks without a positive best value).
    """
    alpha = alpha if alpha is not None else next((_analysis(r).get("alpha") for r in reports.values()), None) or ALPHA
    values = task_values(reports)
    missing = missing_tasks(values)
    complete = {n: v for n, v in values.items() if n not in missing}
    ranks = task_ranks(complete)
    profile, skipped = performance_profile(task_sensitivities(reports))
    contenders = {}
    for name in values:
        rank = ranks.get(name, dict.fromkeys(reports))
        contenders[name] = {"values": values[name], "ranks": rank,
                            "mean_rank": float(np.mean(list(rank.values()))) if name in complete else None}
    order = sorted(contenders, key=lambda n: (contenders[n]["mean_rank"] is None, contenders[n]["mean_rank"] or 0, n))
    return {"metric": "ranking value", "tasks": list(reports), "contenders": {n: contenders[n] for n in order},
            "missing": missing, "friedman": friedman_nemenyi({n: complete[n] for n in order if n in complete}),
            "alpha": alpha, "profile": {"taus": list(TAUS), **{n: profile[n] for n in order}},
            "profile_skipped": skipped}


def write_summary(analyses: Mapping[str, Mapping[str, Any]], links: Mapping[str, Path], out: Path) -> Path:
    """summary.json, the performance-profile plot and the cross-task report.md in ``out``."""
    from results.figures import plot_critical_difference, plot_performance_profile
    from results.markdown import write_multi_markdown
    from runstate.files import atomic_write_text

    merged = merge_reports(analyses)
    atomic_write_text(out / "summary.json", json.dumps(merged, indent=2, allow_nan=False) + "\n")
    figures = [plot_performance_profile(merged, out / "plots" / "performance_profile.png")]
    if merged["friedman"]:
        figures.append(plot_critical_difference(merged, out / "plots" / "critical_difference.png"))
    return write_multi_markdown(merged, figures, out / "report.md", links=dict(links))
