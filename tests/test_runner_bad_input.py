"""Bad input: one clear line, a non-zero exit, and the existing results left byte-identical."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.config import resolve
from tests.support.cli import run_cli
from tests.support.refusals import ON_A_FINISHED_RUN
from tests.support.snapshot import file_digests
from tests.support.tiny_runs import TINY_RUNS

SMOKE = list(TINY_RUNS["osc C budgets 2,3"].args)


def invoke(args: list[str], capsys) -> tuple[int, str]:
    """The command's exit status and what it printed on stderr."""
    return run_cli(*args), capsys.readouterr().err


@pytest.fixture
def smoke_run(finished_run) -> tuple[Path, Path]:
    """(output folder, data folder) of a fresh copy of the finished SMOKE run."""
    folder = finished_run("osc C budgets 2,3")
    return folder / "out", folder / "data"


def _case_id(case) -> str:
    return " ".join((case.values if hasattr(case, "values") else case)[0]) or "empty"


@pytest.mark.parametrize("extra, message", ON_A_FINISHED_RUN, ids=[_case_id(c) for c in ON_A_FINISHED_RUN])
def test_bad_input_leaves_results_untouched(smoke_run, capsys, extra: list[str], message: str) -> None:
    out, data = smoke_run
    before = file_digests(out)
    base = [a for a in SMOKE]
    for flag in {extra[i] for i in range(0, len(extra), 2)} & {"--schedulers", "--epoch-budgets", "--preset"}:
        i = base.index(flag)
        del base[i:i + 2]
    code, err = invoke([*base, *extra, "--out", str(out), "--data-dir", str(data)], capsys)
    assert code != 0
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert file_digests(out) == before


@pytest.mark.parametrize("storage", ["default", "journal", "postgresql"])
@pytest.mark.parametrize("option", ["--out", "--data-dir"])
def test_an_unusable_folder_is_refused_before_training(tmp_path: Path, capsys, option: str, storage: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    folders = {"--out": str(tmp_path / "out"), "--data-dir": str(tmp_path / "data"), option: str(blocker / "sub")}
    urls = {"default": [], "journal": ["--storage", f"journal:{tmp_path / 'j.log'}"],
            "postgresql": ["--storage", "postgresql://nobody@127.0.0.1:1/none"]}  # checked first: never contacted
    args = [*SMOKE, *urls[storage]] + [x for pair in folders.items() for x in pair]
    code, err = invoke(args, capsys)
    assert (code, err) == (2, f"error: {option} {blocker / 'sub'}: {blocker} is not a folder\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing trained, nothing written


def test_budget_order_does_not_change_the_answer(smoke_run, monkeypatch) -> None:
    out, data = smoke_run
    before = json.loads((out / "report.json").read_text())
    assert before["config"]["epoch_budgets"] == [2, 3]
    monkeypatch.chdir(out.parent)  # the folders as the run was given them: the report states them
    assert run_cli(*SMOKE[:-2], "--epoch-budgets", "3,2", "--out", out.name, "--data-dir", data.name) == 0
    # nothing left to train: only the report is rewritten
    assert json.loads((out / "report.json").read_text()) == before
    base = {"task": "osc", "schedulers": ("H",), "lr_free": ()}
    assert resolve({**base, "epoch_budgets": (6, 3)}, "smoke") == resolve({**base, "epoch_budgets": (3, 6)}, "smoke")


def test_a_transfer_grid_is_sorted_and_its_seeds_default_to_the_compare_seeds() -> None:
    from runner.parsing import parse_multipliers

    assert parse_multipliers(" 4, 0.25,1 ,2") == [0.25, 1.0, 2.0, 4.0]
    config = resolve({"task": "osc", "schedulers": ("H",), "lr_free": (), "transfer_grid": (0.5, 1.0, 2.0)}, "smoke")
    assert (config.transfer_seeds, config.transfer_multipliers) == (config.compare_seeds, [0.5, 2.0])
    # planned epochs: per contender, Phase 2's budgets x seeds once more for each multiplier but 1
    plain = resolve({"task": "osc", "schedulers": ("H",), "lr_free": ()}, "smoke")
    assert config.planned_epochs - plain.planned_epochs == 2 * (3 + 6) * config.compare_seeds


def test_missing_dataset_files_are_named(tmp_path: Path, capsys) -> None:
    code, err = invoke(["--task", "cifar10", "--preset", "smoke", "--out", str(tmp_path / "out"),
                        "--data-dir", str(tmp_path / "empty")], capsys)
    assert code == 2
    assert f"CIFAR10 files not found or corrupted under {tmp_path / 'empty' / 'cifar-10-batches-py'}" in err
    assert not (tmp_path / "out").exists()


def test_report_of_a_folder_without_results(tmp_path: Path, capsys) -> None:
    code, err = invoke(["report", str(tmp_path)], capsys)
    assert code == 2 and f"{tmp_path} holds no epochbench.journal (nor epochbench.db)" in err


def test_help_lists_the_paper_options(capsys) -> None:
    assert run_cli("--help") == 0
    text = capsys.readouterr().out
    for option in ("--task", "--n-trials", "--compare-seeds", "--epoch-budgets", "--skip-lr-free", "--preset",
                   "--storage", "--pruner", "--precision", "--data-dir", "--wandb-mode"):
        assert option in text
