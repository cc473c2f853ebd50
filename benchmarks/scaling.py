"""Scale-out on one machine: throughput of 1 vs 2 workers, and the storage's share of wall time.

    python benchmarks/scaling.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

(a) The same small osc workload (both phases) run with --workers 1 and --workers 2, each from a
    fresh folder with the data cache warm; prints epochs per second and the ratio.
(b) One worker on the same workload with SQLite, the journal file and PostgreSQL: the time spent
    inside storage calls (outermost calls only, measured by wrapping the storage class's methods)
    over the wall time.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKLOAD = ["--task", "osc", "--preset", "smoke", "--schedulers", "N,C,E,H", "--skip-lr-free", "--n-trials", "2",
            "--epochs", "3", "--epoch-budgets", "3,6", "--compare-seeds", "2", "--subset-ratio", "0.25"]
EPOCHS = 4 * (2 * 3 + 2 * (3 + 6))  # schedulers x (tuning trials x epochs + seeds x budgets)


def timed_run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_all.py"), *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def worker_scaling(work: Path) -> None:
    data = work / "data"
    timed_run([*WORKLOAD, "--skip-compare", "--n-trials", "1", "--out", str(work / "warm"), "--data-dir", str(data)])
    seconds = {n: timed_run([*WORKLOAD, "--workers", str(n), "--out", str(work / f"w{n}"), "--data-dir", str(data)])
               for n in (1, 2)}
    print("(a) workers on this machine (same workload, fresh storage, data cache warm)")
    for n, s in seconds.items():
        print(f"    {n} worker(s): {s:6.1f} s wall, {EPOCHS / s:5.2f} epochs/s")
    print(f"    2 workers / 1 worker throughput: {seconds[1] / seconds[2]:.2f}x")


class StorageClock:
    """Accumulates time spent in the outermost calls of a storage class's public methods."""

    def __init__(self, cls: type) -> None:
        self.seconds, self.depth, self.cls, self.saved = 0.0, 0, cls, {}

    def __enter__(self) -> StorageClock:
        for name in dir(self.cls):
            method = getattr(self.cls, name)
            if not name.startswith("_") and callable(method):
                self.saved[name] = method
                setattr(self.cls, name, self._timed(method))
        return self

    def _timed(self, method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            self.depth += 1
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - start
        return wrapper

    def __exit__(self, *exc) -> None:
        for name, method in self.saved.items():
            setattr(self.cls, name, method)


def storage_overhead(work: Path, postgres: str | None) -> None:
    import optuna

    import run_all

    kinds = {"SQLite": (f"sqlite:///{work}/bench.db", optuna.storages.RDBStorage),
             "journal": (f"journal:{work}/bench.journal", optuna.storages.JournalStorage)}
    if postgres:
        kinds["PostgreSQL"] = (postgres, optuna.storages.RDBStorage)
    print("(b) time inside storage calls / wall time, one worker")
    for kind, (url, cls) in kinds.items():
        project = f"bench-{uuid.uuid4().hex[:8]}"
        sys.argv = ["run_all.py", *WORKLOAD, "--storage", url, "--project", project, "--out", str(work / kind),
                    "--data-dir", str(work / "data")]
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        worker_scaling(Path(folder))
        storage_overhead(Path(folder), args.postgres)


if __name__ == "__main__":
    main()
