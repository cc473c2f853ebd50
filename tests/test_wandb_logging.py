"""W&B logging in offline mode (runs only where the optional wandb extra is installed)."""

from pathlib import Path

import pytest

from runner.config import resolve
from runner.pipeline import run_benchmark


def test_offline_wandb_logs_every_run(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("wandb", reason="the optional wandb extra is not installed")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = resolve({"task": "osc", "schedulers": ("C",), "lr_free": (), "out": tmp_path / "out",
                      "data_dir": tmp_path / "data", "epoch_budgets": (2,), "wandb_mode": "offline"}, "smoke")
    run_benchmark(config)
    runs = sorted((tmp_path / "out" / "wandb").glob("offline-run-*"))
    assert len(runs) == 2 + 2  # two tuning trials, one budget x two seeds
    assert all(any(r.glob("*.wandb")) for r in runs)
