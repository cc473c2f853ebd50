"""Figures across tasks: the performance profile and the critical-difference diagram."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import FuncFormatter

from results.figures.style import DPI, plt, save_figure
from results.records import Friedman, Summary


def plot_performance_profile(merged: Summary, path: Path) -> Path:
    """Fraction of the block's tasks on which each of its contenders is within a factor tau of the smallest size
    (log tau), step lines."""
    assert merged.profile is not None and merged.block is not None  # drawn only for a block
    taus = merged.profile.taus
    names = list(merged.profile.fractions)
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=DPI)
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    for i, name in enumerate(names):
        ax.step(taus, merged.profile.fractions[name], where="post", label=name, color=cmap(i % 20), lw=1.4,
                ls="-" if i < 10 else "--")
    ax.set_xscale("log")
    moved = [i for series in merged.profile.fractions.values() for i in range(1, len(taus))
             if series[i] != series[i - 1]]
    ax.set_xlim(taus[0] / 1.1, taus[min(max(moved, default=0) + 20, len(taus) - 1)])  # a decade past the last step
    for axis in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):  # 1, 2, 5, 10, 20, ...: no crowding
        axis(FuncFormatter(lambda x, _: f"{x:g}" if f"{x:.0e}"[0] in "125" else ""))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("tau (factor of the smallest size on a task, log scale)")
    ax.set_ylabel("fraction of tasks within tau")
    ax.set_title(f"Performance profile of the horizon-aware contenders measured on the same {len(merged.block.tasks)} "
                 "tasks\n(higher, further left: moves less)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, ncol=1 + len(names) // 16)
    return save_figure(fig, path)


def plot_critical_difference(merged: Summary, friedman: Friedman, path: Path) -> Path:
    """Demsar's critical-difference diagram (scikit-posthocs): mean ranks over the tasks, bars joining contenders
    that Nemenyi's test does not separate at the summary's alpha."""
    import scikit_posthocs

    names = friedman.contenders
    p_values = pd.DataFrame(1.0, index=names, columns=names)
    for a, row in friedman.nemenyi_p.items():
        for b, p in row.items():
            p_values.loc[a, b] = p
    ranks = {n: merged.contenders[n].mean_rank for n in names}
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.22 * len(names)), dpi=DPI)
    drawn = scikit_posthocs.critical_difference_diagram(ranks, p_values, alpha=merged.alpha, ax=ax)
    for bar in drawn["crossbars"]:  # its points come in a set's order, which changes with the string hash seed
        for line in bar:
            line.set_xdata(sorted(line.get_xdata()))
    ax.set_title(f"Mean rank over {len(friedman.tasks)} tasks (1 = moves least); bars: not separated "
                 f"by Nemenyi's test at {merged.alpha:g} (Friedman p = {friedman.p_value:.2g})", fontsize=9)
    return save_figure(fig, path)
