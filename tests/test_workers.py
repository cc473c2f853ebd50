"""Several workers on one storage: claims, staleness, and no run trained twice."""

from __future__ import annotations

import collections
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

import runner.units
from errors import UserError
from runner import claims
from runner.progress import Progress
from runner.units import idle, work_through
from runstate.storage import finish, open_storage, study_name
from tests.processes import HANG_SECONDS, claims_held, freeze_when, thaw, units_finished_by, wait_until
from tests.support.cli import ROOT, command, run_cli
from tests.support.tiny_runs import TINY_OSC


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
                              text=True, timeout=HANG_SECONDS).stdout)
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
        # tagged a moment ago, first beat not stored yet: as old as the trial (was read as dead, and a
        # rival then trained the same unit)
        "tagged, no beat yet": (_trial_with(study, worker="elsewhere:42:y"), True),
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
                          check=True, timeout=HANG_SECONDS).stdout.strip() for _ in range(2)]
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

    def stored_beat() -> float:
        return study.get_trials()[0].user_attrs["alive"]

    with claims.heartbeat(trial):
        beats = [stored_beat()]
        for _ in range(2):  # two beats after the first stamp, however long the machine takes to run them
            beats.append(wait_until(lambda: (beat := stored_beat()) != beats[-1] and beat, "a heartbeat"))
    assert beats == sorted(beats) and len(set(beats)) == 3


def test_an_idle_worker_polls_as_often_as_the_heartbeat(monkeypatch) -> None:
    """A waiting worker sleeps one heartbeat interval (0.1 s here), not POLL_SECONDS, between looks."""
    monkeypatch.setenv(claims.HEARTBEAT_ENV, "0.1")
    monkeypatch.setenv(claims.STALE_ENV, "60")
    study = optuna.create_study()
    rival = study.ask()
    for key, value in {"unit": "a", "worker": "elsewhere:1:z", "alive": time.time(), "claimed": True}.items():
        rival.set_user_attr(key, value)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the rival finishes while this worker waits
        slept.append(seconds)
        finish(study, rival, "complete", value=1.0)

    monkeypatch.setattr(runner.units.time, "sleep", sleep)
    looks = 1
    while not work_through(study, {"a": 1}, lambda t: t.user_attrs.get("unit"),
                           lambda unit: pytest.fail("unit was held"), Progress(1, io.StringIO(), live=False)):
        idle()
        looks += 1
    assert slept == [0.1] and looks == 2  # was a 5 s sleep whatever the heartbeat


def test_an_interrupt_while_a_claim_is_asked_still_marks_it_interrupted(ctrl_c_raises: None) -> None:
    """study.ask stores a RUNNING trial before it returns it; a Ctrl-C in between left that trial
    RUNNING with no one to mark it (a killed pool's rerun then found a unit "left running")."""
    study = optuna.create_study()

    def ask_then_ctrl_c() -> optuna.Trial:
        trial = study.ask()
        signal.raise_signal(signal.SIGINT)  # Ctrl-C after the trial is stored, before ask returns
        return trial

    with pytest.raises(KeyboardInterrupt):
        with claims.claim(study, ask_then_ctrl_c, {"unit": "a"}, lambda t: t.user_attrs.get("unit") == "a"):
            pytest.fail("an interrupted claim must not run its unit")
    [trial] = study.get_trials()
    assert (trial.state, trial.user_attrs["status"]) == (optuna.trial.TrialState.FAIL, "interrupted")


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


TINY = ["--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--epochs", "2", *TINY_OSC]


