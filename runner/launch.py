"""`launch`: a run's workers as one job array on a SLURM cluster (or this machine), through submitit.

Each job runs the ordinary worker command (`run_all.py worker`) in a child process on the run's
storage, so the claims decide who trains what, exactly as with workers started by hand. submitit's
warning signal ahead of the time limit (or a preemption) stops the child like SIGTERM does, which
marks its unit interrupted at the last checkpoint, and submitit requeues the job; a requeued job is
a new worker that resumes the unit there. The job ids of every launch are kept in OUT/jobs/jobs.json,
so `launch --status` and `launch --cancel` find them from the run folder alone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from errors import UserError
from runner.config import RunConfig
from runstate.files import atomic_write_text

Executor = Literal["slurm", "local"]
EXECUTORS: tuple[Executor, ...] = get_args(Executor)
JOBS_FILE = "jobs.json"  # in the job folder: every launch's executor and job ids
FORCE_CHECK_SECONDS = 30.0  # how often a waiting launch asks the cluster (sacct) for states it cannot see in files


@dataclass(frozen=True)
class Launch:
    """What the cluster is asked for: one job array of ``jobs`` workers."""

    jobs: int
    executor: Executor
    time_minutes: int
    stop_before: int  # seconds before the time limit at which a job is told to stop and requeue
    partition: str | None = None
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    workers_per_gpu: int = 1
    mem_gb: float | None = None
    sbatch: dict[str, str] = field(default_factory=dict)  # extra sbatch parameters, name -> value
    max_requeues: int = 100

    def workers(self, config: RunConfig) -> int:
        """Worker processes in each job: workers per GPU times its GPUs, or the run's --workers."""
        return self.gpus_per_task * self.workers_per_gpu if self.gpus_per_task else config.workers


def job_folder(out: Path) -> Path:
    return out / "jobs"


def check(launch: Launch, config: RunConfig) -> None:
    """Refuse what cannot work before anything is submitted; creates nothing."""
    if launch.executor not in EXECUTORS:
        raise UserError(f"--executor {launch.executor!r} is unknown; allowed: {', '.join(EXECUTORS)}")
    if launch.time_minutes * 60 <= launch.stop_before:
        raise UserError(f"--time {launch.time_minutes} min cannot hold an epoch: jobs are told to stop "
                        f"--stop-before {launch.stop_before} s before their limit")
    if launch.gpus_per_task and config.workers != 1:
        raise UserError("with --gpus-per-task, give the workers of a job as --workers-per-gpu, not --workers")
    if launch.workers_per_gpu != 1 and not launch.gpus_per_task:
        raise UserError("--workers-per-gpu needs --gpus-per-task; on CPUs give --workers")
    writers = launch.jobs * launch.workers(config)
    if config.storage_url.startswith("sqlite") and writers > 1:
        raise UserError(f"{writers} workers cannot share an SQLite file (it is not safe for several writers); "
                        "give --storage postgresql://... (or a journal file on a file system every node shares)")
    if launch.executor == "local":
        if launch.partition is not None or launch.sbatch:
            raise UserError("--partition and --sbatch are for --executor slurm")
        return
    if shutil.which("sbatch") is None:
        raise UserError("no sbatch on PATH: this machine cannot submit SLURM jobs; use --executor local to run the "
                        "jobs here")
    if launch.partition is not None:
        partitions = [name.rstrip("*") for name in _slurm("sinfo", "-h", "-o", "%P").split()]
        if launch.partition not in partitions:
            raise UserError(f"--partition {launch.partition!r} is unknown to the cluster; it has: "
                            f"{', '.join(partitions) or 'none'}")


def _slurm(*command: str) -> str:
    """A SLURM client command's output; one error line if the controller does not answer."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise UserError(f"{command[0]} failed: {reason}")
    return done.stdout


def worker_command(config: RunConfig, workers: int) -> list[str]:
    """The command each job runs: the worker command on the run's storage, paths absolute (a job
    starts in the submission folder, which every node shares, but it need not be the same path)."""
    return [sys.executable, "-m", "run_all", "worker", "--storage", config.storage_url, "--project", config.project,
            "--workers", str(workers), "--out", str(config.out.absolute()),
            "--data-dir", str(config.data_dir.absolute()), "--no-report"]


class WorkerJob:
    """A job's function (submitit pickles it): run the worker command and wait. submitit calls
    ``checkpoint`` on its warning signal: the child is stopped as by SIGTERM (its unit marked
    interrupted at its last checkpoint) and the same job is requeued."""

    def __init__(self, threads: int) -> None:
        self.threads = threads  # torch's intra-op threads of a single worker: the job's CPUs
        self.process: subprocess.Popen | None = None

    def __call__(self, command: list[str]) -> int:
        # On SLURM every process of a job gets a cancel's SIGTERM; submitit's local jobs pass it only to
        # this process, so pass it on. The warning signal is this process's alone (the child ignores it).
        forward = "SLURM_JOB_ID" not in os.environ
        signal.signal(signal.SIGTERM, self._stop_child if forward else signal.SIG_IGN)
        self.process = subprocess.Popen(command, preexec_fn=_ignore_warning,
                                        env={**os.environ, "OMP_NUM_THREADS": str(self.threads)})
        code = self.process.wait()
        if code != 0:
            raise RuntimeError(f"the worker stopped with exit status {code}")
        return code

    def _stop_child(self, signum: int = signal.SIGTERM, frame: object = None) -> None:
        """Stop the worker and wait for it. A signal handler: the frame it interrupted may hold the Popen's wait
        lock, so the child is reaped with os.waitpid (the job ends right after, nothing waits on it again)."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                os.waitpid(self.process.pid, 0)
            except ChildProcessError:  # reaped already
                pass

    def checkpoint(self, command: list[str]) -> Any:
        import submitit

        self._stop_child()
        return submitit.helpers.DelayedSubmission(WorkerJob(self.threads), command)


