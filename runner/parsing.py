"""Parsing of list-valued command-line options into validated Python values."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from errors import UserError


def parse_budgets(text: str, option: str = "--epoch-budgets") -> list[int]:
    """'50,100,150' -> [50, 100, 150]: positive, distinct integers, at least one."""
    malformed = UserError(f"{option}: {text!r} is malformed; expected comma-separated positive integers like 50,100")
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise malformed
    try:
        budgets = [int(item) for item in items]
    except ValueError:
        raise malformed from None
    if any(b < 1 for b in budgets):
        raise UserError(f"{option}: budgets must be positive integers, got {text!r}")
    if len(set(budgets)) != len(budgets):
        raise UserError(f"{option}: duplicated budget in {text!r}; each budget may appear once")
    return budgets


def parse_multipliers(text: str, option: str = "--transfer-grid") -> list[float]:
    """'2,0.5,1' -> [0.5, 1.0, 2.0]: positive, finite, distinct numbers, at least one, sorted."""
    malformed = UserError(f"{option}: {text!r} is malformed; expected comma-separated positive numbers like 0.5,1,2")
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise malformed
    try:
        values = [float(item) for item in items]
    except ValueError:
        raise malformed from None
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise UserError(f"{option}: multipliers must be positive finite numbers, got {text!r}")
    if len(set(values)) != len(values):
        raise UserError(f"{option}: duplicated multiplier in {text!r}; each may appear once")
    return sorted(values)


def parse_names(text: str, known: list[str], what: str, option: str) -> list[str]:
    """'C,EH' -> ['C', 'EH'], each checked against ``known``."""
    names = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise UserError(f"{option}: {text!r} is malformed; expected a comma-separated list of {what}s")
    for name in names:
        if name not in known:
            raise UserError(f"{option}: unknown {what} {name!r}; known: {', '.join(known)}")
    if len(set(names)) != len(names):
        raise UserError(f"{option}: duplicated {what} in {text!r}")
    return names


def parse_assignments(items: list[str], parse_value: Callable[[str, str], Any], option: str = "--set",
                      example: str = "gamma=0.9") -> dict[str, Any]:
    """['gamma=0.9', ...] -> {'gamma': 0.9}; ``parse_value(name, text)`` converts each value."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"{option}: {item!r} is malformed; expected name=value, e.g. {option} {example}")
        values[name.strip()] = parse_value(name.strip(), text.strip())
    return values
