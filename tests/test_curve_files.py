"""Reading curve files: the paper's W&B exports and our curves.csv into one tidy form; bad files are UserErrors."""

from pathlib import Path

import pandas as pd
import pytest

from errors import UserError
from results.sources.curve_files import load_curves, read_ours, read_paper
from tests.support.curves import synthetic_curves

PAPER = Path(__file__).parent / "fixtures" / "paper-curves"


def test_paper_export_becomes_tidy_seed_zero_with_band() -> None:
    frame = read_paper(PAPER / "Result_CIFAR10_CNN-H.csv", "H")
    assert sorted(frame["budget"].unique()) == [50, 100, 150, 200]
    assert frame.groupby("budget").size().to_dict() == {50: 50, 100: 100, 150: 150, 200: 200}
    assert set(frame["seed"]) == {0} and set(frame["status"]) == {"complete"}
    first = frame[(frame["budget"] == 50) & (frame["epoch"] == 0)].iloc[0]
    raw = pd.read_csv(PAPER / "Result_CIFAR10_CNN-H.csv").iloc[0]
    assert (first["val_loss"], first["val_loss_min"], first["val_loss_max"]) == (
        raw["H50_val_loss"], raw["H50_val_loss_min"], raw["H50_val_loss_max"])


def test_folder_groups_paper_files_by_task_model_and_skips_accuracy(tmp_path: Path) -> None:
    for name in ("Result_CIFAR10_CNN-H.csv", "Result_CIFAR10_CNN-C.csv"):
        (tmp_path / name).write_text((PAPER / name).read_text())
    (tmp_path / "Result_OSC_LSTM-H.csv").write_text((PAPER / "Result_CIFAR10_CNN-H.csv").read_text())
    (tmp_path / "Result_CIFAR10_CNN_ACC-H.csv").write_text((PAPER / "Result_CIFAR10_CNN-H.csv").read_text())
    groups = load_curves([tmp_path])
    assert sorted(groups.frames) == ["CIFAR10_CNN", "OSC_LSTM"]
    assert sorted(groups.frames["CIFAR10_CNN"]["scheduler"].unique()) == ["C", "H"]
    assert [p.name for p, _ in groups.skipped["CIFAR10_CNN"]] == ["Result_CIFAR10_CNN_ACC-H.csv"]


def test_our_curves_csv_with_and_without_status(tmp_path: Path) -> None:
    curves = synthetic_curves(["N", "H"], budgets=(10, 20), seeds=2, diverged=("H", 20, 1))
    path = tmp_path / "run1" / "curves.csv"
    path.parent.mkdir()
    curves.to_csv(path, index=False)
    frame = load_curves([path]).frames["run1"]
    assert len(frame) == len(curves) and set(frame["status"]) == {"complete", "diverged"}
    curves.drop(columns="status").to_csv(path, index=False)
    assert set(read_ours(path)["status"]) == {"complete"}


@pytest.mark.parametrize("name, text, expected", [
    ("curves.csv", "scheduler,budget,epoch\nH,10,0\n", "missing seed,val_loss"),
    ("curves.csv", "scheduler,budget,seed,epoch,val_loss,status\nH,10,0,0,1.0,exploded\n", "complete or diverged"),
    ("curves.csv", "scheduler,budget,seed,epoch,val_loss\nH,ten,0,0,1.0\n", "integer budget"),
    ("curves.csv", "scheduler,budget,seed,epoch,lr,train_loss,val_loss,status\n", "no learning curves"),
    ("Result_CIFAR10_CNN-H.csv", "epoch,loss\n1,2\n", "epoch,H<budget>_val_loss"),
    ("Result_CIFAR10_CNN-H.csv", "epoch,H10_val_loss\n1,2\n2,3\n", "expected 10 consecutive epochs"),
    ("notes.csv", "a,b\n1,2\n", "unrecognised CSV"),
])
def test_bad_files_name_the_file_and_what_was_expected(tmp_path: Path, name: str, text: str, expected: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=expected) as err:
        load_curves([tmp_path / name])
    assert str(tmp_path / name) in str(err.value) and "\n" not in str(err.value)


def test_missing_paths_empty_folders_and_accuracy_only(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_curves([tmp_path / "absent"])
    with pytest.raises(UserError, match="expected a folder with curves.csv"):
        load_curves([tmp_path])
    (tmp_path / "Result_CIFAR10_CNN_ACC-H.csv").write_text((PAPER / "Result_CIFAR10_CNN-H.csv").read_text())
    with pytest.raises(UserError, match="no validation-loss curves"):
        load_curves([tmp_path])


def test_a_complete_run_with_a_missing_epoch_is_one_clear_error(tmp_path: Path) -> None:
    """It crashed analyze with numpy's "inhomogeneous shape"; a diverged run may stop early."""
    curves = synthetic_curves(["N", "H"], budgets=(10, 20), seeds=2, diverged=None)
    path = tmp_path / "run" / "curves.csv"
    path.parent.mkdir()
    gap = (curves["scheduler"] == "H") & (curves["budget"] == 20) & (curves["seed"] == 1) & (curves["epoch"] == 7)
    curves[~gap].to_csv(path, index=False)
    with pytest.raises(UserError, match="the complete run H budget 20 seed 1 needs epochs 0..19 once each; "
                                        "missing epoch\\(s\\) 7$"):
        load_curves([path])
    duplicated = pd.concat([curves, curves[gap]])
    duplicated.to_csv(path, index=False)
    with pytest.raises(UserError, match="21 rows for 20 epochs"):
        load_curves([path])
    curves.loc[(curves["scheduler"] == "H") & (curves["budget"] == 20) & (curves["seed"] == 1), "status"] = "diverged"
    curves[~gap].to_csv(path, index=False)
    assert len(load_curves([path]).frames["run"]) == len(curves) - 1
