"""Learning curves with a known budget effect, and how often the budget test flags them.

The truth is set here, so the test's false-alarm rate (no effect) and power (an effect of known size)
can be measured: by the calibration tests, and by ``benchmarks/budget_test_power.py`` for the
power table of docs/method.md.

Model of one run's log validation loss at epoch e of budget b (seed s):
    log(0.1 + exp(-3 e / W)) + effect * noise_sd * i_b / (K - 1) + shared_s(e) + own_run(e)
with W the smallest budget, i_b the budget's index among K budgets, and shared_s and own_run
independent AR(1) processes (coefficient 0.8) whose variances sum to noise_sd^2 (``shared``: the part
common to one seed's runs, as a shared initialisation and data order make it). ``effect`` is the shift
of the log loss from the smallest to the largest budget, in units of the per-epoch rerun noise sd.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from results.stats.budget import budget_test, holm, significant

AR = 0.8


def _ar1(rng: np.random.Generator, length: int, sd: float) -> np.ndarray:
    """A stationary AR(1) path with marginal standard deviation ``sd``."""
    steps = rng.standard_normal(length) * sd * np.sqrt(1 - AR**2)
    path = np.empty(length)
    path[0] = rng.standard_normal() * sd
    for k in range(1, length):
        path[k] = AR * path[k - 1] + steps[k]
    return path


def simulated_curves(rng: np.random.Generator, *, seeds: int, budgets: Sequence[int], effect: float = 0.0,
                     noise_sd: float = 0.05, shared: float = 0.5) -> dict[int, dict[int, list[float]]]:
    """budget -> seed -> validation losses of the module's model."""
    window, longest = min(budgets), max(budgets)
    epochs = np.arange(longest)
    base = np.log(0.1 + np.exp(-3 * epochs / window))
    curves: dict[int, dict[int, list[float]]] = {b: {} for b in budgets}
    for seed in range(1, seeds + 1):
        common = _ar1(rng, longest, noise_sd * np.sqrt(shared))
        for index, budget in enumerate(sorted(budgets)):
            shift = effect * noise_sd * index / (len(budgets) - 1)
            own = _ar1(rng, longest, noise_sd * np.sqrt(1 - shared))
            curves[budget][seed] = np.exp(base + shift + common + own)[:budget].tolist()
    return curves


class Rates(NamedTuple):
    """Over repeated simulated studies: how often any null contender was flagged (family-wise false
    alarms), how often the one contender with an effect was flagged (power), and every null p-value."""

    family_wise_false_alarms: float
    power: float | None
    null_p_values: list[float]


def flag_rates(rng: np.random.Generator, *, studies: int, contenders: int, seeds: int, budgets: Sequence[int],
               effect: float = 0.0, alpha: float = 0.05, n_permutations: int = 199, shared: float = 0.5) -> Rates:
    """Simulate ``studies`` studies of ``contenders`` contenders each, the first with ``effect`` (none
    if 0) and the rest with none; test them as the analysis does (Holm over the contenders at ``alpha``)."""
    alarms = hits = 0
    null_p: list[float] = []
    for _ in range(studies):
        p_values: dict[int, float] = {}
        for index in range(contenders):
            curves = simulated_curves(rng, seeds=seeds, budgets=budgets, effect=effect if index == 0 else 0.0,
                                      shared=shared)
            test = budget_test(curves, n_permutations=n_permutations, seed=int(rng.integers(2**31)), interval=False)
            if test.p_value is None:  # the simulated losses are positive and noisy: only below two seeds
                raise ValueError(f"the budget test needs two seeds or more ({seeds}: {test.note})")
            p_values[index] = test.p_value
        adjusted = holm(p_values)
        null = range(1, contenders) if effect else range(contenders)
        null_p += [p_values[i] for i in null]
        alarms += any(significant(adjusted[i], alpha) for i in null)
        hits += bool(effect and significant(adjusted[0], alpha))
    return Rates(alarms / studies, hits / studies if effect else None, null_p)
