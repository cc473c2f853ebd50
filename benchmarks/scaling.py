"""Scale-out on one machine: throughput of 1 vs 2 workers, its ceiling, and the storage's share of wall time.

    python benchmarks/scaling.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 2] [--quick]

(a) The same small osc workload (both phases) run with --workers 1 and --workers 2, each from a
    fresh folder with the data cache warm, alternating, best of --repeat; at two model sizes:
    the smoke preset's LSTM windows (hist 20, pred 10) and the paper's (hist 50, pred 50).
    Prints epochs per second and the ratio, and beside it the same ratio for training epochs
    alone: one worker already uses every core inside each step through torch's intra-op
    threads, so on training two 1-thread workers gain only 2 x t(one process, 2 threads) /
    t(two processes at once, 1 thread each), timed here on the same model and data (no start-up,
    no storage). What lifts the whole run above it is the single-threaded rest of each unit
    (evaluation, set-up, storage), which two workers do side by side.
(b) One worker on the smoke-size workload with SQLite, the journal file and PostgreSQL: the time
    spent inside storage calls (outermost calls only, measured by wrapping the storage class's
    methods) over the wall time.

--quick: one tiny size (a sliver of the data) and workload (one schedule, budgets 1 and 2, one seed), one
run of each, no warm-up run, 1-epoch probes: seconds, to check that it runs (the test suite does); its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE = ["--task", "osc", "--preset", "smoke", "--schedulers", "N,C,E,H", "--skip-lr-free", "--n-trials", "2",
        "--epochs", "3", "--epoch-budgets", "3,6", "--compare-seeds", "2"]
QUICK_BASE = ["--task", "osc", "--preset", "smoke", "--schedulers", "C", "--skip-lr-free", "--n-trials", "1",
              "--epochs", "1", "--epoch-budgets", "1,2", "--compare-seeds", "1"]


def planned_epochs(base: list[str]) -> int:
    """Epochs a workload plans: schedulers x (tuning trials x epochs + seeds x budgets)."""
    def value(option: str) -> str:
        return base[base.index(option) + 1]

    budgets = sum(int(b) for b in value("--epoch-budgets").split(","))
    return len(value("--schedulers").split(",")) * (int(value("--n-trials")) * int(value("--epochs"))
                                                     + int(value("--compare-seeds")) * budgets)

SIZES = {  # name: (hist, pred, subset ratio); subsets chosen for about a minute per run on 2 cores
    "smoke size (hist 20, pred 10, 25 % of the data)": (20, 10, 0.25),
    "paper size (hist 50, pred 50, 5 % of the data)": (50, 50, 0.05),
}
QUICK_SIZES = {"quick size (hist 5, pred 5, 0.5 % of the data)": (5, 5, 0.005)}
PROBE_EPOCHS, PROBE_REPEAT = 4, 3


def hist_pred(size: tuple[int, int, float]) -> str:
    return f"h{size[0]}p{size[1]}"


def workload(base: list[str], hist: int, pred: int, subset: float) -> list[str]:
    return [*base, "--hist", str(hist), "--pred", str(pred), "--subset-ratio", str(subset)]


def timed_run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_all.py"), *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def probe(threads: int, hist: int, pred: int, subset: float, data_dir: Path) -> float:
    """Seconds to train PROBE_EPOCHS epochs of the workload's model (C schedule) in this process,
    timed from a "go" line on stdin, so that probes run side by side start together."""
    import torch

    from schedulers.recipes import make_recipe
    from tasks import DataConfig, get_task
    from tasks.training import TrainConfig, Trainer

    torch.set_num_threads(threads)
    task = get_task("osc")
    data = task.load(DataConfig(data_dir=data_dir, subset_ratio=subset, options={"hist": hist, "pred": pred}))
    recipe = make_recipe("C", steps_per_epoch=data.steps_per_epoch(task.batch_size))
    config = TrainConfig(model="LSTM_Seq2Seq", epochs=PROBE_EPOCHS, batch_size=task.batch_size, seed=1,
                         recipe=recipe, params=recipe.defaults(PROBE_EPOCHS), device="cpu")
    Trainer(task, data, config).run()  # warm-up: first-use imports and allocations
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    Trainer(task, data, config).run()
    return time.perf_counter() - start


def piped(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    """The stdin and stdout of a process started with both piped."""
    if process.stdin is None or process.stdout is None:
        raise ValueError("the process was started without pipes for stdin and stdout")
    return process.stdin, process.stdout


def probes(threads: int, copies: int, size: tuple[int, int, float], data_dir: Path) -> list[float]:
    """``copies`` probe processes side by side, each with ``threads`` threads: their seconds."""
    command = [sys.executable, __file__, "--probe", str(threads), *map(str, size), str(data_dir)]
    running = [subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(copies)]
    pipes = [piped(p) for p in running]
    for _, stdout in pipes:
        if stdout.readline().strip() != "ready":
            raise RuntimeError("a probe process did not start")
    for stdin, _ in pipes:
        stdin.write("go\n")
        stdin.flush()
    return [float(p.communicate()[0]) for p in running]


def worker_scaling(work: Path, base: list[str], repeat: int, sizes: dict[str, tuple[int, int, float]],
                   probe_repeat: int, warm_up: bool) -> None:
    data = work / "data"
    print("(a) workers on this machine (same workload, fresh storage, data cache warm; best of "
          f"{repeat}, alternating)")
    epochs = planned_epochs(base)
    for name, size in sizes.items():
        args = workload(base, *size)
        if warm_up:
            timed_run([*args, "--skip-compare", "--n-trials", "1", "--out", str(work / f"warm-{hist_pred(size)}"),
                       "--data-dir", str(data)])
        seconds: dict[int, float] = {1: float("inf"), 2: float("inf")}
        for k in range(repeat):
            for n in (1, 2):
                out = work / f"{hist_pred(size)}-w{n}-{k}"
                seconds[n] = min(seconds[n], timed_run([*args, "--workers", str(n), "--out", str(out),
                                                        "--data-dir", str(data)]))
        alone = min(min(probes(2, 1, size, data)) for _ in range(probe_repeat))
        together = min(max(probes(1, 2, size, data)) for _ in range(probe_repeat))
        print(f"    {name}, {epochs} epochs planned:")
        for n, s in seconds.items():
            print(f"      {n} worker(s): {s:6.1f} s wall, {epochs / s:5.2f} epochs/s")
        print(f"      2 workers / 1 worker throughput: {seconds[1] / seconds[2]:.2f}x")
        print(f"      training epochs alone: {2 * alone / together:.2f}x ({PROBE_EPOCHS} epochs take {alone:.2f} s "
              f"with 2 threads alone, {together:.2f} s with 1 thread each, two side by side)")


class StorageClock:
    """Accumulates time spent in the outermost calls of a storage class's public methods."""

    def __init__(self, cls: type) -> None:
        self.seconds, self.depth, self.cls = 0.0, 0, cls
        self.saved: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> StorageClock:
        for name in dir(self.cls):
            method = getattr(self.cls, name)
            if not name.startswith("_") and callable(method):
                self.saved[name] = method
                setattr(self.cls, name, self._timed(method))
        return self

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.depth += 1
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - start
        return wrapper

    def __exit__(self, *exc: object) -> None:
        for name, method in self.saved.items():
            setattr(self.cls, name, method)


