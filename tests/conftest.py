"""Shared fixtures: tiny datasets written in their real on-disk formats, scratch storages, the in-process CLI."""

from __future__ import annotations

import os
import pickle
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets.cifar

from tests.processes import HANG_SECONDS


def write_cifar(root: Path, variant: str, per_file: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Official python-format CIFAR files (N x 3072 uint8 R,G,B planes) with random pixels."""
    rng = np.random.default_rng(seed)
    if variant == "CIFAR10":
        folder, files, label_key, meta = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + [
            "test_batch"], "labels", ("batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
        classes = 10
    else:
        folder, files, label_key, meta = "cifar-100-python", ["train", "test"], "fine_labels", (
            "meta", {"fine_label_names": [f"c{i}" for i in range(100)]})
        classes = 100
    (root / folder).mkdir(parents=True)
    written = {}
    for name in files:
        data = rng.integers(0, 256, size=(per_file, 3072), dtype=np.uint8)
        labels = rng.integers(0, classes, size=per_file).tolist()
        with open(root / folder / name, "wb") as handle:
            pickle.dump({"data": data, label_key: labels}, handle)
        written[name] = data
    with open(root / folder / meta[0], "wb") as handle:
        pickle.dump(meta[1], handle)
    return written


@pytest.fixture
def unchecked_cifar_md5(monkeypatch):
    """Tiny fixtures cannot match the official md5 sums; check existence only (as torchvision's tests do)."""
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))


class CommandTimeout(Exception):
    """An in-process command ran past its time limit."""


def run_cli(*args: str, timeout: int = HANG_SECONDS) -> int:
    """Run the real command line (run_all.main) in-process; returns its exit status (0 = success).

    In-process keeps the tests fast (no interpreter and torch start per call) while going
    through exactly what a user types: option parsing, resolution, validation, the pipeline.
    ``timeout`` only stops a hang, like a subprocess timeout (SIGALRM; pytest runs tests in the
    main thread): a resume bug that loops forever fails the test instead of hanging CI.
    """
    import signal
    import sys

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


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads; on a busy 2-core machine two threads thrash."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Shared storages for tests: PostgreSQL skips when no server answers on 127.0.0.1:5432, unless
# EPOCHBENCH_REQUIRE_POSTGRES=1 (set by .ci/run, where PostgreSQL is local): then it fails.
SERVER = "postgresql://postgres@127.0.0.1:5432"
REQUIRE = "EPOCHBENCH_REQUIRE_POSTGRES"


def _admin_connection():
    """An autocommit connection to the server's maintenance database, or skip/fail why not."""
    try:
        import psycopg

        return psycopg.connect(f"{SERVER}/postgres", connect_timeout=5, autocommit=True)
    except Exception as err:  # no driver, no server, refused login: all mean "no PostgreSQL here"
        first_line = (str(err).strip().splitlines() or [""])[0]
        reason = f"no PostgreSQL at {SERVER}: {type(err).__name__}: {first_line}"
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but {reason}")
        pytest.skip(f"{reason} (set {REQUIRE}=1 to make this a failure; CI machines have one)")


@pytest.fixture
def postgresql_url():
    """URL of a fresh scratch database, dropped (connections and all) after the test."""
    name = f"epochbench_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def journal_url(tmp_path: Path) -> str:
    return f"journal:{tmp_path}/journal.log"


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal, even where the suite was started in the
    background (a non-interactive shell starts it with SIGINT ignored: a raised SIGINT did nothing)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
