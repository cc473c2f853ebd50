"""The worker loop: one process's share of both phases of a run, in passes over every study.

Run in the CLI's own process (one worker) or in each process of a pool (runner.pool); the
storage decides who trains what (runner.claims), so any number of workers anywhere can share it.
"""

from __future__ import annotations

import optuna

from runner.checkpoints import artifact_store
from runner.comparison import compare
from runner.config import RunConfig
from runner.progress import Progress
from runner.transfer import transfer
from runner.trials import RunContext
from runner.tuning import tune
from runner.units import idle
from runner.wandb_log import WandbLog
from tasks import DataConfig
from tasks.data import TaskData


def load_data(config: RunConfig) -> TaskData:
    """The run's task data (built into the cache once; each worker reads it there)."""
    return config.task_spec.load(DataConfig(
        data_dir=config.data_dir, dataset=config.dataset, download=config.download,
        subset_ratio=config.subset_ratio, options=config.options))


def work(config: RunConfig, storage: optuna.storages.BaseStorage, data: TaskData, progress: Progress) -> None:
    """One worker: every unit of every phase that no other worker has done or holds."""
    logger = WandbLog(config.project, config.wandb_mode, config.out) if config.wandb_mode != "disabled" else None
    artifacts = artifact_store(config.artifacts_dir) if config.uses_checkpoints else None
    ctx = RunContext(config, config.task_spec, data, storage, progress, logger, artifacts)
    recipes = [config.recipe(name, data.steps_per_epoch(config.batch_size)) for name in config.names]
    tuned: set[str] = set()  # contenders whose Phase 1 is finished (compared: Phase 2)
    compared: set[str] = set(config.names) if config.skip_compare else set()
    transferred: set[str] = set(config.names) if not config.transfer_multipliers else set()
    try:
        # Passes over every study (Phase 1, Phase 2, transfer): each takes the free units anywhere; a worker
        # waits only when no study has one (the rest are held by others or not ready yet).
        while True:
            for recipe in recipes:
                if recipe.name not in tuned and tune(ctx, recipe):
                    tuned.add(recipe.name)
            for recipe in recipes:  # a contender's Phase 2 starts once its whole Phase 1 is finished
                if recipe.name in tuned and recipe.name not in compared and compare(ctx, recipe):
                    compared.add(recipe.name)
            for recipe in recipes:  # a contender's transfer runs need its Phase 1 only
                if recipe.name in tuned and recipe.name not in transferred and transfer(ctx, recipe):
                    transferred.add(recipe.name)
            if len(tuned) == len(compared) == len(transferred) == len(recipes):
                return
            idle()
    finally:
        progress.close()
