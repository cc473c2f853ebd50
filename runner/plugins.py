"""Plugins: a user's own schedules, recipes, tasks and models, without editing EpochBench.

A plugin is a Python file or an importable module that, when imported, calls the ``register_*``
functions below (see ``examples/plugin_schedules.py``). ``--plugin PATH_OR_MODULE`` (repeatable)
loads one for a run; an installed package can declare one in the entry-point group
``epochbench.plugins``, which every command loads. A run stores its plugins (where from, the
sha256 of the file) with its settings, so ``worker`` and ``report`` anywhere load the same ones,
and a resume with a changed plugin file is refused like any other change of settings.

Every fault of a plugin (missing file, import error, a name that clashes, a schedule that fails
its own checks) is a UserError: one ``error:`` line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from errors import UserError
from schedulers.params import Budget
from schedulers.recipes import check_new_contender, register_recipe  # noqa: F401 (public API)
from schedulers.registry import SCHEDULERS, SchedulerSpec
from tasks import TASKS, TaskSpec

ENTRY_POINT_GROUP = "epochbench.plugins"
CHECK_BUDGETS = (Budget(10, 4, 1e-2), Budget(200, 352, 1e-3))  # a new schedule must work at both

_loaded: dict[str, str] = {}  # source -> sha256 of the file, per process


def register_schedule(spec: SchedulerSpec) -> None:
    """Add a schedule to the registry: it is then a contender like every built-in code (tuned over
    Adam/AdamW with the base LR), traced by ``lr-trace`` and listed by ``schedulers``."""
    if not isinstance(spec, SchedulerSpec):
        raise UserError(f"register_schedule takes a SchedulerSpec, got {type(spec).__name__}")
    check_new_contender(spec.code, "schedule")
    try:
        for budget in CHECK_BUDGETS:
            values = spec.resolve(budget)
            spec.search_space(budget)
            lrs = [spec.lr_at(t, budget, values) for t in range(spec.horizon(budget) + 1)]
            bad = next((lr for lr in lrs if not (math.isfinite(lr) and lr >= 0)), None)
            if bad is not None:
                raise ValueError(f"its defaults give the LR {bad!r} at {budget.epochs} epochs; an LR must be "
                                 "finite and >= 0")
    except Exception as err:  # the user's code: any fault is this schedule's
        raise UserError(f"schedule {spec.code!r} fails its checks: {type(err).__name__}: {err}") from None
    SCHEDULERS[spec.code] = spec


def register_task(spec: TaskSpec) -> None:
    """Add a task: ``--task NAME`` then runs it, and its options become command-line flags."""
    if not isinstance(spec, TaskSpec):
        raise UserError(f"register_task takes a TaskSpec, got {type(spec).__name__}")
    if spec.name in TASKS:
        raise UserError(f"task {spec.name!r} clashes with a task of that name")
    if not spec.models:
        raise UserError(f"task {spec.name!r} names no model")
    TASKS[spec.name] = spec


def register_model(name: str, constructor: Callable[..., Any]) -> None:
    """Add a model: ``constructor(**task_data.model_kwargs)`` returns the nn.Module; a task names it."""
    from models import MODELS  # torch: only where a plugin adds a model

    if name in MODELS:
        raise UserError(f"model {name!r} clashes with a model of that name")
    if not callable(constructor):
        raise UserError(f"model {name!r}: the constructor must be callable, got {constructor!r}")
    MODELS[name] = constructor


def installed() -> list[str]:
    """Modules that installed packages declare in the entry-point group ``epochbench.plugins``."""
    return sorted({entry.value.split(":")[0] for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})


def canonical(source: str) -> str:
    """How a run stores a plugin: a file as its absolute path, a module by its name."""
    return str(Path(source).resolve()) if source.endswith(".py") or Path(source).exists() else source


def load(sources: Iterable[str]) -> dict[str, str]:
    """Import each plugin once per process; returns {source: sha256 of its file} for all of ``sources``."""
    return {source: _loaded[source] if source in _loaded else _import(source) for source in map(canonical, sources)}


def _import(source: str) -> str:
    path = Path(source)
    if source.endswith(".py") or path.exists():
        if not path.is_file():
            raise UserError(f"--plugin {source}: no such file")
        module_name = f"epochbench_plugin_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look their module up here
        _run(source, lambda: spec.loader.exec_module(module))
    else:
        module = _run(source, lambda: importlib.import_module(source))
        path = Path(module.__file__ or "")
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    _loaded[source] = digest
    return digest


def _run(source: str, do: Callable[[], ModuleType | None]) -> ModuleType | None:
    """Import a plugin; its faults become one line naming it."""
    try:
        return do()
    except UserError as err:
        raise UserError(f"--plugin {source}: {err}") from None
    except ModuleNotFoundError as err:
        if err.name == source:
            raise UserError(f"--plugin {source}: no such file or importable module") from None
        raise UserError(f"--plugin {source}: import failed: {type(err).__name__}: {err}") from None
    except Exception as err:
        raise UserError(f"--plugin {source}: import failed: {type(err).__name__}: {err}") from None


def differences(stored: dict[str, str], current: dict[str, str]) -> list[str]:
    """Plugins a resume would change, as '--plugin X ...' lines for the refusal."""
    found = [f"--plugin {source} missing (the run used it)" for source in stored if source not in current]
    found += [f"--plugin {source} added" for source in current if source not in stored]
    found += [f"--plugin {source} changed (sha256 {stored[source][:12]} -> {current[source][:12]})"
              for source in stored if source in current and stored[source] != current[source]]
    return found
