"""What every figure module shares: matplotlib without a screen (Agg), the resolution, budget colours, saving."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 110


def save_figure(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def values_span_decades(values: Sequence[float]) -> bool:
    positive = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return bool(positive) and len(positive) == len([v for v in values if v is not None]) \
        and max(positive) / min(positive) > 20


def budget_colors(budgets: Sequence[int]) -> dict[int, Any]:
    cmap = plt.get_cmap("viridis")
    return {b: cmap(i / max(len(budgets) - 1, 1) * 0.9) for i, b in enumerate(sorted(budgets))}
