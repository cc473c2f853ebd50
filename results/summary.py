"""Several analyses (different tasks/models) merged: per contender its rank on each task, the mean rank,
a Friedman test with Nemenyi's post-hoc test and a performance profile (results.stats.across_tasks).

The metric is each analysis' ranking value (``shift`` for per-seed runs, the seed-mean paper-compatible
decoupling for seed-mean curves): lower is better, so rank 1 is the least sensitive. Prefix-shared runs count as
exactly 0, and a seed-mean decoupling with a pair smoothed to a loss <= 0 is not a measurement: left out, named.
Ranks, mean ranks and the tests use only the contenders that have a value on every task (a complete block design);
the others are named with the tasks they miss, never ranked on fewer tasks. The performance profile
needs ratios to the best value, which a shift of 0 (runs shared by prefix sharing) makes undefined,
so it uses each contender's ``sensitivity`` (the paper's decoupling, per seed where there are seeds).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from results import ALPHA
from results.records import Analysis, Profile, Summary, TaskRanks
from results.stats.across_tasks import TAUS, friedman_nemenyi, performance_profile, task_ranks


def task_values(analyses: Mapping[str, Analysis]) -> dict[str, dict[str, float | None]]:
    """contender -> task -> ranking value: exactly 0 where the contender's runs are prefix-shared (the budget changes
    nothing: a smoothing filter's raw end points must not rank them); None where the contender was not run, its
    value is undefined or not a measurement (``not_measured``)."""
    names = list(dict.fromkeys(n for a in analyses.values() for n in a.contenders))
    unmeasured = not_measured(analyses)
    ranked = {task: {row.name: 0.0 if a.contenders[row.name].prefix_shared else row.value for row in a.ranking}
              for task, a in analyses.items()}
    return {n: {task: None if task in unmeasured.get(n, []) else ranked[task].get(n) for task in analyses}
            for n in names}


def not_measured(analyses: Mapping[str, Analysis]) -> dict[str, list[str]]:
    """Per contender, the tasks where its ranking value is a seed-mean decoupling with a budget pair smoothed to a
    loss <= 0 (the per-task report's "not a measurement"), unless its runs are prefix-shared (exactly 0)."""
    found: dict[str, list[str]] = {}
    for task, analysis in analyses.items():
        for name, c in analysis.contenders.items():
            if (analysis.seed_mean_only and not c.prefix_shared
                    and any(v.non_positive for v in c.decoupling.paper.values())):
                found.setdefault(name, []).append(task)
    return found


def task_sensitivities(analyses: Mapping[str, Analysis]) -> dict[str, dict[str, float | None]]:
    """contender -> task -> ``sensitivity`` value (the performance profile's metric)."""
    names = list(dict.fromkeys(n for a in analyses.values() for n in a.contenders))
    return {n: {task: c.sensitivity.value if (c := a.contenders.get(n)) else None for task, a in analyses.items()}
            for n in names}


def missing_tasks(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, list[str]]:
    """Per contender without a value on some task, those tasks."""
    return {n: [t for t, v in per_task.items() if v is None] for n, per_task in values.items()
            if any(v is None for v in per_task.values())}


def merge_reports(analyses: Mapping[str, Analysis], alpha: float | None = None) -> Summary:
    """The merged table (the ``Summary`` record): ranks among the contenders with a value on every task, the
    Friedman test and the performance profile by ``sensitivity``; ``alpha`` defaults to the analyses'."""
    alpha = alpha if alpha is not None else next((a.alpha for a in analyses.values()), None) or ALPHA
    values = task_values(analyses)
    missing = missing_tasks(values)
    complete = {n: {t: v for t, v in per_task.items() if v is not None}  # not missing: every value is there
                for n, per_task in values.items() if n not in missing}
    ranks = task_ranks(complete)
    profile, skipped = performance_profile(task_sensitivities(analyses))
    contenders = {}
    for name in values:
        rank = ranks.get(name, dict.fromkeys(analyses))
        contenders[name] = TaskRanks(values[name], rank,
                                     float(np.mean(list(rank.values()))) if name in complete else None)
    order = sorted(contenders, key=lambda n: (contenders[n].mean_rank is None, contenders[n].mean_rank or 0, n))
    return Summary(metric="ranking value", tasks=list(analyses), contenders={n: contenders[n] for n in order},
                   missing=missing, not_measured=not_measured(analyses),
                   friedman=friedman_nemenyi({n: complete[n] for n in order if n in complete}),
                   alpha=alpha, profile=Profile(list(TAUS), {n: profile[n] for n in order}), profile_skipped=skipped)
