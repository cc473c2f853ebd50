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
def test_several_runs_merge_into_ranks_and_a_performance_profile(tmp_path: Path) -> None:
    for name in ("first", "second"):
        shutil.copytree(LEGACY, tmp_path / name)
    done = run_process("report", "first", "second", "--out", "merged", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["tasks"] == ["first", "second"]  # same project twice: labelled by folder
    per_run = json.loads((tmp_path / "merged" / "first" / "report.json").read_text())["analysis"]
    ranking = [row["name"] for row in per_run["ranking"]]
    for name, row in merged["contenders"].items():
        rank = float(ranking.index(name) + 1)  # no ties between the two legacy values
        assert row["ranks"] == {"first": rank, "second": rank} and row["mean_rank"] == rank
    # N's same-seed curves coincide over the shared prefix (decoupling 0): a ratio to a best of 0 is
    # undefined, so both tasks are left out of the profile and named.
    assert ranking[0] == "N" and per_run["contenders"]["N"]["sensitivity"]["value"] == 0.0
    assert merged["profile_skipped"] == ["first", "second"]
    text = (tmp_path / "merged" / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert "plots/performance_profile.png" in links and all((tmp_path / "merged" / link).is_file() for link in links)


@pytest.mark.parametrize("target, message", REPORT_OF_NOTHING)
def test_report_of_nothing_is_one_line_and_creates_nothing(tmp_path: Path, target: str, message: str) -> None:
    done = run_process("report", target.format(tmp=tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == message.format(tmp=tmp_path)
    assert list(tmp_path.iterdir()) == []
