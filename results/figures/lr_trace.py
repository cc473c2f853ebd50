"""PNG plots: LR curves per budget (the paper's "LR curves" figure) and learning curves."""

from __future__ import annotations

from pathlib import Path

from results.figures.style import PNG_METADATA, plt


def plot_curves(curves: dict[int, list[float]], *, title: str, ylabel: str, path: Path,
                log_y: bool = False, steps_per_epoch: int = 1) -> Path:
    """One line per budget against epochs (per-batch traces are drawn on the epoch axis)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for budget, values in sorted(curves.items()):
        x = [i / steps_per_epoch for i in range(len(values))]
        ax.plot(x, values, label=f"{budget} epochs", linewidth=1.4)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path
