"""Several workers on one storage: claims, staleness, and no run trained twice."""

from __future__ import annotations

import collections
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest

from errors import UserError
from results.storage import finish, open_storage, study_name
from runner import claims
from runner.progress import Progress
from runner.worker import work_through

ROOT = Path(__file__).resolve().parents[1]


def _trial_with(study: optuna.Study, **attrs) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    return study.get_trials(deepcopy=False)[trial.number]


def test_claim_liveness(monkeypatch) -> None:
    """A claim is live while its heartbeat is fresh; a PID only ever proves death, in its own namespace."""
    monkeypatch.setenv(claims.STALE_ENV, "60")
    study = optuna.create_study()
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    now, here, host, pid = time.time(), claims.pid_namespace(), socket.gethostname(), os.getpid()
    cases = {  # this process's PID with another token: another process in another namespace, or a reused PID
        "same pid, fresh": (_trial_with(study, worker=f"{host}:{pid}:x", pid_namespace=here, alive=now), True),
        "same pid, stale": (_trial_with(study, worker=f"{host}:{pid}:x", pid_namespace=here, alive=now - 61), False),
        "dead pid here": (_trial_with(study, worker=f"{host}:{dead}:x", pid_namespace=here, alive=now), False),
        "dead pid, other namespace": (_trial_with(study, worker=f"{host}:{dead}:x", pid_namespace="b/1", alive=now),
                                      True),
        "old host:pid claim": (_trial_with(study, worker=f"{host}:{dead}", alive=now), True),
        "mine": (_trial_with(study, worker=claims.worker_id(), alive=now), False),
        "remote fresh": (_trial_with(study, worker="elsewhere:42:y", alive=now - 10), True),
        "remote stale": (_trial_with(study, worker="elsewhere:42:y", alive=now - 61), False),
        "unclaimed": (_trial_with(study), False),
    }
    assert {name: claims.is_live(t, now) for name, (t, _) in cases.items()} == {
        name: live for name, (_, live) in cases.items()}
    finished = _trial_with(study, worker="elsewhere:42:y", alive=now)
    study.tell(finished.number, 1.0)
    assert not claims.is_live(study.get_trials()[finished.number], now)


def test_worker_ids_are_one_per_process_even_with_the_same_pid() -> None:
    assert claims.worker_id() == claims.worker_id()
    as_pid_1 = "import os; os.getpid = lambda: 1; from runner.claims import worker_id; print(worker_id())"
    ids = [subprocess.run([sys.executable, "-c", as_pid_1], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip() for _ in range(2)]
    assert ids[0] != ids[1]
    assert all(i.startswith(f"{socket.gethostname()}:1:") for i in ids)  # readable: host:pid:token


def test_bad_heartbeat_settings_are_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv(claims.HEARTBEAT_ENV, "10")
    monkeypatch.setenv(claims.STALE_ENV, "15")
    with pytest.raises(UserError, match="must be at least twice"):
        claims.timing()
    monkeypatch.setenv(claims.STALE_ENV, "soon")
    with pytest.raises(UserError, match="EPOCHBENCH_STALE_SECONDS='soon' must be a positive number"):
        claims.timing()


def test_the_heartbeat_advances(monkeypatch) -> None:
    monkeypatch.setenv(claims.HEARTBEAT_ENV, "0.2")
    monkeypatch.setenv(claims.STALE_ENV, "1")
    study = optuna.create_study()
    trial = study.ask()
    with claims.heartbeat(trial):
        first = study.get_trials()[0].user_attrs["alive"]
        time.sleep(0.7)
        last = study.get_trials()[0].user_attrs["alive"]
    assert last - first >= 0.35  # at least two beats


def test_an_idle_worker_polls_as_often_as_the_heartbeat(monkeypatch) -> None:
    monkeypatch.setenv(claims.HEARTBEAT_ENV, "0.1")
    monkeypatch.setenv(claims.STALE_ENV, "60")
    study = optuna.create_study()
    rival = study.ask()
    for key, value in {"unit": "a", "worker": "elsewhere:1:z", "alive": time.time(), "claimed": True}.items():
        rival.set_user_attr(key, value)
    threading.Timer(0.3, finish, (study, rival, "complete"), {"value": 1.0}).start()
    start = time.time()
    work_through(study, ["a"], lambda t: t.user_attrs.get("unit"), lambda unit: pytest.fail("unit was held"),
                 lambda unit: 1, Progress(1, io.StringIO(), live=False))
    assert time.time() - start < 2  # was a 5 s sleep whatever the heartbeat


def test_lowest_live_claim_wins_and_interrupts_are_recorded() -> None:
    study = optuna.create_study()
    rival = _trial_with(study, unit="a", worker="elsewhere:1:x", alive=time.time(), claimed=True)
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


def test_a_killed_zombie_workers_unit_is_taken_over_once_stale(tmp_path: Path) -> None:
    """SIGKILLed and never waited for, the victim's PID still exists: only its heartbeat can tell it died."""
    journal = tmp_path / "journal.log"
    env = {**os.environ, claims.HEARTBEAT_ENV: "0.2", claims.STALE_ENV: "2"}
    args = [sys.executable, str(ROOT / "run_all.py"), "--task", "osc", "--preset", "smoke", "--schedulers", "C",
            "--skip-lr-free", "--n-trials", "1", "--compare-seeds", "1", "--epoch-budgets", "2,3",
            "--storage", f"journal:{journal}",
            "--data-dir", str(tmp_path / "data")]
    victim = subprocess.Popen([*args, "--out", str(tmp_path / "victim")], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        held = _wait_for_claim(journal, f":{victim.pid}:", deadline=time.time() + 300)
        os.kill(victim.pid, signal.SIGKILL)  # no wait(): a zombie, so its PID stays taken
        survivor = subprocess.run([*args, "--out", str(tmp_path / "survivor")], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)  # stalls if the zombie holds on
        assert survivor.returncode == 0, survivor.stderr
    finally:
        victim.wait()
    trials = optuna.load_study(study_name=held[0], storage=open_storage(f"journal:{journal}")).get_trials()
    assert trials[held[1]].state == optuna.trial.TrialState.RUNNING  # the victim's claim, never finished
    keys = ("index",) if "/tune/" in held[0] else ("budget", "seed")

    def unit(trial: optuna.trial.FrozenTrial) -> tuple:
        return tuple(trial.user_attrs.get(key) for key in keys)

    assert [unit(t) for t in trials if t.user_attrs.get("status") == "complete"].count(unit(trials[held[1]])) == 1
    assert (tmp_path / "survivor" / "report.json").is_file()


def _wait_for_claim(journal: Path, marker: str, deadline: float) -> tuple[str, int]:
    """(study name, trial number) of a claim whose worker id contains ``marker``, once one is stored."""
    while time.time() < deadline:
        time.sleep(0.1)
        if not journal.is_file():
            continue
        storage = open_storage(f"journal:{journal}")
        for summary in optuna.get_all_study_summaries(storage):
            for trial in optuna.load_study(study_name=summary.study_name, storage=storage).get_trials():
                if trial.state == optuna.trial.TrialState.RUNNING and "claimed" in trial.user_attrs \
                        and marker in trial.user_attrs.get("worker", ""):
                    return summary.study_name, trial.number
    raise AssertionError("the worker never claimed a unit")
