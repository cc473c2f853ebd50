"""The transfer phase through the real CLI, storage and training: units, reuse of Phase 2, growth, resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runner.config import resolve
from runner.pipeline import run_benchmark
from runstate import storage as store
from tests.processes import HANG_SECONDS, freeze_when
from tests.support.cli import ROOT, command, run_cli
from tests.support.killing import options, report_of, run_killing
from tests.support.tiny_runs import OSC_PROJECT as PROJECT
from tests.support.tiny_runs import OSC_TRANSFER

pytestmark = [pytest.mark.slow]

NAMES = ["E", "C"]  # E shares its LR prefix across budgets, C does not (LR-free scaling: test_transfer_scaling)


TRANSFER = ["contenders", "tuning_budget", "longest_budget", "step_params", "ranked_by", "ranking", "unranked",
            "comparisons", "alpha", "in_sample_seeds", "bound_steps_per_epoch", "method", "epochs"]
BUDGET = ["seeds", "loss", "diverged", "optimum", "regret", "transfer_cost"]
OPTIMUM = ["multiplier", "lr", "loss", "fit", "at_edge", "multiplier_ci", "lr_ci", "dip"]
REGRET = ["absolute", "percent", "lower_bound", "ci", "percent_ci", "log", "per_seed_log", "diverged"]
RANK = ["name", "transfer_cost_percent", "transfer_cost_ci", "regret_percent", "ci", "lower_bound",
        "tuning_error_percent", "tuning_error_lower_bound", "regret_diverged", "diverged", "censored", "tied_with"]


def args(out: Path, data: Path, grid: str = "0.5,1,2", *extra: str) -> list[str]:
    return [*OSC_TRANSFER, "--transfer-grid", grid, "--out", str(out), "--data-dir", str(data), *extra]


def transfer_trials(out: Path) -> dict[str, list[tuple]]:
    """study -> (budget, seed, state, epochs_trained) of its trials, for every transfer study."""
    storage = store.open_storage(store.default_url(out))
    return {name: [(t.user_attrs.get("budget"), t.user_attrs.get("seed"), t.state.name,
                    t.user_attrs.get("epochs_trained")) for t in store.trials(storage, name)]
            for name in sorted(store.study_names(storage)) if "/transfer/" in name}


@pytest.fixture
def reference(finished_run) -> tuple[Path, Path]:
    """(output folder, data folder) of a fresh copy of args()'s run, trained once per session."""
    folder = finished_run("osc E,C transfer grid")
    return folder / "out", folder / "data"


def test_multiplier_1_is_phase_2s_run_and_is_never_retrained(reference) -> None:
    out, _ = reference
    studies = transfer_trials(out)
    assert sorted(studies) == sorted(f"{PROJECT}/transfer/{n}/x{m!r}" for n in NAMES for m in (0.5, 2.0))
    table = pd.read_csv(out / "transfer.csv")
    assert list(table.columns) == ["contender", "budget", "multiplier", "lr", "seed", "final_val_loss", "status"]
    assert len(table) == len(NAMES) * 3 * 2 * 2  # multipliers x budgets x seeds
    curves = pd.read_csv(out / "curves.csv")
    finals = curves.sort_values("epoch").groupby(["scheduler", "budget", "seed"])["val_loss"].last()
    one = table[table["multiplier"] == 1.0].set_index(["contender", "budget", "seed"])["final_val_loss"]
    assert one.to_dict() == {key: finals[key] for key in one.index}  # equal floats: the same stored runs
    report = json.loads((out / "report.json").read_text())
    best = {n: report["optimization"][n]["best_params"] for n in NAMES}
    for (name, multiplier), lrs in table.groupby(["contender", "multiplier"])["lr"]:
        assert set(lrs) == {best[name]["lr"] * multiplier}
    transfer = report["transfer"]
    assert list(transfer) == TRANSFER and transfer["step_params"] == {"E": "lr", "C": "lr"}
    assert report["schema_version"] == 11 and list(report["training_time_s"])[-1] == "transfer"
    for name in NAMES:
        assert list(transfer["contenders"][name]) == ["tuned_lr", "budgets", "drift"]
        for detail in transfer["contenders"][name]["budgets"].values():
            assert list(detail) == BUDGET and list(detail["loss"]) == ["0.5", "1", "2"]
            assert list(detail["optimum"]) == OPTIMUM and list(detail["regret"]) == REGRET
    assert [list(r) for r in transfer["ranking"] + transfer["unranked"]] == [RANK] * 2
    assert transfer["in_sample_seeds"] == [1]  # --n-seeds 1: Phase 1 trained seed 1
    # E's LR prefix is shared across budgets at every multiplier: fewer epochs trained than planned
    assert report["transfer"]["epochs"]["planned"] == len(NAMES) * 2 * (2 + 4) * 2
    assert report["transfer"]["epochs"]["trained"] < report["transfer"]["epochs"]["planned"]


