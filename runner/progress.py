"""Progress of a benchmark: a live rich display on a terminal, plain log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from errors import UserError

DEFAULT_LOG_EVERY = "60s"


def parse_log_every(text: str) -> tuple[float, float]:
    """'--log-every' as (seconds, per cent): '60s' or '60' is a line a minute, '5%' one per 5 % of
    the work, '0' one per finished run."""
    value = text.strip().removesuffix("%").removesuffix("s")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 <= number < math.inf or (text.strip().endswith("%") and number > 100):
        raise UserError(f"--log-every {text!r}: give seconds (60s, 0 = every run) or a per cent of the work (5%)")
    return (0.0, number) if text.strip().endswith("%") else (number, 0.0)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Tracks work in epochs across both phases; shows the current run and an ETA.

    With a terminal it draws a rich progress bar. Otherwise (batch jobs, nohup, cluster logs) it
    prints plain lines (scheduler, phase, run i of n, result, epochs done, ETA), at most one per
    ``log_every`` ('60s', '5%', '0' = one per finished run; see :func:`parse_log_every`); the
    last run's line, diverged runs and notes are always printed.
    """

    def __init__(self, total_epochs: int, stream: TextIO | None = None, live: bool | None = None,
                 log_every: str = "0", clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream, self.clock = stream or sys.stdout, clock
        self.total, self.done, self.started = max(1, total_epochs), 0, clock()
        self.every_seconds, self.every_percent = parse_log_every(log_every)
        self._logged: tuple[float, int] | None = None  # (time, epochs done) of the last progress line
        self.label = ""
        self._accounted: set[object] = set()
        self.live = self.stream.isatty() if live is None else live
        self._bar = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}", markup=False), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn())
            self._task = self._bar.add_task("starting", total=self.total)
            self._bar.start()

    def eta(self) -> str:
        if self.done == 0:
            return "?"
        elapsed = self.clock() - self.started
        return _duration(elapsed / self.done * (self.total - self.done))

    def run_started(self, phase: str, name: str, what: str) -> None:
        self.label = f"[{phase}] {name} {what}"
        self._show(self.label)

    def epoch_done(self, epoch: int, epochs: int, val_loss: float) -> None:
        self.done += 1
        self._show(f"{self.label} epoch {epoch + 1}/{epochs} val {val_loss:.4g}", advance=1)

    def run_finished(self, outcome: str, skipped_epochs: int = 0) -> None:
        """Log the result; epochs a run did not do (diverged, pruned) still count as done."""
        self.done += skipped_epochs
        if self._bar is not None:
            self._bar.update(self._task, advance=skipped_epochs)
            self._bar.console.print(f"{self.label}: {outcome}", markup=False, highlight=False)
        elif self._due() or outcome.startswith(("diverged", "invalid")):
            self._log(f"{self.label}: {outcome} ({self._counts()}ETA {self.eta()})")

    def advance_to(self, done: int, label: str) -> None:
        """Set the epochs done (from several workers' storage, not this process's runs)."""
        if done > self.done:
            advance, self.done = done - self.done, done
            if self._bar is not None:
                self._bar.update(self._task, description=label, advance=advance)
            elif self._due():
                self._log(f"{label}: {done}/{self.total} epochs (ETA {self.eta()})")

    def skip(self, epochs: int, key: object = None) -> None:
        """Work found already done in the storage (once per ``key``, if given)."""
        if key is not None:
            if key in self._accounted:
                return
            self._accounted.add(key)
        self.total = max(1, self.total - epochs)
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def grow(self, epochs: int, key: object = None) -> None:
        """Work a grown plan adds (a transfer grid's new round; once per ``key``, if given)."""
        self.skip(-epochs, key)

    def note(self, text: str, key: object = None) -> None:
        """Print a line (once per ``key``, if given)."""
        if key is not None:
            if key in self._accounted:
                return
            self._accounted.add(key)
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def _counts(self) -> str:
        """'123/456 epochs, ' when lines are thinned out (each line then says how far the run is)."""
        return f"{self.done}/{self.total} epochs, " if self.every_seconds or self.every_percent else ""

    def _due(self) -> bool:
        """Whether a plain progress line is due: the first, the last, or one ``log_every`` after the previous."""
        if self._logged is None or self.done >= self.total:
            return True
        at, done = self._logged
        return (self.clock() - at >= self.every_seconds and
                100 * (self.done - done) / self.total >= self.every_percent)

    def _log(self, line: str) -> None:
        self._logged = (self.clock(), self.done)
        print(line, file=self.stream, flush=True)

    def _show(self, description: str, advance: int = 0) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=description, advance=advance)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
