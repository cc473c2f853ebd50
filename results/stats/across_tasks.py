"""Tests across tasks: the complete block they need, Friedman with Nemenyi's post-hoc test (Demsar 2006) on
per-task ranks, and an AlgoPerf-style performance profile."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from results.records import Friedman

TAUS = tuple(float(t) for t in np.round(np.geomspace(1.0, 1e4, 81), 6))  # factors of the best: decoupling spans decades


def complete_block(measured: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]] | None:
    """The contenders and tasks (in the given orders) with every contender measured on every task, the most
    measurements of any such block: Friedman's test ranks complete blocks only, and a value filled in or a
    contender ranked on fewer tasks would compare unlike things. ``measured`` maps a task to its measured
    contenders. Blocks of 3 or more contenders come first (the test needs 3), then the most cells, the most
    tasks; None below 2 contenders on 2 tasks. Every largest block is some tasks' shared contenders, so the
    candidates are the intersections of the tasks' sets (few, however many tasks or contenders).
    """
    order = list(dict.fromkeys(n for names in measured.values() for n in names))
    candidates: set[frozenset[str]] = set()
    for names in map(frozenset, measured.values()):
        candidates |= {names} | {names & c for c in candidates}
    best: tuple[tuple[bool, int, int, list[int]], list[str], list[str]] | None = None
    for names in candidates:
        tasks = [t for t, there in measured.items() if names <= set(there)]
        if len(names) < 2 or len(tasks) < 2:
            continue
        ranked = [-order.index(n) for n in sorted(names, key=order.index)]  # ties: the earlier contenders
        key = (len(names) >= 3, len(names) * len(tasks), len(tasks), ranked)
        if best is None or key > best[0]:
            best = (key, sorted(names, key=order.index), tasks)
    return None if best is None else (best[1], best[2])


def friedman_nemenyi(values: Mapping[str, Mapping[str, float]]) -> Friedman | None:
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
    return Friedman(method="Friedman test over tasks (scipy.stats.friedmanchisquare); pairwise: Nemenyi post-hoc "
                           "test (scikit_posthocs.posthoc_nemenyi_friedman), which controls the family-wise error",
                    statistic=float(statistic), p_value=float(p_value), tasks=tasks, contenders=names,
                    nemenyi_p={a: {b: float(nemenyi.iloc[i, j]) for j, b in enumerate(names) if b != a}
                               for i, a in enumerate(names)})


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
    present = {t: [x for per_task in values.values() if (x := per_task.get(t)) is not None] for t in tasks}
    best = {t: min(xs) for t, xs in present.items() if xs and min(xs) > 0}
    used = list(best)
    profile = {}
    for name, per_task in values.items():
        ratios = np.array([x / best[t] if (x := per_task.get(t)) is not None else np.inf for t in used])
        profile[name] = [float(np.mean(ratios <= tau)) if used else 0.0 for tau in taus]
    return profile, [t for t in tasks if t not in used]
