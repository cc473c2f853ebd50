"""Scale-out: --workers N, a worker joining from the storage alone, bounded retries of failing units."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
from pathlib import Path

import optuna
import pytest

from runstate import storage as store
from tests.processes import (
    HANG_SECONDS,
    as_foreground_job,
    claims_held,
    freeze_when,
    stored_trials,
    thaw,
    thaw_group_but,
    wait_until,
    worker_pid,
)
from tests.support.cli import ROOT, command, run_cli, run_process
from tests.support.refusals import BAD_WORKER_STORAGE
from tests.support.tiny_runs import OSC_N_C as TINY
from tests.support.tiny_runs import OSC_PROJECT as PROJECT

pytestmark = [pytest.mark.multiprocess, pytest.mark.slow]


def units(url: str, phase: str, name: str) -> collections.Counter:
    """How many finished trials each unit of a study has (index, or (budget, seed)); none before the storage exists."""
    if not store.exists(url):
        return collections.Counter()
    trials = store.trials(store.open_storage(url), store.study_name(PROJECT, phase, name))
    key = (lambda t: t.user_attrs["index"]) if phase == "tune" else (
        lambda t: (t.user_attrs["budget"], t.user_attrs["seed"]))
    return collections.Counter(key(t) for t in trials if store.is_finished(t))


def test_two_workers_do_every_unit_once_with_the_numbers_of_one(tmp_path: Path, finished_run) -> None:
    data = tmp_path / "data"
    done = run_process(*TINY, "--workers", "2", "--out", tmp_path / "two", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    assert "2 workers, 1 thread(s) each, on cpu" in done.stdout
    assert json.loads((tmp_path / "two" / "report.json").read_text())["environment"]["run_devices"] == {"cpu": 12}
    url = store.default_url(tmp_path / "two")
    for name in ("N", "C"):
        assert units(url, "tune", name) == {0: 1, 1: 1}
        assert units(url, "compare", name) == {(b, s): 1 for b in (2, 3) for s in (1, 2)}
    # One worker with the same single intra-op thread (CPU sums depend on the thread count): the "osc N,C" tiny run.
    one = finished_run("osc N,C") / "out"
    assert (tmp_path / "two" / "curves.csv").read_text() == (one / "curves.csv").read_text()


def test_tpe_past_its_random_start_samples_as_in_a_serial_run(tmp_path: Path, one_torch_thread) -> None:
    """Trials that see the history (index >= TPE_STARTUP) wait for every earlier trial, so two
    workers ask TPE on exactly the history one worker had: same parameters, same values."""
    from runner.tuning import TPE_STARTUP

    args = [*TINY, "--schedulers", "C", "--n-trials", str(TPE_STARTUP + 3), "--epochs", "1", "--skip-compare",
            "--data-dir", tmp_path / "data"]
    url = store.default_url(tmp_path / "two")
    pool = subprocess.Popen(command(*args, "--workers", "2", "--out", tmp_path / "two"), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:  # both take part by arrangement: the first worker to claim a trial is held until another finishes one
        held = freeze_when([pool.pid], lambda: claims_held(url), "the first claim", group=True, storage=url)
        first = worker_pid(held[0][1])  # both may have claimed one by the first look: one is held back
        thaw_group_but(pool.pid, first)
        wait_until(lambda: [t for _, t in stored_trials(url) if t.state.is_finished() and worker_pid(t) != first],
                   "another worker to finish a trial")
        thaw([first])
        _, err = pool.communicate(timeout=HANG_SECONDS)
    finally:
        thaw([pool.pid], group=True)
        if pool.poll() is None:
            os.killpg(pool.pid, signal.SIGKILL)
            pool.communicate(timeout=HANG_SECONDS)
    assert pool.returncode == 0, err
    assert run_cli(*args, "--out", tmp_path / "one") == 0

    def sampled(folder: Path) -> dict[int, tuple]:
        trials = store.trials(store.open_storage(store.default_url(folder)), store.study_name(PROJECT, "tune", "C"))
        return {t.user_attrs["index"]: (t.params, t.value) for t in trials if store.is_finished(t)}

    two, one = sampled(tmp_path / "two"), sampled(tmp_path / "one")
    assert sorted(two) == list(range(TPE_STARTUP + 3)) and two == one
    workers = {t.user_attrs["worker"] for t in store.trials(store.open_storage(url),
                                                            store.study_name(PROJECT, "tune", "C"))}
    assert len(workers) == 2


def test_a_worker_joins_a_run_from_its_storage_alone(tmp_path: Path, one_torch_thread) -> None:
    url = f"journal:{tmp_path}/run.journal"
    started = subprocess.Popen(command(*TINY, "--storage", url, "--out", tmp_path / "out", "--data-dir",
                                       tmp_path / "data"), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    freeze_when([started.pid], lambda: units(url, "tune", "N"), "the first finished unit", storage=url)
    started.send_signal(signal.SIGKILL)  # the starting process is gone after its first unit
    started.wait(timeout=HANG_SECONDS)
    assert not (tmp_path / "out" / "report.json").exists()

    assert run_cli("worker", "--storage", url, "--project", PROJECT) == 0
    assert units(url, "compare", "C") == {(b, s): 1 for b in (2, 3) for s in (1, 2)}
    report = json.loads((tmp_path / "out" / "report.json").read_text())  # the stored --out
    assert report["config"]["hist"] == 5 and set(report["mean_final_val_loss"]) == {"N", "C"}


@pytest.mark.parametrize("args, message", BAD_WORKER_STORAGE)
def test_worker_bad_storage_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_process("worker", *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_worker_for_a_project_not_in_the_storage_is_one_line(tmp_path: Path, one_torch_thread) -> None:
    url = f"journal:{tmp_path}/run.journal"
    assert run_cli(*TINY, "--schedulers", "N", "--skip-compare", "--storage", url, "--out", tmp_path / "out",
                   "--data-dir", tmp_path / "data") == 0
    before = Path(url[8:]).read_bytes()
    done = run_process("worker", "--storage", url, "--project", "nope")
    assert done.returncode == 2 and done.stderr.strip() == (
        f"error: project 'nope' is not in {url}; found: {PROJECT}")
    assert Path(url[8:]).read_bytes() == before


def test_a_unit_that_always_fails_is_retried_then_recorded_and_the_run_completes(
        tmp_path: Path, monkeypatch, one_torch_thread) -> None:
    import runner.comparison

    real = runner.comparison.train_run

    def broken_at_budget_3_seed_1(ctx, trainer, *rest):
        if trainer.config.epochs == 3 and trainer.config.seed == 1:
            raise RuntimeError("simulated fault in this unit")
        return real(ctx, trainer, *rest)

    monkeypatch.setattr(runner.comparison, "train_run", broken_at_budget_3_seed_1)
    out = tmp_path / "out"
    assert run_cli(*TINY, "--schedulers", "C", "--max-retries", "1", "--out", out, "--data-dir",
                   tmp_path / "data") == 0
    trials = [t for t in store.trials(store.open_storage(store.default_url(out)), f"{PROJECT}/compare/C")
              if (t.user_attrs["budget"], t.user_attrs["seed"]) == (3, 1)]
    assert [t.user_attrs["status"] for t in trials] == ["error", "error", "failed"]
    cause = "exception: RuntimeError: simulated fault in this unit"
    assert trials[-1].user_attrs["retry_of"] == [cause, cause]
    assert trials[-1].user_attrs["reason"].startswith("gave up after 2 failed attempts")
    report = json.loads((out / "report.json").read_text())
    assert report["faults"]["C"][-1] == {"phase": "compare", "unit": "3/1", "retry_of": [cause, cause],
                                         "status": "failed", "reason": trials[-1].user_attrs["reason"]}
    assert report["per_budget_results"]["C"]["3"]["seeds"] == [2]  # the other runs completed
    assert report["per_budget_results"]["C"]["2"]["seeds"] == [1, 2]


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_a_killed_worker_loses_nothing_and_its_retry_is_recorded(request, tmp_path: Path, kind: str) -> None:
    url = request.getfixturevalue(f"{kind}_url")
    args = command(*TINY, "--storage", url, "--data-dir", tmp_path / "data")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    victim = subprocess.Popen([*args, "--out", str(tmp_path / "victim")], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = kill_holding_a_unit(victim, url)
    survivor = subprocess.run([*args, "--out", str(tmp_path / "survivor")], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=HANG_SECONDS)
    assert survivor.returncode == 0, survivor.stderr
    for name in ("N", "C"):
        assert units(url, "compare", name) == {(b, s): 1 for b in (2, 3) for s in (1, 2)}  # none lost or doubled
    faults = json.loads((tmp_path / "survivor" / "report.json").read_text())["faults"]
    for name, unit in killed:
        assert [f for f in faults[name] if f["unit"] == unit] == [
            {"phase": "compare", "unit": unit, "retry_of": ["killed"], "status": "complete", "reason": None}]


def kill_holding_a_unit(victim: subprocess.Popen, url: str, epochs_left: int = 2) -> list[tuple[str, str]]:
    """SIGKILL the victim while it holds a Phase 2 unit and return the units it held.

    The victim is frozen (SIGSTOP) whenever the storage is read, and killed holding units with at
    least ``epochs_left`` epochs to go: then no write it had already sent (to a PostgreSQL server,
    which may apply it after the freeze) can be the one that finishes the unit."""
    def held() -> list[tuple[str, str]]:
        return [(name.rsplit("/", 1)[1], f"{t.user_attrs['budget']}/{t.user_attrs['seed']}")
                for name, t in claims_held(url, [victim.pid])
                if "/compare/" in name and t.user_attrs["budget"] - len(t.intermediate_values) >= epochs_left]

    try:
        killed = freeze_when([victim.pid], held, "the victim to hold a Phase 2 unit", storage=url)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=HANG_SECONDS)
    return killed


@pytest.mark.parametrize("stop, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_a_stopped_pool_stops_every_worker_and_the_same_command_resumes(tmp_path: Path, stop: signal.Signals,
                                                                      status: int) -> None:
    """Ctrl-C, or a SIGTERM to the whole process group (systemd, Docker, Slurm; the fork server
    ignores it, so the parent can follow its workers): every unit is stopped as interrupted, which
    uses up no retry, and the same command finishes the run."""
    args = command(*TINY, "--workers", "2", "--out", tmp_path / "out", "--data-dir", tmp_path / "data")
    pool = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=as_foreground_job)  # as a terminal's foreground job
    url = store.default_url(tmp_path / "out")
    freeze_when([pool.pid], lambda: units(url, "tune", "N"), "the first finished unit", group=True, storage=url)
    os.killpg(pool.pid, stop)  # Ctrl-C sends SIGINT to the parent and both workers: delivered as they resume
    thaw([pool.pid], group=True)
    err = pool.communicate(timeout=HANG_SECONDS)[1]
    assert pool.returncode == status and "run the same command again to resume" in err
    assert not (tmp_path / "out" / "report.json").exists()
    assert_the_same_command_finishes_without_faults(args, tmp_path / "out")


def test_a_killed_pool_parent_takes_its_workers_with_it(tmp_path: Path) -> None:
    """A SIGKILL (the OOM killer) reaches the parent alone: its workers stop as on Ctrl-C instead of
    training on unseen beside the pool a rerun starts, and the same command finishes the run.

    The parent is killed while the pool is frozen with a worker at the start of a 40-epoch unit:
    that unit is stopped (interrupted), not finished, once the worker sees its parent gone."""
    args = command(*TINY, "--epoch-budgets", "2,40", "--workers", "2", "--out", tmp_path / "out",
                   "--data-dir", tmp_path / "data")
    pool = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = store.default_url(tmp_path / "out")
    try:
        freeze_when([pool.pid], lambda: [t for name, t in claims_held(url) if "/compare/" in name
                                         and t.user_attrs["budget"] - len(t.intermediate_values) >= 30],
                    "a worker at the start of a long unit", group=True, storage=url)
        pool.kill()
        pool.wait(timeout=HANG_SECONDS)
    finally:
        thaw([pool.pid], group=True)
    wait_until(lambda: not group_alive(pool.pid), "the fork server and both workers to exit")
    storage = store.open_storage(url)
    statuses = collections.Counter(t.user_attrs.get("status") if t.state != optuna.trial.TrialState.RUNNING
                                   else "left running" for name in ("N", "C") for phase in ("tune", "compare")
                                   for t in store.trials(storage, store.study_name(PROJECT, phase, name)))
    reasons = [t.user_attrs.get("reason") for name in ("N", "C") for phase in ("tune", "compare")
               for t in store.trials(storage, store.study_name(PROJECT, phase, name))
               if t.user_attrs.get("status") == "error"]
    # stopped, not finished unseen (an "error" names its cause: one was seen under load, cause unknown)
    assert statuses["interrupted"] >= 1 and statuses["left running"] == 0, (statuses, reasons)
    assert_the_same_command_finishes_without_faults(args, tmp_path / "out", budgets=(2, 40))


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def assert_the_same_command_finishes_without_faults(args: list[str], out: Path, budgets=(2, 3)) -> None:
    """Stopped units are "interrupted", which is no fault: the rerun trains each unit exactly once more."""
    done = run_process(*args[2:])
    assert done.returncode == 0, done.stderr
    url = store.default_url(out)
    for name in ("N", "C"):
        assert units(url, "tune", name) == {0: 1, 1: 1}
        assert units(url, "compare", name) == {(b, s): 1 for b in budgets for s in (1, 2)}
    assert json.loads((out / "report.json").read_text())["faults"] == {}
