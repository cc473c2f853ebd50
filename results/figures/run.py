"""The analysis figures (PNG, matplotlib Agg), laid out to stay readable with 20+ contenders:
per-contender curves as small multiples with one shared budget legend, summary plots with legends outside.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from results.figures.style import DPI, MIN_SEEDS_FOR_BARS, budget_colors, plt, save_figure, spans_decades
from results.figures.transfer import plot_lr_sensitivity, plot_optimal_lr_drift
from results.records import Analysis, PaperValue, SchedulePredictors, Transfer
from schedulers.families import FAMILIES


def _small_multiples(curves: pd.DataFrame, title: str, ylabel: str, path: Path,
                     draw: Callable[[Any, pd.DataFrame, Any], None], log_y: bool) -> Path:
    """One panel per contender, one colour per budget (shared legend on top)."""
    names = list(dict.fromkeys(curves["scheduler"]))
    budgets = sorted({int(b) for b in curves["budget"]})
    colors = budget_colors(budgets)
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.5 * nrows + 0.8), dpi=DPI, squeeze=False,
                             sharex=True, layout="constrained")
    for ax, name in zip(axes.flat, names):
        for budget, run in curves[curves["scheduler"] == name].groupby("budget"):
            draw(ax, run, colors[int(budget)])
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        if log_y:
            ax.set_yscale("log")
        ax.tick_params(which="both", labelsize=8)  # after the scale: a log scale brings its own minor labels
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for column in range(ncols):  # the lowest visible panel of each column carries the epoch axis
        lowest = axes[(len(names) - 1 - column) // ncols, column]
        lowest.xaxis.set_tick_params(labelbottom=True)
        lowest.set_xlabel("epoch", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=9)
    handles = [plt.Line2D([], [], color=colors[b], lw=2) for b in budgets]
    fig.legend(handles, [f"{b} epochs" for b in budgets], loc="outside lower center", ncol=len(budgets),
               frameon=False, fontsize=9)
    fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)


def plot_lr_schedules(curves: pd.DataFrame, path: Path) -> Path:
    """The stored per-epoch LR of each contender (first seed), one line per budget."""
    def draw(ax: Any, run: pd.DataFrame, color: Any) -> None:
        first = run[run["seed"] == run["seed"].min()].sort_values("epoch")
        ax.plot(first["epoch"], first["lr"], color=color, lw=1.3)

    return _small_multiples(curves, "Learning rate per epoch", "learning rate", path, draw,
                            log_y=spans_decades(curves["lr"], factor=20))


def _band(run: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Seed mean with its min-max band (the paper exports carry the band in val_loss_min/max)."""
    by_epoch = run.groupby("epoch")["val_loss"]
    if "val_loss_min" in run.columns:
        frame = run.set_index("epoch").sort_index()
        return frame["val_loss"], frame["val_loss_min"], frame["val_loss_max"]
    return by_epoch.mean(), by_epoch.min(), by_epoch.max()


def plot_val_curves(curves: pd.DataFrame, path: Path) -> Path:
    """Validation loss per contender: seed mean per budget with a min-max band over seeds."""
    complete = curves[curves["status"] == "complete"]

    def draw(ax: Any, run: pd.DataFrame, color: Any) -> None:
        mean, low, high = _band(run)
        ax.fill_between(mean.index, low, high, color=color, alpha=0.2, lw=0)
        ax.plot(mean.index, mean, color=color, lw=1.2)

    return _small_multiples(complete, "Validation loss (seed mean, band: min-max over seeds)", "val loss", path,
                            draw, log_y=spans_decades(complete["val_loss"]))


