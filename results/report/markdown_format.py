"""Numbers, intervals and tables in markdown: the formatting every report.md section shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: 4 significant digits, '-' for undefined."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def fmt_ci(ci: Sequence[float] | None) -> str:
    """An interval as [low, high], '-' when undefined."""
    return "-" if ci is None else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def with_interval(value: Any, ci: Sequence[float] | None) -> str:
    """'value [low, high]', or the value alone where there is no interval (not 'value -')."""
    return fmt(value) if ci is None else f"{fmt(value)} {fmt_ci(ci)}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines + [""]
