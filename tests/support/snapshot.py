"""What a run left behind, to compare before and after a command: file digests, stored trials."""

from __future__ import annotations

import hashlib
from pathlib import Path

import optuna

from runstate import storage as store


def file_digests(folder: Path) -> dict[str, str]:
    """{path relative to the folder: sha256} of every file under it."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def trial_counts(folder: Path) -> dict[str, int]:
    """{study name: number of trials} in a run folder's default storage."""
    storage = store.open_storage(store.default_url(folder))
    return {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}


def compare_trials(out: Path) -> list[tuple[str, str, str, str]]:
    """(study, state name, budget, seed) of every Phase 2 trial in the run folder's storage."""
    storage = store.open_storage(store.default_url(out))
    return [(summary.study_name, t.state.name, str(t.user_attrs.get("budget")), str(t.user_attrs.get("seed")))
            for summary in optuna.get_all_study_summaries(storage) if "/compare/" in summary.study_name
            for t in store.trials(storage, summary.study_name)]
