"""Every output of a run written to its folder (report.json, curves.csv, transfer.csv, figures, report.md) and
its console summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from optuna.storages import BaseStorage

from results import ALPHA
from results.figures.run import write_figures
from results.records import RunReport, json_text
from results.report.console import print_summary
from results.report.markdown import write_markdown
from results.run_report import build_report
from runstate.files import atomic_write_text


def write_report(report: RunReport, curves: pd.DataFrame, out: Path,
                 transfer: pd.DataFrame | None = None) -> list[Path]:
    """Write report.json, curves.csv (and transfer.csv) atomically, the plots, and report.md (what a person
    reads first)."""
    atomic_write_text(out / "report.json", json_text(report))
    atomic_write_text(out / "curves.csv", curves.to_csv(index=False))
    written = [out / "report.json", out / "curves.csv"]
    if transfer is not None and not transfer.empty:
        atomic_write_text(out / "transfer.csv", transfer.to_csv(index=False))
        written.append(out / "transfer.csv")
    if report.analysis is None:
        return written
    figures = write_figures(report.analysis, curves, out, report.transfer, transfer)
    return [*written, *figures, write_markdown(report, figures, out / "report.md")]


def write_outputs(storage: BaseStorage, project: str, out: Path, alpha: float = ALPHA) -> RunReport:
    """The report of what ``storage`` holds for ``project``, written to ``out`` and summarised on stdout."""
    report, curves, transfer = build_report(storage, project, alpha)
    write_report(report, curves, out, transfer)
    print_summary(report)
    return report
