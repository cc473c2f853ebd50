"""The whole benchmark: validate, load data, Phase 1, Phase 2, report; resumable throughout."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import optuna
import torch

from results import storage as store
from runner.checkpoints import artifact_store
from runner.comparison import compare
from runner.config import RunConfig
from runner.preflight import preflight
from runner.progress import Progress
from runner.trials import RunContext
from runner.tuning import tune
from runner.wandb_log import WandbLog
from runner.worker import idle
from tasks import DataConfig
from tasks.data import TaskData
from tasks.training import resolve_device


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


def load_data(config: RunConfig) -> TaskData:
    return config.task_spec.load(DataConfig(
        data_dir=config.data_dir, dataset=config.dataset, download=config.download,
        subset_ratio=config.subset_ratio, options=config.options))


def run_benchmark(config: RunConfig, progress: Progress | None = None,
                  checked_url: str | None = None) -> dict[str, Any]:
    """Run (or resume) both phases with ``config.workers`` processes and write the report; returns it.
    ``checked_url``: what preflight returned, where the caller has run it (the CLI does, before torch)."""
    storage, data = prepare(config, checked_url or preflight(config))
    if config.workers > 1:
        from runner.pool import run_pool

        run_pool(config, storage)
    else:
        work(config, storage, data, progress or Progress(config.planned_epochs))
    from results.report import write_outputs  # pandas and scipy: loaded by the parent, never by workers

    return write_outputs(storage, config.project, config.out)


def prepare(config: RunConfig, url: str) -> tuple[optuna.storages.BaseStorage, TaskData]:
    """The data (built into the cache once) and the storage at the preflighted ``url`` with this run's settings."""
    device = resolve_device(config.device)
    data = load_data(config).to(device)
    config.out.mkdir(parents=True, exist_ok=True)
    storage = store.open_storage(url, for_writing=True)
    store.store_meta(storage, config.project, config.to_json(), environment(device),
                     data.steps_per_epoch(config.batch_size))
    return storage, data


def work(config: RunConfig, storage: optuna.storages.BaseStorage, data: TaskData, progress: Progress) -> None:
    """One worker: every unit of both phases that no other worker has done or holds."""
    logger = WandbLog(config.project, config.wandb_mode, config.out) if config.wandb_mode != "disabled" else None
    artifacts = artifact_store(config.artifacts_dir) if config.uses_checkpoints else None
    ctx = RunContext(config, config.task_spec, data, storage, progress, logger, artifacts)
    recipes = [config.recipe(name, data.steps_per_epoch(config.batch_size)) for name in config.names]
    tuned: set[str] = set()  # contenders whose Phase 1 is finished (compared: Phase 2)
    compared: set[str] = set(config.names) if config.skip_compare else set()
    try:
        # Passes over every study, Phase 1 first: each takes the free units anywhere; a worker
        # waits only when no study has one (the rest are held by others or not ready yet).
        while True:
            for recipe in recipes:
                if recipe.name not in tuned and tune(ctx, recipe):
                    tuned.add(recipe.name)
            for recipe in recipes:  # a contender's Phase 2 starts once its whole Phase 1 is finished
                if recipe.name in tuned and recipe.name not in compared and compare(ctx, recipe):
                    compared.add(recipe.name)
            if len(tuned) == len(compared) == len(recipes):
                return
            idle()
    finally:
        progress.close()
