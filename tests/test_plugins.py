"""Plugins: a user's schedule, recipe, task or model from a file or an installed package, no package edits.

Each command runs in its own process: a plugin fills the process's registries for good."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run_process
from tests.support.refusals import BAD_PLUGINS
from tests.support.tiny_runs import TINY_OSC

EXAMPLE = ROOT / "examples" / "plugin_schedules.py"
TINY = ["--task", "osc", "--preset", "smoke", "--skip-lr-free", *TINY_OSC, "--n-trials", "2", "--epoch-budgets", "2,3"]
pytestmark = pytest.mark.slow


def test_the_example_plugin_is_listed_and_traced() -> None:
    listed = run_process("schedulers", "--json", "--plugin", EXAMPLE)
    assert listed.returncode == 0, listed.stderr
    tri = next(row for row in json.loads(listed.stdout) if row["code"] == "TRI")
    assert tri["defaults"] == {"peak": 0.3, "infimum_lr": 1e-6} and tri["family"] == "warmup"
    traced = run_process("lr-trace", "TRI", "--epochs", "10", "--lr", "1", "--json", "--plugin", EXAMPLE)
    assert traced.returncode == 0, traced.stderr
    lrs = json.loads(traced.stdout)["lr"]  # warm-up 0.1 -> 1 over 3 epochs, then linear down to 1e-6 at epoch 10
    assert lrs[:4] == pytest.approx([0.1, 0.4, 0.7, 1.0]) and lrs[4] == pytest.approx(1 - (1 - 1e-6) / 7)


@pytest.mark.parametrize("case", list(BAD_PLUGINS))
def test_a_bad_plugin_is_one_error_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    source, message = BAD_PLUGINS[case]
    path = tmp_path / "bad_plugin.py"
    if source is not None:
        path.write_text(source)
    done = run_process(*TINY, "--schedulers", "C", "--plugin", path, "--out", tmp_path / "out", "--data-dir",
                       tmp_path / "data")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: --plugin ") and message.format(path=path) in done.stderr, done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "data").exists()


@pytest.mark.multiprocess
def test_a_plugin_run_with_two_workers_reports_and_refuses_a_changed_plugin(tmp_path: Path) -> None:
    plugin = tmp_path / "mine.py"
    shutil.copy(EXAMPLE, plugin)
    out, data = tmp_path / "out", tmp_path / "data"
    args = [*TINY, "--schedulers", "TRI,SGDM,C", "--compare-seeds", "1", "--plugin", plugin, "--out", out,
            "--data-dir", data]
    done = run_process(*args, "--workers", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert list(report["mean_final_val_loss"]) == ["C", "TRI", "SGDM"]  # registry order, then plugin recipe kinds
    assert set(report["optimization"]["SGDM"]["best_params"]) == {"lr", "infimum_lr", "momentum"}
    assert report["config"]["plugins"] == [str(plugin)]
    assert report["config"]["plugin_sha256"] == {str(plugin): __import__("hashlib").sha256(
        plugin.read_bytes()).hexdigest()}

    (out / "report.json").unlink()  # rebuilt from the storage alone, by a process that loads the stored plugin
    rebuilt = run_process("report", out, cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads((out / "report.json").read_text())["mean_final_val_loss"] == report["mean_final_val_loss"]

    plugin.write_text(plugin.read_text() + "\n# changed\n")
    before = (out / "epochbench.journal").read_bytes()
    refused = run_process(*args)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert f"--plugin {plugin} changed (sha256 " in refused.stderr
    assert (out / "epochbench.journal").read_bytes() == before


def test_an_installed_package_is_loaded_through_its_entry_point(tmp_path: Path) -> None:
    """A distribution on the path declaring group epochbench.plugins (as `pip install` of a package would)."""
    (tmp_path / "my_schedules.py").write_text(
        "from runner.plugins import register_schedule\nfrom schedulers.registry import SchedulerSpec\n"
        "register_schedule(SchedulerSpec('ONE', 'One', family='traditional', shape=lambda t, T, lr: lr, params=(),"
        " summary='constant'))\n")
    info = tmp_path / "my_schedules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-schedules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[epochbench.plugins]\nmine = my_schedules\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    listed = run_process("schedulers", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [row["code"] for row in json.loads(listed.stdout)][-1] == "ONE"
