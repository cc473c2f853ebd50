"""Schedule-only theory: the last-iterate convex bound of Schaipp et al. (2025) for any schedule.

SGD with step sizes e_t = gamma * eta_t on a convex G-Lipschitz problem with ||x_1 - x*|| <= D
has, at step T, Omega_T = D^2/(2 S) + sum e^2 G^2/(2 S)
+ 1/2 sum_{k<T} [e_k / sum_{t>k} e_t] [sum_{t>=k} e_t^2 G^2 / sum_{t>=k} e_t], S = sum_{t<=T} e_t.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bound:
    terms: tuple[float, float, float]  # at gamma = 1
    gamma_star: float  # the base LR minimising the bound
    omega_star: float  # the bound at gamma_star

    @property
    def omega(self) -> float:
        return sum(self.terms)


def bound_terms(schedule: Sequence[float], T: int, D: float = 1.0, G: float = 1.0) -> tuple[float, float, float]:
    """The three terms at step T (1-based) for step sizes ``schedule`` (entries beyond T unused)."""
    e = np.asarray(schedule[:T], dtype=np.float64)
    total = e.sum()
    squares = e**2 * G**2
    term1 = D**2 / (2 * total)
    term2 = squares.sum() / (2 * total)
    tail = np.cumsum(e[::-1])[::-1]  # sum_{t >= k} e_t
    tail_squares = np.cumsum(squares[::-1])[::-1]
    k = np.arange(T - 1)
    term3 = 0.5 * np.sum(e[k] / tail[k + 1] * tail_squares[k] / tail[k])
    return float(term1), float(term2), float(term3)


def convex_bound(schedule: Sequence[float], T: int, D: float = 1.0, G: float = 1.0) -> Bound:
    """Omega = A/gamma + gamma B, so gamma* = sqrt(A/B) and Omega* = 2 sqrt(A B)."""
    terms = bound_terms(schedule, T, D, G)
    a, b = terms[0], terms[1] + terms[2]
    return Bound(terms, math.sqrt(a / b), 2 * math.sqrt(a * b))


def moving_bound(schedule: Sequence[float]) -> Bound | None:
    """The convex bound of ``schedule`` relative to its peak, at its last step with a positive LR: steps
    of LR 0 at the end leave the last iterate where it was (and would make the bound's last term divide
    by 0: Omega* = inf); None for a schedule that never moves."""
    moving = len(schedule) - next((i for i, v in enumerate(reversed(schedule)) if v > 0), len(schedule))
    if moving == 0:
        return None
    peak = max(schedule)
    return convex_bound([v / peak for v in schedule[:moving]], moving)


def per_sgd_step(schedule: Sequence[float], steps_per_epoch: int, per_batch: bool) -> list[float]:
    """The LR of each SGD step from a scheduler's LR per scheduler step: a per-epoch schedule holds its epoch's LR
    for that epoch's ``steps_per_epoch`` steps, a per-batch one already has one LR per step. The bound's T is
    then what the trainer took, which its gamma* depends on (it is not unit-free at short horizons)."""
    return list(schedule) if per_batch else [v for v in schedule for _ in range(steps_per_epoch)]
