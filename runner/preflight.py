"""Checks of a run's folders, storage and settings that need neither torch nor data: the CLI runs
them before importing torch, so bad input is refused at once and nothing is written."""

from __future__ import annotations

import os
from pathlib import Path

from errors import UserError
from runner.claims import timing
from runner.config import RunConfig
from runstate import storage as store


def preflight(config: RunConfig) -> None:
    """Every check before training. Creates nothing."""
    check_folder(config.out, "--out")
    check_folder(config.data_dir, "--data-dir", writable=False)  # datasets may sit on a read-only mount
    if config.uses_checkpoints:
        check_folder(config.artifacts_dir, "--checkpoint-dir")
    timing()  # a bad EPOCHBENCH_*_SECONDS is refused now, not at the first claim
    check_resumable(config)


def check_resumable(config: RunConfig) -> None:
    """Open existing state read-only and refuse a folder/storage holding another configuration."""
    url = config.storage_url
    if not store.exists(url):
        return
    stored = (store.stored_meta(store.open_storage(url), config.project) or {}).get("config")
    if stored is not None and (diffs := config.differences(stored)):
        raise UserError(f"{config.out if config.storage is None else url} holds project {config.project} run with "
                        f"other settings ({'; '.join(diffs)}); use another --out/--project or the same settings")


def check_folder(path: Path, option: str, writable: bool = True) -> None:
    """Refuse a folder that cannot be created (or, if ``writable``, written) before any training,
    whatever the storage: with a journal or PostgreSQL, --out is first written after the last run.
    Creates nothing, so a refused command writes nothing."""
    target = path.absolute()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{option} {path}: {existing} is not a folder")
    if (writable or existing != target) and not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: cannot write in {existing}")
