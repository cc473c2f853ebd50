"""The one training loop for every task: per-epoch curves, divergence detection, seeding."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

from errors import UserError
from schedulers.recipes import Recipe
from tasks.data import Split, TaskData, build_model
from tasks.precision import Precision
from tasks.spec import TaskSpec


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
    precision: Precision = "fp32"

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
    """The torch device of a name that ``runner.config.check_device`` accepted."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def flush_denormals() -> None:
    """Treat subnormal floats as 0 on the CPU (process-wide). A saturated LSTM (the osc task at a high LR)
    fills its gradients with them, and x86 CPUs compute on them many times slower: a 2-epoch run took 11.9x
    as long without (benchmarks/denormals.py). Values below 1.2e-38 are then 0; the runs measured there
    ended with identical losses."""
    torch.set_flush_denormal(True)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffle and augmentation: a function of (seed, epoch) only, so
    runs with the same seed see the same batches whatever their budget, and a run resumed at
    an epoch needs no generator state."""
    return int.from_bytes(hashlib.sha256(f"data-order:{seed}:{epoch}".encode()).digest()[:8], "little")


class Trainer:
    """Trains one model on one task's data; ``run`` returns the filled RunRecord."""

    def __init__(self, task: TaskSpec, data: TaskData, config: TrainConfig) -> None:
        self.task, self.config, self.recipe = task, config, config.recipe
        self.device = resolve_device(config.device)
        if self.device.type == "cpu":
            flush_denormals()
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
        self.stepper = self.recipe.stepper(self.optimizer, self.scheduler)
        self.generator = torch.Generator(device=self.device)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16")

    def _inputs(self, batch: Split, augment: bool) -> tuple[torch.Tensor, ...]:
        first, *rest = batch.inputs
        if augment and self.data.augment is not None:
            first = self.data.augment(first, self.generator)
        if self.channels_last:
            first = first.contiguous(memory_format=torch.channels_last)
        return (first, *rest, *self.data.shared_inputs)

    def _train_epoch(self, epoch: int) -> tuple[float, float]:
        """One pass over shuffled training batches; returns (mean loss, mean LR used)."""
        self.generator.manual_seed(epoch_seed(self.config.seed, epoch))
        self.model.train()
        self.recipe.train_mode(self.optimizer)
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
            lr_sum += self.stepper.step()
            loss_sum += loss.detach() * len(batch)
        self.stepper.end_epoch()
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

    def state(self, record: RunRecord) -> dict[str, Any]:
        """What a run continues from at the end of an epoch: weights, optimizer state, the global
        RNG states and the curves so far. The schedule position is the epoch count (the schedule
        is replayed, see :meth:`restore`); the data order needs no state (:func:`epoch_seed`)."""
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        return {"epoch": len(record.val_loss), "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "rng_cpu": torch.get_rng_state(), "rng_cuda": cuda,
                "record": record.to_dict()}

    def restore(self, state: dict[str, Any], inherited: bool = False) -> RunRecord:
        """Load a :meth:`state` and return the curves so far, to pass to :meth:`run`.

        The state may come from a run with another budget whose LRs were identical up to its
        epoch (``inherited``, prefix sharing): this run's own schedule is then positioned at
        that epoch, and the inherited epochs' training time is not counted as this run's."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng_cpu"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self._position_schedule(state["epoch"])
        record = RunRecord(**state["record"])
        if inherited:
            record.wall_time = 0.0
        return record

    def _position_schedule(self, epoch: int) -> None:
        """Put this run's schedule (and the optimizer's LR) where ``epoch`` finished epochs leave
        it, by replaying it on a dummy parameter: exact for any LRScheduler, and independent of
        the budget of the run the optimizer state came from."""
        if self.scheduler is None:
            return
        dummy, schedule = self.recipe.schedule_at(self.config.params, self.config.epochs, epoch)
        if schedule is None:
            raise ValueError(f"recipe {self.recipe.name} built a schedule for the run but none for its replay")
        self.scheduler.load_state_dict(schedule.state_dict())
        for group in self.optimizer.param_groups:
            group["lr"] = dummy.param_groups[0]["lr"]

    def run(self, on_epoch: EpochCallback | None = None, record: RunRecord | None = None) -> RunRecord:
        """Train to the end of the budget: from the start, or on from ``record`` (see :meth:`restore`)."""
        record = record or RunRecord(val_accuracy=[] if self.task.classification else None)
        started = time.perf_counter() - record.wall_time
        for epoch in range(len(record.val_loss), self.config.epochs):
            train_loss, lr = self._train_epoch(epoch)
            val_loss, val_accuracy = self.evaluate(self.data.val) if math.isfinite(train_loss) else (math.nan, None)
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                which = "training" if not math.isfinite(train_loss) else "validation"
                record.status, record.reason = "diverged", f"non-finite {which} loss in epoch {epoch}"
                break
            record.lr.append(lr)
            record.train_loss.append(train_loss)
            record.val_loss.append(val_loss)
            if record.val_accuracy is not None and val_accuracy is not None:  # both: a classification task
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
