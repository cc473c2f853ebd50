"""Bad input: one clear line, a non-zero exit, and the existing results left byte-identical."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

import run_all
from runner.config import resolve

SMOKE = ["--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--epoch-budgets", "2,3"]


def invoke(args: list[str], capsys) -> tuple[int, str]:
    sys.argv = ["run_all.py", *args]
    with pytest.raises(SystemExit) as done:
        run_all.main()
    return done.value.code, capsys.readouterr().err


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("existing")
    out, data = root / "out", root / "data"
    sys.argv = ["run_all.py", *SMOKE, "--out", str(out), "--data-dir", str(data)]
    run_all.main()
    return out, data


CASES = [
    (["--task", "nope"], "unknown task 'nope'; known: cifar10, osc, integral"),
    (["--model", "SimpleCNN"], "model 'SimpleCNN' is not valid for task osc; allowed: LSTM_Seq2Seq"),
    (["--dataset", "CIFAR10"], "--dataset does not apply to task osc; tasks with datasets: cifar10"),
    (["--schedulers", "C,XX"], "--schedulers: unknown scheduler code 'XX'; known: N, P, C"),
    (["--optimizer", "SGD"], "--optimizer 'SGD' is unknown; allowed: Adam, AdamW"),
    (["--epoch-budgets", "2,,3"], "--epoch-budgets: '2,,3' is malformed"),
    (["--epoch-budgets", ""], "--epoch-budgets: '' is malformed"),
    (["--epoch-budgets", "0,3"], "--epoch-budgets: budgets must be positive integers"),
    (["--epoch-budgets", "3,3"], "--epoch-budgets: duplicated budget in '3,3'"),
    (["--n-trials", "0"], "--n-trials must be an integer >= 1, got 0"),
    (["--compare-seeds", "0"], "--compare-seeds must be an integer >= 1, got 0"),
    (["--subset-ratio", "0"], "--subset-ratio must be in (0, 1], got 0"),
    (["--lr", "0"], "--lr must be a positive finite number, got 0"),
    (["--lr", "inf"], "--lr must be a positive finite number, got inf"),
    (["--hist", "0"], "--hist must be an integer >= 1, got 0"),
    (["--pred", "100000"], "--hist + --pred must be <= 10000 (the series length), got 20 + 100000"),
    (["--mode", "X"], "--mode 'X' is unknown; allowed: S, MS, M"),
    (["--n-functions", "50"], "--n-functions is not an option of task osc; its options: --dtype, --mode, --hist"),
    (["--batch-size", "0"], "--batch-size must be an integer >= 1, got 0"),
    (["--infimum-lr", "0.5"], "--infimum-lr must be in [0, lr=0.01), got 0.5"),
    (["--subset-ratio", "1.5"], "--subset-ratio must be in (0, 1], got 1.5"),
    (["--epochs", "4"], "holds project osc-LSTM_Seq2Seq run with other settings (--epochs 3 -> 4)"),
    (["--sampler-seed", "9"], "(--sampler-seed 0 -> 9)"),
    (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open storage postgresql://nobody@127.0.0.1:1/none"),
    (["--storage", "mongodb://localhost/x"], "--storage 'mongodb://localhost/x': unknown kind of storage; allowed:"),
    (["--schedulers", "H", "--epoch-budgets", "2,300"],
     "H: upper_bound=250 cannot work at budget 300 epochs; allowed: upper_bound >= 300"),
    pytest.param(["--wandb-mode", "online"], "--wandb-mode online needs wandb, which is not installed",
                 marks=pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")),
    (["--epochs", "abc"], "Invalid value for '--epochs': Input should be a valid integer"),
    (["--preset", "huge"], "--preset 'huge' is unknown; allowed: smoke, paper"),
    (["--transfer-grid", ""], "--transfer-grid: '' is malformed; expected comma-separated positive numbers"),
    (["--transfer-grid", "0.5,,2"], "--transfer-grid: '0.5,,2' is malformed"),
    (["--transfer-grid", "0.5,x"], "--transfer-grid: '0.5,x' is malformed"),
    (["--transfer-grid", "0,1,2"], "--transfer-grid: multipliers must be positive finite numbers, got '0,1,2'"),
    (["--transfer-grid", "-1,2"], "--transfer-grid: multipliers must be positive finite numbers, got '-1,2'"),
    (["--transfer-grid", "1,inf"], "--transfer-grid: multipliers must be positive finite numbers, got '1,inf'"),
    (["--transfer-grid", "1,nan"], "--transfer-grid: multipliers must be positive finite numbers, got '1,nan'"),
    (["--transfer-grid", "0.5,1,0.50"], "--transfer-grid: duplicated multiplier in '0.5,1,0.50'"),
    (["--transfer-grid", "0.5,2", "--transfer-seeds", "3"],
     "--transfer-seeds must be at most --compare-seeds (2): multiplier 1 is Phase 2's run, got 3"),
    (["--transfer-grid", "0.5,2", "--transfer-seeds", "0"], "--transfer-seeds must be an integer >= 1, got 0"),
    (["--transfer-grid", "0.5,2", "--skip-compare"], "--transfer-grid needs Phase 2"),
]


def _case_id(case) -> str:
    return " ".join((case.values if hasattr(case, "values") else case)[0]) or "empty"


@pytest.mark.parametrize("extra, message", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input_leaves_results_untouched(finished_run, capsys, extra: list[str], message: str) -> None:
    out, data = finished_run
    before = snapshot(out)
    base = [a for a in SMOKE]
    for flag in {extra[i] for i in range(0, len(extra), 2)} & {"--schedulers", "--epoch-budgets", "--preset"}:
        i = base.index(flag)
        del base[i:i + 2]
    code, err = invoke([*base, *extra, "--out", str(out), "--data-dir", str(data)], capsys)
    assert code != 0
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert snapshot(out) == before


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


def test_budget_order_does_not_change_the_answer(finished_run, capsys) -> None:
    out, data = finished_run
    before = json.loads((out / "report.json").read_text())
    assert before["config"]["epoch_budgets"] == [2, 3]
    sys.argv = ["run_all.py", *SMOKE[:-2], "--epoch-budgets", "3,2", "--out", str(out), "--data-dir", str(data)]
    run_all.main()  # nothing left to train: only the report is rewritten
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
    sys.argv = ["run_all.py", "--help"]
    run_all.main()  # returns normally: exit status 0
    text = capsys.readouterr().out
    for option in ("--task", "--n-trials", "--compare-seeds", "--epoch-budgets", "--skip-lr-free", "--preset",
                   "--storage", "--pruner", "--precision", "--data-dir", "--wandb-mode"):
        assert option in text
