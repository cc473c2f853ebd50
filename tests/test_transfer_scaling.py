"""What the transfer phase multiplies: every LR of a schedule, or an LR-free optimizer's own step parameter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from schedulers.lr_free import LR_FREE
from schedulers.recipes import make_recipe
from schedulers.registry import SCHEDULERS


@pytest.mark.parametrize("code", list(SCHEDULERS))
@pytest.mark.parametrize("multiplier", [0.25, 4.0])
def test_a_scaled_schedule_runs_every_lr_times_the_multiplier(code: str, multiplier: float) -> None:
    recipe = make_recipe(code, steps_per_epoch=3)
    params = recipe.defaults(12)
    scaled = recipe.scale_steps(params, multiplier)
    assert recipe.step_param == "lr" and scaled["lr"] == params["lr"] * multiplier
    recipe.validate(scaled, [12])
    original, transferred = (recipe.schedule_trace(p, 12) for p in (params, scaled))
    flat = [lr for epoch in original for lr in epoch]
    assert [lr for epoch in transferred for lr in epoch] == pytest.approx([lr * multiplier for lr in flat],
                                                                         rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("name, step, group_value", [
    ("Prodigy", "d_coef", lambda group: group["d_coef"]),
    ("DAdapt", "lr", lambda group: group["lr"]),
    ("ScheduleFree", "lr", lambda group: group["lr"]),
])
def test_an_lr_free_optimizer_scales_its_own_step_parameter(name: str, step: str, group_value) -> None:
    pytest.importorskip(LR_FREE[name].package)
    recipe = make_recipe(name, steps_per_epoch=2)
    params = {k: v for k, v in recipe.defaults(4).items() if k in recipe.search_space(4)}  # what Phase 1 stores
    scaled = recipe.scale_steps(params, 0.5)
    assert recipe.step_param == step
    recipe.validate(scaled, [4])
    optimizers = [recipe.build([nn.Parameter(torch.zeros(2))], p, 4)[0] for p in (params, scaled)]
    before, after = (group_value(o.param_groups[0]) for o in optimizers)
    assert after == pytest.approx(0.5 * before)
