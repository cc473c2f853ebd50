"""--workers N: N processes on this machine share one run through its storage.

The storage is the only channel: each child is an ordinary worker (claims decide who trains
what), the parent only starts them, draws one progress display from what the storage says is
done, replaces a worker that died (its unit is redone by the claims' retry rule), and stops
them all on Ctrl-C or SIGTERM, leaving a state the same command resumes.

Workers are forked from a fork server that imported torch and the runner once (a spawned
worker spends seconds importing them); the server never runs a torch operation, so no worker
inherits torch's thread pools, locks or CUDA state.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from dataclasses import replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from runner.config import RunConfig
from runner.progress import Progress
from runstate import storage as store
from runstate.records import TrainedRun

if TYPE_CHECKING:  # ForkServerContext does not exist on Windows
    from multiprocessing.context import ForkServerContext, SpawnContext

PROGRESS_SECONDS = 1.0  # how often the parent reads the epochs done; a worker's exit is seen at once
SETTINGS_PREFIX = "EPOCHBENCH_"  # environment settings read while working (heartbeat, staleness)


def worker_context() -> SpawnContext | ForkServerContext:
    """The fork server, preloaded by runner.fork_server; spawn where there is none (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["runner.fork_server"])
    return context


def start_fork_server() -> None:
    """Start the fork server now, so that its imports run beside the caller's own."""
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def worker_devices(device: str, workers: int) -> list[str]:
    """The device of each worker: the CPU for all, or the visible GPUs round-robin (several
    workers per GPU is how small models fill one)."""
    import torch

    from tasks.training import resolve_device

    if resolve_device(device).type != "cuda":
        return ["cpu"] * workers
    count = torch.cuda.device_count()
    return [f"cuda:{k % count}" for k in range(workers)]


def threads_per_worker(workers: int) -> int:
    """Intra-op threads per worker so that N workers never oversubscribe the CPU cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def _stop_with_parent() -> None:
    """SIGTERM this worker (its Ctrl-C) when the pool's parent dies, so a SIGKILLed or OOM-killed
    pool leaves no workers training unseen beside the pool a rerun starts. The fork server cannot
    tell: it lives while any worker holds its pipe; the parent's sentinel closes with the parent."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child(config: RunConfig, device: str, threads: int, settings: dict[str, str]) -> None:
    """A worker process: quiet, its own threads and device, SIGINT or SIGTERM handled once as Ctrl-C, and the
    parent's EPOCHBENCH_* settings of now (a fork server's environment is the one it started with)."""
    import sys

    import torch

    from runner import plugins
    from runner.worker import load_data, work

    def interrupt(signum, frame):
        for stop in (signal.SIGINT, signal.SIGTERM):  # once: a second stop (the group's, then the
            signal.signal(stop, signal.SIG_IGN)      # parent's) must not break the first one's cleanup
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    _stop_with_parent()
    for name in [name for name in os.environ if name.startswith(SETTINGS_PREFIX)]:
        del os.environ[name]
    os.environ.update(settings)
    torch.set_num_threads(threads)
    plugins.load(config.plugins)  # the fork server started before the parent loaded them
    config = replace(config, device=device, workers=1)
    storage = store.open_storage(config.storage_url, for_writing=True)
    try:
        with open(os.devnull, "w") as quiet:
            work(config, storage, load_data(config).to(torch.device(device)), Progress(1, stream=quiet, live=False))
    except KeyboardInterrupt:
        sys.exit(130)


def grown_studies(storage: optuna.storages.BaseStorage, config: RunConfig) -> list[store.StudyName]:
    """The transfer grid points an adaptive grid (--transfer-max-octaves) added beyond the plan's, as stored."""
    if not config.transfer_max_octaves:
        return []
    planned = set(config.plan.studies)
    return [s for s in store.studies(storage, config.project)
            if s.phase == "transfer" and s.contender in config.names and s not in planned]


def _grow(progress: Progress, storage: optuna.storages.BaseStorage, config: RunConfig) -> None:
    """Add the epochs of each grown grid point to the display once, as the workers start it."""
    for study in grown_studies(storage, config):
        progress.grow(sum(config.plan.of(study).values()), key=("grown", str(study)))


def _show_rounds(progress: Progress, storage: optuna.storages.BaseStorage, config: RunConfig) -> None:
    """--compare-seeds auto: the looks taken so far, each printed once, and the seeds no contender will train off
    the total (the workers' own progress is quiet; runner.seed_rounds.show_rounds)."""
    if config.sequential and not config.skip_compare:
        from runner.seed_rounds import seed_rounds, show_rounds  # torch: not before the pool starts

        show_rounds(progress, seed_rounds(storage, config), config)


def epochs_done(storage: optuna.storages.BaseStorage, config: RunConfig) -> int:
    """Training epochs the storage shows as done: every epoch of finished units, and the
    reported epochs of units in progress (their validation losses)."""
    done = 0
    for study in [*config.plan.studies, *grown_studies(storage, config)]:
        for trial in store.trials(storage, str(study)):
            if store.is_finished(trial):
                done += config.plan.unit_epochs(study, TrainedRun.from_trial(trial).budget or 0)
            elif trial.state == TrialState.RUNNING:
                done += len(trial.intermediate_values)
    return done


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def run_pool(config: RunConfig, storage: optuna.storages.BaseStorage) -> None:
    """Run ``config.workers`` worker processes to the end of the run; the caller writes the report."""
    context = worker_context()
    devices = worker_devices(config.device, config.workers)
    threads = threads_per_worker(config.workers)
    progress = Progress(config.planned_epochs, log_every=config.log_every)
    _grow(progress, storage, config)
    already = epochs_done(storage, config)
    progress.skip(already)
    progress.note(f"{config.workers} workers, {threads} thread(s) each, on {', '.join(sorted(set(devices)))}")

    def start(k: int) -> BaseProcess:
        settings = {name: value for name, value in os.environ.items() if name.startswith(SETTINGS_PREFIX)}
        process = context.Process(target=_child, args=(config, devices[k], threads, settings), name=f"worker-{k + 1}")
        process.start()
        return process

    workers = {k: start(k) for k in range(config.workers)}
    replacements = config.max_retries * config.workers  # a crash loop ends; the claims bound each unit
    try:
        while workers:
            wait([process.sentinel for process in workers.values()], timeout=PROGRESS_SECONDS)
            _grow(progress, storage, config)
            _show_rounds(progress, storage, config)
            progress.advance_to(epochs_done(storage, config) - already, "training")
            for k, process in list(workers.items()):
                if process.exitcode is None:
                    continue
                del workers[k]
                if process.exitcode == 0:
                    continue
                progress.note(f"{process.name} stopped ({_exit_text(process.exitcode)}); its unit will be redone")
                if replacements > 0:
                    replacements -= 1
                    workers[k] = start(k)
    except KeyboardInterrupt:
        for process in workers.values():
            if process.exitcode is None:
                process.terminate()  # the child turns SIGTERM into an interrupt and marks its unit
        for process in workers.values():
            process.join(timeout=60)
            if process.exitcode is None:  # stuck: the claims redo its unit
                process.kill()
        raise
    finally:
        progress.close()
