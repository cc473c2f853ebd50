"""The refusal tables: bad input and the one-line error it must give, grouped by what the test around them checks.

Each table is (input, expected message) cases; the test module named beside it runs them.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.tiny_runs import OSC_PROJECT

# tests/test_architecture.py: refused in a fraction of a second, before torch is imported; nothing written.
# {tmp} is the test's folder, {file} a file in it.
BEFORE_TORCH = [
    (["--task", "osc", "--hist", "0"], "--hist must be an integer >= 1"),
    (["--task", "osc", "--lr", "inf"], "--lr must be a positive finite number"),
    (["--task", "osc", "--schedulers", "C,XX"], "unknown scheduler code 'XX'"),
    (["--task", "osc", "--device", "tpu"], "--device 'tpu' is unknown"),
    (["--task", "osc", "--preset", "smoke", "--out", "{file}/run"], "is not a folder"),
    (["--task", "osc", "--preset", "smoke", "--dtype", "wavy"], "--dtype 'wavy' is unknown"),
    (["report", "{tmp}/missing"], "no such folder"),
    (["worker", "--storage", "journal:{tmp}/missing.journal", "--project", "p"], "no such file"),
    (["lr-trace", "OC", "--steps-per-epoch", "100000000", "--epochs", "1000"], "over the limit"),
    # --compare-seeds auto and its rounds (tests/test_seed_rounds.py); --transfer-seeds defaults to --compare-seeds
    (["--compare-seeds", "abc", "--task", "osc"],
     "error: --compare-seeds must be a whole number >= 1 or auto, got 'abc'"),
    (["--compare-seeds", "0", "--task", "osc"], "error: --compare-seeds must be a whole number >= 1 or auto, got 0"),
    (["--max-seeds", "2", "--task", "osc", "--compare-seeds", "auto"],
     "error: --max-seeds must be an integer >= 4, got 2"),
    (["--seed-step", "0", "--task", "osc", "--compare-seeds", "auto"],
     "error: --seed-step must be an integer >= 1, got 0"),
    (["--transfer-seeds", "5", "--task", "osc", "--compare-seeds", "auto", "--transfer-grid", "0.5,2"],
     "error: --transfer-seeds must be at most the first round of --compare-seeds auto (4): multiplier 1 is Phase 2's "
     "run, got 5"),
]

# tests/test_runner_bad_input.py: added to the command of a finished run ("osc C budgets 2,3"), refused with its
# results left byte-identical.
ON_A_FINISHED_RUN = [
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
    (["--compare-seeds", "0"], "--compare-seeds must be a whole number >= 1 or auto, got 0"),
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
    (["--transfer-grid", "0.5,2", "--transfer-max-octaves", "-1"],
     "--transfer-max-octaves must be a finite number >= 0, got -1"),
    (["--transfer-grid", "0.5,2", "--transfer-max-octaves", "nan"],
     "--transfer-max-octaves must be a finite number >= 0, got nan"),
    (["--transfer-grid", "0.5,2", "--transfer-max-octaves", "inf"],
     "--transfer-max-octaves must be a finite number >= 0, got inf"),
    (["--transfer-grid", "0.5,2", "--transfer-max-octaves", "two"],
     "Invalid value for '--transfer-max-octaves': Input should be a valid number"),
    (["--transfer-max-octaves", "2"],
     "--transfer-max-octaves grows the transfer grid: give its first round with --transfer-grid"),
]

# tests/test_resume_identity.py: a finished run resumed with another value of one identity setting, refused by name.
PROJECTS = {"osc": OSC_PROJECT, "integral": "integral-DeepONet", "cifar10": "cifar10-CIFAR10-SimpleCNN"}
# (identity setting, base run, changed options). A change of task, model or dataset also changes the
# default project name, so --project is pinned to the base's to make the two runs clash. None drops an
# option of the base (osc's own --hist/--pred are refused by any other task).
IDENTITY_CASES = [
    ("task", "osc", {"--task": "integral", "--project": PROJECTS["osc"], "--hist": None, "--pred": None}),
    ("model", "integral", {"--model": "TFONet", "--project": PROJECTS["integral"]}),
    ("dataset", "cifar10", {"--dataset": "CIFAR100", "--project": PROJECTS["cifar10"]}),
    ("optimizer", "osc", {"--optimizer": "Adam"}),
    ("epochs", "osc", {"--epochs": "2"}),
    ("batch_size", "osc", {"--batch-size": "32"}),
    ("lr", "osc", {"--lr": "0.02"}),
    ("infimum_lr", "osc", {"--infimum-lr": "1e-5"}),
    ("n_trials", "osc", {"--n-trials": "2"}),
    ("n_seeds", "osc", {"--n-seeds": "2"}),
    ("subset_ratio", "osc", {"--subset-ratio": "0.01"}),
    ("dtype", "osc", {"--dtype": "damped"}),
    ("mode", "osc", {"--mode": "MS"}),
    ("hist", "osc", {"--hist": "6"}),
    ("pred", "osc", {"--pred": "6"}),
    ("n_functions", "integral", {"--n-functions": "30"}),
    ("sampler_seed", "osc", {"--sampler-seed": "1"}),
    ("pruner", "osc", {"--pruner": "median"}),
    ("precision", "osc", {"--precision": "bf16"}),
]

# tests/test_plugins.py: a plugin file's source (None: no file) and the start of its error.
BAD_PLUGINS = {
    "missing": (None, "--plugin {path}: no such file"),
    "import error": ("import no_such_module_anywhere\n", "import failed: ModuleNotFoundError"),
    "raises": ("raise RuntimeError('boom')\n", "import failed: RuntimeError: boom"),
    "clash": ("from runner.plugins import register_schedule\nfrom schedulers.registry import SCHEDULERS\n"
              "register_schedule(SCHEDULERS['C'])\n", "schedule 'C' clashes with a scheduler"),
    "invalid spec": ("from runner.plugins import register_schedule\nfrom schedulers.registry import SchedulerSpec\n"
                     "register_schedule(SchedulerSpec('NAN', 'n', family='traditional', shape=lambda t, T, lr: "
                     "float('nan'), params=(), summary=''))\n", "schedule 'NAN' fails its checks"),
    "not a spec": ("from runner.plugins import register_schedule\nregister_schedule('X')\n",
                   "register_schedule takes a SchedulerSpec, got str"),
    "recipe clash": ("from runner.plugins import register_recipe\nregister_recipe('Prodigy', lambda **k: None)\n",
                     "recipe 'Prodigy' clashes"),
}

# tests/test_scale_out.py: `worker` on a storage it cannot use.
BAD_WORKER_STORAGE = [
    (["--storage", "postgresql://nobody@127.0.0.1:1/none", "--project", OSC_PROJECT], "cannot open storage"),
    (["--storage", "journal:/nonexistent/x.journal", "--project", OSC_PROJECT], "holds no EpochBench project"),
]

# tests/test_report_command.py: `report` of nothing, which must create nothing. {tmp} is the test's folder.
REPORT_OF_NOTHING = [
    ("/nonexistent/run",
     "error: /nonexistent/run: no such folder; give a run's output folder or an Optuna storage URL"),
    ("sqlite:///{tmp}/new.db", "error: sqlite:///{tmp}/new.db holds no EpochBench project (no such file)"),
    ("journal:{tmp}/new.log", "error: journal:{tmp}/new.log holds no EpochBench project (no such file)"),
]

# tests/test_cli_schedulers.py: `lr-trace` arguments it refuses.
BAD_LR_TRACE = [
    (["lr-trace", "XYZ"], "unknown scheduler 'XYZ'; known: N, P, C"),
    (["lr-trace", "H", "--set", "bogus=1"], "H: unknown parameter 'bogus'; allowed: infimum_lr, upper_bound"),
    (["lr-trace", "H", "--set", "upper_bound=abc"], "upper_bound='abc' is not a valid int"),
    (["lr-trace", "H", "--set", "upper_bound"], "expected name=value"),
    (["lr-trace", "H", "--epochs", "200", "--set", "upper_bound=100"], "allowed: upper_bound >= 200"),
    (["lr-trace", "C", "--epochs", "50,,100"], "--epochs: '50,,100' is malformed"),
    (["lr-trace", "C", "--epochs", "0"], "budgets must be positive"),
    (["lr-trace", "OC", "--steps-per-epoch", "100000000", "--epochs", "1000"], "over the limit of 10,000,000"),
    (["lr-trace", "--all", "--epochs", "10000000"], "is over the limit of 10,000,000"),
]

# tests/test_cli_options.py: (flag, value below the declared minimum, the minimum).
BELOW_MINIMUM = [("--workers", "0", 1), ("--max-retries", "-1", 0), ("--checkpoint-every", "-2", 0),
                 ("--batch-size", "0", 1)]
