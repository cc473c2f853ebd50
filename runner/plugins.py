"""Plugins: a user's own schedules, recipes, tasks and models, without editing EpochBench.

A plugin is a Python file or an importable module that, when imported, calls the ``register_*``
functions this module gathers from their owners (see ``examples/plugin_schedules.py``); this module
loads plugins and records their files. ``--plugin PATH_OR_MODULE`` (repeatable)
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
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from errors import UserError
from schedulers.recipes import register_recipe, register_schedule  # noqa: F401 (public API)
from tasks import register_task  # noqa: F401 (public API)

ENTRY_POINT_GROUP = "epochbench.plugins"

T = TypeVar("T")

_loaded: dict[str, str] = {}  # source -> sha256 of the file, per process


def register_model(name: str, constructor: Callable[..., Any]) -> None:
    """Add a model (models.register_model): ``constructor(**task_data.model_kwargs)`` returns the nn.Module."""
    from models import register_model as register  # torch: only where a plugin adds a model

    register(name, constructor)


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
        if spec is None or spec.loader is None:  # a file without Python's suffix: no loader takes it
            raise UserError(f"--plugin {source}: not a Python file")
        loader = spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look their module up here
        _run(source, lambda: loader.exec_module(module))
    else:
        module = _run(source, lambda: importlib.import_module(source))
        path = Path(module.__file__ or "")
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    _loaded[source] = digest
    return digest


def _run(source: str, do: Callable[[], T]) -> T:
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
