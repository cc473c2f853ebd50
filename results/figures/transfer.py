"""The transfer phase's figures: loss against step size per contender, and the optimal step size's drift."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from results.figures.style import DPI, MIN_SEEDS_FOR_BARS, budget_colors, plt, save_figure, spans_decades
from results.records import Transfer, TransferOptimum

LOG_LOSS_SPAN = 3.0  # a panel whose losses span this factor (a seed that blew up) gets a log loss axis


def _grid(count: int) -> tuple[int, int]:
    ncols = min(4, count)
    return math.ceil(count / ncols), ncols


def plot_lr_sensitivity(transfer: Transfer, table: pd.DataFrame, path: Path) -> Path:
    """A panel per contender: final validation loss against the step size (log), a line per budget (geometric
    mean over seeds, t-interval bars, seeds as dots), the tuned step size dashed, each budget's fitted optimum a
    star; the tuning budget's line drawn thicker. The x ticks are the grid's step sizes, so every panel has
    labels."""
    names = list(transfer.contenders)
    budgets = sorted({int(b) for b in table["budget"]})
    colors = budget_colors(budgets)
    plain = FuncFormatter(lambda value, _: f"{value:.2g}")
    nrows, ncols = _grid(len(names))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.7 * nrows + 0.9), dpi=DPI, squeeze=False,
                             layout="constrained")
    for ax, name in zip(axes.flat, names):
        result = transfer.contenders[name]
        tuned = result.tuned_lr
        runs = table[(table["contender"] == name) & (table["status"] == "complete")]
        for budget, detail in result.budgets.items():
            color = colors[int(budget)]
            points = [(float(m) * tuned, v.geometric_mean, v) for m, v in detail.loss.items()
                      if v.geometric_mean is not None]
            xs, ys = [x for x, _, _ in points], [y for _, y, _ in points]
            bars = [v.ci if v.ci and v.n >= MIN_SEEDS_FOR_BARS else [y] * 2 for _, y, v in points]
            ax.errorbar(xs, ys, yerr=[[y - b[0] for y, b in zip(ys, bars)], [b[1] - y for y, b in zip(ys, bars)]],
                        color=color, marker="o", ms=3, lw=2.6 if int(budget) == transfer.tuning_budget else 1.3,
                        capsize=2)
            seeds = runs[(runs["budget"] == int(budget)) & runs["seed"].isin(detail.seeds)]
            ax.scatter(seeds["lr"], seeds["final_val_loss"], color=color, s=12, alpha=0.55, lw=0)
            optimum = detail.optimum
            if optimum is not None and optimum.at_edge is None:
                ax.plot([optimum.lr], [optimum.loss], marker="*", ms=10, color=color, mec="black", mew=0.5)
        ax.axvline(tuned, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        steps = sorted(set(runs["lr"]))
        ax.set_xticks(steps, [f"{v:.2g}" for v in steps], rotation=35, ha="right")
        if spans_decades(runs["final_val_loss"], factor=LOG_LOSS_SPAN):
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))  # labels inside a decade, none crowding
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(NullFormatter())
        diverged = sorted({f"x{m} at {b}" for b, d in result.budgets.items() for m in d.diverged})
        ax.set_title(name + (f"\ndiverged: {', '.join(diverged)}" if diverged else ""), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.tick_params(which="both", labelsize=8)
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a log axis collide over two decades
        ax.set_xlabel(f"{transfer.step_params.get(name, 'step size')} (log)", fontsize=8)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("final val loss", fontsize=9)
    handles = [plt.Line2D([], [], color=colors[b], marker="o", lw=2.6 if b == transfer.tuning_budget else 1.3)
               for b in budgets]
    handles += [plt.Line2D([], [], color="grey", ls="--"), plt.Line2D([], [], color="none", marker="*", ms=10,
                                                                        mfc="white", mec="black")]
    fig.legend(handles, [f"{b} epochs" + (" (tuning budget)" if b == transfer.tuning_budget else "")
                         for b in budgets] + [f"tuned at {transfer.tuning_budget} epochs", "fitted optimum"],
               loc="outside lower center", ncol=len(handles), frameon=False, fontsize=8)
    fig.suptitle(f"Final validation loss against the step size: geometric mean over seeds (bars: 95% t interval "
                 f"on the log scale, with {MIN_SEEDS_FOR_BARS}+ seeds), seeds as dots", fontsize=10)
    return save_figure(fig, path)


def plot_optimal_lr_drift(transfer: Transfer, path: Path) -> Path:
    """Optimal step size (as a multiple of the tuned one) against the budget, log-log, with jackknife intervals;
    an optimum at the grid's edge as an open triangle pointing off the grid; beside each contender the convex
    bound's drift on the SGD steps trained (dashed), through the centre of its measured optima (only the slope
    is a prediction); the tuning budget a dotted line."""
    names = list(transfer.contenders)
    budgets = sorted({int(b) for c in transfer.contenders.values() for b in c.budgets})
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=DPI)
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    edge_seen = False
    for i, name in enumerate(names):
        color = cmap(i % 20)
        step = min(0.03, 0.25 / len(names))  # markers of equal optima side by side, all within +-9 % of the budget
        dodge = 2 ** (step * (i - (len(names) - 1) / 2))
        result = transfer.contenders[name]
        inside: list[tuple[int, TransferOptimum]] = []
        edges: list[tuple[int, TransferOptimum]] = []
        for key, detail in sorted(result.budgets.items(), key=lambda item: int(item[0])):
            optimum = detail.optimum
            if optimum is None:
                continue
            (edges if optimum.at_edge else inside).append((int(key), optimum))
        if inside:
            xs = [b * dodge for b, _ in inside]
            ys = [o.multiplier for _, o in inside]
            low = [o.multiplier - o.multiplier_ci[0] if o.multiplier_ci else 0 for _, o in inside]
            high = [o.multiplier_ci[1] - o.multiplier if o.multiplier_ci else 0 for _, o in inside]
            ax.errorbar(xs, ys, yerr=[low, high], color=color, marker="o", ms=4, lw=1.4, capsize=3, label=name)
        for k, (budget, optimum) in enumerate(edges):
            ax.plot([budget * dodge], [optimum.multiplier], marker="^" if optimum.at_edge == "high" else "v",
                    mfc="none", color=color, ms=8, ls="none",
                    label=f"{name} (at the grid's edge)" if k == 0 and not inside else None)
        edge_seen = edge_seen or bool(edges)
        drift = result.drift
        if drift is not None and drift.bound_slope is not None and inside:
            centre = (float(np.mean([math.log2(b) for b, _ in inside])),
                      float(np.mean([math.log2(o.multiplier) for _, o in inside])))
            span = [min(drift.budgets), max(drift.budgets)]
            ax.plot([b * dodge for b in span], [2 ** (centre[1] + drift.bound_slope * (math.log2(b) - centre[0]))
                                                for b in span], color=color, ls="--", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(budgets)
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("budget (epochs, log scale)")
    ax.set_ylabel("optimal step size / tuned (log scale)")
    ax.axhline(1.0, color="grey", lw=0.8)
    if transfer.tuning_budget is not None:
        ax.axvline(transfer.tuning_budget, color="grey", ls=":", lw=1)
    steps = sorted(set(transfer.bound_steps_per_epoch.values()))
    horizon = f"T = budget x {'/'.join(map(str, steps))} SGD steps" if steps else "T unknown"
    ax.set_title(f"Optimal step size against the budget (tuned at {transfer.tuning_budget} epochs, dotted); bars: "
                 f"jackknife 95%;\ndashed: the convex bound's slope for the same schedule ({horizon}), through the "
                 "measured optima's centre", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    handles, labels = ax.get_legend_handles_labels()
    if edge_seen:
        handles.append(plt.Line2D([], [], marker="^", mfc="none", color="grey", ls="none"))
        labels.append("at the grid's edge\n(optimum beyond it)")
    handles.append(plt.Line2D([], [], color="grey", ls="--"))
    labels.append("convex bound's slope")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(fig, path)
