"""Optional Weights & Biases logging: one W&B run per training run, one log entry per epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.config import WandbMode
from tasks.training import RunRecord


class WandbLog:
    """Logs runs to W&B in ``mode`` (online/offline); only built when the user asks for it."""

    def __init__(self, project: str, mode: WandbMode, directory: Path) -> None:
        import wandb

        self.wandb, self.project, self.mode, self.directory = wandb, project, mode, directory
        self.run: Any = None

    def start(self, group: str, name: str, config: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.run = self.wandb.init(project=self.project, group=group, name=name, config=config, mode=self.mode,
                                   dir=str(self.directory))

    def epoch(self, epoch: int, record: RunRecord) -> None:
        entry = {"lr": record.lr[-1], "train_loss": record.train_loss[-1], "val_loss": record.val_loss[-1]}
        if record.val_accuracy:
            entry["val_accuracy"] = record.val_accuracy[-1]
        self.run.log(entry, step=epoch)

    def finish(self, record: RunRecord) -> None:
        self.run.summary.update({"status": record.status, "test_loss": record.test_loss,
                                 "test_accuracy": record.test_accuracy, "wall_time": record.wall_time})
        self.run.finish()
        self.run = None
