"""The seams: a task is one module + one registry line, a recipe kind needs no trainer change,
reports and refusals need no torch, and storage written by earlier versions stays readable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
import torch

from results.run_report import SCHEMA_VERSION
from schedulers.recipes import Recipe
from tasks import DataConfig, get_task
from tasks.training import TrainConfig, train
from tests.processes import HANG_SECONDS
from tests.support.cli import ROOT, run_cli, run_process
from tests.support.refusals import BEFORE_TORCH
from tests.support.snapshot import trial_counts

LEGACY = ROOT / "tests" / "fixtures" / "legacy-run"  # written by commit 471f7e8 with the command below
RENAMED = {"comparison": "mean_final_val_loss", "comparison_detail": "per_budget_results",  # schema 7
           "sensitivity": "final_loss_change_pct"}
LEGACY_COMMAND = ["--task", "osc", "--preset", "smoke", "--schedulers", "N,H", "--skip-lr-free", "--out", "legacy-run",
                  "--data-dir", "data"]


def test_building_a_report_imports_no_torch() -> None:
    probe = "import sys, results.report.outputs; print('torch' in sys.modules)"
    done = run_process(script=probe)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(("args", "message"), BEFORE_TORCH, ids=[" ".join(a[:3]) for a, _ in BEFORE_TORCH])
def test_bad_input_is_refused_before_torch_is_imported(tmp_path: Path, args: list[str], message: str) -> None:
    """A refusal is one line in a fraction of a second: torch (~1 s, ~600 MB) is never loaded."""
    (tmp_path / "file").write_text("")
    argv = [a.format(tmp=tmp_path, file=tmp_path / "file") for a in args]
    probe = ("import sys, run_all\nsys.argv = ['run_all.py', *sys.argv[1:]]\ntry:\n    run_all.main()\n"
             "except SystemExit as done:\n    print(done.code, 'torch' in sys.modules)")
    done = run_process(*argv, script=probe)
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written


@pytest.mark.slow
def test_legacy_storage_rebuilds_the_report_it_wrote(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(LEGACY, tmp_path / "legacy-run")
    monkeypatch.chdir(tmp_path)
    assert run_cli("report", "legacy-run", "--out", "rebuilt") == 0
    legacy = json.loads((LEGACY / "report.json").read_text())
    rebuilt = json.loads((tmp_path / "rebuilt" / "report.json").read_text())
    # later versions add keys, and schema 7 renamed three: the legacy values are there under their new names
    assert {k: rebuilt[RENAMED.get(k, k)] for k in legacy} == {**legacy, "schema_version": SCHEMA_VERSION}
    assert_legacy_curves(tmp_path / "rebuilt" / "curves.csv")


def assert_legacy_curves(path: Path) -> None:
    """The legacy curves.csv, with the status column schema 2 appends (every legacy run completed)."""
    lines = path.read_text().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == (LEGACY / "curves.csv").read_text().splitlines()
    assert lines[0].endswith(",status") and {line.rsplit(",", 1)[1] for line in lines[1:]} == {"complete"}


@pytest.mark.slow
def test_legacy_run_resumes_with_nothing_to_train(tmp_path: Path, monkeypatch, capsys) -> None:
    shutil.copytree(LEGACY, tmp_path / "legacy-run")
    before = trial_counts(tmp_path / "legacy-run")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert run_cli(*LEGACY_COMMAND) == 0
    assert trial_counts(tmp_path / "legacy-run") == before
    assert "[phase" not in capsys.readouterr().out  # no run was started
    legacy = json.loads((LEGACY / "report.json").read_text())
    now = json.loads((tmp_path / "legacy-run" / "report.json").read_text())
    for key in set(legacy) - {"config", "environment", "schema_version"}:
        assert now[RENAMED.get(key, key)] == legacy[key], key
    # The config is this command's: the osc task's own options, no other task's, and settings added
    # since that say how this command ran or what it adds (they change no number).
    added = {"mode", "workers", "max_retries", "checkpoint_every", "checkpoint_seconds", "share_prefix",
             "checkpoint_dir", "plugins", "plugin_sha256", "log_every", "transfer_grid", "transfer_seeds",
             "transfer_max_octaves", "max_seeds", "seed_step"}
    assert {k: v for k, v in now["config"].items() if k not in added} == {
        k: v for k, v in legacy["config"].items() if k != "n_functions"}
    assert now["config"]["checkpoint_every"] == 1 and now["config"]["share_prefix"] is True
    assert now["config"]["plugins"] == [] and now["config"]["plugin_sha256"] == {}
    assert now["config"]["mode"] == "S" and set(now["environment"]) >= set(legacy["environment"]) | {"git_dirty"}
    assert_legacy_curves(tmp_path / "legacy-run" / "curves.csv")


TOY_TASK = '''
import torch
from torch import nn
import models, tasks
from tasks.data import Split, TaskData, split_fractions
from tasks.spec import ModelDefaults, TaskOption, TaskSpec


class Line(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(-1)


def load(config):
    gen = torch.Generator().manual_seed(config.split_seed)
    x = torch.randn(config.options["samples"], 3, generator=gen)
    data = Split((x,), x @ torch.tensor([1.0, -2.0, 0.5]))
    return TaskData(*split_fractions(data, (0.2, 0.2), config.split_seed), model_kwargs={"features": 3})


models.register_model("Line", Line)
tasks.register_task(TaskSpec(name="toy", models={"Line": ModelDefaults(lr=0.05)}, batch_size=16, loss=nn.MSELoss,
                             classification=False, loader=load,
                             options=(TaskOption("samples", int, 10_000, "samples generated", smoke=80, minimum=10),)))
'''


@pytest.mark.slow
def test_a_new_task_is_one_module_and_one_registry_line(tmp_path: Path) -> None:
    """The toy task's module is TOY_TASK; registering it (and its model) is one line each."""
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{TOY_TASK}\nimport run_all\nrun_all.main()\n"
    done = run_process("--task", "toy", "--preset", "smoke", "--schedulers", "C,H", "--skip-lr-free", "--out",
                       "toy-run", cwd=tmp_path, script=script)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "toy-run" / "report.json").read_text())
    assert report["config"]["task"] == "toy" and report["config"]["samples"] == 80  # the option's smoke value
    assert report["config"]["subset_ratio"] == 1.0  # the toy task declares no smoke subset
    assert set(report["mean_final_val_loss"]) == {"C", "H"} and set(report["mean_final_val_loss"]["C"]) == {"3", "6"}
    assert report["optimization"]["C"]["complete"] == 2
    # The option is a CLI flag, checked like every other input.
    bad = run_process("--task", "toy", "--samples", "3", "--out", "bad", cwd=tmp_path, script=script)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --samples must be an integer >= 10, got 3"
    assert not (tmp_path / "bad").exists()


