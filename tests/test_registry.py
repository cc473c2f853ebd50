"""Registry-wide properties: every entry builds, resumes, validates and samples cleanly."""

import math

import optuna
import pytest
import torch

from schedulers.lr_free import LR_FREE
from schedulers.params import Budget, InvalidParameter
from schedulers.registry import SCHEDULERS, get_scheduler
from schedulers.shapes import warmup_epochs
from schedulers.torch_adapter import ScheduleLR, build_scheduler
from schedulers.trace import lr_trace

PAPER_BUDGETS = [Budget(e, steps_per_epoch=10, lr=0.05) for e in (50, 100, 150, 200)]


def _optimizer(lr: float = 0.01) -> torch.optim.Optimizer:
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=lr)


@pytest.mark.parametrize("epochs", [1, 2, 50, 200])
@pytest.mark.parametrize("code", list(SCHEDULERS))
def test_every_entry_builds_with_finite_positive_lrs(code: str, epochs: int) -> None:
    lrs = lr_trace(code, Budget(epochs, steps_per_epoch=4, lr=0.01))
    assert len(lrs) == SCHEDULERS[code].horizon(Budget(epochs, steps_per_epoch=4))
    assert all(math.isfinite(v) and v > 0 for v in lrs)
    if code == "N":
        assert lrs == [0.01] * epochs
    if code == "CW":
        assert lrs[warmup_epochs(epochs):] == [0.01] * (epochs - warmup_epochs(epochs))


def advance(optimizer: torch.optim.Optimizer, scheduler: ScheduleLR, steps: int) -> list[float]:
    """Take ``steps`` optimizer+scheduler steps; the LR after each."""
    lrs = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


@pytest.mark.parametrize("code", list(SCHEDULERS))
def test_state_dict_round_trip_reproduces_the_rest(code: str) -> None:
    budget = Budget(30, steps_per_epoch=3, lr=0.01)
    horizon = SCHEDULERS[code].horizon(budget)
    first_opt = _optimizer()
    first = build_scheduler(first_opt, code, {}, budget)
    advance(first_opt, first, horizon // 2)
    saved = first.state_dict()
    expected = advance(first_opt, first, horizon - horizon // 2)

    second_opt = _optimizer(lr=0.5)  # a different LR: everything must come from the state dict
    second = build_scheduler(second_opt, code, {}, budget)
    second.load_state_dict(saved)
    assert advance(second_opt, second, horizon - horizon // 2) == expected


@pytest.mark.parametrize("code", list(SCHEDULERS))
def test_stepping_past_horizon_holds_final_value(code: str) -> None:
    budget = Budget(20, steps_per_epoch=2, lr=0.01)
    optimizer = _optimizer()
    scheduler = build_scheduler(optimizer, code, {}, budget)
    horizon = SCHEDULERS[code].horizon(budget)
    final = advance(optimizer, scheduler, horizon)[-1]
    assert advance(optimizer, scheduler, 10) == [final] * 10
    assert final == SCHEDULERS[code].lr_at(horizon, budget, scheduler.params)


def test_state_dict_is_plain_data() -> None:
    scheduler = build_scheduler(_optimizer(), "WEH", {}, Budget(10))
    state = scheduler.state_dict()
    assert state["code"] == "WEH" and state["horizon"] == 10
    assert isinstance(scheduler, ScheduleLR)


@pytest.mark.parametrize("code", list(SCHEDULERS))
def test_sampled_search_space_passes_validation_at_paper_budgets(code: str) -> None:
    spec = get_scheduler(code)
    tuning = PAPER_BUDGETS[0]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    space = spec.search_space(tuning)
    for _ in range(50):
        trial = study.ask(space)
        params = {**spec.defaults(tuning), **trial.params}
        spec.validate(params, PAPER_BUDGETS)
        study.tell(trial, 0.0)


@pytest.mark.parametrize("name", list(LR_FREE))
def test_lr_free_search_space_and_step(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = LR_FREE[name]
    tuning = PAPER_BUDGETS[0]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    for _ in range(20):
        trial = study.ask(spec.search_space(tuning))
        spec.validate({**spec.defaults(tuning), **trial.params}, PAPER_BUDGETS)
        study.tell(trial, 0.0)
    weight = torch.nn.Parameter(torch.tensor([3.0]))
    optimizer = spec.create([weight], spec.defaults(tuning), total_steps=100, weight_decay=0.01)
    assert capsys.readouterr().out == ""  # Prodigy and D-Adaptation print "Using decoupled weight decay"
    spec.train_mode(optimizer)
    for _ in range(20):
        optimizer.zero_grad()
        (weight**2).sum().backward()
        optimizer.step()
    spec.eval_mode(optimizer)
    assert abs(weight.item()) < 3.0


@pytest.mark.parametrize("code, params, budget, fragment", [
    ("H", {"upper_bound": 150}, 200,
     "H: upper_bound=150 cannot work at budget 200 epochs; allowed: upper_bound >= 200"),
    ("WH", {"upper_bound": 179}, 200, "allowed: upper_bound >= 180"),
    ("C", {"infimum_lr": 0.05}, 50,
     "C: infimum_lr=0.05 cannot work at budget 50 epochs; allowed: 0 <= infimum_lr < lr"),
    ("EH", {"infimum_lr": 0.0}, 50, "EH: infimum_lr=0.0 cannot work at budget 50 epochs; allowed: 0 < infimum_lr"),
    ("OC", {"pct_start": 1.0}, 50, "OC: pct_start=1.0 cannot work at budget 50 epochs; allowed: (0, 1)"),
    ("S", {"step_size": 0}, 50, "allowed: an integer >= 1"),
    ("WSD", {"cooldown_shape": "cubic"}, 50, "allowed: linear or 1-sqrt"),
    ("P", {"gamma": 0.5}, 50, "P: unknown parameter 'gamma'; allowed: power"),
])
def test_invalid_parameters_are_named_in_one_line(code, params, budget, fragment) -> None:
    budgets = [Budget(e, lr=0.05) for e in (50, 100, budget)]
    with pytest.raises(InvalidParameter) as err:
        get_scheduler(code).validate({**get_scheduler(code).defaults(budgets[0]), **params}, budgets)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", [*SCHEDULERS, *LR_FREE])
def test_horizon_free_is_what_prefix_sharing_finds(name: str) -> None:
    """The summary reports horizon-free contenders apart (schedulers.recipes.horizon_free): a schedule is one exactly
    when the runner would share a 10-epoch run with a 20-epoch one (their traces agree over the first 10 epochs, the
    tuned values kept); an LR-free optimizer says so itself (Schedule-Free's warm-up is a fraction of the run)."""
    from schedulers.recipes import horizon_free, make_recipe

    recipe = make_recipe(name, steps_per_epoch=4)
    short, long = recipe.schedule_trace(recipe.defaults(10), 10), recipe.schedule_trace(recipe.defaults(10), 20)
    shared = short is not None and long is not None and long[:10] == short
    assert horizon_free(name) is shared


def test_the_horizon_free_contenders_and_a_name_outside_the_registry() -> None:
    from schedulers.recipes import horizon_free

    assert {n for n in [*SCHEDULERS, *LR_FREE] if horizon_free(n)} == {"N", "E", "S", "CY", "CR", "Prodigy", "DAdapt"}
    assert horizon_free("plugin-recipe") is None
