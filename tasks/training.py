"""The one training loop for every task: per-epoch curves, divergence detection, seeding."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from schedulers.errors import UserError
from schedulers.lr_free import LRFreeSpec, get_lr_free
from schedulers.params import Budget
from schedulers.registry import get_scheduler
from schedulers.torch_adapter import ScheduleLR, build_scheduler
from tasks.base import Split, TaskData, TaskSpec, build_model

OPTIMIZERS = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """One run: a model trained for ``epochs`` under a scheduler code or an LR-free optimizer."""

    model: str
    epochs: int
    batch_size: int
    lr: float
    seed: int
    scheduler: str = "N"
    lr_free: str | None = None  # when set, ``scheduler`` is ignored and ``params`` are its own
    params: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "AdamW"
    infimum_lr: float = 1e-6
    device: str = "auto"
    precision: Literal["fp32", "bf16"] = "fp32"


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
    if name not in ("cpu", "cuda"):
        raise UserError(f"--device {name!r} is unknown; allowed: auto, cpu, cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def _effective_lr(group: dict) -> float:
    return float(group["lr"]) * float(group.get("d", 1.0))


def recalibrate_batchnorm(model: nn.Module, batches: list[tuple[torch.Tensor, ...]]) -> None:
    """Recompute BatchNorm running statistics at the current weights (for Schedule-Free's x)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for inputs in batches:
            model(*inputs)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum


class Trainer:
    """Trains one model on one task's data; ``run`` returns the filled RunRecord."""

    def __init__(self, task: TaskSpec, data: TaskData, config: TrainConfig) -> None:
        if config.optimizer not in OPTIMIZERS:
            raise UserError(f"--optimizer {config.optimizer!r} is unknown; allowed: {', '.join(OPTIMIZERS)}")
        if config.precision not in PRECISIONS:
            raise UserError(f"--precision {config.precision!r} is unknown; allowed: {', '.join(PRECISIONS)}")
        self.task, self.config = task, config
        self.device = resolve_device(config.device)
        self.data = data.to(self.device)
        self.channels_last = task.model_defaults(config.model).channels_last
        self.loss_fn = task.loss()
        self.steps_per_epoch = math.ceil(len(self.data.train) / config.batch_size)
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, self.data).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.lr_free: LRFreeSpec | None = get_lr_free(config.lr_free) if config.lr_free else None
        self.optimizer, self.scheduler = self._optimizer_and_schedule()
        self.per_batch = self.scheduler is not None and get_scheduler(config.scheduler).per_batch
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)

    def _optimizer_and_schedule(self) -> tuple[torch.optim.Optimizer, ScheduleLR | None]:
        c = self.config
        weight_decay = 0.01 if c.optimizer == "AdamW" else 0.0
        if self.lr_free is not None:
            optimizer = self.lr_free.create(self.model.parameters(), c.params,
                                            total_steps=c.epochs * self.steps_per_epoch, weight_decay=weight_decay)
            return optimizer, None
        optimizer = OPTIMIZERS[c.optimizer](self.model.parameters(), lr=c.lr, weight_decay=weight_decay)
        budget = Budget(c.epochs, self.steps_per_epoch, c.lr, c.infimum_lr)
        return optimizer, build_scheduler(optimizer, c.scheduler, c.params, budget)

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
        if self.lr_free is not None:
            self.lr_free.train_mode(self.optimizer)
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
            if self.per_batch:
                self.scheduler.step()
        if self.scheduler is not None and not self.per_batch:
            self.scheduler.step()
        return (loss_sum / len(train)).item(), lr_sum / self.steps_per_epoch

    @torch.no_grad()
    def evaluate(self, split: Split) -> tuple[float, float | None]:
        """Mean loss (and accuracy for classification) over a split, in eval mode."""
        if self.lr_free is not None:
            self.lr_free.eval_mode(self.optimizer)
            if self.lr_free.switches_modes:
                recalibrate_batchnorm(self.model, self._calibration_batches())
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
