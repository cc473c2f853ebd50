"""Progress of a benchmark: a live rich display on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Tracks work in epochs across both phases; shows the current run and an ETA.

    With a terminal it draws a rich progress bar; otherwise it prints one line per finished
    run (scheduler, phase, run i of n, result, ETA), which suits logs and CI.
    """

    def __init__(self, total_epochs: int, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total, self.done, self.started = max(1, total_epochs), 0, time.perf_counter()
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
        elapsed = time.perf_counter() - self.started
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
        else:
            print(f"{self.label}: {outcome} (ETA {self.eta()})", file=self.stream, flush=True)

    def advance_to(self, done: int, label: str) -> None:
        """Set the epochs done (from several workers' storage, not this process's runs)."""
        if done > self.done:
            advance, self.done = done - self.done, done
            if self._bar is not None:
                self._bar.update(self._task, description=label, advance=advance)
            else:
                print(f"{label}: {done}/{self.total} epochs (ETA {self.eta()})", file=self.stream, flush=True)

    def skip(self, epochs: int, key: object = None) -> None:
        """Work found already done in the storage (once per ``key``, if given)."""
        if key is not None:
            if key in self._accounted:
                return
            self._accounted.add(key)
        self.total = max(1, self.total - epochs)
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

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

    def _show(self, description: str, advance: int = 0) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=description, advance=advance)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
