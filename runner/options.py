"""Run options declared once: each RunConfig field carries its flag, help, --help group, range
and whether it is part of a run's identity. The CLI builds its options from these declarations,
``validate`` checks their ranges, and a resume compares the identity ones; adding an option is
one field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

PANELS = ("Task", "Protocol", "Scale-out", "Cluster", "Output")  # the --help groups, in order


@dataclass(frozen=True)
class RunOption:
    """How one RunConfig field appears on the command line."""

    help: str | Callable[[], str]  # a callable when it lists things plugins can add (tasks)
    panel: str
    identity: bool = False  # a stored number depends on it: a resume with another value is refused
    minimum: int | None = None  # integers: the smallest allowed value
    resolved_by: str | None = None  # not given: the value comes from there (preset, task); the flag defaults to None
    flag: str | None = None  # the flag when it is not --<field-name> (e.g. "--share-prefix/--no-share-prefix")
    cli_name: str | None = None  # the command's parameter when it differs from the field (skip_lr_free)
    cli_type: Any = None  # the command's parameter type when it differs from the field's
    cli_default: Any = None  # the command's default when it is not the field's (a flag for a tuple)
    parse: Callable[[Any], Any] | None = None  # command value (not None) -> field value
    metavar: str | None = None

    def help_text(self) -> str:
        return self.help() if callable(self.help) else self.help


def run_option(default: Any, help: str | Callable[[], str], panel: str, **details: Any) -> Any:
    """A RunConfig field declared with its command-line option."""
    if panel not in PANELS:
        raise ValueError(f"unknown --help group {panel!r}; allowed: {', '.join(PANELS)}")
    return field(default=default, metadata={"option": RunOption(help, panel, **details)})


def declared(config_class: type) -> Iterator[tuple[Field, RunOption]]:
    """(field, option) for every field of ``config_class`` declared with ``run_option``."""
    for f in fields(config_class):
        if "option" in f.metadata:
            yield f, f.metadata["option"]


def identity_names(config_class: type) -> tuple[str, ...]:
    return tuple(f.name for f, option in declared(config_class) if option.identity)


def default_of(f: Field) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def help_of(config_class: type, name: str) -> str:
    """The declared help of field ``name``: for other commands that take the same setting."""
    return next(option.help_text() for f, option in declared(config_class) if f.name == name)
