"""The whole benchmark: check, load data, run the workers (this process or a pool), report; resumable throughout."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
import torch

from runner.config import RunConfig
from runner.preflight import preflight
from runner.progress import Progress
from runner.worker import load_data, work
from runstate import storage as store
from tasks.data import TaskData
from tasks.training import resolve_device

if TYPE_CHECKING:
    from results.records import RunReport


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def environment(device: torch.device) -> dict[str, Any]:
    """Versions, device and git commit (and whether the tree had changes): where numbers came from."""
    commit, status = _git("rev-parse", "HEAD"), _git("status", "--porcelain", "--untracked-files=no")
    return {"python": platform.python_version(), "torch": torch.__version__, "optuna": optuna.__version__,
            "platform": platform.platform(), "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
            "git_commit": commit.strip() or None if commit is not None else None,
            "git_dirty": bool(status.strip()) if status is not None else None,
            "cyclic_momentum": "not cycled (EpochBench schedules set the LR only; Adam betas stay fixed)"}


def run_benchmark(config: RunConfig, progress: Progress | None = None,
                  preflighted: bool = False) -> RunReport:
    """Run (or resume) both phases with ``config.workers`` processes and write the report; returns it.
    ``preflighted``: the caller has run preflight (the CLI does, before torch)."""
    storage = run_workers(config, progress, preflighted)
    from results.report.outputs import write_outputs  # pandas and scipy: loaded by the parent, never by workers

    return write_outputs(storage, config.project, config.out)


def run_workers(config: RunConfig, progress: Progress | None = None,
                preflighted: bool = False) -> optuna.storages.BaseStorage:
    """Both phases to the end of the run (a launched job's worker: no report); returns the storage."""
    if not preflighted:
        preflight(config)
    storage, data = prepare(config)
    if config.workers > 1:
        from runner.pool import run_pool

        run_pool(config, storage)
    else:
        work(config, storage, data, progress or Progress(config.planned_epochs, log_every=config.log_every))
    return storage


def prepare(config: RunConfig) -> tuple[optuna.storages.BaseStorage, TaskData]:
    """The data (built into the cache once) and the run's storage, holding this run's settings."""
    device = resolve_device(config.device)
    data = load_data(config).to(device)
    config.out.mkdir(parents=True, exist_ok=True)
    storage = store.open_storage(config.storage_url, for_writing=True)
    store.store_meta(storage, config.project, config.to_json(), environment(device),
                     data.steps_per_epoch(config.batch_size))
    return storage, data
