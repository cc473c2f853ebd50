"""Pruning in Phase 1: --pruner reaches the study, pruned trials are stored, reported and never redone.

Every run goes through the command line; results are read through Optuna's public API (the study
names `<project>/tune/<name>` are documented in the README) and report.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from runstate.storage import default_url, open_storage
from tests.support.cli import run_cli

pytestmark = [pytest.mark.slow]

PROJECT = "osc-LSTM_Seq2Seq"
N_TRIALS = 10
# MedianPruner's defaults (optuna.pruners.MedianPruner): no pruning before 5 trials completed, from step 0 on.
N_STARTUP, N_WARMUP = 5, 0
# A tiny oscillator study: 1 batch per epoch, 2 epochs per trial, 10 trials of the constant schedule N.
# TPE's first 10 trials are seeded random LRs on logU[1e-4, 5e-2], so trials after the 5th include LRs
# far from the good region (this configuration prunes 3 of 10, one of them the lr=0.046 trial).
ARGS = ["--task", "osc", "--preset", "smoke", "--schedulers", "N", "--skip-lr-free", "--skip-compare",
        "--n-trials", str(N_TRIALS), "--epochs", "2", "--hist", "5", "--pred", "5", "--subset-ratio", "0.005"]


def tune_trials(out: Path) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(default_url(out))
    return optuna.load_study(study_name=f"{PROJECT}/tune/N", storage=storage).get_trials()


def median_pruner_decision(trials: list[optuna.trial.FrozenTrial], trial: optuna.trial.FrozenTrial,
                           step: int) -> bool:
    """MedianPruner's rule re-derived: after N_STARTUP completed trials, prune when the trial's best
    value so far is worse than the median of the completed trials' values at this step."""
    completed = [t for t in trials if t.number < trial.number and t.state == TrialState.COMPLETE]
    if len(completed) < N_STARTUP or step < N_WARMUP:
        return False
    best_so_far = min(v for s, v in trial.intermediate_values.items() if s <= step)
    return best_so_far > float(np.median([t.intermediate_values[step] for t in completed]))


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory, one_torch_thread) -> Path:
    root = tmp_path_factory.mktemp("pruning")
    assert run_cli(*ARGS, "--pruner", "median", "--out", root / "out", "--data-dir", root / "data") == 0
    return root


def test_median_pruner_prunes_stores_and_reports(pruned_run: Path) -> None:
    out = pruned_run / "out"
    trials = tune_trials(out)
    assert len(trials) == N_TRIALS
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "the median pruner pruned nothing"
    assert all(t.user_attrs["status"] == "pruned" for t in pruned)
    assert all(t.user_attrs["status"] == "complete" for t in trials if t not in pruned)
    # Exactly MedianPruner's decisions: each trial stopped at the first step the rule fires, no other.
    for trial in trials:
        steps = sorted(trial.intermediate_values)
        decisions = [median_pruner_decision(trials, trial, s) for s in steps]
        if trial.state == TrialState.PRUNED:
            assert decisions[-1] and not any(decisions[:-1]), trial.number
        else:
            assert steps == [0, 1] and not any(decisions), trial.number
    report = json.loads((out / "report.json").read_text())["optimization"]["N"]
    assert report["pruned"] == len(pruned)
    assert report["complete"] == N_TRIALS - len(pruned) and report["failed"] == 0
    assert report["best_val_loss"] == min(t.value for t in trials if t.state == TrialState.COMPLETE)


def test_rerun_does_not_redo_pruned_trials(pruned_run: Path) -> None:
    out = pruned_run / "out"
    before = tune_trials(out)
    assert any(t.state == TrialState.PRUNED for t in before)
    report = (out / "report.json").read_bytes()
    assert run_cli(*ARGS, "--pruner", "median", "--out", out, "--data-dir", pruned_run / "data") == 0
    after = tune_trials(out)
    assert len(after) == len(before) == N_TRIALS
    assert [(t.number, t.state, t.user_attrs["status"], t.datetime_start, t.intermediate_values) for t in after] == \
        [(t.number, t.state, t.user_attrs["status"], t.datetime_start, t.intermediate_values) for t in before]
    assert json.loads((out / "report.json").read_bytes())["optimization"] == json.loads(report)["optimization"]


def test_without_a_pruner_the_same_trials_all_complete(pruned_run: Path, tmp_path: Path) -> None:
    """The paper protocol (--pruner none, the default) never prunes: the pruning above is the pruner's."""
    out = tmp_path / "out"
    assert run_cli(*ARGS, "--out", out, "--data-dir", pruned_run / "data") == 0
    trials = tune_trials(out)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * N_TRIALS
    assert json.loads((out / "report.json").read_text())["optimization"]["N"]["pruned"] == 0
    # The trials the median pruner stopped are the same runs: same parameters, same first epoch.
    with_pruner = {t.number: t for t in tune_trials(pruned_run / "out")}
    for trial in trials:
        assert trial.params == with_pruner[trial.number].params
        assert trial.intermediate_values[0] == with_pruner[trial.number].intermediate_values[0]