def plot_final_loss(analysis: Analysis, path: Path) -> Path:
    """Final validation loss against budget for every contender (log x), with 95% t interval bars from three seeds."""
    contenders = analysis.contenders
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=DPI)
    cmap = plt.get_cmap("tab10" if len(contenders) <= 10 else "tab20")
    values = []
    for i, (name, c) in enumerate(contenders.items()):
        budgets = [int(b) for b in c.final]
        means = [np.nan if f.mean is None else f.mean for f in c.final.values()]  # undefined: not drawn
        errors = np.array([[f.mean - f.ci[0], f.ci[1] - f.mean]
                           if f.ci and f.mean is not None and f.n >= MIN_SEEDS_FOR_BARS else [0.0, 0.0]
                           for f in c.final.values()]).T
        values += means
        ax.errorbar(budgets, means, yerr=errors, label=name, color=cmap(i % 20), marker="o", ms=4, lw=1.2,
                    capsize=3, ls="-" if i < 10 else "--")
    ax.set_xscale("log")
    ax.set_xticks(analysis.budgets, [str(b) for b in analysis.budgets])
    ax.minorticks_off()
    if spans_decades(values, factor=20):
        ax.set_yscale("log")
    ax.set_xlabel("budget (epochs, log scale)")
    ax.set_ylabel("final validation loss")
    bars = "(seed means: no interval)" if analysis.seed_mean_only else \
        f"(bars: 95% t interval over {MIN_SEEDS_FOR_BARS}+ seeds)"
    ax.set_title(f"Final validation loss vs budget {bars}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, ncol=1 + len(contenders) // 16)
    return save_figure(fig, path)


def coloured_values(cells: list[list[PaperValue | None]]) -> np.ndarray:
    """The heatmap's colour values: decoupling where it is a distance, NaN (grey) where absent, undefined or
    flagged."""
    return np.array([[c.value if c is not None and c.value is not None and not c.non_positive else np.nan
                      for c in row] for row in cells], dtype=float)


def plot_decoupling_heatmap(analysis: Analysis, path: Path) -> Path:
    """Paper-compatible decoupling per contender and budget pair. Only distances are coloured: a value
    marked '*' (a smoothed loss <= 0) is printed on grey and kept off the colour scale, which it would
    stretch (such values can exceed 1, the most a distance can be, or be negative)."""
    contenders = analysis.contenders
    names = list(contenders)
    pairs = list(next(iter(contenders.values())).decoupling.paper)
    cells = [[contenders[n].decoupling.paper.get(p) for p in pairs] for n in names]
    data = coloured_values(cells)
    fig, ax = plt.subplots(figsize=(1.0 * len(pairs) + 2.5, 0.38 * len(names) + 1.6), dpi=DPI)
    cmap = plt.get_cmap("magma_r").with_extremes(bad="0.85")
    image = ax.imshow(data, cmap=cmap, aspect="auto", vmin=0.0, vmax=max(np.nanmax(data, initial=0.0), 1e-12))
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            value = None if cell is None else cell.value
            text = "-" if cell is None or value is None else f"{value:.3g}" + ("*" if cell.non_positive else "")
            shade = image.norm(data[i, j]) if np.isfinite(data[i, j]) else 0.0
            # matplotlib types Normalize.__call__ as returning an array-like even for one value (a float here)
            dark = shade > 0.6  # type: ignore[operator]
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.set_xticks(range(len(pairs)), pairs, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("budget pair (epochs)")
    ax.set_title("Decoupling of seed-mean val curves\n(* on grey: a smoothed value was <= 0, so not a distance; "
                 "not coloured)", fontsize=10)
    if np.isfinite(data).any():  # every value flagged: no scale to show
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    return save_figure(fig, path)


def plot_noise_floor(analysis: Analysis, path: Path) -> Path:
    """Cross-budget decoupling (bar, 95% t interval over seeds) next to the seed noise floor (grey),
    grouped by family."""
    contenders = analysis.contenders
    order = sorted(contenders, key=lambda n: (FAMILIES.index(f) if (f := contenders[n].family) in FAMILIES
                                              else len(FAMILIES), n))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(order) + 2.5), 4.2), dpi=DPI)
    cmap = plt.get_cmap("tab10")
    families = list(dict.fromkeys(contenders[n].family for n in order))
    x = np.arange(len(order))
    for i, name in enumerate(order):
        c = contenders[name]
        value, ci = c.sensitivity.value, c.sensitivity.ci
        color = cmap(families.index(c.family) % 10)
        if value is not None:
            enough = c.per_seed is not None and c.per_seed.n >= MIN_SEEDS_FOR_BARS
            err = [[value - ci[0]], [ci[1] - value]] if ci and enough else None
            paired = c.noise_floor is not None
            ax.bar(i - 0.2 if paired else i, value, width=0.4 if paired else 0.7, color=color, yerr=err, capsize=3)
        if c.noise_floor is not None:
            ax.bar(i + 0.2, c.noise_floor, width=0.4, color="0.7", hatch="//", edgecolor="0.4")
    ax.set_xticks(x, order, rotation=45 if len(order) > 8 else 0, ha="right" if len(order) > 8 else "center",
                  fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 10)) for i in range(len(families))]
    labels = list(families)
    if any(contenders[n].noise_floor is not None for n in order):
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="0.7", hatch="//", edgecolor="0.4"))
        labels.append("seed noise floor")
    metric = f"per-seed cross-budget decoupling (95% t interval over {MIN_SEEDS_FOR_BARS}+ seeds)" \
        if not analysis.seed_mean_only else \
        "decoupling of seed means (paper-compatible; no seeds, no noise floor)"
    heights = pd.Series([v for n in order for v in (contenders[n].sensitivity.value, contenders[n].noise_floor)
                         if v is not None], dtype=float)
    if spans_decades(heights, factor=100):  # E's 0.0011 beside 0.75 is invisible on a linear axis
        ax.set_yscale("log")
    ax.set_ylabel("decoupling" + (" (log scale)" if ax.get_yscale() == "log" else ""))
    ax.set_title(f"Budget sensitivity by family: {metric}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(fig, path)


def plot_movement(analysis: Analysis, path: Path) -> Path:
    """The headline size: each contender's movement in rerun units (least first, coloured by family) with its 95%
    jackknife interval, a line at 1 (as far as another seed) and the contenders 0 by construction marked as such."""
    contenders = analysis.contenders
    rows = [(r.name, r.value, r.ci) for r in analysis.ranking if r.value is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(rows) + 2.5), 4.2), dpi=DPI)
    cmap = plt.get_cmap("tab10")
    families = list(dict.fromkeys(contenders[n].family for n, _, _ in rows))
    for i, (name, value, ci) in enumerate(rows):
        moved = contenders[name].movement
        err = [[value - ci[0]], [ci[1] - value]] if ci else None
        ax.bar(i, value, width=0.7, color=cmap(families.index(contenders[name].family) % 10), yerr=err, capsize=3)
        if moved is not None and moved.by_construction:
            ax.annotate("0*", (i, 0), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8, color="0.3")
    ax.axhline(1.0, color="0.4", ls="--", lw=1)
    ax.set_xticks(np.arange(len(rows)), [n for n, _, _ in rows], rotation=45 if len(rows) > 8 else 0,
                  ha="right" if len(rows) > 8 else "center", fontsize=8)
    ax.set_ylim(0, max([1.15] + [(ci or (0, v))[1] * 1.08 for _, v, ci in rows]))
    ax.set_ylabel("movement (rerun units)")
    counts = sorted({m.seeds for n, _, _ in rows if (m := contenders[n].movement) is not None}) or [0]
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    ax.set_title(f"How far the curve moves when only the budget changes (first {analysis.budgets[0]} epochs; "
                 f"95% jackknife interval: needs 3 seeds, this run {seeds})", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    handles: list[Any] = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 10)) for i in range(len(families))]
    handles.append(plt.Line2D([], [], color="0.4", ls="--", lw=1))
    labels = [*families, "1 = as far as\nanother seed"]
    if any(m.by_construction for n, _, _ in rows if (m := contenders[n].movement) is not None):
        handles.append(plt.Rectangle((0, 0), 1, 1, fill=False, edgecolor="none"))
        labels.append("0* = 0 by construction\n(prefix-shared runs)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(fig, path)


def plot_predicted_vs_measured(analysis: Analysis, predictors: Mapping[str, SchedulePredictors], path: Path) -> Path:
    """LR-curve decoupling (training-free) against measured sensitivity, one labelled point per contender."""
    contenders = analysis.contenders
    both = [(n, p.lr_decoupling["mean"], contenders[n].sensitivity.value) for n, p in predictors.items()
            if n in contenders]
    points = [(n, x, y) for n, x, y in both if x is not None and y is not None]
    names = [n for n, _, _ in points]
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=DPI)
    x = [x for _, x, _ in points]
    y = [y for _, _, y in points]
    ax.scatter(x, y, color="tab:blue")
    offsets = [(4, 3), (4, -10), (-16, 3), (-16, -10)]  # neighbours in x take turns: close points stay legible
    for rank, i in enumerate(np.argsort(x, kind="stable")):
        ax.annotate(names[i], (x[i], y[i]), textcoords="offset points", xytext=offsets[rank % 4], fontsize=8)
    rho = analysis.predicted_vs_measured
    ax.set_xlabel("predicted: decoupling of LR curves")
    ax.set_ylabel("measured: decoupling of val curves")
    ax.set_title(f"Predicted vs measured (Spearman rho = {rho:.2f}, n = {len(names)})" if rho is not None
                 else f"Predicted vs measured (rho undefined, n = {len(names)})", fontsize=10)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def write_figures(analysis: Analysis, curves: pd.DataFrame, out_dir: Path,
                  transfer: Transfer | None = None, transfer_table: pd.DataFrame | None = None) -> list[Path]:
    """Every figure whose data is present, into ``out_dir/plots``; returns the files written."""
    plots = out_dir / "plots"
    if "status" not in curves.columns:
        curves = curves.assign(status="complete")
    written = [plot_val_curves(curves, plots / "val_curves.png")]
    if "lr" in curves.columns and curves["lr"].notna().all():
        written.append(plot_lr_schedules(curves, plots / "lr_schedules.png"))
    written.append(plot_final_loss(analysis, plots / "final_loss.png"))
    if len(analysis.budgets) > 1:  # one budget has no pair to draw a cell for
        written.append(plot_decoupling_heatmap(analysis, plots / "decoupling_heatmap.png"))
    if not analysis.seed_mean_only and analysis.ranking:
        written.append(plot_movement(analysis, plots / "movement.png"))
    written.append(plot_noise_floor(analysis, plots / "decoupling_vs_noise.png"))
    if analysis.predictors:
        written.append(plot_predicted_vs_measured(analysis, analysis.predictors, plots / "predicted_vs_measured.png"))
    if transfer is not None and transfer_table is not None:
        written += [plot_lr_sensitivity(transfer, transfer_table, plots / "lr_sensitivity.png"),
                    plot_optimal_lr_drift(transfer, plots / "optimal_lr_drift.png")]
    return written


