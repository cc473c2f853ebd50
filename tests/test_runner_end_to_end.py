"""Both phases on tiny settings through the real CLI, storage and training; resume after SIGKILL."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from runner.config import resolve
from runner.pipeline import run_benchmark
from runstate import storage as store
from tests.processes import HANG_SECONDS, as_foreground_job, freeze_when
from tests.support.cli import ROOT, command, run_cli
from tests.support.datasets import write_cifar
from tests.support.snapshot import compare_trials
from tests.support.tiny_runs import GOLDEN_COMMAND, OSC_C_EH

pytestmark = [pytest.mark.slow]

REPORT_KEYS = {"schema_version", "config", "environment", "optimization", "mean_final_val_loss",
               "per_budget_results", "final_loss_change_pct"}


def assert_complete_report(out: Path, names: list[str], budgets: list[int], seeds: int) -> dict:
    report = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert list(report["mean_final_val_loss"]) == names
    for name in names:
        assert report["optimization"][name]["complete"] >= 1
        assert math.isfinite(report["optimization"][name]["best_val_loss"])
        assert list(report["mean_final_val_loss"][name]) == [str(b) for b in budgets]
        assert all(math.isfinite(v) for v in report["mean_final_val_loss"][name].values())
        for b in budgets:
            detail = report["per_budget_results"][name][str(b)]
            assert len(detail["val_loss"]["per_seed"]) == seeds and detail["diverged"] == 0
            assert math.isfinite(detail["val_loss"]["std"]) and math.isfinite(detail["test_loss"]["mean"])
        assert math.isfinite(report["final_loss_change_pct"][name])
    curves = pd.read_csv(out / "curves.csv")
    expected = sum(b for b in budgets) * seeds * len(names)
    assert len(curves) == expected
    assert not curves.duplicated(["scheduler", "budget", "seed", "epoch"]).any()
    assert curves.groupby(["scheduler", "budget", "seed"]).size().to_dict() == {
        (n, b, s): b for n in names for b in budgets for s in range(1, seeds + 1)}
    return report


def test_osc_smoke_with_lr_free_and_report_rebuild(finished_run, monkeypatch) -> None:
    """The golden command (N, P, C, H and the LR-free optimizers with a transfer grid, smoke preset), trained
    once per session: a complete report, rebuilt from the storage to the same bytes; the rerun trains nothing."""
    folder = finished_run("golden")
    out = folder / "golden-run"
    names = ["N", "P", "C", "H", "Prodigy", "DAdapt", "ScheduleFree"]
    report = assert_complete_report(out, names, [3, 6], 2)
    assert report["optimization"]["C"]["complete"] == 2
    assert report["environment"]["torch"] and report["config"]["task"] == "osc"
    written = (out / "report.json").read_bytes(), (out / "curves.csv").read_bytes()
    rebuilt = folder / "rebuilt"
    assert run_cli("report", out, "--out", rebuilt) == 0
    assert ((rebuilt / "report.json").read_bytes(), (rebuilt / "curves.csv").read_bytes()) == written
    for place in (out, rebuilt):  # every plot, and a report.md whose every link resolves
        plots = {p.name: p.stat().st_size for p in (place / "plots").glob("*.png")}
        assert set(plots) == {"lr_schedules.png", "val_curves.png", "final_loss.png", "decoupling_heatmap.png",
                              "decoupling_vs_noise.png", "movement.png", "predicted_vs_measured.png",
                              "lr_sensitivity.png",
                              "optimal_lr_drift.png"}
        assert min(plots.values()) > 10_000
        links = re.findall(r"\]\(([^)]+)\)", (place / "report.md").read_text())
        assert len(links) == 9 and all((place / link).is_file() for link in links)
    # Re-running the finished command trains nothing and leaves the same report.
    before = len(compare_trials(out))
    monkeypatch.chdir(folder)  # the folders as the run was given them: the report states them
    assert run_cli(*GOLDEN_COMMAND, "--out", "golden-run", "--data-dir", "data") == 0
    assert len(compare_trials(out)) == before
    assert (out / "report.json").read_bytes() == written[0]


def test_integral_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "integral"
    assert run_cli("--task", "integral", "--model", "DeepONet", "--preset", "smoke", "--schedulers", "WSD",
                   "--skip-lr-free", "--n-functions", "120", "--lr", "1e-4", "--out", out,
                   "--data-dir", tmp_path / "data") == 0
    assert_complete_report(out, ["WSD"], [3, 6], 2)


def test_cifar_end_to_end_with_accuracy(tmp_path: Path, unchecked_cifar_md5) -> None:
    write_cifar(tmp_path / "data", "CIFAR10", per_file=12)
    config = resolve({"task": "cifar10", "model": "SimpleCNN", "schedulers": ("OC",), "lr_free": (),
                      "out": tmp_path / "cifar", "data_dir": tmp_path / "data", "subset_ratio": 1.0,
                      "batch_size": 16}, "smoke")
    run_benchmark(config)
    report = assert_complete_report(tmp_path / "cifar", ["OC"], [3, 6], 2)
    assert 0.0 <= report["per_budget_results"]["OC"]["6"]["test_accuracy"]["mean"] <= 1.0
    assert "val_accuracy" in pd.read_csv(tmp_path / "cifar" / "curves.csv").columns


@pytest.mark.multiprocess
def test_sigkill_in_phase_2_resumes_to_the_uninterrupted_result(tmp_path: Path, finished_run) -> None:
    """Killed once a Phase 2 run is stored, the same command resumes to the numbers of the uninterrupted run
    (the "osc C,EH" tiny run, trained in-process with one torch thread: so is the killed process)."""
    args = command(*OSC_C_EH, "--data-dir", tmp_path / "data")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    reference = finished_run("osc C,EH") / "out"

    out = tmp_path / "killed"
    process = subprocess.Popen([*args, "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:  # looked at only while frozen: the first finished Phase 2 run is seen before another can finish
        freeze_when([process.pid], lambda: (out / "epochbench.journal").exists() and any(
            state == "COMPLETE" for _, state, _, _ in compare_trials(out)), "a finished Phase 2 run",
            storage=store.default_url(out))
    finally:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=HANG_SECONDS)
    interrupted = compare_trials(out)
    assert any(state == "COMPLETE" for _, state, _, _ in interrupted)
    assert sum(state == "COMPLETE" for _, state, _, _ in interrupted) < 8, "the kill came after Phase 2 ended"
    assert not (out / "report.json").exists()

    subprocess.run([*args, "--out", str(out)], check=True, capture_output=True, cwd=ROOT, env=env,
                   timeout=HANG_SECONDS)
    finished = [(name, b, s) for name, state, b, s in compare_trials(out) if state == "COMPLETE"]
    assert sorted(finished) == sorted((f"osc-LSTM_Seq2Seq/compare/{n}", str(b), str(s))
                                      for n in ("EH", "C") for b in (3, 6) for s in (1, 2))
    resumed, uninterrupted = (json.loads((d / "report.json").read_text()) for d in (out, reference))
    for key in ("optimization", "mean_final_val_loss", "per_budget_results", "final_loss_change_pct"):
        assert resumed[key] == uninterrupted[key]
    assert (out / "curves.csv").read_bytes() == (reference / "curves.csv").read_bytes()


def test_phase_1_results_do_not_depend_on_interruption(tmp_path: Path) -> None:
    """A KeyboardInterrupt inside Phase 1 (the Ctrl-C path) resumes to the same tuned parameters."""
    from runner import tuning

    base = {"task": "osc", "schedulers": ("E",), "lr_free": (), "data_dir": tmp_path / "data", "n_trials": 4,
            "skip_compare": True}
    run_benchmark(resolve({**base, "out": tmp_path / "straight"}, "smoke"))

    calls = {"n": 0}
    original = tuning.run_trial

    def interrupt_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    tuning.run_trial = interrupt_third
    try:
        with pytest.raises(KeyboardInterrupt):
            run_benchmark(resolve({**base, "out": tmp_path / "stopped"}, "smoke"))
    finally:
        tuning.run_trial = original
    run_benchmark(resolve({**base, "out": tmp_path / "stopped"}, "smoke"))
    straight, stopped = (json.loads((tmp_path / d / "report.json").read_text())["optimization"]["E"]
                         for d in ("straight", "stopped"))
    assert stopped["best_params"] == straight["best_params"]
    assert stopped["best_val_loss"] == straight["best_val_loss"]
    assert stopped["complete"] == straight["complete"] == 4


@pytest.mark.multiprocess
@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_exits_with_a_resume_hint_and_the_rerun_completes(tmp_path: Path, sig: int,
                                                                         status: int) -> None:
    """Ctrl-C and SIGTERM (a job scheduler, docker stop) both mark the run interrupted; 128 + signal."""
    args = command(*OSC_C_EH, "--out", tmp_path / "out", "--data-dir", tmp_path / "data")
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=as_foreground_job)
    url = store.default_url(tmp_path / "out")
    try:  # the stop reaches it as it resumes from a freeze taken once its first run is stored
        freeze_when([process.pid], lambda: store.exists(url) and any(store.is_finished(t) for t in store.trials(
            store.open_storage(url), store.study_name("osc-LSTM_Seq2Seq", "tune", "C"))), "a finished run", storage=url)
        process.send_signal(sig)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    _, err = process.communicate(timeout=HANG_SECONDS)
    assert process.returncode == status
    assert err.strip() == "interrupted: finished work is stored; run the same command again to resume"
    subprocess.run(args, check=True, capture_output=True, cwd=ROOT, timeout=HANG_SECONDS)
    assert_complete_report(tmp_path / "out", ["C", "EH"], [3, 6], 2)
