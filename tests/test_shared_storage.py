"""The benchmark against shared storages: PostgreSQL (when reachable) and an Optuna journal file."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import optuna
import pytest

import run_all
from results import storage as store
from runner.config import resolve
from runner.pipeline import run_benchmark, write_outputs

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(POSTGRES, connect_timeout=2).close()
        return True
    except Exception:
        return False


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_two_workers_share_one_storage_and_report_from_it(tmp_path: Path, kind: str) -> None:
    if kind == "postgresql" and not _postgres_reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 (CI machines have one)")
    url = POSTGRES if kind == "postgresql" else f"journal:{tmp_path}/journal.log"
    project = f"test-{uuid.uuid4().hex[:8]}"
    base = {"task": "osc", "lr_free": (), "storage": url, "project": project, "data_dir": tmp_path / "data",
            "epoch_budgets": (2, 3)}
    try:
        # Two workers (here one after the other) take different schedulers of one benchmark.
        run_benchmark(resolve({**base, "schedulers": ("C",), "out": tmp_path / "a"}, "smoke"))
        run_benchmark(resolve({**base, "schedulers": ("EH",), "out": tmp_path / "b"}, "smoke"))
        storage = store.open_storage(url)
        assert project in store.projects(storage)
        report = write_outputs(storage, project, tmp_path / "merged")
        assert list(report["comparison"]) == ["C", "EH"]
        assert json.loads((tmp_path / "merged" / "report.json").read_text()) == report
        names = {s.study_name for s in optuna.get_all_study_summaries(storage) if s.study_name.startswith(project)}
        assert names == {f"{project}/meta", f"{project}/tune/C", f"{project}/tune/EH", f"{project}/compare/C",
                         f"{project}/compare/EH"}
    finally:
        if kind == "postgresql":
            storage = store.open_storage(url)
            for summary in optuna.get_all_study_summaries(storage):
                if summary.study_name.startswith(project):
                    optuna.delete_study(study_name=summary.study_name, storage=storage)


def _cli(args: list[str], capsys) -> tuple[int, str]:
    """Exit status and stderr of ``run_all.py ARGS`` run in this process."""
    sys.argv = ["run_all.py", *args]
    try:
        run_all.main()
    except SystemExit as done:
        return done.code, capsys.readouterr().err
    return 0, capsys.readouterr().err


def test_a_journal_cut_off_by_a_crash_is_repaired_before_the_next_append(tmp_path: Path, capsys) -> None:
    journal = tmp_path / "journal.log"
    run = ["--task", "osc", "--preset", "smoke", "--schedulers", "N", "--skip-lr-free", "--epoch-budgets", "2,3",
           "--storage", f"journal:{journal}", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    assert _cli(run, capsys)[0] == 0
    os.truncate(journal, journal.stat().st_size - 50)  # what a crash or a full disk leaves
    cut = journal.read_bytes()
    assert not cut.endswith(b"\n")

    assert _cli(["report", f"journal:{journal}", "--out", str(tmp_path / "read")], capsys)[0] == 0
    assert journal.read_bytes() == cut  # reading repairs nothing

    code, err = _cli(run, capsys)
    assert code == 0
    dropped = len(cut) - (cut.rindex(b"\n") + 1)
    assert f"warning: journal {journal} ended in a cut-off line" in err and f"dropped its last {dropped} bytes" in err
    assert journal.read_bytes().startswith(cut[:-dropped])
    assert all(json.loads(line) for line in journal.read_bytes().splitlines())
    code, err = _cli(["report", f"journal:{journal}", "--out", str(tmp_path / "after")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "after" / "report.json").read_text())
    assert sorted(report["comparison"]["N"]) == ["2", "3"]
