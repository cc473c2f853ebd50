"""Several analyses (different tasks/models) merged: per contender its rank on each task, the mean rank,
a Friedman test with Nemenyi's post-hoc test and a performance profile (results.stats.across_tasks).

The metric is each analysis' ranking value (``shift`` for per-seed runs, the seed-mean paper-compatible
decoupling for seed-mean curves): lower is better, so rank 1 is the least sensitive. Ranks, mean ranks
and the tests use only the contenders that have a value on every task (a complete block design);
the others are named with the tasks they miss, never ranked on fewer tasks. The performance profile
needs ratios to the best value, which a shift of 0 (runs shared by prefix sharing) makes undefined,
so it uses each contender's ``sensitivity`` (the paper's decoupling, per seed where there are seeds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from results import ALPHA
from results.stats.across_tasks import TAUS, friedman_nemenyi, performance_profile, task_ranks


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


