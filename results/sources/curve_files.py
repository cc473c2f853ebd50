"""Reading learning curves from disk into one tidy DataFrame per task-model group.

Two formats are recognised per file:

- ours, ``curves.csv``: one row per (scheduler, budget, seed, epoch) with ``lr``, ``train_loss``, ``val_loss``
  (optional ``val_accuracy`` and ``status`` = complete/diverged; no ``status`` column means complete);
- the paper's W&B exports ``Result_{Task}_{Model}-{code}.csv``: one row per epoch (1-based) and, per budget,
  ``{code}{budget}_val_loss`` (the seed mean) with ``_min``/``_max`` over seeds. They carry no seeds, so they
  become seed 0 with ``val_loss_min``/``val_loss_max`` kept for bands; per-seed metrics are then undefined.
  ``Result_{Task}_{Model}_ACC-{code}.csv`` hold accuracy: recognised and skipped (not loss).

Every frame has the columns of ``TIDY`` (plus whatever optional ones the source has); epochs are 0-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from errors import UserError

TIDY = ["scheduler", "budget", "seed", "epoch", "val_loss", "status"]
OUR_REQUIRED = ["scheduler", "budget", "seed", "epoch", "val_loss"]
PAPER_NAME = re.compile(
    r"^Result_(?P<task>[A-Za-z0-9]+)_(?P<model>[A-Za-z0-9]+)(?P<acc>_ACC)?-(?P<code>[A-Za-z0-9]+)\.csv$")
STATUSES = {"complete", "diverged"}


@dataclass
class CurveGroups:
    """Curves per group (task-model for paper files, the folder name for ours), their source files, skips."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    sources: dict[str, list[Path]] = field(default_factory=dict)
    skipped: dict[str, list[tuple[Path, str]]] = field(default_factory=dict)

    def add(self, group: str, frame: pd.DataFrame, path: Path) -> None:
        if group in self.frames:
            frame = pd.concat([self.frames[group], frame], ignore_index=True)
            if frame.duplicated(["scheduler", "budget", "seed", "epoch"]).any():
                raise UserError(f"{path}: its curves repeat scheduler/budget/seed/epoch rows already read "
                                f"for {group} from {', '.join(map(str, self.sources[group]))}")
        self.frames[group] = frame
        self.sources.setdefault(group, []).append(path)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not a readable CSV ({str(err).splitlines()[0]})") from None


def _header(path: Path) -> list[str]:
    try:
        return list(pd.read_csv(path, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return []


def read_ours(path: Path) -> pd.DataFrame:
    """Our tidy curves.csv, validated: required columns, integer budget/seed/epoch, known statuses."""
    frame = _read_csv(path)
    missing = [c for c in OUR_REQUIRED if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: expected EpochBench curves.csv columns {','.join(OUR_REQUIRED)}; "
                        f"missing {','.join(missing)}")
    if frame.empty:
        raise UserError(f"{path}: no learning curves (a run made with --skip-compare has none; its Phase 2 "
                        "adds them)")
    if "status" not in frame.columns:
        frame["status"] = "complete"
    unknown = set(frame["status"].astype(str)) - STATUSES
    if unknown:
        raise UserError(f"{path}: expected status complete or diverged, found {', '.join(sorted(unknown))}")
    for column in ("budget", "seed", "epoch"):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any() or (values != values.round()).any():
            raise UserError(f"{path}: expected integer {column} values")
        frame[column] = values.astype(int)
    frame["val_loss"] = pd.to_numeric(frame["val_loss"], errors="coerce")
    frame["scheduler"] = frame["scheduler"].astype(str)
    _check_complete_runs(path, frame)
    return frame[TIDY + [c for c in frame.columns if c not in TIDY]]


def _check_complete_runs(path: Path, frame: pd.DataFrame) -> None:
    """A complete run has epochs 0..budget-1, each once (a diverged run's curve may stop early):
    the metrics compare curves epoch by epoch and cannot line up one with a gap."""
    for (name, budget, seed), run in frame.groupby(["scheduler", "budget", "seed"]):
        if (run["status"] == "complete").all() and sorted(run["epoch"]) != list(range(budget)):
            missing = sorted(set(range(budget)) - set(run["epoch"]))
            found = f"missing epoch(s) {', '.join(map(str, missing[:5]))}" if missing else \
                f"{len(run)} rows for {budget} epochs"
            raise UserError(f"{path}: the complete run {name} budget {budget} seed {seed} needs epochs 0..{budget - 1} "
                            f"once each; {found}")


def read_paper(path: Path, code: str) -> pd.DataFrame:
    """One paper W&B export (loss) for scheduler ``code``: seed 0, the seed mean with its min/max band."""
    frame = _read_csv(path)
    pattern = re.compile(rf"^{re.escape(code)}(\d+)_val_loss$")
    budgets = sorted(int(m.group(1)) for c in frame.columns if (m := pattern.match(c)))
    expected = f"columns epoch,{code}<budget>_val_loss[_min,_max]"
    if "epoch" not in frame.columns or not budgets:
        raise UserError(f"{path}: expected paper W&B export {expected}")
    parts = []
    for budget in budgets:
        columns = {f"{code}{budget}_val_loss{s}": f"val_loss{s}" for s in ("", "_min", "_max")}
        present = [c for c in columns if c in frame.columns]
        part = frame[["epoch", *present]].rename(columns=columns).dropna(subset=["val_loss"])
        part = part.assign(scheduler=code, budget=budget, seed=0, status="complete",
                           epoch=part["epoch"].astype(int) - 1)
        if len(part) != budget or list(part["epoch"]) != list(range(budget)):
            raise UserError(f"{path}: expected {budget} consecutive epochs 1..{budget} for {code}{budget}_val_loss, "
                            f"found {len(part)}")
        parts.append(part)
    tidy = pd.concat(parts, ignore_index=True)
    return tidy[TIDY + [c for c in tidy.columns if c not in TIDY]]


def csv_files(paths: list[Path]) -> list[Path]:
    """The CSV files named, or found (recursively) in folders named; a missing path or empty folder is an error."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(path.rglob("*.csv"))
            if not inside:
                raise UserError(f"{path}: expected a folder with curves.csv or Result_<Task>_<Model>-<code>.csv files")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    return found


def load_curves(paths: list[Path]) -> CurveGroups:
    """Every curve file under ``paths``, grouped: paper files by ``{Task}_{Model}``, ours by their folder."""
    groups = CurveGroups()
    for path in csv_files(paths):
        match = PAPER_NAME.match(path.name)
        if match and match["acc"]:
            group = f"{match['task']}_{match['model']}"
            groups.skipped.setdefault(group, []).append((path, "accuracy curves; the metrics use validation loss"))
        elif match:
            groups.add(f"{match['task']}_{match['model']}", read_paper(path, match["code"]), path)
        elif path.name == "curves.csv" or set(OUR_REQUIRED) <= set(_header(path)):
            groups.add(path.parent.resolve().name or "curves", read_ours(path), path)
        else:
            raise UserError(f"{path}: unrecognised CSV; expected an EpochBench curves.csv (columns "
                            f"{','.join(OUR_REQUIRED)}) or a paper export named Result_<Task>_<Model>-<code>.csv")
    if not groups.frames:
        raise UserError(f"{', '.join(map(str, paths))}: no validation-loss curves found (only accuracy files)")
    return groups
