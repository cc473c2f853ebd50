"""The Optuna storage is the state: study naming, opening URLs, the stored configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

from schedulers.errors import UserError

DB_FILE = "epochbench.db"
SCHEMES = "sqlite:///FILE, postgresql://USER@HOST/DB, mysql://..., journal:FILE"


def default_url(out: Path) -> str:
    return f"sqlite:///{(out / DB_FILE).resolve()}"


def study_name(project: str, phase: str, name: str) -> str:
    """'<project>/tune/<name>' for Phase 1, '<project>/compare/<name>' for Phase 2."""
    return f"{project}/{phase}/{name}"


def meta_name(project: str) -> str:
    return f"{project}/meta"


def exists(url: str) -> bool:
    """Whether opening ``url`` would find existing state (never creates a file)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    if url.startswith("journal:"):
        return Path(url.removeprefix("journal:")).is_file()
    return True


def open_storage(url: str) -> BaseStorage:
    """An Optuna storage for ``url``; unknown schemes and unreachable servers are UserErrors."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        if not path.parent.is_dir():
            raise UserError(f"--storage {url}: folder {path.parent} does not exist")
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if url.split(":", 1)[0].split("+", 1)[0] not in ("sqlite", "postgresql", "mysql"):
        raise UserError(f"--storage {url!r}: unknown kind of storage; allowed: {SCHEMES}")
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url))
    except Exception as err:  # sqlalchemy raises many kinds for bad URLs and dead servers
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"cannot open storage {url}: {first_line}") from None


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": 5}}
    if url.startswith("mysql"):
        return {"connect_args": {"connect_timeout": 5}}
    return {}


def stored_config(storage: BaseStorage, project: str) -> dict[str, Any] | None:
    """The configuration a previous command stored for ``project``, if any."""
    try:
        study = optuna.load_study(study_name=meta_name(project), storage=storage)
    except KeyError:
        return None
    return study.user_attrs.get("config")


def store_meta(storage: BaseStorage, project: str, config: dict[str, Any], environment: dict[str, Any]) -> None:
    study = optuna.create_study(study_name=meta_name(project), storage=storage, load_if_exists=True)
    study.set_user_attr("config", json.loads(json.dumps(config)))
    study.set_user_attr("environment", environment)


def projects(storage: BaseStorage) -> list[str]:
    return sorted(s.study_name.removesuffix("/meta") for s in optuna.get_all_study_summaries(storage)
                  if s.study_name.endswith("/meta"))
