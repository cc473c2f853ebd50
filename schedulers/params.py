"""Hyperparameters of schedules and LR-free optimizers: default, search space, validity.

A parameter knows how to derive its default from the run's budget, which Optuna
distribution it is tuned over, and which values can work at a given budget. Horizon-
relative parameters (fractions of the run) scale with the budget; absolute ones (step
counts, bounds) are carried to every budget unchanged, as in the paper protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from errors import UserError

DEFAULT_LR = 1e-2  # the base LR of a schedule when none is given (a run takes its task's)
DEFAULT_INFIMUM_LR = 1e-6  # the LR floor of the schedules (--infimum-lr)


@dataclass(frozen=True)
class Budget:
    """What a schedule's defaults and limits depend on: the run length and the base LR."""

    epochs: int
    steps_per_epoch: int = 1
    lr: float = DEFAULT_LR
    infimum_lr: float = DEFAULT_INFIMUM_LR


class InvalidParameter(UserError):
    """A parameter value that cannot work; the message is one line for the user."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: Literal["relative", "absolute"]
    type: type
    default: Callable[[Budget], Any]
    space: Callable[[Budget], BaseDistribution] | None
    is_valid: Callable[[Any, Budget], bool]
    allowed: Callable[[Budget], str]
    doc: str

    def parse(self, text: str) -> Any:
        """Convert a command-line string to this parameter's type."""
        try:
            return self.type(text)
        except ValueError:
            raise InvalidParameter(f"{self.name}={text!r} is not a valid {self.type.__name__}") from None


def float_range(low: float, high: float, *, low_open: bool = True, high_open: bool = True) -> tuple[Callable, Callable]:
    """Validity check and its description for a float in an (optionally open) interval."""
    def is_valid(v: Any, b: Budget) -> bool:
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return above and below

    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return is_valid, (lambda b: f"{left}{low:g}, {high:g}{right}")


def at_least(low: int) -> tuple[Callable, Callable]:
    return (lambda v, b: v >= low), (lambda b: f"an integer >= {low}")


def infimum_lr(*, positive: bool = False) -> Param:
    """The LR floor; searched on logU[1e-7, 1e-4]; must stay below the base LR."""
    def is_valid(v: float, b: Budget) -> bool:
        return (v > 0 if positive else v >= 0) and v < b.lr

    low = "0 <" if positive else "0 <="
    return Param(
        "infimum_lr", "absolute", float,
        default=lambda b: b.infimum_lr,
        space=lambda b: FloatDistribution(1e-7, 1e-4, log=True),
        is_valid=is_valid,
        allowed=lambda b: f"{low} infimum_lr < lr ({b.lr:g})",
        doc="LR floor (eta_inf)",
    )


def fixed_float(name: str, value: float, check: tuple[Callable, Callable], doc: str,
                kind: Literal["relative", "absolute"] = "absolute") -> Param:
    """A float with a fixed default that is not searched."""
    return Param(name, kind, float, lambda b: value, None, *check, doc)


def searched_float(name: str, default: float | Callable[[Budget], float], low: float, high: float,
                   check: tuple[Callable, Callable], doc: str, *, log: bool = False,
                   kind: Literal["relative", "absolute"] = "absolute") -> Param:
    default_fn = default if callable(default) else (lambda b: default)
    return Param(name, kind, float, default_fn, lambda b: FloatDistribution(low, high, log=log), *check, doc)


def searched_choice(name: str, default: str, choices: tuple[str, ...], doc: str) -> Param:
    return Param(
        name, "absolute", str, lambda b: default, lambda b: CategoricalDistribution(choices),
        lambda v, b: v in choices, lambda b: " or ".join(choices), doc,
    )


def searched_int(name: str, default: Callable[[Budget], int], space: Callable[[Budget], IntDistribution],
                 check: tuple[Callable, Callable], doc: str) -> Param:
    return Param(name, "absolute", int, default, space, *check, doc)


def distribution_to_json(dist: BaseDistribution) -> dict:
    """A compact, readable description of an Optuna distribution for reports and --json."""
    if isinstance(dist, FloatDistribution):
        return {"type": "float", "low": dist.low, "high": dist.high, "log": dist.log}
    if isinstance(dist, IntDistribution):
        return {"type": "int", "low": dist.low, "high": dist.high, "step": dist.step}
    if isinstance(dist, CategoricalDistribution):
        return {"type": "categorical", "choices": list(dist.choices)}
    raise TypeError(f"unsupported distribution {dist!r}")


class Tunable:
    """Defaults, search space and validation derived from a ``params`` tuple (schedules and
    LR-free optimizers alike); ``label`` names the owner in error messages."""

    params: tuple[Param, ...]

    @property
    def label(self) -> str:
        raise NotImplementedError

    def defaults(self, budget: Budget) -> dict[str, Any]:
        return {p.name: p.default(budget) for p in self.params}

    def search_space(self, budget: Budget) -> dict[str, BaseDistribution]:
        return {p.name: p.space(budget) for p in self.params if p.space is not None}

    def validate(self, values: dict[str, Any], budgets: list[Budget]) -> None:
        check_params(self.label, self.params, values, budgets)


def check_params(owner: str, params_spec: tuple[Param, ...], values: dict[str, Any],
                 budgets: list[Budget]) -> None:
    """Raise InvalidParameter (one line naming owner, parameter, budget, allowed range)."""
    known = {p.name: p for p in params_spec}
    for name in values:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise InvalidParameter(f"{owner}: unknown parameter {name!r}; allowed: {allowed}")
    for budget in budgets:
        for name, value in values.items():
            param = known[name]
            if not param.is_valid(value, budget):
                raise InvalidParameter(
                    f"{owner}: {name}={value!r} cannot work at budget {budget.epochs} epochs; "
                    f"allowed: {param.allowed(budget)}"
                )
