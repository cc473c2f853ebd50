"""Prefix sharing: which Phase 2 runs can continue another budget's run instead of starting over.

Runs with the same seed see the same batches (tasks.training.epoch_seed), so two budgets whose
per-step LRs agree over their first k epochs are bit-identical over those epochs. Each budget
then continues the run of an earlier (shorter) budget from its state after k epochs, and only
epochs k.. are trained again. Pure functions of the schedules' traces, nothing else.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

Trace = Sequence[Hashable]  # per epoch, something equal exactly when the epochs train alike (the step LRs)


def common_prefix(a: Trace, b: Trace) -> int:
    """How many leading entries ``a`` and ``b`` share, by exact equality (no tolerance)."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@dataclass(frozen=True)
class Start:
    """Where a budget's run starts: after ``epoch`` epochs of ``parent``'s run (None: from scratch)."""

    parent: int | None = None
    epoch: int = 0


def plan_starts(traces: Mapping[int, Trace | None]) -> dict[int, Start]:
    """For each budget (ascending), the earlier budget sharing the longest prefix with it.

    Prefixes form a tree, so taking for each new budget its longest prefix among the earlier
    ones trains every distinct prefix exactly once, whatever the order. A trace of None (the
    recipe cannot tell) neither continues nor is continued."""
    starts: dict[int, Start] = {}
    for budget in sorted(traces):
        best, trace = Start(), traces[budget]
        if trace is not None:
            for earlier in starts:
                other = traces[earlier]
                if other is not None:
                    shared = common_prefix(other, trace)
                    if shared > best.epoch:
                        best = Start(earlier, shared)
        starts[budget] = best
    return starts


def fork_points(starts: Mapping[int, Start]) -> dict[tuple[int, int], list[int]]:
    """(parent budget, epoch) -> the budgets that continue from there: where the parent's run
    must keep a checkpoint until those runs finished."""
    points: dict[tuple[int, int], list[int]] = {}
    for budget, start in sorted(starts.items()):
        if start.parent is not None:
            points.setdefault((start.parent, start.epoch), []).append(budget)
    return points


def epochs_to_train(starts: Mapping[int, Start]) -> int:
    """Epochs trained for one seed under the plan (without sharing: the sum of the budgets)."""
    return sum(budget - start.epoch for budget, start in starts.items())
