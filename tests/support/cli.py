"""The real command line, in-process (fast: one torch import per session) or as its own process
(for what needs one: signals, pools, a fresh interpreter's imports)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.processes import HANG_SECONDS

ROOT = Path(__file__).resolve().parents[2]


class CommandTimeout(Exception):
    """An in-process command ran past its time limit."""


def run_cli(*args: object, timeout: int = HANG_SECONDS) -> int:
    """Run the real command line (run_all.main) in-process; returns its exit status (0 = success).

    In-process keeps the tests fast (no interpreter and torch start per call) while going
    through exactly what a user types: option parsing, resolution, validation, the pipeline.
    ``timeout`` only stops a hang, like a subprocess timeout (SIGALRM; pytest runs tests in the
    main thread): a resume bug that loops forever fails the test instead of hanging CI.
    """
    import run_all

    def expire(signum, frame):
        raise CommandTimeout(f"run_all {' '.join(map(str, args))} ran past {timeout} s")

    saved_argv, saved_handler = sys.argv, signal.signal(signal.SIGALRM, expire)
    sys.argv = ["run_all.py", *map(str, args)]
    signal.alarm(timeout)
    try:
        run_all.main()
    except SystemExit as done:
        return 0 if done.code is None else int(done.code)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, saved_handler)
        sys.argv = saved_argv
    return 0


def command(*args: object) -> list[str]:
    """The argv that starts the command line as its own process (for Popen)."""
    return [sys.executable, str(ROOT / "run_all.py"), *map(str, args)]


def run_process(*args: object, cwd: Path = ROOT, env: dict[str, str] | None = None, script: str | None = None,
                timeout: int = HANG_SECONDS) -> subprocess.CompletedProcess:
    """Run the command line as its own process, output captured; ``script`` runs instead of run_all.py."""
    argv = [sys.executable, "-c", script, *map(str, args)] if script is not None else command(*args)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
