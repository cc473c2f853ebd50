"""Every script in benchmarks/ runs: each at tiny sizes (--quick), so a change that breaks one fails CI.

The figures of a quick run mean nothing; what is checked is that every part ran and printed its
comparison (and that prefix sharing changed no number)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import HANG_SECONDS
from tests.support.cli import ROOT

pytestmark = [pytest.mark.slow]


def run_quick(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=HANG_SECONDS)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_throughput(tmp_path: Path) -> None:
    out = run_quick("throughput.py", "--data-dir", str(tmp_path / "data"))
    for model in ("SimpleCNN", "ResNetCIFAR", "SimpleViT", "LSTM_Seq2Seq", "DeepONet", "TFONet"):
        assert re.search(rf"^{model}\s+\d+\s+fp32\s+[\d.]+", out, re.M), out
    assert re.search(r"^\(a\) augmentation.* -> [\d.]+x$", out, re.M), out
    assert re.search(r"^\(b\) DeepONet step.* -> [\d.]+x$", out, re.M), out


def test_prefix_sharing(tmp_path: Path) -> None:
    out = run_quick("prefix_sharing.py", "--out", str(tmp_path / "out"))
    assert re.search(r"^all\s+\d+\s+\d+\s+\d+%$", out, re.M), out  # (b): the paper protocol's total
    assert re.search(r"^wall-time ratio shared/alone: [\d.]+; curves.csv identical: True$", out, re.M), out


def test_scaling(postgresql_url: str) -> None:
    out = run_quick("scaling.py", "--postgres", postgresql_url)
    assert re.search(r"2 workers / 1 worker throughput: [\d.]+x", out), out
    assert re.search(r"training epochs alone: [\d.]+x", out), out
    for kind in ("SQLite", "journal", "PostgreSQL"):
        assert re.search(rf"^\s+{kind}\s*: +[\d.]+ s of +[\d.]+ s = +[\d.]+ %$", out, re.M), out


def test_budget_test_power() -> None:
    out = run_quick("budget_test_power.py")
    assert len(re.findall(r"^\s+\d+\s+[\d.]+\s+[\d.]+$", out, re.M)) == 3, out  # (a): a row per number of seeds
    assert len(re.findall(r"^\s+[\d.]+(\s+[\d.]+){3}$", out, re.M)) == 4, out  # (b): a row per effect
    assert len(re.findall(r"^(independent|AR\(1\)|seed level)(\s+[\d.]+){5}$", out, re.M)) == 9, out  # (c)


def test_denormals(tmp_path: Path) -> None:
    out = run_quick("denormals.py", "--data-dir", str(tmp_path / "data"))
    assert re.search(r"^wall-time ratio kept/flushed: [\d.]+x; validation losses identical: (True|False)$", out,
                     re.M), out


def test_interval_coverage() -> None:
    out = run_quick("interval_coverage.py")
    assert len(re.findall(r"^(independent|AR\(1\)|seed level)\s+\d+(\s+[\d.]+){4}$", out, re.M)) == 9, out


def test_movement_calibration() -> None:
    out = run_quick("movement_calibration.py")
    assert len(re.findall(r"^(independent|AR\(1\)|seed level)\s+[\d.]+\s+[\d.]+(\s+[\d.]+){3}$", out, re.M)) == 15, out
    assert len(re.findall(r"^(independent|AR\(1\)|seed level)\s+[\d.]+(\s+[\d.]+){2}$", out, re.M)) == 6, out
    assert len(re.findall(r"^\s+[\d.]+\s+\d+\s+[\d.]+\s+(-|[\d.]+)\s+(-|\d+)$", out, re.M)) == 4, out


def test_sequential_calibration() -> None:
    out = run_quick("sequential_calibration.py")
    scenarios, powers = out.split("\n(b) ")
    assert "| scenario | noise | FWER adaptive | FWER fixed | power adaptive | power fixed |" in scenarios, out
    row = (r"^\| (null|\([\d, ]+\)) \| (independent|AR\(1\)|seed level) \|( (-|[\d.]+) \|){4}( [\d.]+ \|){3}"
           r" (-|> \d+|\d+) \| (-|< [\d.]+|[\d.]+) \|$")
    assert len(re.findall(row, scenarios, re.M)) == 10, out  # (a): a row per scenario
    row = r"^\| \([\d, ]+\) \| (independent|AR\(1\)|seed level)( \| [\d.]+){9} \|$"
    assert len(re.findall(row, powers, re.M)) == 7, out  # (b): a row per scenario with non-null pairs
    row = r"^\| (unequal rerun noise|heavy tails \(t, 3 df\)) \| [\d.]+ \| [\d.]+ \|$"
    assert len(re.findall(row, powers, re.M)) == 2, out  # (c): a row per noise the design was not built around
