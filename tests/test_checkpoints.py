"""Checkpointed Phase 2 runs: exact resume after SIGKILL, corrupt checkpoints, prefix sharing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from runner import checkpoints
from runner.config import resolve
from runner.pipeline import run_benchmark
from tests.support.killing import options, report_of, run_killing

pytestmark = [pytest.mark.slow]
SEVEN = ("N", "S", "E", "CW", "WSD", "C", "H")


@pytest.mark.multiprocess
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_curves(tmp_path: Path, one_torch_thread) -> None:
    """Killed at epoch 2 of 4 in a per-epoch (C), a per-batch (CY) and an LR-free (Prodigy) run, one
    after the other: each rerun continues the killed run from its checkpoint, and the curves and
    results equal a run never interrupted, bit for bit."""
    schedulers, lr_free = ("C", "CY"), ("Prodigy",)
    run_benchmark(resolve(options(tmp_path, "reference", schedulers, lr_free), "smoke"))
    opts = options(tmp_path, "killed", schedulers, lr_free)
    previous = None
    for victim in ("C", "CY", "Prodigy", ""):
        done = run_killing(victim, opts)
        if previous is not None:  # this command resumed the run the last one killed
            assert f"[phase 2] {previous} run 1/1 (4 epochs, seed 1, from epoch 2): val" in done.stdout
        assert done.returncode == (-9 if victim else 0), done.stderr
        previous = victim
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert (killed / "curves.csv").read_bytes() == (reference / "curves.csv").read_bytes()
    for key in ("mean_final_val_loss", "per_budget_results", "epochs"):
        assert report_of(killed)[key] == report_of(reference)[key]
    assert report_of(killed)["epochs"] == {n: {"planned": 4, "trained": 4} for n in ("C", "CY", "Prodigy")}
    assert not any((killed / "artifacts").iterdir())  # finished runs leave no checkpoint


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_bad_checkpoint_is_detected_and_the_run_restarts_from_its_start(tmp_path: Path, damage: str,
                                                                         capsys, monkeypatch, finished_run,
                                                                         one_torch_thread) -> None:
    """options(..., ("C",)) is the "osc C checkpointed" tiny run: its uninterrupted curves come from there."""
    reference = finished_run("osc C checkpointed") / "out"
    original = checkpoints.Checkpoints.save
    saves = []

    def interrupt_after_two(self, trial, identity, data):
        original(self, trial, identity, data)
        saves.append(identity)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.Checkpoints, "save", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(resolve(options(tmp_path, "damaged", ("C",)), "smoke"))
    monkeypatch.setattr(checkpoints.Checkpoints, "save", original)
    [file] = (tmp_path / "damaged" / "artifacts").iterdir()  # the epoch-2 checkpoint replaced epoch 1's
    if damage == "corrupt":
        data = bytearray(file.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped bit pattern in the middle: still a loadable size
        file.write_bytes(bytes(data))
    else:
        file.unlink()
    capsys.readouterr()
    run_benchmark(resolve(options(tmp_path, "damaged", ("C",)), "smoke"))
    printed = capsys.readouterr().out
    why = "does not match its sha256 (corrupt)" if damage == "corrupt" else "is missing from the artifact store"
    assert why in printed and "; not used" in printed
    assert "[phase 2] C run 1/1 (4 epochs, seed 1): val" in printed  # from epoch 0, not "from epoch 2"
    damaged = tmp_path / "damaged"
    assert (damaged / "curves.csv").read_bytes() == (reference / "curves.csv").read_bytes()
    assert report_of(damaged)["mean_final_val_loss"] == report_of(reference)["mean_final_val_loss"]


def test_prefix_sharing_changes_no_number_and_trains_fewer_epochs(tmp_path: Path, capsys,
                                                                  one_torch_thread) -> None:
    """Budgets 3 and 6, seeds 1 and 2, default parameters (tuned at 3 epochs), per seed:

    - N, E, S (step_size 1 is absolute), CW (warm-up W = max(1, E // 10) = 1 at both budgets):
      the 3-epoch LRs are the 6-epoch run's first 3, so 6 continues 3 after 3 epochs: 3 + 3 = 6.
    - WSD: W = 1; the cool-down is round(0.2 (E - W)) = 1 step that starts at t = E, past the last
      epoch, at both budgets: identical LRs over 3 epochs, 6 as well.
    - C and H start at the base LR whatever the budget, and part at epoch 1: 3 + 5 = 8.
    Planned 3 + 6 = 9 per seed; two seeds double everything.
    """
    base = {"schedulers": SEVEN, "epoch_budgets": (3, 6), "compare_seeds": 2}
    run_benchmark(resolve(options(tmp_path, "alone", **base, share_prefix=False), "smoke"))
    capsys.readouterr()
    run_benchmark(resolve(options(tmp_path, "shared", **base), "smoke"))
    printed = capsys.readouterr().out
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    assert (shared / "curves.csv").read_bytes() == (alone / "curves.csv").read_bytes()
    assert report_of(shared)["mean_final_val_loss"] == report_of(alone)["mean_final_val_loss"]
    assert report_of(shared)["per_budget_results"] == report_of(alone)["per_budget_results"]
    trained = {"N": 12, "S": 12, "E": 12, "CW": 12, "WSD": 12, "C": 16, "H": 16}
    assert report_of(shared)["epochs"] == {n: {"planned": 18, "trained": t} for n, t in trained.items()}
    assert report_of(alone)["epochs"] == {n: {"planned": 18, "trained": 18} for n in SEVEN}
    assert "[phase 2] C: prefix sharing trains 16 of 18 epochs (saves 2, 11 %)" in printed
    assert "Phase 2 trained 92 of 126 planned epochs (prefix sharing saved 34, 27 %)" in printed
    assert len(pd.read_csv(shared / "curves.csv")) == 126
    assert not any((shared / "artifacts").iterdir())  # fork checkpoints go once their runs finished


def test_checkpoints_wait_for_the_wall_time_interval(tmp_path: Path, one_torch_thread) -> None:
    """Epochs far shorter than --checkpoint-seconds save nothing (no fork points without sharing)."""
    spaced = run_benchmark(resolve(options(tmp_path, "spaced", ("C",), share_prefix=False,
                                           checkpoint_seconds=3600), "smoke"))
    every = run_benchmark(resolve(options(tmp_path, "every", ("C",), share_prefix=False), "smoke"))
    assert spaced.training_time_s.checkpoints == 0.0 < every.training_time_s.checkpoints
    assert (tmp_path / "spaced" / "curves.csv").read_bytes() == (tmp_path / "every" / "curves.csv").read_bytes()