class SGDWithHalving(Recipe):
    """A third kind of recipe (plain SGD whose LR halves every epoch), defined outside the package."""

    name, per_batch = "SGD-halving", False

    def __init__(self, steps_per_epoch: int) -> None:
        self.steps_per_epoch = steps_per_epoch

    def search_space(self, epochs: int) -> dict[str, Any]:
        return {"lr": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True)}

    def defaults(self, epochs: int) -> dict[str, Any]:
        return {"lr": 0.01}

    def validate(self, params: dict[str, Any], budgets: list[int]) -> None:
        pass

    def build(self, parameters, params: dict[str, Any], epochs: int):
        optimizer = torch.optim.SGD(parameters, lr=params["lr"])
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)


@pytest.mark.slow
def test_a_new_recipe_kind_trains_without_trainer_changes(tmp_path: Path) -> None:
    data = get_task("osc").load(DataConfig(data_dir=tmp_path, subset_ratio=0.01, options={"hist": 5, "pred": 3}))
    recipe = SGDWithHalving(data.steps_per_epoch(16))
    config = TrainConfig(model="LSTM_Seq2Seq", epochs=3, batch_size=16, seed=0, recipe=recipe, params={"lr": 0.04},
                         device="cpu")
    record = train(get_task("osc"), data, config)
    assert record.status == "complete"
    assert record.lr == [0.04, 0.02, 0.01]


