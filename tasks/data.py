"""A task's data as device tensors: splits, seeded subsets, and the model built for it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from errors import UserError


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
