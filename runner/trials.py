"""What both phases share: the run context, seeds, pruners and training one run with progress."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from runner.config import RunConfig
from runner.prefix import Start
from runner.progress import Progress
from runner.wandb_log import WandbLog
from schedulers.recipes import Recipe
from tasks import TaskSpec
from tasks.data import TaskData
from tasks.training import RunRecord, TrainConfig, Trainer


def derived_seed(*parts: Any) -> int:
    """A stable seed from the study seed, the study name and a trial index (not process RNG)."""
    return zlib.crc32(":".join(map(str, parts)).encode())


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    return {"none": optuna.pruners.NopPruner, "median": optuna.pruners.MedianPruner,
            "hyperband": optuna.pruners.HyperbandPruner}[name]()


@dataclass
class RunContext:
    """Everything a phase needs, built once per command."""

    config: RunConfig
    task: TaskSpec
    data: TaskData
    storage: optuna.storages.BaseStorage
    progress: Progress
    wandb: WandbLog | None = None
    artifacts: Any = None  # an optuna.artifacts store for checkpoints; None: no checkpoints
    plans: dict[str, dict[int, Start]] = field(default_factory=dict)  # Phase 2 starts per contender

    def study(self, name: str) -> optuna.Study:
        return optuna.create_study(study_name=name, storage=self.storage, direction="minimize",
                                   load_if_exists=True, pruner=make_pruner(self.config.pruner))

    @property
    def device(self) -> str:
        """Where this worker trains ("cpu", "cuda:1"), recorded on every unit it claims."""
        return str(self.data.train.target.device)

    def train_config(self, recipe: Recipe, params: dict[str, Any], epochs: int, seed: int) -> TrainConfig:
        c = self.config
        return TrainConfig(model=c.model, epochs=epochs, batch_size=c.batch_size, seed=seed, recipe=recipe,
                           params=params, device=c.device, precision=c.precision)

    def trainer(self, recipe: Recipe, params: dict[str, Any], epochs: int, seed: int) -> Trainer:
        return Trainer(self.task, self.data, self.train_config(recipe, params, epochs, seed))


def train_run(ctx: RunContext, trainer: Trainer, on_epoch: Callable[[int, RunRecord], None],
              run_name: str, record: RunRecord | None = None) -> RunRecord:
    """One training run with progress (and W&B) per epoch; ``on_epoch`` may raise optuna.TrialPruned.

    ``record``: the curves so far of a run restored from a checkpoint (see Trainer.restore)."""
    config = trainer.config

    def report(epoch: int, record: RunRecord) -> None:
        ctx.progress.epoch_done(epoch, config.epochs, record.val_loss[-1])
        if ctx.wandb is not None:
            ctx.wandb.epoch(epoch, record)
        on_epoch(epoch, record)

    if ctx.wandb is not None:
        ctx.wandb.start(run_name.rsplit("/", 1)[0], run_name, config.describe())
    if record is not None:
        ctx.progress.skip(len(record.val_loss))
    record = trainer.run(report, record)
    if ctx.wandb is not None:
        ctx.wandb.finish(record)
    if record.status != "complete":
        ctx.progress.run_finished(f"{record.status}: {record.reason}", config.epochs - len(record.val_loss))
    return record


def curves(record: RunRecord, seed: int) -> dict[str, Any]:
    """The JSON-ready record of one run as stored in trial attributes."""
    return {"seed": seed, **record.to_dict()}
