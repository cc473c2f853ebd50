"""`launch` on a real single-node SLURM (.ci/slurm-up): a job array, cancel and relaunch, a time limit
and requeue, bad input. Without a controller these skip, unless EPOCHBENCH_REQUIRE_SLURM=1 (CI): then they fail."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runstate import storage as store
from tests.processes import claims_held, wait_until
from tests.support.cli import run_cli, run_process
from tests.support.tiny_runs import OSC_N_C as TINY
from tests.support.tiny_runs import OSC_PROJECT as PROJECT
from tests.support.tiny_runs import TINY_OSC

REQUIRE = "EPOCHBENCH_REQUIRE_SLURM"


@pytest.fixture
def slurm() -> None:
    """A SLURM controller that answers, or skip (fail where EPOCHBENCH_REQUIRE_SLURM=1) saying why not."""
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
        reason = None if done.returncode == 0 and done.stdout.strip() else (done.stderr.strip() or "no nodes")
    except (OSError, subprocess.TimeoutExpired) as err:
        reason = str(err)
    if reason is not None:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but no SLURM controller answers: {reason}")
        pytest.skip(f"no SLURM controller answers ({reason}); .ci/slurm-up starts one")


def units(url: str) -> collections.Counter:
    """How many finished trials each unit of the run has: (study, index or (budget, seed))."""
    storage = store.open_storage(url)
    return collections.Counter(
        (s.study_name, t.user_attrs.get("index", (t.user_attrs.get("budget"), t.user_attrs.get("seed"))))
        for s in storage.get_all_studies() if s.study_name.startswith(f"{PROJECT}/")
        for t in store.trials(storage, s.study_name) if store.is_finished(t))


def statuses(url: str) -> collections.Counter:
    storage = store.open_storage(url)
    return collections.Counter(t.user_attrs.get("status") for s in storage.get_all_studies()
                               for t in store.trials(storage, s.study_name) if s.study_name.startswith(PROJECT))


def sacct(job: str) -> list[str]:
    """A job's states in the accounting, one per run of it (-D: a requeued job's earlier runs too), without
    details ("CANCELLED by 0" is CANCELLED)."""
    out = subprocess.run(["sacct", "-D", "-n", "-X", "-P", "-j", job, "-o", "State"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def launched(out: Path) -> list[str]:
    return [job for launch in json.loads((out / "jobs" / "jobs.json").read_text()) for job in launch["job_ids"]]


pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]  # one after another:
# the node's 2 CPUs hold two jobs, and a test's jobs waiting for another test's would change nothing but time


def test_a_two_job_array_trains_every_unit_once_with_the_numbers_of_one_worker(tmp_path, slurm, finished_run):
    done = run_process("launch", *TINY, "--jobs", "2", "--out", tmp_path / "out", "--data-dir", tmp_path / "data",
                       "--log-every", "0")
    assert done.returncode == 0, done.stderr
    assert all(sacct(job) == ["COMPLETED"] for job in launched(tmp_path / "out"))
    assert len(launched(tmp_path / "out")) == 2
    counts = units(store.default_url(tmp_path / "out"))
    assert len(counts) == 2 * 2 + 2 * 2 * 2 and set(counts.values()) == {1}  # 2 trials + 2 budgets x 2 seeds each
    one = finished_run("osc N,C") / "out"  # one worker, one thread: as each job's worker
    assert (tmp_path / "out" / "curves.csv").read_text() == (one / "curves.csv").read_text()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["mean_final_val_loss"] == json.loads((one / "report.json").read_text())["mean_final_val_loss"]


def test_a_cancelled_launch_is_completed_by_a_second_with_nothing_lost(tmp_path, slurm, finished_run):
    """Cancelled once its first unit has finished: eleven units are left, seconds of training, against one scancel.
    One job: on a 2-CPU node beside other tests' jobs a second array task may wait for a CPU until the first has done
    the whole run."""
    out, url = tmp_path / "out", store.default_url(tmp_path / "out")
    args = ["launch", *TINY, "--out", out, "--data-dir", tmp_path / "data", "--log-every", "0"]
    assert run_cli(*args, "--jobs", "1", "--detach") == 0
    first = launched(out)
    wait_until(lambda: store.exists(url) and units(url), "the job's first finished unit")
    assert run_cli("launch", "--out", out, "--cancel") == 0
    wait_until(lambda: all(state in ("CANCELLED", "COMPLETED", "FAILED") for job in first for state in sacct(job)),
               "the cancelled jobs to end")
    assert "CANCELLED" in {state for job in first for state in sacct(job)}
    # the accounting says CANCELLED at once; the worker marks its unit interrupted on the SIGTERM that follows
    wait_until(lambda: not claims_held(url), "the unit in flight marked interrupted")
    assert run_cli(*args, "--jobs", "2") == 0
    counts = units(url)
    assert len(counts) == 12 and set(counts.values()) == {1}  # nothing trained twice
    one = finished_run("osc N,C") / "out"
    assert (out / "curves.csv").read_text() == (one / "curves.csv").read_text()


def test_a_job_at_its_time_limit_is_requeued_and_the_run_completes(tmp_path, slurm):
    """The job's limit is lowered under it once a Phase 2 run reports its first epoch, and raised again once it is
    requeued, so that the rerun is not warned while it starts up. SLURM checks limits about every 30 s; the run's
    1,000 epochs take over a minute here, so the warning meets it training."""
    long_run = ("--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--n-trials", "1",
                "--epochs", "1", "--epoch-budgets", "1000", "--compare-seeds", "1", "--checkpoint-seconds", "0",
                *TINY_OSC, "--data-dir", tmp_path / "data", "--log-every", "0")
    out, url = tmp_path / "out", store.default_url(tmp_path / "out")
    assert run_cli("launch", *long_run, "--out", out, "--jobs", "1", "--time", "10", "--stop-before", "60",
                   "--detach") == 0
    [job] = launched(out)
    wait_until(lambda: store.exists(url) and any("/compare/" in name and t.intermediate_values
                                                 for name, t in claims_held(url)), "a Phase 2 run training")
    subprocess.run(["scontrol", "update", f"JobId={job}", "TimeLimit=1"], check=True)
    wait_until(lambda: "REQUEUED" in sacct(job), "the job to be requeued")
    subprocess.run(["scontrol", "update", f"JobId={job}", "TimeLimit=10"], check=True)
    wait_until(lambda: sacct(job)[-1] in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"), "the job to end")
    assert sacct(job)[-1] == "COMPLETED"
    assert statuses(url)["interrupted"] >= 1  # stopped at the warning, resumed by the requeued job
    assert run_cli("launch", *long_run, "--out", tmp_path / "one", "--executor", "local", "--jobs", "1") == 0
    assert (out / "curves.csv").exists() is False  # the detached launch left the report to `report`
    assert run_cli("report", out) == 0
    assert (out / "curves.csv").read_text() == (tmp_path / "one" / "curves.csv").read_text()


BAD = [
    (["--jobs", "0"], "error: Invalid value for '--jobs': Input should be greater than or equal to 1"),
    (["--time", "1", "--stop-before", "90"], "error: --time 1 min cannot hold an epoch: jobs are told to stop "
                                             "--stop-before 90 s before their limit"),
    (["--storage", "sqlite:///{tmp}/run.db"], "error: 2 workers cannot share an SQLite file (it is not safe for "
                                              "several writers); give --storage postgresql://... (or a journal file "
                                              "on a file system every node shares)"),
    (["--workers-per-gpu", "2"], "error: --workers-per-gpu needs --gpus-per-task; on CPUs give --workers"),
    (["--executor", "pbs"], "error: --executor 'pbs' is unknown; allowed: slurm, local"),
]


@pytest.mark.parametrize(("given", "expected"), BAD)
def test_bad_launch_input_is_one_line_and_submits_nothing(tmp_path, given, expected):
    given = [part.format(tmp=tmp_path) for part in given]
    done = run_process("launch", *TINY, "--out", tmp_path / "out", "--data-dir", tmp_path / "data", *given)
    assert (done.returncode, done.stderr) == (2, expected + "\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_no_sbatch_on_path_is_one_line(tmp_path):
    done = run_process("launch", *TINY, "--out", tmp_path / "out", env={**os.environ,
                                                                        "PATH": str(Path(sys.executable).parent)})
    assert (done.returncode, done.stderr) == (2, "error: no sbatch on PATH: this machine cannot submit SLURM jobs; "
                                                 "use --executor local to run the jobs here\n")
    assert not (tmp_path / "out").exists()


def test_an_unknown_partition_is_one_line(tmp_path, slurm):
    done = run_process("launch", *TINY, "--out", tmp_path / "out", "--partition", "gpu-huge")
    assert (done.returncode, done.stderr) == (2, "error: --partition 'gpu-huge' is unknown to the cluster; it has: "
                                                 "debug\n")
    assert not (tmp_path / "out").exists()
