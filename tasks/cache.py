"""On-disk cache for generated datasets: keyed by every generating parameter, atomic, checked."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from runstate.files import atomic_file

_CHECKSUM = "__checksum__"


def _digest(arrays: dict[str, np.ndarray]) -> np.ndarray:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def cache_path(cache_dir: Path, name: str, key: dict[str, Any]) -> Path:
    text = json.dumps(key, sort_keys=True)
    return Path(cache_dir) / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"


def load_or_build(cache_dir: Path, name: str, key: dict[str, Any],
                  build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Return the cached arrays for ``key``; (re)build and store them if absent or corrupt."""
    path = cache_path(cache_dir, name, key)
    arrays = _read(path)
    if arrays is not None:
        return arrays
    arrays = build()
    with atomic_file(path, "wb") as handle:
        # numpy's stub lets a **dict's keys bind savez's allow_pickle flag; these keys only name arrays
        np.savez(handle, **arrays, **{_CHECKSUM: _digest(arrays)})  # type: ignore[arg-type]
    return arrays


def _read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays if the file exists, parses and matches its checksum; otherwise None."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files if name != _CHECKSUM}
            checksum = stored[_CHECKSUM]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays if np.array_equal(checksum, _digest(arrays)) else None
