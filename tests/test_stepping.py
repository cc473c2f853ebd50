"""One stepping routine: every trace of a schedule is the LRs a real training run used, bit for bit."""

from __future__ import annotations

import math

import pytest

from runner.plugins import register_schedule
from schedulers.params import Budget, infimum_lr
from schedulers.recipes import ScheduledRecipe, make_recipe
from schedulers.registry import SCHEDULERS, SchedulerSpec
from schedulers.trace import lr_trace
from tasks import DataConfig, get_task
from tasks.training import TrainConfig, train

EPOCHS, BATCH = 3, 16


@pytest.fixture(scope="module")
def osc_data(tmp_path_factory):
    return get_task("osc").load(DataConfig(data_dir=tmp_path_factory.mktemp("osc"), subset_ratio=0.01,
                                           options={"hist": 5, "pred": 3}))


def halving(t: int, horizon: int, base_lr: float, infimum_lr: float) -> float:
    """A schedule no built-in has: the LR halves every step, floored."""
    return max(base_lr * 0.5 ** t, infimum_lr)


@pytest.fixture(scope="module")
def plugin_schedule():
    """A schedule registered as a plugin registers it (removed again afterwards)."""
    register_schedule(SchedulerSpec("HALF", "Halving", family="traditional", shape=halving, params=(infimum_lr(),),
                                    summary="halves every step"))
    yield "HALF"
    del SCHEDULERS["HALF"]


def sequential_mean(values: tuple[float, ...]) -> float:
    """The trainer's per-epoch LR: a running sum over the epoch's steps, then divided (same rounding)."""
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


@pytest.mark.parametrize("code", [*SCHEDULERS, "HALF"])
def test_every_trace_is_what_training_used(code: str, osc_data, plugin_schedule, one_torch_thread) -> None:
    recipe = make_recipe(code, steps_per_epoch=osc_data.steps_per_epoch(BATCH), lr=0.01)
    params = recipe.defaults(EPOCHS)
    record = train(get_task("osc"), osc_data, TrainConfig(model="LSTM_Seq2Seq", epochs=EPOCHS, batch_size=BATCH,
                                                           seed=1, recipe=recipe, params=params, device="cpu"))
    assert record.status == "complete" and recipe.steps_per_epoch >= 2
    trace = recipe.schedule_trace(params, EPOCHS)  # what prefix sharing compares
    assert [sequential_mean(epoch) for epoch in trace] == record.lr  # exact: the same steps in the same order

    budget = Budget(EPOCHS, recipe.steps_per_epoch, params["lr"], recipe.infimum_lr)
    own = {k: v for k, v in params.items() if k != "lr"}
    traced = lr_trace(code, budget, own)  # the lr-trace command's
    per_step = [lr for epoch in trace for lr in epoch]
    assert traced == (per_step if recipe.per_batch else per_step[::recipe.steps_per_epoch])
    assert isinstance(recipe, ScheduledRecipe)
    assert recipe.planned_lrs(params, EPOCHS) == traced  # the report's, torch-free: the same closed form
    assert all(math.isfinite(lr) for lr in traced)
