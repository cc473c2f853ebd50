"""Several workers on one storage: claims, staleness, and no run trained twice."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from results.storage import open_storage, study_name
from runner import claims

ROOT = Path(__file__).resolve().parents[1]


def _trial_with(study: optuna.Study, **attrs) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    return study.get_trials(deepcopy=False)[trial.number]


def test_claim_liveness() -> None:
    study = optuna.create_study()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    now = time.time()
    here_dead = _trial_with(study, worker=f"{claims.HOST}:{int(dead.stdout)}", alive=now)
    here_alive = _trial_with(study, worker=f"{claims.HOST}:1", alive=0.0)  # pid 1 always runs
    mine = _trial_with(study, worker=claims.worker_id(), alive=now)
    remote_fresh = _trial_with(study, worker="elsewhere:42", alive=now - 10)
    remote_stale = _trial_with(study, worker="elsewhere:42", alive=now - claims.STALE_AFTER - 1)
    unclaimed = _trial_with(study)
    assert [claims.is_live(t, now) for t in (here_dead, here_alive, mine, remote_fresh, remote_stale, unclaimed)] == [
        False, True, False, True, False, False]
    finished = _trial_with(study, worker="elsewhere:42", alive=now)
    study.tell(finished.number, 1.0)
    assert not claims.is_live(study.get_trials()[finished.number], now)


def test_lowest_live_claim_wins_and_interrupts_are_recorded() -> None:
    study = optuna.create_study()
    rival = _trial_with(study, unit="a", worker="elsewhere:1", alive=time.time(), claimed=True)
    with claims.claim(study, study.ask, {"unit": "a"}, lambda t: t.user_attrs.get("unit") == "a") as trial:
        assert trial is None  # the older live claim keeps the unit
    assert study.get_trials()[-1].user_attrs["status"] == "yielded"
    with pytest.raises(KeyboardInterrupt):
        with claims.claim(study, study.ask, {"unit": "b"}, lambda t: t.user_attrs.get("unit") == "b") as trial:
            assert trial is not None
            raise KeyboardInterrupt
    last = study.get_trials()[-1]
    assert last.user_attrs["status"] == "interrupted" and last.state == optuna.trial.TrialState.FAIL
    assert study.get_trials()[rival.number].state == optuna.trial.TrialState.RUNNING


def test_two_concurrent_workers_share_one_scheduler_without_duplicates(tmp_path: Path) -> None:
    url = f"journal:{tmp_path}/journal.log"
    args = [sys.executable, str(ROOT / "run_all.py"), "--task", "osc", "--preset", "smoke", "--schedulers", "C",
            "--skip-lr-free", "--n-trials", "3", "--epoch-budgets", "3,5", "--compare-seeds", "3",
            "--storage", url, "--data-dir", str(tmp_path / "data")]
    workers = [subprocess.Popen([*args, "--out", str(tmp_path / f"w{i}")], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for i in range(2)]
    logs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs

    storage = open_storage(url)
    project = "osc-LSTM_Seq2Seq"
    tuned = optuna.load_study(study_name=study_name(project, "tune", "C"), storage=storage).get_trials()
    finished = [t.user_attrs["index"] for t in tuned if t.user_attrs.get("status") == "complete"]
    assert sorted(finished) == [0, 1, 2]
    compared = optuna.load_study(study_name=study_name(project, "compare", "C"), storage=storage).get_trials()
    runs = collections.Counter((t.user_attrs["budget"], t.user_attrs["seed"]) for t in compared
                               if t.user_attrs.get("status") == "complete")
    assert runs == {(b, s): 1 for b in (3, 5) for s in (1, 2, 3)}
    # Both workers did part of the work: each log names runs the other did not train.
    trained = [{line.split(":")[0] for line in log.splitlines() if line.startswith("[phase")} for log in logs]
    assert trained[0] and trained[1] and not (trained[0] & trained[1])
