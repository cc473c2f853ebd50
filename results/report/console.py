"""The paper's summary tables, printed from a report."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from results.records import RunReport


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_summary(report: RunReport, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    phase1 = Table(title="Phase 1: best validation loss at the tuning budget")
    for column in ("name", "best val loss", "complete", "pruned", "failed", "best params"):
        phase1.add_column(column)
    for name, row in report.optimization.items():
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in (row.best_params or {}).items())
        phase1.add_row(name, _fmt(row.best_val_loss), str(row.complete), str(row.pruned), str(row.failed), params)
    console.print(phase1)
    if not report.mean_final_val_loss:
        return
    budgets = sorted({b for losses in report.mean_final_val_loss.values() for b in losses}, key=int)
    phase2 = Table(title="Phase 2: mean final validation loss per budget")
    for column in ("name", *budgets, "change %", "decoupling", "epochs trained/planned"):
        phase2.add_column(column, justify="right" if column != "name" else "left")
    epochs = report.epochs
    for name, losses in report.mean_final_val_loss.items():
        count = epochs.get(name)
        phase2.add_row(name, *(_fmt(losses.get(b)) for b in budgets), _fmt(report.final_loss_change_pct.get(name)),
                       _fmt(report.decoupling.get(name, {}).get("mean")),
                       f"{count.trained}/{count.planned}" if count else "-")
    console.print(phase2)
    if epochs:
        planned, trained = sum(c.planned for c in epochs.values()), sum(c.trained for c in epochs.values())
        console.print(f"Phase 2 trained {trained} of {planned} planned epochs (prefix sharing saved "
                      f"{planned - trained}, {100 * (planned - trained) / max(planned, 1):.0f} %)")
    transfer = report.transfer
    if transfer is not None:
        table = Table(title=f"Transfer: regret of the step size tuned at {transfer.tuning_budget} epochs, at "
                            f"{transfer.longest_budget} epochs")
        for column in ("name", "regret %", "95% jackknife", "cannot be told apart from"):
            table.add_column(column, justify="left" if column in ("name", "cannot be told apart from") else "right")
        for rank in transfer.ranking:
            interval = f"[{_fmt(rank.ci[0])}, {_fmt(rank.ci[1])}]" if rank.ci else "-"
            table.add_row(rank.name, (">= " if rank.lower_bound else "") + _fmt(rank.regret_percent), interval,
                          ", ".join(rank.tied_with) or "-")
        console.print(table)
        if transfer.epochs is not None:
            console.print(f"Transfer trained {transfer.epochs.trained} of {transfer.epochs.planned} planned epochs "
                          "(multiplier 1 is Phase 2's run; prefix sharing saved the rest)")