@pytest.mark.multiprocess
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_two_concurrent_workers_share_one_scheduler_without_duplicates(request, tmp_path: Path, kind: str) -> None:
    """Both take part by arrangement: the first is frozen holding a unit until the second has finished one."""
    url = request.getfixturevalue(f"{kind}_url")
    # A 0.5 s heartbeat: a worker waiting on the other's claim polls every 0.5 s, not every 5 s. Staleness
    # far above any freeze: the frozen worker's claim must stay live.
    env = {**os.environ, claims.HEARTBEAT_ENV: "0.5", claims.STALE_ENV: "3600", "OMP_NUM_THREADS": "1"}
    args = command(*TINY, "--n-trials", "3", "--epoch-budgets", "2,3", "--compare-seeds", "3", "--storage", url,
                   "--data-dir", tmp_path / "data", "--log-every", "0")

    def start(i: int) -> subprocess.Popen:
        return subprocess.Popen([*args, "--out", str(tmp_path / f"w{i}")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    workers = [start(0)]
    try:
        freeze_when([workers[0].pid], lambda: claims_held(url, [workers[0].pid]), "the first worker's first claim",
                    storage=url)
        workers.append(start(1))
        wait_until(lambda: units_finished_by(url, workers[1].pid), "the second worker to finish a unit")
        thaw([workers[0].pid])
        logs = [w.communicate(timeout=HANG_SECONDS)[0] for w in workers]
    finally:
        thaw([w.pid for w in workers])
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.communicate(timeout=HANG_SECONDS)
    assert [w.returncode for w in workers] == [0, 0], logs

    storage = open_storage(url)
    project = "osc-LSTM_Seq2Seq"
    tuned = optuna.load_study(study_name=study_name(project, "tune", "C"), storage=storage).get_trials()
    finished = [t.user_attrs["index"] for t in tuned if t.user_attrs.get("status") == "complete"]
    assert sorted(finished) == [0, 1, 2]
    compared = optuna.load_study(study_name=study_name(project, "compare", "C"), storage=storage).get_trials()
    runs = collections.Counter((t.user_attrs["budget"], t.user_attrs["seed"]) for t in compared
                               if t.user_attrs.get("status") == "complete")
    assert runs == {(b, s): 1 for b in (2, 3) for s in (1, 2, 3)}
    # Both workers did part of the work: each log names runs the other did not train.
    trained = [{line.split(":")[0] for line in log.splitlines() if line.startswith("[phase") and
                (" trial " in line or " run " in line)} for log in logs]  # not notes such as prefix sharing
    assert trained[0] and trained[1] and not (trained[0] & trained[1])
    if kind == "postgresql":
        storage.engine.dispose()


_OPEN_AT_ONCE = """
import pathlib, sys, time
from runstate.storage import open_storage
folder, me, url = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
for round_ in range(int(sys.argv[4])):
    (folder / f"ready{round_}-{me}").touch()
    while not (folder / f"go{round_}").exists():
        time.sleep(0.002)
    open_storage(url, for_writing=True).engine.dispose()
"""


@pytest.mark.multiprocess
@pytest.mark.slow
def test_workers_starting_at_once_on_a_fresh_postgresql_database_all_open_it(postgresql_url: str,
                                                                              tmp_path: Path) -> None:
    """The first workers on an empty database create Optuna's tables at the same moment; none may fail.

    PostgreSQL's CREATE TABLE IF NOT EXISTS is not atomic: a concurrent creator can get a UniqueViolation
    on pg_type_typname_nsp_index (most rounds do when nothing serialises the creation). The processes
    import first and then start each round together; between rounds the database is emptied again."""
    import psycopg

    workers, rounds = 4, 3
    processes = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, str(tmp_path), str(i), postgresql_url,
                                   str(rounds)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for i in range(workers)]
    try:
        for round_ in range(rounds):
            deadline = time.time() + HANG_SECONDS
            while time.time() < deadline and all(p.poll() is None for p in processes) and not all(
                    (tmp_path / f"ready{round_}-{i}").exists() for i in range(workers)):
                time.sleep(0.01)
            if any(p.poll() is not None for p in processes):
                break  # one failed: the others now wait for nothing and are killed below
            if round_:  # every worker finished the last round: empty the database for the next
                with psycopg.connect(postgresql_url, autocommit=True) as admin:
                    admin.execute("DROP SCHEMA public CASCADE")
                    admin.execute("CREATE SCHEMA public")
            (tmp_path / f"go{round_}").touch()
        else:
            [p.wait(timeout=HANG_SECONDS) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    logs = [p.communicate(timeout=HANG_SECONDS)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * workers, logs


@pytest.mark.slow
def test_a_stale_claim_from_another_machine_is_redone_exactly_once(journal_url: str, tmp_path: Path, monkeypatch,
                                                                   one_torch_thread) -> None:
    """A RUNNING claim whose worker (on another host, in another PID namespace) stopped beating an hour ago."""
    monkeypatch.delenv(claims.STALE_ENV, raising=False)  # the default: stale after 300 s
    project, params = "osc-LSTM_Seq2Seq", {"lr": 0.01, "infimum_lr": 1e-06}  # C's defaults: trial 0's parameters
    lost = {"worker": "lost-host:4242:0123456789ab", "pid_namespace": "other-boot/4026531836",
            "alive": time.time() - 3600, "claimed": True}
    units = {study_name(project, "tune", "C"): {"index": 0},  # Phase 1's only trial
             study_name(project, "compare", "C"): {"budget": 2, "seed": 1, "params": params}}  # a Phase 2 run
    storage = open_storage(journal_url)
    seeded = {}
    for name, unit in units.items():
        study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
        seeded[name] = _trial_with(study, **lost, **unit).number

    assert run_cli(*TINY, "--n-trials", "1", "--epoch-budgets", "1,2", "--compare-seeds", "1",
                   "--storage", journal_url, "--out", tmp_path / "out", "--data-dir", tmp_path / "data",
                   ) == 0  # a bug that waits on the lost claim forever fails here (run_cli's limit)

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["optimization"]["C"]["best_params"] == params  # so the seeded Phase 2 claim is a real unit
    assert report["per_budget_results"]["C"]["2"]["seeds"] == [1]
    storage = open_storage(journal_url)
    for name, unit in units.items():
        trials = optuna.load_study(study_name=name, storage=storage).get_trials()
        left = trials[seeded[name]]
        assert left.state == optuna.trial.TrialState.RUNNING and left.user_attrs == {**lost, **unit}
        redone = [t for t in trials if t.number != left.number
                  and all(t.user_attrs.get(key) == value for key, value in unit.items())]
        assert [(t.state, t.user_attrs["status"]) for t in redone] == [(optuna.trial.TrialState.COMPLETE, "complete")]


@pytest.mark.multiprocess
@pytest.mark.slow
def test_a_killed_zombie_workers_unit_is_taken_over_once_stale(tmp_path: Path) -> None:
    """SIGKILLed and never waited for, the victim's PID still exists: only its heartbeat can tell it died."""
    journal = tmp_path / "journal.log"
    env = {**os.environ, claims.HEARTBEAT_ENV: "0.2", claims.STALE_ENV: "2"}
    args = command("--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--n-trials", "1",
                   "--compare-seeds", "1", "--epoch-budgets", "2,3", "--storage", f"journal:{journal}",
                   "--data-dir", tmp_path / "data")
    victim = subprocess.Popen([*args, "--out", str(tmp_path / "victim")], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # frozen while the storage is read: the claim seen is one it dies holding, not one it finished meanwhile
        [(study, held)] = freeze_when([victim.pid], lambda: claims_held(f"journal:{journal}", [victim.pid]),
                                      "the victim's first claim", storage=f"journal:{journal}")
        os.kill(victim.pid, signal.SIGKILL)  # no wait(): a zombie, so its PID stays taken
        survivor = subprocess.run([*args, "--out", str(tmp_path / "survivor")], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=HANG_SECONDS)  # stalls if the zombie holds on
        assert survivor.returncode == 0, survivor.stderr
    finally:
        if victim.poll() is None:  # the test failed before the kill: do not wait for a whole run
            victim.kill()
        victim.wait(timeout=HANG_SECONDS)
    trials = optuna.load_study(study_name=study, storage=open_storage(f"journal:{journal}")).get_trials()
    assert trials[held.number].state == optuna.trial.TrialState.RUNNING  # the victim's claim, never finished
    keys = ("index",) if "/tune/" in study else ("budget", "seed")

    def unit(trial: optuna.trial.FrozenTrial) -> tuple:
        return tuple(trial.user_attrs.get(key) for key in keys)

    assert [unit(t) for t in trials if t.user_attrs.get("status") == "complete"].count(unit(held)) == 1
    assert (tmp_path / "survivor" / "report.json").is_file()