def _ignore_warning() -> None:
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def submit(launch: Launch, config: RunConfig) -> list[Any]:
    """Submit the job array; record its job ids in the job folder. Returns submitit's jobs."""
    import submitit

    folder = job_folder(config.out)
    executor: Any
    if launch.executor == "slurm":
        executor = submitit.AutoExecutor(folder=folder / "%j", cluster="slurm",
                                         slurm_max_num_timeout=launch.max_requeues)
        parameters: dict[str, Any] = {
            "name": f"epochbench-{config.project}", "timeout_min": launch.time_minutes,
            "cpus_per_task": launch.cpus_per_task, "tasks_per_node": 1, "nodes": 1,
            "slurm_signal_delay_s": launch.stop_before, "slurm_array_parallelism": launch.jobs,
            "slurm_additional_parameters": dict(launch.sbatch)}
        if launch.gpus_per_task:
            parameters["gpus_per_node"] = launch.gpus_per_task
        if launch.mem_gb is not None:
            parameters["mem_gb"] = launch.mem_gb
        if launch.partition is not None:
            parameters["slurm_partition"] = launch.partition
    else:  # submitit's auto executor passes the local one neither its warning delay nor requeues
        executor = submitit.LocalExecutor(folder=folder / "%j", max_num_timeout=launch.max_requeues)
        parameters = {"timeout_min": launch.time_minutes, "signal_delay_s": launch.stop_before,
                      "gpus_per_node": launch.gpus_per_task, "tasks_per_node": 1}
    executor.update_parameters(**parameters)
    command = worker_command(config, launch.workers(config))
    jobs = executor.map_array(WorkerJob(launch.cpus_per_task), [command] * launch.jobs)
    record = folder / JOBS_FILE
    launched = json.loads(record.read_text()) if record.is_file() else []
    launched.append({"executor": launch.executor, "job_ids": [job.job_id for job in jobs]})
    atomic_write_text(record, json.dumps(launched, indent=1) + "\n")  # a crash keeps the earlier launches' ids
    return jobs


def recorded_jobs(out: Path) -> list[Any]:
    """submitit's jobs of every launch of the run in ``out``."""
    import submitit

    record = job_folder(out) / JOBS_FILE
    if not record.is_file():
        raise UserError(f"{out} has no launched jobs ({record} does not exist)")
    kinds = {"slurm": submitit.SlurmJob, "local": submitit.LocalJob}
    return [kinds[launch["executor"]](folder=job_folder(out) / "%j", job_id=job_id)
            for launch in json.loads(record.read_text()) for job_id in launch["job_ids"]]


def state(job: Any, force: bool = False) -> str:
    """A job's state as SLURM names it (COMPLETED, RUNNING, CANCELLED, ...); local jobs: by their process."""
    import submitit

    if isinstance(job, submitit.LocalJob):
        if job.paths.result_pickle.exists():
            return "COMPLETED" if job.done() and job.exception() is None else "FAILED"
        return "RUNNING" if _alive(int(job.job_id)) else "ENDED"
    return job.watcher.get_state(job.job_id, mode="force" if force else "standard")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE",
         "ENDED")


def is_over(job: Any, force: bool = False) -> bool:
    """True once the job ended for good (a requeued job is not over)."""
    return state(job, force).split(" ")[0] in ENDED


def cancel(jobs: list[Any]) -> list[Any]:
    """Cancel the jobs not yet over; their workers mark their units interrupted. Returns those cancelled."""
    import submitit

    live = [job for job in jobs if not is_over(job, force=True)]
    for job in live:
        if isinstance(job, submitit.LocalJob):
            os.kill(int(job.job_id), signal.SIGTERM)  # the local job passes it on to its worker
        else:
            job.cancel(check=False)
    return live


def wait(jobs: list[Any], on_tick: Any) -> None:
    """Until every job is over: ``on_tick()`` every second; the cluster is asked at most every FORCE_CHECK_SECONDS."""
    asked = time.monotonic()
    while True:
        force = time.monotonic() - asked > FORCE_CHECK_SECONDS
        if force:
            asked = time.monotonic()
        if all(job.paths.result_pickle.exists() or is_over(job, force) for job in jobs):
            return
        on_tick()
        time.sleep(1.0)
