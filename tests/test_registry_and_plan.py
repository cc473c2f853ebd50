"""The one registry type, and the run plan every phase and the progress count read."""

from __future__ import annotations

import pytest

from errors import UserError
from registry import Registry
from runner.config import RunConfig
from runstate.storage import StudyName
from schedulers.params import InvalidParameter
from schedulers.registry import SCHEDULERS
from tasks import TASKS, register_task


def test_a_registry_has_one_lookup_one_unknown_name_error_and_refuses_clashes() -> None:
    colours = Registry("colour", {"red": 1, "blue": 2})
    assert colours["blue"] == 2 and list(colours) == ["red", "blue"] and "red" in colours
    with pytest.raises(UserError, match=r"^unknown colour 'green'; known: red, blue$"):
        colours["green"]
    with pytest.raises(UserError, match=r"^colour 'red' clashes with a colour of that name$"):
        colours.register("red", 3)
    assert colours["red"] == 1


def test_the_owners_registries_keep_their_messages() -> None:
    with pytest.raises(InvalidParameter, match=r"^unknown scheduler 'XX'; known: N, P, C,"):
        SCHEDULERS["XX"]
    with pytest.raises(UserError, match=r"^task 'osc' clashes with a task of that name$"):
        register_task(TASKS["osc"])


def test_the_plan_lists_every_unit_once() -> None:
    config = RunConfig(task="osc", project="p", n_trials=2, n_seeds=2, epochs=3, epoch_budgets=(3, 6), compare_seeds=2,
                       schedulers=("C",), lr_free=(), transfer_grid=(0.5, 1.0), transfer_seeds=1)
    plan = config.plan
    assert plan.studies == [StudyName("p", "tune", "C"), StudyName("p", "compare", "C"),
                            StudyName("p", "transfer", "C", 0.5)]
    assert plan.of(StudyName("p", "tune", "C")) == {0: 6, 1: 6}
    assert plan.of(StudyName("p", "compare", "C")) == {(3, 1): 3, (3, 2): 3, (6, 1): 6, (6, 2): 6}
    assert plan.of(StudyName("p", "transfer", "C", 0.5)) == {(3, 1): 3, (6, 1): 6}
    assert plan.epochs == config.planned_epochs == 12 + 18 + 9
    assert (plan.epochs_of("C", "compare"), plan.epochs_of("C", "transfer")) == (18, 9)
