"""The typed records of a run's units: the keys the runner writes are the ones the report reads,
and storages of earlier versions read back with the values those versions meant."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna

from runstate import storage as store
from runstate.records import CURVE_KEYS, Claim, TrainedRun, TransferOrigin, TuningTrial, write
from runstate.storage import StudyName
from tasks.training import RunRecord

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_the_stored_curves_are_a_run_records_fields_but_its_status() -> None:
    assert list(CURVE_KEYS) == [f.name for f in dataclasses.fields(RunRecord) if f.name != "status"]


def _stored(attrs: dict) -> optuna.trial.FrozenTrial:
    study = optuna.create_study()
    trial = study.ask()
    write(trial, attrs)
    return study.get_trials(deepcopy=False)[0]


def test_a_transfer_run_reads_back_what_was_written() -> None:
    curves = {key: None for key in CURVE_KEYS} | {"val_loss": [1.0, 0.5], "wall_time": 2.0}
    run = TrainedRun(budget=2, seed=1, params={"lr": 0.02}, device="cpu",
                     transfer=TransferOrigin(2.0, {"lr": 0.01}, "lr"))
    done = dataclasses.replace(run, curves=curves, epochs_trained=2, checkpoint_seconds=0.5)
    trial = _stored({**run.claim_attrs(), **Claim(worker="h:1:t", alive=1.0).tag_attrs(), **done.result_attrs()})
    assert list(run.claim_attrs()) == ["multiplier", "tuned_params", "step_param", "budget", "seed", "params",
                                       "device"]
    assert TrainedRun.from_trial(trial) == done
    assert Claim.from_trial(trial) == Claim(worker="h:1:t", alive=1.0)


def test_a_tuning_trial_reads_back_its_index_and_runs() -> None:
    trial = _stored({**TuningTrial(index=3, device="cuda:1").claim_attrs(), "runs": [{"seed": 1, "wall_time": 1.5}]})
    assert TuningTrial.from_trial(trial) == TuningTrial(index=3, device="cuda:1", runs=[{"seed": 1, "wall_time": 1.5}])


def test_runs_of_the_first_version_read_back_as_it_meant_them() -> None:
    """The legacy run stored no device, no epochs trained and no checkpoint time: every epoch was trained."""
    storage = store.open_storage(store.default_url(FIXTURES / "legacy-run"))
    trials = store.trials(storage, store.study_name("osc-LSTM_Seq2Seq", "compare", "H"))
    runs = [TrainedRun.from_trial(t) for t in trials]
    assert [(r.budget, r.seed, r.epochs_trained, r.device, r.status) for r in runs] == [
        (3, 1, 3, None, "complete"), (3, 2, 3, None, "complete"), (6, 1, 6, None, "complete"),
        (6, 2, 6, None, "complete")]
    assert all(r.transfer is None and r.checkpoint_seconds is None and r.as_dict()["checkpoint_seconds"] == 0.0
               for r in runs)


def test_study_names_build_and_parse_in_one_place() -> None:
    names = [StudyName("p", "tune", "C"), StudyName("p", "compare", "H"), StudyName("p", "transfer", "C", 0.25)]
    assert [str(n) for n in names] == ["p/tune/C", "p/compare/H", "p/transfer/C/x0.25"]
    assert [StudyName.parse(str(n), "p") for n in names] == names
    assert [StudyName.parse(text, "p") for text in ("p/meta", "q/tune/C", "p/transfer/C/xbad")] == [None] * 3
    storage = store.open_storage(store.default_url(FIXTURES / "golden-run"))
    transfer = [s for s in store.studies(storage, "osc-LSTM_Seq2Seq") if s.phase == "transfer" and s.contender == "C"]
    assert [s.multiplier for s in transfer] == [0.5, 2.0]
