"""Holding Ctrl-C and SIGTERM over a few steps that must not be split: claiming a trial
(runner.claims), releasing the journal's lock (runstate.journal_lock)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them as they would have been.

    Python runs handlers in the main thread only, so only there is anything held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    held = {number: handler for number, handler in held.items() if handler is not None}  # None: set outside Python
    for number in held:
        signal.signal(number, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for number, handler in held.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])  # runs the restored handler here, e.g. raising KeyboardInterrupt
