"""The paper's summary tables, printed from a report."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from results.records import SAME_EDGE, RunReport, cost_is_bound


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
        table = Table(title=f"Transfer: tuned at {transfer.tuning_budget} epochs, at {transfer.longest_budget} "
                            f"epochs (ranked by {transfer.ranked_by}; '-': a bound, not ranked)")
        for column in ("rank", "name", "transfer cost %", "regret %", "95% jackknife", "tuning error %",
                       "cannot be told apart from"):
            table.add_column(column, justify="left" if column in ("name", "cannot be told apart from") else "right")
        for place, rank in enumerate([*transfer.ranking, *transfer.unranked], 1):
            interval = f"[{_fmt(rank.ci[0])}, {_fmt(rank.ci[1])}]" if rank.ci else "-"
            cost = "diverged" if rank.diverged else "- (same edge)" if rank.censored == SAME_EDGE else (
                (">= " if cost_is_bound(rank.censored) else "") + _fmt(rank.transfer_cost_percent))
            regret = "diverged" if rank.regret_diverged else (">= " if rank.lower_bound else "") + _fmt(
                rank.regret_percent)
            table.add_row(str(place) if rank in transfer.ranking else "-", rank.name, cost, regret, interval,
                          (">= " if rank.tuning_error_lower_bound else "") + _fmt(rank.tuning_error_percent),
                          ", ".join(rank.tied_with) or "-")
        console.print(table)
        if transfer.epochs is not None:
            console.print(f"Transfer trained {transfer.epochs.trained} of {transfer.epochs.planned} planned epochs "
                          "(multiplier 1 is Phase 2's run; prefix sharing saved the rest)")
