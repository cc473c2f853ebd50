"""Task registry: name -> TaskSpec. Adding a task is one module and one line here.

Importing it imports no torch (tasks import torch where they load data), so the CLI starts fast."""

from __future__ import annotations

from errors import UserError
from tasks import cifar, integral, osc
from tasks.spec import DataConfig, TaskOption, TaskSpec

TASKS: dict[str, TaskSpec] = {t.name: t for t in (cifar.TASK, osc.TASK, integral.TASK)}


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}; known: {', '.join(TASKS)}") from None


__all__ = ["TASKS", "DataConfig", "TaskOption", "TaskSpec", "get_task"]
