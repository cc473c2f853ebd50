"""Subnormal floats on the CPU: one osc run at a high LR (a saturated LSTM) with and without flushing them.

    PYTHONPATH=. python benchmarks/denormals.py [--quick]

Trains the osc LSTM (hist 20, pred 10, a quarter of the data) under the constant schedule N at
lr 0.0464 (a Phase 1 trial of docs/studies.md's osc study that took 286 s where its neighbours took
12-16 s) for 2 epochs, twice in one process: with subnormals flushed to 0 (what the trainer
does on the CPU, tasks.training.flush_denormals) and without. Prints both wall times, their
ratio and whether the validation losses are identical. --quick: a sliver of the data, one epoch,
to check that it runs (the test suite does); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from runner.config import RunConfig, resolve
from runner.worker import load_data
from tasks.data import TaskData
from tasks.training import TrainConfig, Trainer

SATURATING_LR = 0.04640890715953159


def timed_run(config: RunConfig, data: TaskData, flush: bool, epochs: int) -> tuple[float, list[float]]:
    recipe = config.recipe("N", data.steps_per_epoch(config.batch_size))
    trainer = Trainer(config.task_spec, data, TrainConfig(model=config.model, epochs=epochs, seed=1,
                                                          batch_size=config.batch_size, recipe=recipe,
                                                          params={"lr": SATURATING_LR}, device="cpu"))
    torch.set_flush_denormal(flush)  # after the trainer, which turns flushing on
    started = time.perf_counter()
    record = trainer.run()
    return time.perf_counter() - started, record.val_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: checks that it runs")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    args = parser.parse_args()
    size = {"hist": 5, "pred": 5, "subset_ratio": 0.01} if args.quick else {"hist": 20, "pred": 10,
                                                                             "subset_ratio": 0.25}
    config = resolve({"task": "osc", "schedulers": ("N",), "lr_free": (), "data_dir": args.data_dir,
                      "subset_ratio": size["subset_ratio"]}, None, {"hist": size["hist"], "pred": size["pred"]})
    data = load_data(config)
    epochs = 1 if args.quick else 2
    runs = {flush: timed_run(config, data, flush, epochs) for flush in (True, False)}
    print(f"osc LSTM, N at lr {SATURATING_LR:.4g}, {epochs} epoch(s), {torch.get_num_threads()} torch thread(s)")
    for flush, (seconds, _) in runs.items():
        print(f"{'flushed' if flush else 'kept':8} {seconds:8.1f} s")
    print(f"wall-time ratio kept/flushed: {runs[False][0] / runs[True][0]:.2f}x; "
          f"validation losses identical: {runs[True][1] == runs[False][1]}")


if __name__ == "__main__":
    main()
