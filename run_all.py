"""EpochBench command line: tune schedulers at one budget, re-train at many, report."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import typer

from runner.parsing import parse_assignments, parse_budgets
from schedulers.errors import UserError
from schedulers.params import Budget
from schedulers.registry import SCHEDULERS, get_scheduler

app = typer.Typer(add_completion=False, help=__doc__, pretty_exceptions_enable=False)


def user_errors_exit(command: Callable) -> Callable:
    """Turn a UserError into one line on stderr and exit status 2."""
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
    return wrapped


@app.command("schedulers")
@user_errors_exit
def schedulers_command(
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    epochs: int = typer.Option(50, min=1, help="Budget at which defaults and search spaces are shown."),
    lr: float = typer.Option(0.01, help="Base LR for LR-dependent defaults."),
    steps_per_epoch: int = typer.Option(1, min=1, help="Batches per epoch (per-batch schedules)."),
) -> None:
    """List the scheduler registry: codes, families, defaults and search spaces."""
    from schedulers.trace import describe

    budget = Budget(epochs, steps_per_epoch, lr)
    rows = [describe(code, budget) for code in SCHEDULERS]
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Schedulers (defaults at {epochs} epochs, lr {lr:g})")
    for column in ("code", "name", "family", "per batch", "defaults", "search space"):
        table.add_column(column)
    for row in rows:
        space = ", ".join(f"{k} {_range_text(v)}" for k, v in row["search_space"].items())
        defaults = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["defaults"].items())
        table.add_row(row["code"], row["name"], row["family"], "yes" if row["per_batch"] else "", defaults, space)
    Console(width=160).print(table)


def _range_text(dist: dict) -> str:
    if dist["type"] == "categorical":
        return "{" + ", ".join(map(str, dist["choices"])) + "}"
    prefix = "logU" if dist.get("log") else ("int" if dist["type"] == "int" else "U")
    return f"{prefix}[{dist['low']:g}, {dist['high']:g}]"


@app.command("lr-trace")
@user_errors_exit
def lr_trace_command(
    code: str | None = typer.Argument(None, help="Scheduler code (see `schedulers`)."),
    all_codes: bool = typer.Option(False, "--all", help="Trace every scheduler in the registry."),
    epochs: str = typer.Option("50", help="Budget in epochs, or a comma list of budgets."),
    lr: float = typer.Option(0.01, help="Base LR."),
    infimum_lr: float = typer.Option(1e-6, help="Default LR floor."),
    set_values: list[str] = typer.Option([], "--set", help="Override a parameter: name=value (repeatable)."),
    steps_per_epoch: int = typer.Option(1, min=1, help="Batches per epoch (per-batch schedules)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    plot: Path | None = typer.Option(None, help="PNG file (one code) or folder (--all)."),
) -> None:
    """Print the LR used in each epoch (each batch for per-batch schedules)."""
    from schedulers.trace import lr_trace

    if all_codes == (code is not None):
        raise UserError("lr-trace: give exactly one of CODE or --all")
    if all_codes and set_values:
        raise UserError("lr-trace: --set applies to one scheduler; drop --all or --set")
    codes = list(SCHEDULERS) if all_codes else [get_scheduler(code).code]
    budgets = parse_budgets(epochs, "--epochs")
    if lr <= 0:
        raise UserError(f"--lr must be positive, got {lr:g}")
    overrides = parse_assignments(set_values, lambda name, text: get_scheduler(codes[0]).param(name).parse(text))
    traces = {
        c: {e: lr_trace(c, Budget(e, steps_per_epoch, lr, infimum_lr), overrides) for e in budgets} for c in codes
    }
    if plot is not None:
        _plot_traces(traces, plot, all_codes, steps_per_epoch)
    if json_out:
        objects = [{"code": c, "epochs": e, "steps_per_epoch": steps_per_epoch if SCHEDULERS[c].per_batch else 1,
                    "lr": values} for c, per_budget in traces.items() for e, values in per_budget.items()]
        typer.echo(json.dumps(objects[0] if len(objects) == 1 else objects))
    elif plot is None or not all_codes:
        for c, per_budget in traces.items():
            for e, values in per_budget.items():
                typer.echo(f"# {c} at {e} epochs ({len(values)} steps)")
                typer.echo("\n".join(f"{i}\t{v:.9g}" for i, v in enumerate(values)))


def _plot_traces(traces: dict[str, dict[int, list[float]]], target: Path, many: bool, steps_per_epoch: int) -> None:
    from results.plots import plot_curves

    for code, per_budget in traces.items():
        spec = SCHEDULERS[code]
        path = target / f"lr_{code}.png" if many else target
        plot_curves(per_budget, title=f"{code}: {spec.name}", ylabel="learning rate", path=path,
                    steps_per_epoch=steps_per_epoch if spec.per_batch else 1)
        typer.echo(f"wrote {path}", err=True)


if __name__ == "__main__":
    app()