PACKAGES = ("runstate", "schedulers", "models", "tasks", "results", "runner")


def project_imports() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its source (lazy imports in functions too)."""
    import ast

    modules = {str(p.relative_to(ROOT).with_suffix("")).replace("/", ".").removesuffix(".__init__"): p
               for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    modules.update({name: ROOT / f"{name}.py" for name in ("run_all", "errors", "registry")})
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycle_between_project_modules() -> None:
    """Function-level imports count too: a cycle hidden in one is still two modules that need each other."""
    graph, cycles = project_imports(), []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert graph["runner.pool"] and graph["runner.worker"]  # the walk sees lazy imports
    assert cycles == []


def test_the_run_state_sits_below_every_other_package() -> None:
    """tasks, runner and results all read and write the run's state; it must need none of them."""
    graph = project_imports()
    below = {m: targets for m, targets in graph.items() if m.startswith("runstate")}
    assert set(below) == {"runstate", "runstate.storage", "runstate.records", "runstate.files", "runstate.interrupts",
                          "runstate.journal_lock"}
    assert {t for targets in below.values() for t in targets} <= {"errors", *below}
    users = {m.split(".")[0] for m, targets in graph.items() if any(t.startswith("runstate") for t in targets)}
    assert {"tasks", "runner", "results"} <= users


RESULTS_LAYERS = {  # results/ flows one way: read sources, compute statistics, compose, draw, write
    "results.records": 0, "results.sources": 0, "results.stats": 1,
    "results.analysis": 2, "results.run_report": 2, "results.seeds_report": 2, "results.summary": 2,
    "results.figures": 3, "results.report": 4, "results.analyze_command": 5,
}


def _results_layer(module: str) -> int | None:
    room = ".".join(module.split(".")[:2])
    return RESULTS_LAYERS.get(room) if module != "results" else -1  # results/__init__ holds ALPHA only


def test_results_rooms_import_only_their_own_layer_or_below() -> None:
    graph = project_imports()
    rooms = {m for m in graph if m.startswith("results.")}
    assert all(_results_layer(m) is not None for m in rooms), sorted(m for m in rooms if _results_layer(m) is None)
    upward = [f"{m} -> {t}" for m in sorted(rooms) for t in sorted(graph[m])
              if t.startswith("results") and _results_layer(t) > _results_layer(m)]
    assert upward == []


def test_statistics_draw_and_write_nothing() -> None:
    """results.stats computes; files, figures and report.md belong to the rooms above it."""
    import ast

    for path in (ROOT / "results" / "stats").rglob("*.py"):
        imported = {alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in imported if m.startswith(("matplotlib", "runstate.files", "json"))}, path


def test_every_top_level_module_is_installed() -> None:
    """A top-level module missing from py-modules imports from the repo root but not from an installed
    ``epochbench`` (registry.py was missed once: the console script failed with ModuleNotFoundError)."""
    import re

    line = re.search(r"^py-modules = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.M)
    assert line is not None
    declared = [name.strip().strip('"') for name in line.group(1).split(",")]
    assert sorted(declared) == sorted(p.stem for p in ROOT.glob("*.py"))


def test_the_installed_command_starts_outside_the_repository(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "epochbench"  # the README installs the project into this environment
    done = subprocess.run([str(script), "schedulers"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=HANG_SECONDS)
    assert done.returncode == 0 and "HyperbolicLR" in done.stdout, done.stderr
