"""Sensitivity metrics: final-loss change across budgets and learning-curve decoupling."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

SG9 = (-21, 14, 39, 54, 59, 54, 39, 14, -21)  # 9-point quadratic Savitzky-Golay weights, /231


def final_loss_change(first: float, last: float) -> float:
    """|L(E_last) - L(E_first)| / |L(E_first)| in percent."""
    return abs(last - first) / abs(first) * 100.0


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value); None for no values."""
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def savgol9(curve: Sequence[float]) -> list[float]:
    """SG-9 smoothing over the curve's own length; the first and last 4 points unchanged."""
    smoothed = list(curve)
    for k in range(4, len(curve) - 4):
        smoothed[k] = sum(w * curve[k - 4 + j] for j, w in enumerate(SG9)) / 231
    return smoothed


def decoupling(x: Sequence[float], y: Sequence[float]) -> float:
    """Mean of |x_k - y_k| / (x_k + y_k) over the shorter smoothed curve (the paper's metric).

    Non-positive smoothed values make the ratio meaningless; they raise instead of being hidden.
    """
    a, b = savgol9(x), savgol9(y)
    n = min(len(a), len(b))
    if any(v <= 0 for v in a[:n] + b[:n]):
        raise ValueError("smoothed curve has non-positive values; decoupling is undefined")
    return statistics.fmean(abs(a[k] - b[k]) / (a[k] + b[k]) for k in range(n))


def decoupling_matrix(curves: dict[int, Sequence[float]]) -> dict[str, float | None]:
    """Decoupling for every budget pair 'Ei-Ej' (None where undefined) plus their 'mean'."""
    budgets = sorted(curves)
    result: dict[str, float | None] = {}
    for i, small in enumerate(budgets):
        for large in budgets[i + 1:]:
            try:
                result[f"{small}-{large}"] = decoupling(curves[small], curves[large])
            except ValueError:
                result[f"{small}-{large}"] = None
    defined = [v for v in result.values() if v is not None and math.isfinite(v)]
    result["mean"] = statistics.fmean(defined) if defined else None
    return result