def test_report_shows_the_transfer_and_rebuilds_from_the_storage(reference, tmp_path: Path) -> None:
    out, _ = reference
    for name in ("lr_sensitivity.png", "optimal_lr_drift.png"):
        assert (out / "plots" / name).stat().st_size > 10_000
    text = (out / "report.md").read_text()
    assert "**Tuned at 2 epochs, trained at 4:**" in text and "## Transfer" in text
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert all((out / link).is_file() for link in links) and "plots/lr_sensitivity.png" in links
    assert run_cli("report", out, "--out", tmp_path) == 0
    for name in ("report.json", "transfer.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_without_prefix_sharing_the_numbers_are_equal(reference, tmp_path: Path) -> None:
    out, data = reference
    plain = tmp_path / "plain"
    assert run_cli(*args(plain, data, "0.5,1,2", "--no-share-prefix")) == 0
    assert (plain / "transfer.csv").read_bytes() == (out / "transfer.csv").read_bytes()


def test_a_grown_grid_trains_only_its_new_points(reference, tmp_path: Path) -> None:
    out, data = reference
    grown = out  # the test's own copy
    before = transfer_trials(grown)
    assert run_cli(*args(grown, data, "0.5,1,2,4")) == 0
    after = transfer_trials(grown)
    assert {k: after[k] for k in before} == before  # untouched
    new = sorted(set(after) - set(before))
    assert new == sorted(f"{PROJECT}/transfer/{n}/x4.0" for n in NAMES)
    assert all(len(after[k]) == 2 * 2 and all(state == "COMPLETE" for _, _, state, _ in after[k]) for k in new)
    table = pd.read_csv(grown / "transfer.csv")
    assert sorted(table["multiplier"].unique()) == [0.5, 1.0, 2.0, 4.0]


def edges(out: Path) -> dict[tuple[str, str], str | None]:
    """(contender, budget) -> where its optimum lies at the grid's edge ("low" / "high"; None: inside)."""
    contenders = json.loads((out / "report.json").read_text())["transfer"]["contenders"]
    return {(name, budget): detail["optimum"]["at_edge"] for name, result in contenders.items()
            for budget, detail in result["budgets"].items()}


def test_an_adaptive_grid_brackets_every_optimum_the_first_grid_missed(reference, finished_run,
                                                                       tmp_path: Path) -> None:
    """The reference's grid 0.5,1,2 grown in rounds (--transfer-max-octaves 3) from its storage: only new points
    train, every optimum at the edge before lies inside after, and the numbers equal a run adaptive from the start
    and the report rebuilt from the storage."""
    out, data = reference
    before, trials = edges(out), transfer_trials(out)
    assert sum(edge is not None for edge in before.values()) >= 2, before  # the case: optima beyond the first grid
    assert run_cli(*args(out, data, "0.5,1,2", "--transfer-max-octaves", "3")) == 0
    after = edges(out)
    assert set(after) == set(before) and set(after.values()) == {None}
    grown = transfer_trials(out)
    assert {k: grown[k] for k in trials} == trials  # the first round untouched
    assert len(grown) > len(trials) and all(len(runs) == 2 * 2 for runs in grown.values())
    fresh = finished_run("osc E,C adaptive grid") / "out"
    assert (fresh / "transfer.csv").read_bytes() == (out / "transfer.csv").read_bytes()
    assert sorted(transfer_trials(fresh)) == sorted(grown)
    table = pd.read_csv(out / "transfer.csv")
    for name, runs in table.groupby("contender"):  # sqrt(2) apart around every budget's lowest mean
        for _, cell in runs.groupby("budget"):
            means = cell.assign(log=np.log(cell["final_val_loss"])).groupby("multiplier")["log"].mean()
            xs = np.log2(means.index.to_numpy())
            best = int(np.argmin(means.to_numpy()))
            assert 0 < best < len(xs) - 1 and max(np.diff(xs)[best - 1:best + 1]) <= 0.5 + 1e-9, (name, xs)
    assert run_cli("report", out, "--out", tmp_path) == 0
    for name in ("report.json", "transfer.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.multiprocess
def test_two_workers_grow_the_adaptive_grid_in_the_rounds_of_one(finished_run, tmp_path: Path,
                                                                  one_torch_thread) -> None:
    folder = finished_run("osc E,C adaptive grid")
    pooled = tmp_path / "pooled"
    assert run_cli(*args(pooled, folder / "data", "0.5,1,2", "--transfer-max-octaves", "3", "--workers", "2")) == 0
    assert sorted(transfer_trials(pooled)) == sorted(transfer_trials(folder / "out"))
    for study, runs in transfer_trials(pooled).items():  # every grid point's (budget, seed) finished once
        assert sorted((b, s) for b, s, state, _ in runs if state == "COMPLETE") == [(2, 1), (2, 2), (4, 1), (4, 2)]
    assert (pooled / "transfer.csv").read_bytes() == (folder / "out" / "transfer.csv").read_bytes()


@pytest.mark.multiprocess
def test_sigkill_mid_grid_resumes_to_the_uninterrupted_numbers(reference, tmp_path: Path) -> None:
    out, data = reference
    killed = tmp_path / "killed"
    argv = command(*args(killed, data))
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def some_transfer_run_finished() -> bool:
        return (killed / store.JOURNAL_FILE).exists() and any(
            state == "COMPLETE" for runs in transfer_trials(killed).values() for _, _, state, _ in runs)

    try:  # looked at only while frozen: the first finished transfer run is seen before the grid is done
        freeze_when([process.pid], some_transfer_run_finished, "a finished transfer run",
                    storage=store.default_url(killed))
    finally:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=HANG_SECONDS)
    done = sum(state == "COMPLETE" for runs in transfer_trials(killed).values() for _, _, state, _ in runs)
    assert 0 < done < len(NAMES) * 2 * 2 * 2, "the kill came after the grid was done"
    assert not (killed / "transfer.csv").exists()
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT, timeout=HANG_SECONDS)
    assert (killed / "transfer.csv").read_bytes() == (out / "transfer.csv").read_bytes()
    resumed, uninterrupted = (json.loads((d / "report.json").read_text())["transfer"] for d in (killed, out))
    assert {k: v for k, v in resumed.items() if k != "epochs"} == {k: v for k, v in uninterrupted.items()
                                                                  if k != "epochs"}


