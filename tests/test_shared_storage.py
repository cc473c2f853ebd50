"""The benchmark against shared storages: PostgreSQL and an Optuna journal file.

PostgreSQL tests skip when no server answers on 127.0.0.1:5432, unless EPOCHBENCH_REQUIRE_POSTGRES=1
(set by .ci/run, where PostgreSQL is local): then a connection error fails them. Each PostgreSQL
test gets a scratch database of its own, dropped afterwards (the ``postgresql_url`` and ``journal_url``
fixtures live in tests/conftest.py, shared with tests/test_workers.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.processes import HANG_SECONDS
from tests.support.cli import ROOT, run_cli, run_process
from tests.support.tiny_runs import TINY_OSC

pytestmark = [pytest.mark.slow]

TINY = ["--task", "osc", "--preset", "smoke", "--skip-lr-free", "--n-trials", "1", "--epochs", "1",
        "--epoch-budgets", "1,2", "--compare-seeds", "1", *TINY_OSC]


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_two_workers_share_one_storage_and_report_from_it(request, tmp_path: Path, kind: str,
                                                          one_torch_thread) -> None:
    url = request.getfixturevalue(f"{kind}_url")
    project = "shared"
    common = [*TINY, "--storage", url, "--project", project, "--data-dir", tmp_path / "data"]
    # Two workers (here one after the other) take different schedulers of one benchmark.
    assert run_cli(*common, "--schedulers", "C", "--out", tmp_path / "a") == 0
    assert run_cli(*common, "--schedulers", "EH", "--out", tmp_path / "b") == 0
    assert run_cli("report", url, "--project", project, "--out", tmp_path / "merged") == 0
    report = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert list(report["mean_final_val_loss"]) == ["C", "EH"]
    assert all(list(per_budget) == ["1", "2"] for per_budget in report["mean_final_val_loss"].values())
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url[len("journal:"):])) \
        if kind == "journal" else optuna.storages.RDBStorage(url)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    assert names == {f"{project}/meta", f"{project}/tune/C", f"{project}/tune/EH", f"{project}/compare/C",
                     f"{project}/compare/EH"}
    if kind == "postgresql":
        storage.remove_session()
        storage.engine.dispose()


def test_a_journal_cut_off_by_a_crash_is_repaired_before_the_next_append(tmp_path: Path, capsys,
                                                                       one_torch_thread) -> None:
    journal = tmp_path / "journal.log"
    run = ["--task", "osc", "--preset", "smoke", "--schedulers", "N", "--skip-lr-free", "--epoch-budgets", "2,3",
           "--storage", f"journal:{journal}", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    assert run_cli(*run) == 0
    os.truncate(journal, journal.stat().st_size - 50)  # what a crash or a full disk leaves
    cut = journal.read_bytes()
    assert not cut.endswith(b"\n")

    assert run_cli("report", f"journal:{journal}", "--out", str(tmp_path / "read")) == 0
    assert journal.read_bytes() == cut  # reading repairs nothing

    capsys.readouterr()
    assert run_cli(*run) == 0
    err = capsys.readouterr().err
    dropped = len(cut) - (cut.rindex(b"\n") + 1)
    assert f"warning: journal {journal} ended in a cut-off line" in err and f"dropped its last {dropped} bytes" in err
    assert journal.read_bytes().startswith(cut[:-dropped])
    assert all(json.loads(line) for line in journal.read_bytes().splitlines())
    assert run_cli("report", f"journal:{journal}", "--out", str(tmp_path / "after")) == 0
    report = json.loads((tmp_path / "after" / "report.json").read_text())
    assert sorted(report["mean_final_val_loss"]["N"]) == ["2", "3"]


def test_a_damaged_sqlite_file_is_named_as_such_in_one_line(tmp_path: Path, one_torch_thread) -> None:
    url = f"sqlite:///{tmp_path}/run.db"
    run = [*TINY, "--schedulers", "N", "--skip-compare", "--storage", url, "--out", tmp_path / "out",
           "--data-dir", tmp_path / "data"]
    assert run_cli(*run) == 0
    size = os.path.getsize(tmp_path / "run.db")
    with open(tmp_path / "run.db", "r+b") as db:  # what a failing disk leaves: pages past the header garbled
        db.seek(8192)
        db.write(b"\xff" * (size - 8192))
    for args in (run, ["report", url, "--out", tmp_path / "report"]):
        result = run_process(*args)
        assert result.returncode == 2
        assert result.stderr == f"error: cannot open storage {url}: database disk image is malformed\n"


@pytest.mark.multiprocess
def test_workers_creating_one_new_sqlite_storage_at_once_all_succeed(tmp_path: Path) -> None:
    """Two processes creating the schema at the same moment raced on alembic_version (one failed)."""
    opener = "import sys; from runstate.storage import open_storage; open_storage(sys.argv[1], for_writing=True)"
    for attempt in range(4):
        url = f"sqlite:///{tmp_path}/new{attempt}.db"
        openers = [subprocess.Popen([sys.executable, "-c", opener, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                   for _ in range(3)]
        errors = [p.communicate(timeout=HANG_SECONDS)[1] for p in openers]
        assert [p.returncode for p in openers] == [0, 0, 0], errors
