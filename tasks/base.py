"""What a task plug-in provides: its data as device tensors, model defaults, loss and metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from errors import UserError


@dataclass(frozen=True)
class DataConfig:
    """What selects or shapes a task's data: settings every task shares, plus the task's own
    ``options`` (declared by its TaskSpec; missing ones take their defaults)."""

    data_dir: Path = Path("data")
    dataset: str | None = None
    subset_ratio: float = 1.0
    split_seed: int = 0
    download: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskOption:
    """A setting only one task has (osc's --hist): the CLI flag, presets and resume identity
    are derived from this declaration."""

    name: str
    type: type
    default: Any
    help: str
    smoke: Any = None  # the value under --preset smoke; None keeps the default
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    identity: bool = True  # changing it changes stored numbers: a run cannot resume with another value

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise UserError(f"{self.flag} {value!r} is unknown; allowed: {', '.join(map(str, self.choices))}")
        if self.minimum is not None and not (isinstance(value, (int, float)) and math.isfinite(value)
                                             and value >= self.minimum):
            kind = "an integer" if self.type is int else "a number"
            raise UserError(f"{self.flag} must be {kind} >= {self.minimum:g}, got {value!r}")


@dataclass
class Split:
    """Samples of one split: batched model inputs and the target, indexed along dim 0."""

    inputs: tuple[torch.Tensor, ...]
    target: torch.Tensor

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: torch.Tensor) -> Split:
        return Split(tuple(x[index] for x in self.inputs), self.target[index])

    def to(self, device: torch.device) -> Split:
        return Split(tuple(x.to(device) for x in self.inputs), self.target.to(device))


BatchAugment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class TaskData:
    train: Split
    val: Split
    test: Split
    model_kwargs: dict = field(default_factory=dict)  # shape info for the model constructor
    shared_inputs: tuple[torch.Tensor, ...] = ()  # inputs common to all samples (a query grid)
    augment: BatchAugment | None = None  # applied to the first input of training batches

    def steps_per_epoch(self, batch_size: int) -> int:
        """Optimizer steps in one epoch (the last batch may be short)."""
        return math.ceil(len(self.train) / batch_size)

    def to(self, device: torch.device) -> TaskData:
        return replace(self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device),
                       shared_inputs=tuple(x.to(device) for x in self.shared_inputs))


@dataclass(frozen=True)
class ModelDefaults:
    lr: float
    subset_ratio: float = 1.0
    channels_last: bool = False  # convnets run faster in channels_last under autocast


@dataclass(frozen=True)
class TaskSpec:
    """Everything the runner and CLI know about a task; a new task is one module exposing one."""

    name: str
    models: dict[str, ModelDefaults]
    batch_size: int
    loss: Callable[[], nn.Module]
    classification: bool
    loader: Callable[[DataConfig], TaskData]  # reads DataConfig.options complete and checked
    datasets: tuple[str, ...] = ()
    options: tuple[TaskOption, ...] = ()
    check_options: Callable[[dict[str, Any]], None] | None = None  # rules across options; raises UserError
    smoke: dict[str, Any] = field(default_factory=dict)  # shared settings under --preset smoke (subset_ratio)

    @property
    def default_model(self) -> str:
        return next(iter(self.models))

    def option_values(self, given: Mapping[str, Any], *, smoke: bool = False) -> dict[str, Any]:
        """Every option's value: given, else its smoke value under the smoke preset, else its default."""
        unknown = set(given) - {o.name for o in self.options}
        if unknown:
            raise UserError(f"{self.name} task has no option {sorted(unknown)[0]!r}; its options: "
                            f"{', '.join(o.name for o in self.options) or 'none'}")
        values = {}
        for option in self.options:
            fallback = option.smoke if smoke and option.smoke is not None else option.default
            values[option.name] = given.get(option.name, fallback)
            option.check(values[option.name])
        if self.check_options is not None:
            self.check_options(values)
        return values

    def load(self, config: DataConfig) -> TaskData:
        """The task's data, with options completed by their defaults and checked."""
        return self.loader(replace(config, options=self.option_values(config.options)))

    def model_defaults(self, model: str) -> ModelDefaults:
        if model not in self.models:
            raise UserError(f"model {model!r} is not valid for task {self.name}; allowed: {', '.join(self.models)}")
        return self.models[model]


def build_model(name: str, data: TaskData) -> nn.Module:
    """Instantiate a registered model with the shape information the task's data carries."""
    from models import MODELS

    return MODELS[name](**data.model_kwargs)


def seeded_permutation(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def split_fractions(data: Split, fractions: tuple[float, float], seed: int) -> tuple[Split, Split, Split]:
    """Seeded disjoint split into (train, val, test) with the given val and test fractions."""
    order = seeded_permutation(len(data), seed)
    n_val, n_test = round(fractions[0] * len(data)), round(fractions[1] * len(data))
    n_train = len(data) - n_val - n_test
    if min(n_train, n_val) < 1 or (fractions[1] > 0 and n_test < 1):
        raise UserError(f"too little data: {len(data)} samples leave an empty split; "
                        "raise --subset-ratio (or --n-functions)")
    return (data.take(order[:n_train]), data.take(order[n_train:n_train + n_val]),
            data.take(order[n_train + n_val:]))


def seeded_subset(data: Split, ratio: float, seed: int) -> Split:
    """A seeded ``ratio`` fraction of the samples (all of them for ratio 1)."""
    if ratio >= 1.0:
        return data
    count = max(1, round(ratio * len(data)))
    return data.take(seeded_permutation(len(data), seed)[:count].sort().values)
