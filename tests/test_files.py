"""Atomic writes leave files as a plain open() would: mode from the umask, or the file's own."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from runstate.files import atomic_write_text
from tasks.cache import load_or_build


@pytest.fixture
def restore_umask():
    """Let a test set its umask, and give the process its own back."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path: Path, restore_umask, mask: int, expected: int) -> None:
    os.umask(mask)
    atomic_write_text(tmp_path / "report.json", "{}\n")  # report.json and curves.csv
    load_or_build(tmp_path, "osc", {"k": 1}, lambda: {"x": np.zeros(3)})  # the data cache
    assert _mode(tmp_path / "report.json") == expected
    assert [_mode(p) for p in tmp_path.glob("osc-*.npz")] == [expected]


def test_a_rewritten_file_keeps_its_mode(tmp_path: Path, restore_umask) -> None:
    path = tmp_path / "curves.csv"
    path.write_text("old\n")
    path.chmod(0o640)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n" and _mode(path) == 0o640
