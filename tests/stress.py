"""Run tests again and again while busy processes load every core, and count failures per test.

    python tests/stress.py [--runs 10] [--hogs 2] [--logs DIR] [PYTEST ARGS ...]

By default it runs the multi-process tests (``-m multiprocess``): those that start, stop and
kill processes, where a race shows first on a loaded machine. Each run is one pytest session
writing a JUnit XML file; the script prints, per test, how many runs it failed in, and exits
non-zero if any failed. The hogs (``python -c 'while True: pass'``) are stopped at the end, also
on Ctrl-C.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import as_foreground_job  # noqa: E402


def failed_tests(junit: Path) -> dict[str, str]:
    """{node id ('file::test[param]'): first line of its failure} of the failed or errored tests in a JUnit report."""
    failed = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        fault = case.find("failure") if case.find("failure") is not None else case.find("error")
        if fault is not None:
            module = case.get("classname", "").replace(".", "/")
            failed[f"{module}.py::{case.get('name')}"] = (fault.get("message") or "").splitlines()[0][:300]
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="pytest sessions to run, one after another")
    parser.add_argument("--hogs", type=int, default=2, help="busy processes beside the tests (one per core)")
    parser.add_argument("--logs", type=Path, default=None, help="folder for the whole output of each failed run")
    args, pytest_args = parser.parse_known_args()
    pytest_args = pytest_args or ["-m", "multiprocess"]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    failures: collections.Counter[str] = collections.Counter()
    clean_runs = 0
    try:
        with tempfile.TemporaryDirectory() as folder:
            for run in range(1, args.runs + 1):
                junit = Path(folder) / f"run{run}.xml"
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                       f"--junitxml={junit}", *pytest_args], cwd=ROOT, capture_output=True, text=True,
                                      preexec_fn=as_foreground_job)  # Ctrl-C works even if this runs under nohup
                failed = failed_tests(junit) if junit.is_file() else {"(pytest wrote no report)": ""}
                if done.returncode not in (0, 1) and not failed:
                    failed = {f"(pytest exit status {done.returncode})": ""}
                failures.update(failed.keys())  # counts runs per test (a dict would add its messages)
                clean_runs += not failed
                summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
                print(f"run {run}/{args.runs}: {time.perf_counter() - started:5.0f} s  {summary}", flush=True)
                for name, message in failed.items():
                    print(f"    failed: {name}\n        {message}", flush=True)
                if failed and args.logs is not None:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    (args.logs / f"run{run}.log").write_text(done.stdout + done.stderr)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(f"\n{clean_runs} of {args.runs} runs passed with {args.hogs} busy processes beside them")
    for name, count in failures.most_common():
        print(f"{count:3d}/{args.runs}  {name}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
