"""Fixed runs' outputs, byte for byte: the guard for refactors that must change no number.

``tests/fixtures/golden-run`` holds the storage and every output of GOLDEN_COMMAND (run with
``--out golden-run --data-dir data``): the storage as retrained for schema 10 (its stored settings gain
``transfer_max_octaves``; curves.csv, transfer.csv and every PNG byte-identical to commit e68766f's),
the report files as the current code writes them from that storage (each change to them is a commit
of its own that says why: schema 7's renames, 8's transfer, 9's outcome, PNGs without the matplotlib
version, 10's movement, summary and censored transfer costs). Rebuilding the report from that storage
must give the same bytes in every
file (report.json, curves.csv, transfer.csv, report.md, each PNG); retraining the command from
scratch must give the same bytes too, less the environment and the timings. The retrain holds on
this kind of machine (CI runs on it): another CPU may pick other kernels and other last bits.
``tests/fixtures/golden-analyze`` is ``analyze`` over the paper's curves and that run's curves.csv.
Change a fixture file only for an intended change of the output, and say so in the commit.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.support.cli import run_cli

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden-run"  # GOLDEN_COMMAND of tests/support/tiny_runs.py
OUTPUTS = ["report.json", "curves.csv", "transfer.csv", "report.md",
           *sorted(str(p.relative_to(GOLDEN)) for p in (GOLDEN / "plots").glob("*.png"))]


def test_the_fixture_holds_every_output() -> None:
    assert len(OUTPUTS) == 13 and all((GOLDEN / name).is_file() for name in OUTPUTS)


@pytest.mark.slow
def test_report_rebuilt_from_the_golden_storage_is_byte_identical(tmp_path: Path) -> None:
    shutil.copytree(GOLDEN, tmp_path / "golden")
    assert run_cli("report", tmp_path / "golden", "--out", tmp_path / "rebuilt") == 0
    changed = [name for name in OUTPUTS if (tmp_path / "rebuilt" / name).read_bytes() != (GOLDEN / name).read_bytes()]
    assert changed == []


def without_run_facts(name: str, content: bytes) -> bytes:
    """The bytes less the wall-clock timings and the environment (commit, dirty tree, versions: where it ran)."""
    if name == "report.json":
        report = json.loads(content)
        report.pop("environment")
        report.pop("training_time_s")
        return json.dumps(report, indent=1).encode()
    if name == "report.md":
        text = re.sub(r"\| environment \| value \|\n(\|.*\n)*", "", content.decode())
        return re.sub(r"Training time \(summed over runs\): .*", "Training time: -", text).encode()
    return content


@pytest.mark.slow
@pytest.mark.multiprocess
def test_the_golden_command_retrains_to_the_same_bytes(finished_run) -> None:
    """Training on this machine's CPU is deterministic: the same command gives the same curves and figures.

    The command is trained once per session (the "golden" tiny run, one torch thread, ``--out golden-run
    --data-dir data`` as the fixture was written); tests/test_runner_end_to_end.py checks the same run."""
    out = finished_run("golden") / "golden-run"
    changed = [name for name in OUTPUTS if without_run_facts(name, (out / name).read_bytes())
               != without_run_facts(name, (GOLDEN / name).read_bytes())]
    assert changed == []


GOLDEN_ANALYZE = GOLDEN.parent / "golden-analyze"


@pytest.mark.slow
def test_analyze_of_paper_and_golden_curves_is_byte_identical(tmp_path: Path, monkeypatch) -> None:
    """``analyze paper-curves golden-run/curves.csv``: per-source analyses and the cross-task summary
    (analysis.json, summary.json, report.md files, every figure, the critical-difference diagram included)."""
    shutil.copytree(GOLDEN.parent / "paper-curves", tmp_path / "paper-curves")
    (tmp_path / "golden-run").mkdir()
    shutil.copy(GOLDEN / "curves.csv", tmp_path / "golden-run")
    monkeypatch.chdir(tmp_path)
    assert run_cli("analyze", "paper-curves", "golden-run/curves.csv", "--out", "golden-analyze") == 0
    expected = sorted(p.relative_to(GOLDEN_ANALYZE) for p in GOLDEN_ANALYZE.rglob("*") if p.is_file())
    written = sorted(p.relative_to(tmp_path / "golden-analyze") for p in (tmp_path / "golden-analyze").rglob("*")
                     if p.is_file())
    assert written == expected and len(expected) == 19
    changed = [str(name) for name in expected
               if (tmp_path / "golden-analyze" / name).read_bytes() != (GOLDEN_ANALYZE / name).read_bytes()]
    assert changed == []
