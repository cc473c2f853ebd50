"""The one training loop for every task: per-epoch curves, divergence detection, seeding."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

from errors import UserError
from schedulers.recipes import Recipe
from tasks.base import Split, TaskData, TaskSpec, build_model

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """One run: a model trained for ``epochs`` by a recipe with the given parameters."""

    model: str
    epochs: int
    batch_size: int
    seed: int
    recipe: Recipe
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    precision: Literal["fp32", "bf16"] = "fp32"

    def describe(self) -> dict[str, Any]:
        """The settings as plain JSON values (the recipe by name)."""
        return {"model": self.model, "epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed,
                "recipe": self.recipe.name, "params": self.params, "device": self.device,
                "precision": self.precision}


@dataclass
class RunRecord:
    """Per-epoch curves and final metrics of one run.

    ``lr`` holds, per epoch, the mean LR of the epoch's optimizer steps: for per-epoch
    schedules that is the LR of the epoch, for per-batch ones (OC, CY) it averages the epoch's
    per-batch values. LR-free optimizers record their effective step size (d * lr).
    """

    status: Literal["complete", "diverged"] = "complete"
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    reason: str | None = None
    wall_time: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


EpochCallback = Callable[[int, RunRecord], None]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise UserError(f"--device {name!r} is unknown; allowed: auto, cpu, cuda, cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def _effective_lr(group: dict) -> float:
    return float(group["lr"]) * float(group.get("d", 1.0))


class Trainer:
    """Trains one model on one task's data; ``run`` returns the filled RunRecord."""

    def __init__(self, task: TaskSpec, data: TaskData, config: TrainConfig) -> None:
        self.task, self.config, self.recipe = task, config, config.recipe
        self.device = resolve_device(config.device)
        self.data = data.to(self.device)
        self.channels_last = task.model_defaults(config.model).channels_last
        self.loss_fn = task.loss()
        self.steps_per_epoch = data.steps_per_epoch(config.batch_size)
        if self.recipe.steps_per_epoch != self.steps_per_epoch:
            raise ValueError(f"recipe {self.recipe.name} was made for {self.recipe.steps_per_epoch} steps per epoch; "
                             f"this data has {self.steps_per_epoch} at batch size {config.batch_size}")
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, self.data).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer, self.scheduler = self.recipe.build(self.model.parameters(), config.params, config.epochs)
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16")

    def _inputs(self, batch: Split, augment: bool) -> tuple[torch.Tensor, ...]:
        first, *rest = batch.inputs
        if augment and self.data.augment is not None:
            first = self.data.augment(first, self.generator)
        if self.channels_last:
            first = first.contiguous(memory_format=torch.channels_last)
        return (first, *rest, *self.data.shared_inputs)

    def _train_epoch(self) -> tuple[float, float]:
        """One pass over shuffled training batches; returns (mean loss, mean LR used)."""
        self.model.train()
        self.recipe.train_mode(self.optimizer)
        per_batch = self.scheduler is not None and self.recipe.per_batch
        train = self.data.train
        order = torch.randperm(len(train), device=self.device, generator=self.generator)
        loss_sum = torch.zeros((), device=self.device)
        lr_sum = 0.0
        for start in range(0, len(train), self.config.batch_size):
            batch = train.take(order[start:start + self.config.batch_size])
            with self._autocast():
                output = self.model(*self._inputs(batch, augment=True))
            loss = self.loss_fn(output.float(), batch.target)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            lr_sum += _effective_lr(self.optimizer.param_groups[0])
            self.optimizer.step()
            loss_sum += loss.detach() * len(batch)
            if per_batch:
                self.scheduler.step()
        if self.scheduler is not None and not per_batch:
            self.scheduler.step()
        return (loss_sum / len(train)).item(), lr_sum / self.steps_per_epoch

    @torch.no_grad()
    def evaluate(self, split: Split) -> tuple[float, float | None]:
        """Mean loss (and accuracy for classification) over a split, in eval mode."""
        self.recipe.eval_mode(self.optimizer, self.model, self._calibration_batches)
        self.model.eval()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        size = 4 * self.config.batch_size
        for start in range(0, len(split), size):
            batch = split.take(torch.arange(start, min(start + size, len(split)), device=self.device))
            with self._autocast():
                output = self.model(*self._inputs(batch, augment=False)).float()
            loss_sum += self.loss_fn(output, batch.target) * len(batch)
            if self.task.classification:
                correct += (output.argmax(dim=1) == batch.target).sum()
        accuracy = correct.item() / len(split) if self.task.classification else None
        return (loss_sum / len(split)).item(), accuracy

    def _calibration_batches(self, count: int = 20) -> list[tuple[torch.Tensor, ...]]:
        train, size = self.data.train, self.config.batch_size
        return [self._inputs(train.take(torch.arange(s, min(s + size, len(train)), device=self.device)), False)
                for s in range(0, min(len(train), count * size), size)]

    def run(self, on_epoch: EpochCallback | None = None) -> RunRecord:
        started = time.perf_counter()
        record = RunRecord(val_accuracy=[] if self.task.classification else None)
        for epoch in range(self.config.epochs):
            train_loss, lr = self._train_epoch()
            val_loss, val_accuracy = self.evaluate(self.data.val) if math.isfinite(train_loss) else (math.nan, None)
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                which = "training" if not math.isfinite(train_loss) else "validation"
                record.status, record.reason = "diverged", f"non-finite {which} loss in epoch {epoch}"
                break
            record.lr.append(lr)
            record.train_loss.append(train_loss)
            record.val_loss.append(val_loss)
            if record.val_accuracy is not None:
                record.val_accuracy.append(val_accuracy)
            record.wall_time = time.perf_counter() - started
            if on_epoch is not None:
                on_epoch(epoch, record)
        if record.status == "complete":
            record.test_loss, record.test_accuracy = self.evaluate(self.data.test)
        record.wall_time = time.perf_counter() - started
        return record


def train(task: TaskSpec, data: TaskData, config: TrainConfig, on_epoch: EpochCallback | None = None) -> RunRecord:
    """Train once and return the curves; a non-finite loss ends the run as ``diverged``."""
    return Trainer(task, data, config).run(on_epoch)
