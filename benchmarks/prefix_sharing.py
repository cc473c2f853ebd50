"""Prefix sharing in Phase 2: wall time with vs without, checkpoint overhead, and the paper's saving.

    PYTHONPATH=. python benchmarks/prefix_sharing.py [--seeds 1] [--out /tmp/prefix-bench] [--quick]

(a) Phase 2 of the osc smoke workload (every scheduler and LR-free optimizer, budgets 5,10,15,20)
    run twice from one Phase 1 (one trial: the defaults), with and without prefix sharing, in
    the same process: wall times, their ratio, epochs trained, whether curves.csv is identical,
    and the checkpoint overhead (seconds saving checkpoints / wall time of the shared run).
(b) The paper protocol (tuned at 50 epochs, budgets 50,100,150,200 x 5 seeds, 352 batches per
    epoch as CIFAR-10 at batch 128) from the schedules alone: epochs planned vs trained.

--quick: (a) for three contenders at budgets 2,4 on a sliver of the data, (b) at 4 batches per
epoch: seconds, to check that it runs (the test suite does); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from runner.config import resolve
from runner.pipeline import run_benchmark
from runner.prefix import epochs_to_train, plan_starts
from schedulers.recipes import contender_names, make_recipe

SMOKE_BUDGETS = (5, 10, 15, 20)
PAPER_BUDGETS, PAPER_SEEDS, PAPER_TUNING, PAPER_STEPS = (50, 100, 150, 200), 5, 50, 352


QUICK = {"schedulers": ("N", "E", "C"), "lr_free": (), "epoch_budgets": (2, 4), "subset_ratio": 0.005}


def measured(out: Path, seeds: int, quick: bool) -> None:
    base = {"task": "osc", "n_trials": 1, "epoch_budgets": SMOKE_BUDGETS, "compare_seeds": seeds,
            "data_dir": out / "data", **(QUICK if quick else {})}
    shutil.rmtree(out, ignore_errors=True)
    run_benchmark(resolve({**base, "out": out / "shared", "skip_compare": True}, "smoke"))
    shutil.copytree(out / "shared", out / "alone")  # the same Phase 1 for both
    seconds, reports = {}, {}
    for name, share in (("alone", False), ("shared", True)):
        started = time.perf_counter()
        reports[name] = run_benchmark(resolve({**base, "out": out / name, "share_prefix": share}, "smoke"))
        seconds[name] = time.perf_counter() - started
    same = (out / "shared" / "curves.csv").read_bytes() == (out / "alone" / "curves.csv").read_bytes()
    print(f"\n(a) osc smoke Phase 2, budgets {base['epoch_budgets']}, {seeds} seed(s), "
          f"{len(reports['shared'].epochs)} contenders, {torch.get_num_threads()} torch thread(s)")
    print(f"{'':8} {'wall s':>8} {'train s':>8} {'ckpt s':>8} {'epochs trained/planned':>24}")
    for name in ("alone", "shared"):
        report = reports[name]
        trained, planned = (sum(c.trained for c in report.epochs.values()),
                            sum(c.planned for c in report.epochs.values()))
        times = report.training_time_s
        print(f"{name:8} {seconds[name]:8.1f} {times.compare:8.1f} {times.checkpoints:8.2f} "
              f"{trained:>15}/{planned}")
    print(f"wall-time ratio shared/alone: {seconds['shared'] / seconds['alone']:.3f}; curves.csv identical: {same}")
    for name in ("alone", "shared"):
        print(f"checkpoint overhead ({name}): {reports[name].training_time_s.checkpoints / seconds[name]:.2%} "
              "of the wall time")
    print("per contender (shared):", json.dumps({n: f"{c.trained}/{c.planned}"
                                                for n, c in reports["shared"].epochs.items()}))


def paper(steps: int) -> None:
    print(f"\n(b) paper protocol from the schedules alone: budgets {PAPER_BUDGETS} x {PAPER_SEEDS} seeds, default "
          f"parameters at {PAPER_TUNING} epochs, {steps} batches per epoch")
    print(f"{'contender':14} {'planned':>8} {'trained':>8} {'saved':>6}")
    total = [0, 0]
    for name in contender_names():
        recipe = make_recipe(name, steps_per_epoch=steps)
        params = recipe.defaults(PAPER_TUNING)
        starts = plan_starts({b: recipe.schedule_trace(params, b) for b in PAPER_BUDGETS})
        planned, trained = sum(PAPER_BUDGETS) * PAPER_SEEDS, epochs_to_train(starts) * PAPER_SEEDS
        total = [total[0] + planned, total[1] + trained]
        print(f"{name:14} {planned:8} {trained:8} {1 - trained / planned:6.0%}")
    print(f"{'all':14} {total[0]:8} {total[1]:8} {1 - total[1] / total[0]:6.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="Phase 2 seeds of (a) [1: a few minutes on a CPU]")
    parser.add_argument("--out", type=Path, default=Path("/tmp/prefix-bench"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: checks that it runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paper(4 if args.quick else PAPER_STEPS)
    measured(args.out, args.seeds, args.quick)


if __name__ == "__main__":
    main()
