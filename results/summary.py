"""Several analyses (different tasks/models) merged: per contender its size on each task, then ranks, a Friedman
test with Nemenyi's post-hoc test and a performance profile (results.stats.across_tasks) on what was measured.

The size is each analysis' ranking value (``shift`` for per-seed runs, the paper pipeline's seed-mean decoupling
for seed-mean curves): 0 = the budget changes nothing. Only measurements are ranked. Prefix-shared runs (every
longer run repeats the shorter one bit for bit) are 0 by construction, whatever a smoothing filter's raw end points
give, and a seed-mean decoupling with a budget pair smoothed to a loss <= 0 is not a measurement: both are reported
with the reason, never ranked. Horizon-free contenders (their LR at each step ignores the run's length) are
reported apart: the budget changes nothing in their schedule, so what they would "win" is said by construction, and
"X moves less than cosine" would restate that cosine depends on the horizon. The ranks, the tests and the profile
use the horizon-aware contenders measured on the same tasks (a complete block, as Friedman's test needs), never a
contender on fewer tasks.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from results import ALPHA
from results.records import (
    MEASURED,
    NOT_A_MEASUREMENT,
    NOT_RUN,
    PREFIX_SHARED,
    UNDEFINED,
    Analysis,
    Block,
    Profile,
    Summary,
    TaskRanks,
)
from results.stats.across_tasks import TAUS, complete_block, friedman_nemenyi, performance_profile, task_ranks
from schedulers.recipes import horizon_free


def task_sizes(analysis: Analysis) -> dict[str, tuple[float | None, str]]:
    """contender -> (size, status) on one task: exactly 0 where its runs are prefix-shared; None where the value
    is undefined or not a measurement (a seed-mean decoupling with a budget pair smoothed to a loss <= 0)."""
    ranked = {row.name: row.value for row in analysis.ranking}
    sizes: dict[str, tuple[float | None, str]] = {}
    for name, c in analysis.contenders.items():
        if c.prefix_shared:
            sizes[name] = (0.0, PREFIX_SHARED)
        elif analysis.seed_mean_only and any(v.non_positive for v in c.decoupling.paper.values()):
            sizes[name] = (None, NOT_A_MEASUREMENT)
        elif (value := ranked.get(name)) is not None:
            sizes[name] = (value, MEASURED)
        else:
            sizes[name] = (None, UNDEFINED)
    return sizes


def is_horizon_free(name: str, statuses: Mapping[str, str]) -> bool:
    """The registry's word (schedulers.recipes.horizon_free); for a name outside it, whether its runs are
    prefix-shared on a task (they can be only where the schedule ignores the run's length)."""
    known = horizon_free(name)
    return known if known is not None else PREFIX_SHARED in statuses.values()


def merge_reports(analyses: Mapping[str, Analysis], alpha: float | None = None) -> Summary:
    """The merged table (the ``Summary`` record): every contender's sizes, and within the largest complete block
    of measured horizon-aware contenders the ranks, the Friedman test and the performance profile; ``alpha``
    defaults to the analyses'."""
    alpha = alpha if alpha is not None else next((a.alpha for a in analyses.values()), None) or ALPHA
    tasks = list(analyses)
    found = {task: task_sizes(a) for task, a in analyses.items()}
    names = list(dict.fromkeys(n for a in analyses.values() for n in a.contenders))
    status = {n: {t: found[t][n][1] if n in found[t] else NOT_RUN for t in tasks} for n in names}
    values = {n: {t: found[t][n][0] if n in found[t] else None for t in tasks} for n in names}
    free = {n: is_horizon_free(n, status[n]) for n in names}
    block = complete_block({t: [n for n in names if not free[n] and status[n][t] == MEASURED] for t in tasks})
    tested: dict[str, dict[str, float]] = {}
    if block is not None:
        tested = {n: {t: v for t in block[1] if (v := values[n][t]) is not None} for n in block[0]}  # all there
    ranks = task_ranks(tested)
    mean_rank = {n: float(np.mean(list(r.values()))) for n, r in ranks.items()}
    order = sorted(names, key=lambda n: (free[n], n not in mean_rank, mean_rank.get(n, 0.0), names.index(n)))
    contenders = {n: TaskRanks(free[n], values[n], status[n], {t: ranks.get(n, {}).get(t) for t in tasks},
                               mean_rank.get(n)) for n in order}
    in_order = {n: tested[n] for n in order if n in tested}
    profile, skipped = performance_profile(in_order) if block else ({}, [])
    return Summary(
        metrics={t: next((row.metric for row in a.ranking), "none") for t, a in analyses.items()},
        tasks=tasks, contenders=contenders,
        block=None if block is None else Block([n for n in order if n in tested], block[1]),
        family=None if block is None else family_text(len(block[0]), len(block[1]), alpha),
        friedman=friedman_nemenyi(in_order), alpha=alpha,
        profile=Profile(list(TAUS), profile) if block else None, profile_skipped=skipped)


def family_text(contenders: int, tasks: int, alpha: float) -> str:
    """The tests' family in words."""
    return (f"the {contenders} horizon-aware contenders measured on the same {tasks} tasks: one Friedman test over "
            f"their ranks, then Nemenyi's test over their {contenders * (contenders - 1) // 2} pairs, family-wise "
            f"at {alpha:g}")
