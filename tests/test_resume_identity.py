"""Resuming an --out: every setting that changes stored numbers is refused by name; growth trains only what is new.

One tiny finished run per task (module-scoped); each refusal is one command-line call on a copy of it.
The settings are listed here explicitly (not imported from the runner) so that a setting dropped from
the runner's resume check fails its case instead of silently leaving the list.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from runstate.storage import default_url, open_storage
from tests.conftest import run_cli, write_cifar

pytestmark = [pytest.mark.slow]

# Tiny finished base runs: 1 tuning trial of 1 epoch, Phase 2 at budget 1 with seed 1.
TINY = {"--preset": "smoke", "--schedulers": "C", "--n-trials": "1", "--epochs": "1", "--epoch-budgets": "1",
        "--compare-seeds": "1"}
BASES = {
    "osc": {"--task": "osc", **TINY, "--hist": "5", "--pred": "5", "--subset-ratio": "0.005"},
    "integral": {"--task": "integral", "--model": "DeepONet", **TINY, "--n-functions": "20"},
    "cifar10": {"--task": "cifar10", "--model": "SimpleCNN", "--dataset": "CIFAR10", **TINY, "--subset-ratio": "1",
                "--batch-size": "16"},
}
PROJECTS = {"osc": "osc-LSTM_Seq2Seq", "integral": "integral-DeepONet", "cifar10": "cifar10-CIFAR10-SimpleCNN"}

# (identity setting, base run, changed options). A change of task, model or dataset also changes the
# default project name, so --project is pinned to the base's to make the two runs clash. None drops an
# option of the base (osc's own --hist/--pred are refused by any other task).
IDENTITY_CASES = [
    ("task", "osc", {"--task": "integral", "--project": PROJECTS["osc"], "--hist": None, "--pred": None}),
    ("model", "integral", {"--model": "TFONet", "--project": PROJECTS["integral"]}),
    ("dataset", "cifar10", {"--dataset": "CIFAR100", "--project": PROJECTS["cifar10"]}),
    ("optimizer", "osc", {"--optimizer": "Adam"}),
    ("epochs", "osc", {"--epochs": "2"}),
    ("batch_size", "osc", {"--batch-size": "32"}),
    ("lr", "osc", {"--lr": "0.02"}),
    ("infimum_lr", "osc", {"--infimum-lr": "1e-5"}),
    ("n_trials", "osc", {"--n-trials": "2"}),
    ("n_seeds", "osc", {"--n-seeds": "2"}),
    ("subset_ratio", "osc", {"--subset-ratio": "0.01"}),
    ("dtype", "osc", {"--dtype": "damped"}),
    ("hist", "osc", {"--hist": "6"}),
    ("pred", "osc", {"--pred": "6"}),
    ("n_functions", "integral", {"--n-functions": "30"}),
    ("sampler_seed", "osc", {"--sampler-seed": "1"}),
    ("pruner", "osc", {"--pruner": "median"}),
    ("precision", "osc", {"--precision": "bf16"}),
]


def command(options: dict[str, str | None], out: Path, data: Path) -> list[str]:
    args = [part for item in options.items() if item[1] is not None for part in item]
    return [*args, "--skip-lr-free", "--out", str(out), "--data-dir", str(data)]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def bases(tmp_path_factory, one_torch_thread) -> dict[str, tuple[Path, Path]]:
    """task -> (finished output folder, data folder)."""
    import torchvision.datasets.cifar

    root = tmp_path_factory.mktemp("bases")
    write_cifar(root / "data", "CIFAR10", per_file=4)
    found = {}
    with pytest.MonkeyPatch.context() as patch:  # tiny CIFAR fixtures cannot match the official md5 sums
        patch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: Path(path).is_file())
        for task, options in BASES.items():
            out = root / task
            assert run_cli(*command(options, out, root / "data")) == 0, task
            assert json.loads((out / "report.json").read_text())["mean_final_val_loss"]["C"]
            found[task] = (out, root / "data")
    return found


@pytest.mark.parametrize("setting, task, change", IDENTITY_CASES, ids=[c[0] for c in IDENTITY_CASES])
def test_changed_identity_setting_is_refused(bases, tmp_path: Path, capsys, setting: str, task: str,
                                             change: dict[str, str]) -> None:
    base, data = bases[task]
    out = tmp_path / "out"
    shutil.copytree(base, out)
    before = snapshot(out)
    capsys.readouterr()
    code = run_cli(*command({**BASES[task], **change}, out, data))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    flag = "--" + setting.replace("_", "-")
    assert re.search(rf"{flag}(?![\w-])", err), f"{flag} not named in: {err}"
    assert snapshot(out) == before


def test_the_cases_cover_every_identity_setting_once() -> None:
    settings = [case[0] for case in IDENTITY_CASES]
    assert sorted(settings) == sorted({
        "task", "model", "dataset", "optimizer", "epochs", "batch_size", "lr", "infimum_lr", "n_trials", "n_seeds",
        "subset_ratio", "dtype", "hist", "pred", "n_functions", "sampler_seed", "pruner", "precision"})


def _trials(out: Path, phase: str, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(default_url(out))
    try:
        return optuna.load_study(study_name=f"{PROJECTS['osc']}/{phase}/{name}", storage=storage).get_trials()
    except KeyError:
        return []


def _fingerprint(trial: optuna.trial.FrozenTrial) -> tuple:
    return (trial.number, trial.state, trial.params, trial.values, trial.intermediate_values, trial.datetime_start,
            trial.datetime_complete, json.dumps(trial.user_attrs, sort_keys=True, default=str))


def test_growing_budgets_seeds_and_schedulers_trains_only_the_new_runs(bases, tmp_path: Path) -> None:
    base, data = bases["osc"]
    out = tmp_path / "out"
    shutil.copytree(base, out)
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
