"""What a task declares: its options, models and data settings. Imports no torch, so the CLI
builds its flags and refuses bad input at once; torch is imported by the code that loads data."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import UserError

if TYPE_CHECKING:
    from torch import nn

    from tasks.data import TaskData


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


@dataclass(frozen=True)
class ModelDefaults:
    lr: float
    subset_ratio: float = 1.0
    channels_last: bool = False  # convnets run faster in channels_last under autocast


@dataclass(frozen=True)
class TorchLoss:
    """A ``torch.nn`` loss by class name and arguments, built when training starts (not at import)."""

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> nn.Module:
        from torch import nn

        return getattr(nn, self.name)(**self.kwargs)


@dataclass(frozen=True)
class TaskSpec:
    """Everything the runner and CLI know about a task; a new task is one module exposing one."""

    name: str
    models: dict[str, ModelDefaults]
    batch_size: int
    loss: Callable[[], nn.Module]  # e.g. TorchLoss("MSELoss")
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
