"""Tiny osc runs in a child process killed by SIGKILL right after a chosen unit's second checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.processes import HANG_SECONDS
from tests.support.cli import ROOT


def options(tmp_path: Path, out: str, schedulers: tuple[str, ...], lr_free: tuple[str, ...] = (),
            **more) -> dict:
    """Tiny osc runs; one Phase 1 trial, so the tuned parameters are the registry defaults (as OSC_CHECKPOINTED of
    tests/support/tiny_runs.py, whose C run is the finished "osc C checkpointed")."""
    return {"task": "osc", "schedulers": schedulers, "lr_free": lr_free, "n_trials": 1, "epoch_budgets": (4,),
            "compare_seeds": 1, "out": tmp_path / out, "data_dir": tmp_path / "data", "checkpoint_seconds": 0,
            "subset_ratio": 0.002, "log_every": "0", **more}


def report_of(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text())


KILLER = '''
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
import torch
from runner import checkpoints
from runner.config import resolve
from runner.pipeline import run_benchmark

torch.set_num_threads(1)
victim, saved, original = sys.argv[1], [], checkpoints.Checkpoints.save


def save(self, trial, identity, data):
    """Save, then die by SIGKILL right after the victim's second checkpoint (its epoch 2)."""
    original(self, trial, identity, data)
    if self.study.study_name.endswith("/{phase}/" + victim):
        saved.append(identity)
        if len(saved) == 2:
            os.kill(os.getpid(), signal.SIGKILL)


checkpoints.Checkpoints.save = save
options = {options!r}
run_benchmark(resolve({{**options, "out": Path(options["out"]), "data_dir": Path(options["data_dir"])}}, "smoke"))
'''


def run_killing(victim: str, opts: dict, phase: str = "compare") -> subprocess.CompletedProcess:
    """Run ``opts`` in a child that dies by SIGKILL right after the second checkpoint of the unit of study
    ``<project>/<phase>/<victim>`` (an empty victim never matches: the child runs to the end)."""
    plain = {k: str(v) if isinstance(v, Path) else v for k, v in opts.items()}
    script = KILLER.format(root=str(ROOT), phase=phase, options=plain)
    return subprocess.run([sys.executable, "-c", script, victim], cwd=ROOT, capture_output=True, text=True,
                          timeout=HANG_SECONDS)