def storage_overhead(work: Path, base: list[str], postgres: str | None, size: tuple[int, int, float]) -> None:
    import optuna

    import run_all

    kinds = {"SQLite": (f"sqlite:///{work}/bench.db", optuna.storages.RDBStorage),
             "journal": (f"journal:{work}/bench.journal", optuna.storages.JournalStorage)}
    if postgres:
        kinds["PostgreSQL"] = (postgres, optuna.storages.RDBStorage)
    print("(b) time inside storage calls / wall time, one worker")
    for kind, (url, cls) in kinds.items():
        project = f"bench-{uuid.uuid4().hex[:8]}"
        sys.argv = ["run_all.py", *workload(base, *size), "--storage", url, "--project", project,
                    "--out", str(work / kind), "--data-dir", str(work / "data")]
        start = time.perf_counter()
        with StorageClock(cls) as clock, open(os.devnull, "w") as quiet, \
                contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            try:
                run_all.main()
            except SystemExit:
                pass
        wall = time.perf_counter() - start
        print(f"    {kind:10s}: {clock.seconds:6.2f} s of {wall:6.1f} s = {100 * clock.seconds / wall:4.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL for (b) (a scratch database is best)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each configuration in (a); the best counts")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: checks that it runs")
    parser.add_argument("--probe", nargs=5, default=None, help=argparse.SUPPRESS)  # threads hist pred subset data
    args = parser.parse_args()
    if args.probe is not None:
        threads, hist, pred, subset, data_dir = args.probe
        print(probe(int(threads), int(hist), int(pred), float(subset), Path(data_dir)))
        return
    with tempfile.TemporaryDirectory() as folder:
        sizes, base = (QUICK_SIZES, QUICK_BASE) if args.quick else (SIZES, BASE)
        worker_scaling(Path(folder), base, 1 if args.quick else args.repeat, sizes, 1 if args.quick else PROBE_REPEAT,
                       warm_up=not args.quick)
        storage_overhead(Path(folder), base, args.postgres, next(iter(sizes.values())))


if __name__ == "__main__":
    main()
