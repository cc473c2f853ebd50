"""`report` over stored runs: several runs merge into one cross-task summary; reading creates nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run_process
from tests.support.refusals import REPORT_OF_NOTHING

LEGACY = ROOT / "tests" / "fixtures" / "legacy-run"  # a stored smoke run of N and H (see test_architecture)


@pytest.mark.slow
def test_several_runs_merge_into_sizes_with_the_horizon_free_apart(tmp_path: Path) -> None:
    """The legacy run's N is prefix-shared (0 by construction, horizon-free, reported apart) and H is the one
    horizon-aware contender: the summary gives each run's sizes and ranks nothing (a test needs two or more)."""
    for name in ("first", "second"):
        shutil.copytree(LEGACY, tmp_path / name)
    done = run_process("report", "first", "second", "--out", "merged", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["tasks"] == ["first", "second"]  # same project twice: labelled by folder
    per_run = json.loads((tmp_path / "merged" / "first" / "report.json").read_text())["analysis"]
    shift = {row["name"]: row["value"] for row in per_run["ranking"]}["H"]
    assert merged["contenders"]["H"] == {"horizon_free": False, "values": {"first": shift, "second": shift},
                                         "status": {"first": "measured", "second": "measured"},
                                         "ranks": {"first": None, "second": None}, "mean_rank": None}
    assert merged["contenders"]["N"]["status"] == {"first": "prefix-shared", "second": "prefix-shared"}
    assert merged["contenders"]["N"]["horizon_free"] and merged["block"] is None and merged["profile"] is None
    text = (tmp_path / "merged" / "report.md").read_text()
    assert "- **Horizon-free: N is 0 by construction on every task**" in text
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links == ["first/report.md", "second/report.md"]
    assert all((tmp_path / "merged" / link).is_file() for link in links)


@pytest.mark.parametrize("target, message", REPORT_OF_NOTHING)
def test_report_of_nothing_is_one_line_and_creates_nothing(tmp_path: Path, target: str, message: str) -> None:
    done = run_process("report", target.format(tmp=tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == message.format(tmp=tmp_path)
    assert list(tmp_path.iterdir()) == []