@pytest.mark.multiprocess
def test_two_workers_train_every_grid_point_once_with_the_numbers_of_one(reference, tmp_path: Path,
                                                                         one_torch_thread) -> None:
    out, data = reference
    pooled = tmp_path / "pooled"
    assert run_cli(*args(pooled, data, "0.5,1,2", "--workers", "2")) == 0
    trials = transfer_trials(pooled)
    for study, runs in trials.items():  # each (budget, seed) finished once: no unit trained by both workers
        finished = [(b, s) for b, s, state, _ in runs if state == "COMPLETE"]
        assert sorted(finished) == [(b, s) for b in (2, 4) for s in (1, 2)], study
    assert (pooled / "transfer.csv").read_bytes() == (out / "transfer.csv").read_bytes()


@pytest.mark.multiprocess
def test_a_transfer_unit_killed_mid_run_resumes_from_its_checkpoint(tmp_path: Path, one_torch_thread) -> None:
    """Checkpointing every epoch (--checkpoint-seconds 0), killed right after the x0.5 unit's epoch-2 checkpoint:
    the rerun continues that unit from epoch 2 of 4 (not from 0), and every number and the epochs trained equal a
    run never interrupted."""
    opts = options(tmp_path, "killed", ("C",), transfer_grid=(0.5, 1.0))
    run_benchmark(resolve({**opts, "out": tmp_path / "reference"}, "smoke"))
    for victim, code in (("C/x0.5", -9), ("", 0)):
        done = run_killing(victim, opts, phase="transfer")
        assert done.returncode == code, done.stderr
    assert "[transfer] C x0.5 run 1/1 (4 epochs, seed 1, from epoch 2): val" in done.stdout
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert (killed / "transfer.csv").read_bytes() == (reference / "transfer.csv").read_bytes()
    assert report_of(killed)["transfer"] == report_of(reference)["transfer"]  # its epochs (trained 4 of 4) too
    assert report_of(killed)["transfer"]["epochs"] == {"planned": 4, "trained": 4}
    assert not any((killed / "artifacts").iterdir())  # the resumed unit's checkpoint went when it finished


def test_a_run_killed_in_a_grown_round_resumes_to_the_rounds_and_numbers_of_one_never_killed(
        tmp_path: Path, one_torch_thread) -> None:
    """Grid 0.5,1 grown up to 2 octaves: C's lowest loss at 4 epochs lies at x0.5, the low edge, so round 2 trains
    x0.25, round 3 the sqrt(2) points x0.354 and x0.707 around x0.5. Killed right after x0.354's epoch-2 checkpoint,
    the rerun plans round 3 again from the storage, resumes that unit from epoch 2, and every number and the epochs
    trained equal a run never killed."""
    third = f"C/x{2 ** -1.5!r}"
    opts = options(tmp_path, "killed", ("C",), transfer_grid=(0.5, 1.0), transfer_max_octaves=2.0)
    run_benchmark(resolve({**opts, "out": tmp_path / "reference"}, "smoke"))
    for victim, code in ((third, -9), ("", 0)):
        done = run_killing(victim, opts, phase="transfer")
        assert done.returncode == code, done.stderr
    assert f"[transfer] C x{2 ** -1.5:g} run 1/1 (4 epochs, seed 1, from epoch 2): val" in done.stdout
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert sorted(pd.read_csv(reference / "transfer.csv")["multiplier"]) == [0.25, 2 ** -1.5, 0.5, 2 ** -0.5, 1.0]
    assert (killed / "transfer.csv").read_bytes() == (reference / "transfer.csv").read_bytes()
    assert report_of(killed)["transfer"] == report_of(reference)["transfer"]  # its epochs too
    assert report_of(killed)["transfer"]["epochs"] == {"planned": 4 * 4, "trained": 4 * 4}
