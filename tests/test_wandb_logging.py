"""W&B logging, offline: one W&B run per training run whose history is exactly the stored curves.

wandb is in the dev extra, so this runs in CI. Nothing touches the network: WANDB_MODE=offline and
every W&B folder (runs, config, cache, data) lives in the test's tmp folder. What was logged is
read back from the offline runs' .wandb files (W&B's record log: a 7-byte ':W&B' header, then
LevelDB-log framed protobuf `Record`s, wandb/proto/wandb_internal.proto).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import optuna
import pytest

from runstate.storage import default_url, open_storage
from tests.processes import HANG_SECONDS
from tests.support.cli import run_cli

wandb = pytest.importorskip("wandb", reason="wandb is not installed (pip install -e '.[dev]')")
from wandb.proto import wandb_internal_pb2  # noqa: E402

pytestmark = [pytest.mark.slow]

PROJECT = "osc-LSTM_Seq2Seq"
BLOCK, HEADER = 32768, 7


def wandb_records(path: Path) -> list:
    """Every protobuf Record in a .wandb file (LevelDB log format: 32 KiB blocks, 7-byte chunk headers
    holding crc32, length and type FULL=1, FIRST=2, MIDDLE=3, LAST=4)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pos, pending = [], HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # block trailer padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        chunk, pos = data[pos + HEADER:pos + HEADER + length], pos + HEADER + length
        if kind in (1, 4):
            records.append(wandb_internal_pb2.Record.FromString(pending + chunk))
            pending = b""
        elif kind in (2, 3):
            pending += chunk
        elif kind == 0 and length == 0:  # zero padding up to the block end
            pos += left - HEADER
    return records


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


def read_offline_run(folder: Path) -> dict:
    """name, group, config, per-step history rows and final summary of one offline run."""
    (path,) = folder.glob("run-*.wandb")
    run: dict = {"history": {}, "summary": {}}
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run["name"], run["group"] = record.run.display_name, record.run.run_group
            run["config"] = {_key(u): json.loads(u.value_json) for u in record.run.config.update}
        elif kind == "history":
            row = {_key(i): json.loads(i.value_json) for i in record.history.item}
            run["history"][row["_step"]] = row
        elif kind == "summary":
            run["summary"].update({_key(u): json.loads(u.value_json) for u in record.summary.update})
    return run


@pytest.fixture
def offline_wandb(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "wandb-home"
    for variable, value in {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": home,
                            "WANDB_CONFIG_DIR": home / "config", "WANDB_CACHE_DIR": home / "cache",
                            "WANDB_DATA_DIR": home / "data", "WANDB_BASE_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(variable, str(value))
    yield home
    wandb.teardown()  # stop the W&B service process this test started


def test_offline_wandb_logs_every_run_with_its_curves(tmp_path: Path, offline_wandb: Path, one_torch_thread) -> None:
    out = tmp_path / "out"
    code = run_cli("--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--n-trials", "2",
                   "--epochs", "2", "--epoch-budgets", "3", "--compare-seeds", "1", "--hist", "5", "--pred", "5",
                   "--subset-ratio", "0.005", "--wandb-mode", "offline", "--out", out,
                   "--data-dir", tmp_path / "data", timeout=HANG_SECONDS)
    assert code == 0
    runs = {run["name"]: run for run in map(read_offline_run, sorted((out / "wandb").glob("offline-run-*")))}
    assert sorted(runs) == ["compare/C/E3-seed1", "tune/C/trial0-seed1", "tune/C/trial1-seed1"]

    storage = open_storage(default_url(out))
    tune = optuna.load_study(study_name=f"{PROJECT}/tune/C", storage=storage).get_trials()
    (compare,) = optuna.load_study(study_name=f"{PROJECT}/compare/C", storage=storage).get_trials()
    stored = {f"tune/C/trial{t.user_attrs['index']}-seed1": t.user_attrs["runs"][0] for t in tune}
    stored["compare/C/E3-seed1"] = compare.user_attrs
    for name, run in runs.items():
        curves = stored[name]
        epochs = len(curves["val_loss"])
        assert epochs == (3 if name.startswith("compare") else 2)
        assert run["group"] == name.rsplit("/", 1)[0]
        assert run["config"]["epochs"] == epochs and run["config"]["seed"] == 1 and run["config"]["recipe"] == "C"
        assert sorted(run["history"]) == list(range(epochs))
        for key in ("lr", "train_loss", "val_loss"):
            assert [run["history"][step][key] for step in range(epochs)] == pytest.approx(curves[key], rel=1e-12)
        assert run["summary"]["status"] == "complete"
        assert run["summary"]["test_loss"] == pytest.approx(curves["test_loss"], rel=1e-12)
