"""Task registry: name -> TaskSpec. Adding a task is one module and one line here (a plugin's: ``register_task``).

Importing it imports no torch (tasks import torch where they load data), so the CLI starts fast."""

from __future__ import annotations

from errors import UserError
from registry import Registry
from tasks import cifar, integral, osc
from tasks.spec import DataConfig, TaskOption, TaskSpec

TASKS: Registry[TaskSpec] = Registry("task", {t.name: t for t in (cifar.TASK, osc.TASK, integral.TASK)})


def get_task(name: str) -> TaskSpec:
    return TASKS[name]


def register_task(spec: TaskSpec) -> None:
    """Add a task: ``--task NAME`` then runs it, and its options become command-line flags."""
    if not isinstance(spec, TaskSpec):
        raise UserError(f"register_task takes a TaskSpec, got {type(spec).__name__}")
    if spec.name not in TASKS and not spec.models:
        raise UserError(f"task {spec.name!r} names no model")
    TASKS.register(spec.name, spec)


__all__ = ["TASKS", "DataConfig", "TaskOption", "TaskSpec", "get_task", "register_task"]
