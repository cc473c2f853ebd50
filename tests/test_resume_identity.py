"""Resuming an --out: every setting that changes stored numbers is refused by name; growth trains only what is new.

One tiny finished run per task (tests/support/tiny_runs.py, trained once per session); each refusal is one
command-line call on a fresh copy of it. The cases (tests/support/refusals.py) are checked against the identity
settings the code declares (runner.config.RunConfig and every task's options), so that a new identity setting
fails here until it gets a case, and a setting dropped from the runner's resume check fails its case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from runner.config import RunConfig
from runner.options import identity_names
from runstate.storage import default_url, open_storage
from tasks import TASKS
from tests.support.cli import run_cli
from tests.support.refusals import IDENTITY_CASES, PROJECTS
from tests.support.snapshot import file_digests
from tests.support.tiny_runs import RESUME_BASES as BASES
from tests.support.tiny_runs import flags

pytestmark = [pytest.mark.slow]


def command(options: dict[str, str | None], out: Path, data: Path) -> list[str]:
    return [*flags(options), "--skip-lr-free", "--out", str(out), "--data-dir", str(data)]


def base(finished_run, task: str) -> tuple[Path, Path]:
    """(output folder, data folder) of a fresh copy of the task's finished one-epoch run."""
    folder = finished_run(f"{task} one epoch")
    return folder / "out", folder / "data"


@pytest.mark.parametrize("setting, task, change", IDENTITY_CASES, ids=[c[0] for c in IDENTITY_CASES])
def test_changed_identity_setting_is_refused(finished_run, capsys, setting: str, task: str,
                                             change: dict[str, str]) -> None:
    out, data = base(finished_run, task)
    before = file_digests(out)
    capsys.readouterr()
    code = run_cli(*command({**BASES[task], **change}, out, data))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    flag = "--" + setting.replace("_", "-")
    assert re.search(rf"{flag}(?![\w-])", err), f"{flag} not named in: {err}"
    assert file_digests(out) == before


def identity_settings() -> set[str]:
    """What a resume compares (RunConfig.differences): the run's identity options and every task's identity options."""
    return {*identity_names(RunConfig), *(o.name for spec in TASKS.values() for o in spec.options if o.identity)}


def test_the_cases_cover_every_identity_setting_once() -> None:
    settings = [case[0] for case in IDENTITY_CASES]
    assert sorted(settings) == sorted(identity_settings())
    assert {"task", "epochs", "lr", "hist", "n_functions"} <= identity_settings()  # the walk finds both kinds


def _trials(out: Path, phase: str, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(default_url(out))
    try:
        return optuna.load_study(study_name=f"{PROJECTS['osc']}/{phase}/{name}", storage=storage).get_trials()
    except KeyError:
        return []


def _fingerprint(trial: optuna.trial.FrozenTrial) -> tuple:
    return (trial.number, trial.state, trial.params, trial.values, trial.intermediate_values, trial.datetime_start,
            trial.datetime_complete, json.dumps(trial.user_attrs, sort_keys=True, default=str))


def test_growing_budgets_seeds_and_schedulers_trains_only_the_new_runs(finished_run) -> None:
    out, data = base(finished_run, "osc")
    old_tune, old_compare = _trials(out, "tune", "C"), _trials(out, "compare", "C")
    assert [(t.user_attrs["budget"], t.user_attrs["seed"]) for t in old_compare] == [(1, 1)]

    grown = {**BASES["osc"], "--epoch-budgets": "1,2", "--compare-seeds": "2", "--schedulers": "C,E"}
    assert run_cli(*command(grown, out, data)) == 0

    # C: Phase 1 untouched; Phase 2 keeps its run and adds exactly the three new budget x seed units.
    assert [_fingerprint(t) for t in _trials(out, "tune", "C")] == [_fingerprint(t) for t in old_tune]
    compare = _trials(out, "compare", "C")
    assert [_fingerprint(t) for t in compare[:len(old_compare)]] == [_fingerprint(t) for t in old_compare]
    new = compare[len(old_compare):]
    assert sorted((t.user_attrs["budget"], t.user_attrs["seed"]) for t in new) == [(1, 2), (2, 1), (2, 2)]
    assert all(t.state == TrialState.COMPLETE for t in compare)
    # E is new: its one tuning trial and its four Phase 2 runs.
    assert len(_trials(out, "tune", "E")) == 1
    assert sorted((t.user_attrs["budget"], t.user_attrs["seed"]) for t in _trials(out, "compare", "E")) == [
        (1, 1), (1, 2), (2, 1), (2, 2)]
    report = json.loads((out / "report.json").read_text())
    assert {name: list(per_budget) for name, per_budget in report["mean_final_val_loss"].items()} == {
        "C": ["1", "2"], "E": ["1", "2"]}
    assert report["per_budget_results"]["C"]["1"]["val_loss"]["per_seed"][0] == old_compare[0].value
