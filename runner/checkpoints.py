"""Checkpoints of runs in Optuna's artifact store, found by the unit of work, checked by sha256.

A unit (a Phase 2 budget x seed with given parameters) may be trained by several trials: a
killed worker leaves its RUNNING trial behind and the rerun opens a new one. So a checkpoint is
found through the study, under a key derived from the unit's identity, not from the trial
number: the study user attribute ``checkpoint:<key>`` holds the artifact id, the file's sha256
and the identity. The file is uploaded with the trial that wrote it (Optuna lists it there).
Several workers (or machines) share checkpoints through the storage and the artifact store.

A checkpoint that is missing, does not match its checksum or does not load is reported and
ignored: the run starts over (or from an earlier point), never from a wrong state.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound

ATTR_PREFIX = "checkpoint:"


def artifact_store(folder: Path) -> FileSystemArtifactStore:
    """Optuna's file-system artifact store in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(folder)


def key_of(identity: dict[str, Any]) -> str:
    """A stable key for a checkpoint's identity (unit parameters, budget, seed, ...)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def encode(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


class Checkpoints:
    """Save, find and remove the checkpoints of one study's units."""

    def __init__(self, study: optuna.Study, store: Any, note: Callable[[str], None]) -> None:
        self.study, self.store, self.note = study, store, note
        self.seconds = 0.0  # spent saving: the checkpoint overhead

    def _reference(self, key: str) -> dict[str, Any] | None:
        return self.study.user_attrs.get(ATTR_PREFIX + key)

    def save(self, trial: optuna.Trial, identity: dict[str, Any], data: bytes) -> None:
        """Store ``data`` (an :func:`encode`d state) as the checkpoint of ``identity``, replacing the
        previous one only once the new file is complete."""
        started = time.perf_counter()
        key = key_of(identity)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"checkpoint-{key}.pt"
            path.write_bytes(data)
            artifact_id = upload_artifact(artifact_store=self.store, file_path=str(path), study_or_trial=trial)
        previous = self._reference(key)
        self.study.set_user_attr(ATTR_PREFIX + key, {"artifact_id": artifact_id, "identity": identity,
                                                     "sha256": hashlib.sha256(data).hexdigest()})
        if previous:
            self._remove_artifact(previous["artifact_id"])
        self.seconds += time.perf_counter() - started

    def load(self, identity: dict[str, Any]) -> dict[str, Any] | None:
        """The state saved for ``identity``, or None if there is none or it is unusable (said why)."""
        reference = self._reference(key_of(identity))
        if not reference:
            return None
        what = f"checkpoint {reference['artifact_id']} ({json.dumps(identity, sort_keys=True)})"
        if reference.get("identity") != identity:
            self.note(f"warning: {what} belongs to another run; not used")
            return None
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "checkpoint.pt"
            try:
                download_artifact(artifact_store=self.store, file_path=str(path),
                                  artifact_id=reference["artifact_id"])
            except (ArtifactNotFound, OSError):
                self.note(f"warning: {what} is missing from the artifact store; not used")
                return None
            data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != reference["sha256"]:
            self.note(f"warning: {what} does not match its sha256 (corrupt); not used")
            return None
        try:
            return torch.load(io.BytesIO(data), weights_only=True)
        except Exception as err:  # a file that passed its checksum but was written wrong
            self.note(f"warning: {what} does not load ({type(err).__name__}); not used")
            return None

    def remove(self, identity: dict[str, Any]) -> None:
        """Delete the checkpoint of ``identity`` if there is one."""
        key = key_of(identity)
        reference = self._reference(key)
        if reference:
            self.study.set_user_attr(ATTR_PREFIX + key, None)
            self._remove_artifact(reference["artifact_id"])

    def _remove_artifact(self, artifact_id: str) -> None:
        try:
            self.store.remove(artifact_id)
        except ArtifactNotFound:
            pass
