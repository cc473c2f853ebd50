"""report.json and curves.csv pinned exactly (schema version 10), and their summary numbers tied to their definitions.

One tiny osc run of two schedulers at budgets 1 and 2 with two seeds feeds every test. A change to
the published schema must change these lists (and SCHEMA_VERSION) on purpose, never by accident.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

import optuna
import pytest

from runstate.storage import default_url, open_storage
from tests.processes import HANG_SECONDS
from tests.support.cli import run_cli

pytestmark = [pytest.mark.slow]

NAMES, BUDGETS, SEEDS = ["N", "C"], ["1", "2"], [1, 2]  # report order: the registry's, not the command line's

TOP_LEVEL = ["schema_version", "config", "environment", "optimization", "mean_final_val_loss", "per_budget_results",
             "final_loss_change_pct", "decoupling", "faults", "epochs", "training_time_s", "analysis", "transfer"]
CONFIG = ["task", "model", "optimizer", "epochs", "batch_size", "lr", "infimum_lr", "n_trials", "n_seeds",
          "compare_seeds", "max_seeds", "seed_step", "epoch_budgets", "schedulers", "lr_free", "skip_compare",
          "transfer_grid", "transfer_seeds", "transfer_max_octaves", "project", "dataset",
          "subset_ratio", "dtype", "mode", "hist", "pred", "sampler_seed", "pruner", "precision", "device",
          "wandb_mode", "workers", "max_retries", "data_dir", "download", "out", "storage", "checkpoint_every",
          "checkpoint_seconds", "share_prefix", "checkpoint_dir", "log_every", "plugins", "plugin_sha256"]
ENVIRONMENT = ["python", "torch", "optuna", "platform", "device", "device_name", "git_commit", "git_dirty",
               "cyclic_momentum", "run_devices"]
OPTIMIZATION = ["best_val_loss", "best_params", "complete", "pruned", "failed", "failure_reasons"]
BUDGET_DETAIL = ["seeds", "diverged", "val_loss", "test_loss"]  # + test_accuracy for classification tasks
SUMMARY = ["mean", "std", "per_seed"]
ANALYSIS = ["seed_mean_only", "budgets", "tuning_budget", "contenders", "rank_stability", "outcome", "predictors",
            "predictor_source", "predicted_vs_measured", "ranking", "alpha", "comparisons", "top_pair", "method"]
CONTENDER = ["family", "seeds", "diverged", "decoupling", "per_seed", "noise_floor", "noise_ratio", "final",
             "change_pct", "slope", "log_slope", "seed_slope", "sensitivity", "budget_test", "movement",
             "prefix_shared"]
BUDGET_TEST = ["statistic", "interval", "p_value", "p_adjusted", "sensitive", "min_p", "exact", "window", "seeds",
               "note", "detectable"]
CURVES_HEADER = "scheduler,budget,seed,epoch,lr,train_loss,val_loss,status"


@pytest.fixture(scope="module")
def run(tmp_path_factory, one_torch_thread) -> tuple[dict, list[dict[str, str]], Path]:
    """(report.json, curves.csv rows, output folder) of one tiny osc run."""
    root = tmp_path_factory.mktemp("schema")
    out = root / "out"
    assert run_cli("--task", "osc", "--preset", "smoke", "--schedulers", "C,N", "--skip-lr-free", "--n-trials", "1",
                   "--epochs", "1", "--epoch-budgets", "1,2", "--compare-seeds", "2", "--hist", "5", "--pred", "5",
                   "--subset-ratio", "0.005", "--out", out, "--data-dir", root / "data", timeout=HANG_SECONDS) == 0
    report = json.loads((out / "report.json").read_text())
    with open(out / "curves.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return report, rows, out


def test_report_json_keys_are_exactly_the_schema(run) -> None:
    report, _, _ = run
    assert list(report) == TOP_LEVEL
    assert report["schema_version"] == 11
    assert report["transfer"] is None  # no --transfer-grid (its keys: tests/test_transfer_runs.py)
    assert report["faults"] == {} and report["environment"]["run_devices"] == {"cpu": 10}  # 1 trial + 4 runs each
    # Phase 2 epochs: budgets 1 and 2 x 2 seeds planned; the 2-epoch runs continue the 1-epoch ones.
    assert report["epochs"] == {name: {"planned": 6, "trained": 4} for name in NAMES}
    assert list(report["config"]) == CONFIG
    assert list(report["environment"]) == ENVIRONMENT
    for section in ("optimization", "mean_final_val_loss", "per_budget_results", "final_loss_change_pct", "decoupling"):
        assert list(report[section]) == NAMES, section
    for name in NAMES:
        assert list(report["optimization"][name]) == OPTIMIZATION
        assert list(report["mean_final_val_loss"][name]) == BUDGETS
        assert list(report["per_budget_results"][name]) == BUDGETS
        for budget in BUDGETS:
            detail = report["per_budget_results"][name][budget]
            assert list(detail) == BUDGET_DETAIL  # osc has no accuracy: no test_accuracy entry
            assert list(detail["val_loss"]) == list(detail["test_loss"]) == SUMMARY
            assert detail["seeds"] == SEEDS and detail["diverged"] == 0
            assert len(detail["val_loss"]["per_seed"]) == len(detail["test_loss"]["per_seed"]) == len(SEEDS)
        assert list(report["decoupling"][name]) == ["1-2", "mean"]
        assert isinstance(report["final_loss_change_pct"][name], float)
    assert list(report["training_time_s"]) == ["tune", "compare", "total", "checkpoints"]

    analysis = report["analysis"]
    assert list(analysis) == ANALYSIS
    assert analysis["budgets"] == [1, 2] and analysis["tuning_budget"] == 1 and analysis["seed_mean_only"] is False
    assert list(analysis["contenders"]) == NAMES
    for name in NAMES:
        contender = analysis["contenders"][name]
        assert list(contender) == CONTENDER
        assert list(contender["seeds"]) == list(contender["final"]) == BUDGETS
        assert all(list(final) == ["mean", "std", "ci", "n"] for final in contender["final"].values())
        assert list(contender["diverged"]) == ["count", "runs"]
        assert list(contender["decoupling"]) == ["strict", "paper", "paper_mean"]
        assert list(contender["per_seed"]) == ["pairs", "per_seed", "mean", "std", "ci", "n", "undefined"]
        assert list(contender["slope"]) == ["value", "ci"]
        assert list(contender["sensitivity"]) == ["metric", "value", "ci"]
        assert list(contender["budget_test"]) == BUDGET_TEST
        assert list(contender["movement"]) == ["value", "ci", "per_seed", "seeds", "by_construction", "note"]
        assert list(contender["seed_slope"]) == ["per_seed", "mean", "ci", "n"]
        # 2 budgets x 2 seeds: 2 labelings, the smallest p-value 1/2 -- never sensitive, and the report says so
        assert contender["budget_test"]["min_p"] == 0.5 and contender["budget_test"]["sensitive"] is False
    assert analysis["alpha"] == 0.05
    assert list(analysis["method"]) == ["budget_test", "budget_test_interval", "detectable", "movement",
                                        "movement_ci", "comparisons", "seeds_needed", "final_and_per_seed_ci",
                                        "slope_ci", "seed_slope", "slope_comparisons", "order_ci"]
    ranking_keys = ["name", "value", "ci", "metric", "tied_with"]
    assert [list(entry) for entry in analysis["ranking"]] == [ranking_keys] * len(NAMES)
    assert analysis["comparisons"] == []  # 2 seeds: movements have no pseudo-values, so no pair is tested
    assert analysis["top_pair"] is None  # no pair tested, no seeds-needed plan (its keys: tests/test_pairwise.py)
    assert list(analysis["outcome"]) == ["lowest", "slope_comparisons", "order"]
    assert list(analysis["outcome"]["lowest"]) == BUDGETS
    assert list(analysis["outcome"]["order"]) == ["tuning_budget", "budget", "tau", "ci", "seeds"]
    assert list(analysis["predictors"]) == NAMES
    assert all(list(p) == ["lr_decoupling", "cumulative_ratio", "gamma_star", "omega_star"]
               for p in analysis["predictors"].values())


def test_curves_csv_header_and_rows(run) -> None:
    _, rows, out = run
    assert (out / "curves.csv").read_text().splitlines()[0] == CURVES_HEADER
    keys = [(r["scheduler"], int(r["budget"]), int(r["seed"]), int(r["epoch"])) for r in rows]
    assert keys == [(n, int(b), s, e) for n in NAMES for b in BUDGETS for s in SEEDS for e in range(int(b))]
    assert {r["status"] for r in rows} == {"complete"}
    assert all(math.isfinite(float(r[c])) for r in rows for c in ("lr", "train_loss", "val_loss"))


def test_summary_numbers_follow_their_definitions(run) -> None:
    report, rows, out = run
    last_val = {}  # (scheduler, budget, seed) -> val_loss at the run's last epoch in curves.csv
    for r in rows:
        last_val[r["scheduler"], r["budget"], int(r["seed"])] = float(r["val_loss"])
    for name in NAMES:
        means = []
        for budget in BUDGETS:
            detail = report["per_budget_results"][name][budget]
            per_seed = detail["val_loss"]["per_seed"]
            assert per_seed == [last_val[name, budget, s] for s in detail["seeds"]]
            assert detail["val_loss"]["mean"] == pytest.approx(statistics.fmean(per_seed), rel=1e-12)
            assert detail["val_loss"]["std"] == pytest.approx(statistics.stdev(per_seed), rel=1e-12)
            test = detail["test_loss"]
            assert test["mean"] == pytest.approx(statistics.fmean(test["per_seed"]), rel=1e-12)
            assert report["mean_final_val_loss"][name][budget] == pytest.approx(statistics.fmean(per_seed), rel=1e-12)
            assert report["analysis"]["contenders"][name]["final"][budget]["mean"] == pytest.approx(
                report["mean_final_val_loss"][name][budget], rel=1e-12)
            means.append(statistics.fmean(per_seed))
        change = abs(means[-1] - means[0]) / abs(means[0]) * 100
        assert report["final_loss_change_pct"][name] == pytest.approx(change, rel=1e-12)
        signed = (means[-1] - means[0]) / abs(means[0]) * 100  # the analysis says which way: + is worse
        assert report["analysis"]["contenders"][name]["change_pct"] == pytest.approx(signed, rel=1e-12)
    times = report["training_time_s"]
    assert times["total"] == pytest.approx(times["tune"] + times["compare"]) and times["tune"] > 0


def test_optimization_summarises_the_stored_tuning_trials(run) -> None:
    report, _, out = run
    storage = open_storage(default_url(out))
    for name in NAMES:
        trials = optuna.load_study(study_name=f"osc-LSTM_Seq2Seq/tune/{name}", storage=storage).get_trials()
        [best] = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert report["optimization"][name] == {"best_val_loss": best.value, "best_params": best.params,
                                                "complete": 1, "pruned": 0, "failed": 0, "failure_reasons": []}
        # The objective is the mean final val loss over tuning seeds (one here).
        assert best.value == statistics.fmean(r["val_loss"][-1] for r in best.user_attrs["runs"])
