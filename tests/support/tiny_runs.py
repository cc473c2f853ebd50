"""The tiny runs the tests train, by name, and their cache: each trains once per pytest session.

A tiny run is a command of the real CLI. ``FinishedRuns`` (the ``finished_runs`` fixture) trains
a run the first time a test asks for it, in a folder of its own with ``--out <out> --data-dir
data`` given relative to it, and hands each test a fresh copy of that whole folder: a test may
resume, grow or damage its copy; the original stays as trained. Tests that must watch training
(kills, stops, worker races) still train; their uninterrupted reference comes from here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.datasets import write_cifar

# A sliver of osc's smoke data and short windows: a run takes seconds.
TINY_OSC = ("--hist", "5", "--pred", "5", "--subset-ratio", "0.005")
OSC_PROJECT = "osc-LSTM_Seq2Seq"


def flags(options: dict[str, str | None]) -> list[str]:
    """``{"--flag": value}`` as command-line arguments; a None value leaves the flag out."""
    return [part for item in options.items() if item[1] is not None for part in item]


@dataclass(frozen=True)
class TinyRun:
    args: tuple[str, ...]
    out: str = "out"  # the --out folder inside the run's own folder
    cifar_files: int = 0  # tiny CIFAR10 files of this many images each in data/ (their md5 sums are not checked)


# Tiny finished bases of the resume tests: 1 tuning trial of 1 epoch, Phase 2 at budget 1 with seed 1.
ONE_EPOCH = {"--preset": "smoke", "--schedulers": "C", "--n-trials": "1", "--epochs": "1", "--epoch-budgets": "1",
             "--compare-seeds": "1"}
RESUME_BASES: dict[str, dict[str, str | None]] = {
    "osc": {"--task": "osc", **ONE_EPOCH, **dict(zip(TINY_OSC[::2], TINY_OSC[1::2]))},
    "integral": {"--task": "integral", "--model": "DeepONet", **ONE_EPOCH, "--n-functions": "20"},
    "cifar10": {"--task": "cifar10", "--model": "SimpleCNN", "--dataset": "CIFAR10", **ONE_EPOCH,
                "--subset-ratio": "1", "--batch-size": "16"},
}

# The fixed run whose outputs tests/fixtures/golden-run holds (run with --out golden-run --data-dir data).
GOLDEN_COMMAND = ("--task", "osc", "--preset", "smoke", "--schedulers", "N,C,H,P", "--transfer-grid", "0.5,1,2")
# Two schedulers at the smoke budgets 3 and 6, no LR-free optimizers.
OSC_C_EH = ("--task", "osc", "--preset", "smoke", "--schedulers", "C,EH", "--skip-lr-free", *TINY_OSC)
# Two schedulers, both phases, in as few epochs as a pool of workers can share.
OSC_N_C = ("--task", "osc", "--preset", "smoke", "--schedulers", "N,C", "--skip-lr-free", "--n-trials", "2",
           "--epochs", "2", "--epoch-budgets", "2,3", "--compare-seeds", "2", *TINY_OSC)
# E shares its LR prefix across budgets, C does not; tuned at 2 epochs, transferred at 2 and 4.
OSC_TRANSFER = ("--task", "osc", "--preset", "smoke", "--schedulers", "E,C", "--skip-lr-free", "--n-trials", "1",
                "--epochs", "2", "--epoch-budgets", "2,4", *TINY_OSC)
# One Phase 1 trial (the registry defaults), one 4-epoch Phase 2 run checkpointed after every epoch.
OSC_CHECKPOINTED = ("--task", "osc", "--preset", "smoke", "--n-trials", "1", "--epoch-budgets", "4",
                    "--compare-seeds", "1", "--checkpoint-seconds", "0", "--subset-ratio", "0.002", "--log-every", "0")
# --compare-seeds auto: N (the constant schedule, prefix-identical across budgets) and three that move; rounds of one
# seed after the first four, up to 6.
OSC_SEED_ROUNDS = ("--task", "osc", "--preset", "smoke", "--schedulers", "N,C,H,EH", "--skip-lr-free",
                   "--compare-seeds", "auto", "--max-seeds", "6", "--seed-step", "1", *TINY_OSC)

TINY_RUNS: dict[str, TinyRun] = {
    "golden": TinyRun(GOLDEN_COMMAND, out="golden-run"),
    "osc C,EH": TinyRun(OSC_C_EH),
    "osc N,C": TinyRun(OSC_N_C),
    "osc E,C transfer grid": TinyRun((*OSC_TRANSFER, "--transfer-grid", "0.5,1,2")),
    "osc E,C adaptive grid": TinyRun((*OSC_TRANSFER, "--transfer-grid", "0.5,1,2", "--transfer-max-octaves", "3")),
    "osc seed rounds": TinyRun(OSC_SEED_ROUNDS),
    "osc C checkpointed": TinyRun((*OSC_CHECKPOINTED, "--schedulers", "C", "--skip-lr-free")),
    "osc C budgets 2,3": TinyRun(("--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free",
                                  "--epoch-budgets", "2,3")),
    **{f"{task} one epoch": TinyRun((*flags(options), "--skip-lr-free"), cifar_files=4 * (task == "cifar10"))
       for task, options in RESUME_BASES.items()},
}


class FinishedRuns:
    """Each tiny run trained at most once, on first use; tests get copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trained: dict[str, Path] = {}

    def copy(self, name: str, into: Path) -> Path:
        """A fresh copy of the run's folder under ``into`` (``<copy>/<out>`` the run, ``<copy>/data`` its data)."""
        return Path(shutil.copytree(self.original(name), into / self.original(name).name, symlinks=True))

    def original(self, name: str) -> Path:
        if name not in self.trained:
            self.trained[name] = self._train(name, TINY_RUNS[name])
        return self.trained[name]

    def _train(self, name: str, run: TinyRun) -> Path:
        import torch
        import torchvision.datasets.cifar

        folder = self.root / name.replace(" ", "-").replace(",", "+")  # a readable folder name
        folder.mkdir()
        if run.cifar_files:
            write_cifar(folder / "data", "CIFAR10", per_file=run.cifar_files)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a worker of a pool: CPU sums depend on the thread count
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(folder)
                patch.setattr(torchvision.datasets.cifar, "check_integrity",  # tiny files: no official md5 sums
                              lambda path, md5=None: Path(path).is_file())
                code = run_cli(*run.args, "--out", run.out, "--data-dir", "data")
        finally:
            torch.set_num_threads(threads)
        assert code == 0, f"tiny run {name!r} exited with {code}"
        return folder
