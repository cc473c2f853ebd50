"""Prefix planning on hand-made LR traces, and the traces recipes give for it."""

import pytest

from runner.prefix import Start, common_prefix, epochs_to_train, fork_points, plan_starts
from schedulers.recipes import make_recipe


def test_common_prefix_on_hand_made_sequences() -> None:
    assert common_prefix([0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]) == 3  # identical over the shorter
    assert common_prefix([0.1, 0.05], [0.2, 0.05]) == 0  # diverging at step 0
    assert common_prefix([1.0, 0.9, 0.5, 0.1], [1.0, 0.9, 0.7, 0.4]) == 2  # diverging mid-way
    assert common_prefix([1.0, 0.9], [1.0, 0.9 + 1e-17]) == 2  # 0.9 + 1e-17 == 0.9 in float64
    assert common_prefix([1.0, 0.9], [1.0, 0.9000000000000001]) == 1  # exact: one ulp parts them
    # Per-batch: an epoch is the tuple of its steps' LRs; a step that differs mid-epoch forks before it.
    short = [(1.0, 0.8), (0.6, 0.4), (0.2, 0.0)]
    long = [(1.0, 0.8), (0.6, 0.5), (0.4, 0.3)]
    assert common_prefix(short, long) == 1


def test_plan_continues_the_longest_shared_prefix() -> None:
    traces = {
        2: [1.0, 1.0],
        4: [1.0, 1.0, 1.0, 0.5],  # continues 2 after its 2 epochs
        6: [1.0, 1.0, 1.0, 1.0, 0.7, 0.3],  # shares 3 epochs with 4 (only 2 with 2): continues 4
        3: [0.5, 0.5, 0.5],  # differs from step 0: from scratch
        5: None,  # the recipe cannot tell: never shared
    }
    starts = plan_starts(traces)
    assert starts == {2: Start(), 3: Start(), 4: Start(2, 2), 5: Start(), 6: Start(4, 3)}
    assert fork_points(starts) == {(2, 2): [4], (4, 3): [6]}
    assert epochs_to_train(starts) == 2 + 3 + (4 - 2) + 5 + (6 - 3)


def test_two_budgets_forking_at_one_point_share_its_checkpoint() -> None:
    starts = plan_starts({3: [1, 1, 1], 5: [1, 1, 1, 2, 2], 7: [1, 1, 1, 3, 3, 3, 3]})
    assert starts == {3: Start(), 5: Start(3, 3), 7: Start(3, 3)}
    assert fork_points(starts) == {(3, 3): [5, 7]}


@pytest.mark.parametrize("name, shared", [("N", 3), ("E", 3), ("S", 3), ("C", 1), ("H", 1), ("OC", 0),
                                          ("Prodigy", 3), ("DAdapt", 3), ("ScheduleFree", 0)])
def test_recipe_traces_share_what_the_schedule_allows(name: str, shared: int) -> None:
    """At budgets 3 and 6 (2 batches per epoch): constant-like schedules share all 3 epochs, cosine
    and hyperbolic only epoch 0 (both start at the base LR), OneCycle starts its warm-up at another
    LR; Schedule-Free's warm-up is a fraction of the run, so it says nothing (None)."""
    recipe = make_recipe(name, steps_per_epoch=2)
    params = recipe.defaults(3)
    short, long = recipe.schedule_trace(params, 3), recipe.schedule_trace(params, 6)
    if name == "ScheduleFree":
        assert short is None and long is None
        return
    assert len(short) == 3 and len(long) == 6
    assert common_prefix(short, long) == shared
