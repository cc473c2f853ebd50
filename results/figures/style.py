"""What every figure module shares: matplotlib without a screen (Agg), the resolution, budget colours, saving."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 110
# No "Software: Matplotlib version X" chunk: a figure's bytes depend on what it shows, not on the installed version.
PNG_METADATA: dict[str, str | None] = {"Software": None}
MIN_SEEDS_FOR_BARS = 3  # with two seeds a t interval spans 12.7 standard errors (below 0 for a loss): dots say more


def save_figure(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)
    return path


def spans_decades(values: Iterable[float | None], factor: float = 10.0) -> bool:
    """A log axis for positive values spanning at least ``factor``; undefined values (None, NaN, inf) are left
    out. Below a decade a log axis leaves a few tick labels and squashes the tails (CIFAR's 0.8-2.3)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= factor


def budget_colors(budgets: Sequence[int]) -> dict[int, Any]:
    cmap = plt.get_cmap("viridis")
    return {b: cmap(i / max(len(budgets) - 1, 1) * 0.9) for i, b in enumerate(sorted(budgets))}
