"""Fixtures only (what they use lives in tests/support): finished tiny runs, scratch storages, signals, threads."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torchvision.datasets.cifar

from tests.support.tiny_runs import FinishedRuns


@pytest.fixture
def unchecked_cifar_md5(monkeypatch):
    """Tiny fixtures cannot match the official md5 sums; check existence only (as torchvision's tests do)."""
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))


@pytest.fixture(scope="session")
def finished_runs(tmp_path_factory) -> FinishedRuns:
    """The tiny runs of tests/support/tiny_runs.py, each trained once per session on first use."""
    return FinishedRuns(tmp_path_factory.mktemp("finished-runs"))


@pytest.fixture
def finished_run(finished_runs: FinishedRuns, tmp_path: Path) -> Callable[[str], Path]:
    """``finished_run(name)``: a fresh copy of that finished tiny run's folder, under this test's tmp_path."""
    return lambda name: finished_runs.copy(name, tmp_path)


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
