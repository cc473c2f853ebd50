"""The transfer analysis (results.stats.transfer) on generated grids where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from results.stats.transfer import (
    analyze_transfer,
    budget_grid,
    find_optimum,
    jackknife_interval,
)

GRID = [0.25, 0.5, 1.0, 2.0, 4.0]


def u_curve(x0: float, curvature: float = 0.05):
    """A loss whose log is quadratic in log2(multiplier), with its minimum 1 at log2(multiplier) = x0."""
    return lambda m: math.exp(curvature * (math.log2(m) - x0) ** 2)


def table(curves: dict[tuple[str, int], object], seeds: int, rng: np.random.Generator | None = None,
          seed_sd: float = 0.0, noise_sd: float = 0.0, diverged: set[tuple[str, int, float, int]] = frozenset(),
          tuned: float = 0.01) -> pd.DataFrame:
    """Rows of transfer.csv: per (contender, budget) a loss curve over GRID, seeds with a shared factor each
    (exp of ``seed_sd`` noise) and an independent one per run (``noise_sd``); ``diverged`` runs have no final loss."""
    rows = []
    for (name, budget), curve in curves.items():
        for seed in range(1, seeds + 1):
            offset = rng.normal(0, seed_sd) if rng is not None else 0.0
            for m in GRID:
                noise = rng.normal(0, noise_sd) if rng is not None else 0.0
                gone = (name, budget, m, seed) in diverged
                rows.append({"contender": name, "budget": budget, "multiplier": m, "lr": tuned * m, "seed": seed,
                             "final_val_loss": None if gone else curve(m) * math.exp(offset + noise),
                             "status": "diverged" if gone else "complete"})
    return pd.DataFrame(rows)


def test_the_parabola_recovers_a_known_optimum_and_regret_exactly() -> None:
    result = analyze_transfer(table({("C", 20): u_curve(0.6)}, seeds=3), tuning_budget=5)
    detail = result.contenders["C"].budgets["20"]
    assert detail.optimum.multiplier == pytest.approx(2 ** 0.6, rel=1e-12)
    assert detail.optimum.lr == pytest.approx(0.01 * 2 ** 0.6, rel=1e-12)
    assert detail.optimum.loss == pytest.approx(1.0, abs=1e-12)
    assert (detail.optimum.fit, detail.optimum.at_edge) == ("parabola", None)
    # log loss at multiplier 1 is 0.05 * 0.36 = 0.018 above the optimum's: the regret, 100 (e^0.018 - 1) %
    assert detail.regret.log == pytest.approx(0.018, abs=1e-12)
    assert detail.regret.absolute == pytest.approx(math.expm1(0.018), abs=1e-12)
    assert detail.regret.percent == pytest.approx(100 * math.expm1(0.018), abs=1e-10)
    assert detail.regret.lower_bound is False
    # seeds identical: a zero-width interval, centred on the estimate
    assert detail.regret.ci == pytest.approx([math.expm1(0.018)] * 2, abs=1e-12)
    assert detail.loss["1"].geometric_mean == pytest.approx(math.exp(0.018), abs=1e-12)


def test_an_optimum_at_the_grid_edge_is_named_never_extrapolated() -> None:
    result = analyze_transfer(table({("H", 20): u_curve(3.0)}, seeds=3))  # true optimum at x8, beyond the grid
    detail = result.contenders["H"].budgets["20"]
    assert detail.optimum.at_edge == "high" and detail.optimum.multiplier == 4.0
    assert detail.optimum.multiplier_ci is None
    # against the grid's lowest mean (x4): a lower bound of the true regret
    assert detail.regret.lower_bound is True
    assert detail.regret.absolute == pytest.approx(math.exp(0.05 * 9) - math.exp(0.05 * 1), abs=1e-12)
    assert result.contenders["H"].drift is None


def test_diverged_grid_points_are_left_out_and_named() -> None:
    diverged = {("C", 20, 4.0, 2)}
    result = analyze_transfer(table({("C", 20): u_curve(1.2)}, seeds=3, diverged=diverged))
    detail = result.contenders["C"].budgets["20"]
    assert detail.diverged == {"4": [2]}
    assert detail.loss["4"].geometric_mean is None
    # lowest usable mean at x2, whose right neighbour diverged: the grid point itself, no parabola
    assert (detail.optimum.fit, detail.optimum.multiplier) == ("grid point", 2.0)
    assert detail.regret.absolute == pytest.approx(u_curve(1.2)(1.0) - u_curve(1.2)(2.0), abs=1e-12)


def test_per_seed_regrets_average_to_the_pooled_regret_and_rank_contenders() -> None:
    rng = np.random.default_rng(3)
    curves = {("C", 20): u_curve(1.0, curvature=0.2), ("H", 20): u_curve(0.1, curvature=0.2)}
    result = analyze_transfer(table(curves, seeds=8, rng=rng, seed_sd=0.02, noise_sd=0.002))
    for name in ("C", "H"):
        regret = result.contenders[name].budgets["20"].regret
        assert np.mean(list(regret.per_seed_log.values())) == pytest.approx(regret.log, rel=1e-9)
    assert [r.name for r in result.ranking] == ["H", "C"]
    (comparison,) = result.comparisons
    assert comparison.separated and comparison.p_value == pytest.approx(2 / 2 ** 8)  # every seed agrees


def test_the_drift_recovers_a_known_slope() -> None:
    # the optimum halves its log2 multiplier's distance: x0 = 1.0, 0.5, 0.0 at 5, 10, 20 epochs -> slope -0.5
    curves = {("C", b): u_curve(x0) for b, x0 in ((5, 1.0), (10, 0.5), (20, 0.0))}
    drift = analyze_transfer(table(curves, seeds=3), {"C": {5: 0.4, 10: 0.2, 20: 0.1}}).contenders["C"].drift
    assert drift.slope == pytest.approx(-0.5, abs=1e-12)
    assert drift.bound_slope == pytest.approx(-1.0, abs=1e-12)  # gamma* halving per doubling
    assert drift.budgets == [5, 10, 20]


def test_jackknife_interval_by_hand() -> None:
    # leave-one-out values 1, 2, 3: mean 2, sum of squares 2, se = sqrt(2/3 * 2) = 1.1547; t_{0.975, 2} = 4.3027
    low, high = jackknife_interval(10.0, [1.0, 2.0, 3.0])
    assert (high - low) / 2 == pytest.approx(4.302653 * math.sqrt(4 / 3), rel=1e-6)
    assert jackknife_interval(10.0, [1.0, 2.0]) is None  # below three seeds
    assert jackknife_interval(10.0, [1.0, None, 3.0]) is None


def test_optimum_grid_point_when_flat() -> None:
    found = find_optimum([-1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [True] * 3)
    assert found.at_edge == "low"  # the first of equal means: at the edge, not a vertex
    found = find_optimum([-2.0, -1.0, 0.0, 1.0], [2.0, 1.0, 1.0, 2.0], [True] * 4)
    assert found.fit == "parabola" and found.x == pytest.approx(-0.5)


def test_seeds_that_lack_a_multiplier_are_left_out_of_that_budget() -> None:
    rows = table({("C", 20): u_curve(0.0)}, seeds=3)
    rows = rows[~((rows["seed"] == 3) & (rows["multiplier"] == 0.25))]
    assert budget_grid(rows).seeds == [1, 2]


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [3, 5])
def test_the_jackknife_intervals_cover_at_about_their_level(seeds: int) -> None:
    """Log loss quadratic in log step size (the fit's own model), seed factors and run noise: 300 studies; the
    95% intervals of the optimum, the regret and the drift cover the truth in 91-99 % of them."""
    rng = np.random.default_rng(seeds)
    x0s = {10: 0.3, 20: -0.2, 40: -0.7}
    true_slope = np.polyfit(np.log2(list(x0s)), list(x0s.values()), 1)[0]
    hits = {"optimum": [], "regret": [], "drift": []}
    for _ in range(300):
        curves = {("C", b): u_curve(x0) for b, x0 in x0s.items()}
        result = analyze_transfer(table(curves, seeds, rng, seed_sd=0.05, noise_sd=0.01)).contenders["C"]
        at_40 = result.budgets["40"]
        for key, interval, truth in (("optimum", at_40.optimum.multiplier_ci, 2 ** -0.7),
                                     ("regret", at_40.regret.percent_ci, 100 * math.expm1(0.05 * 0.49)),
                                     ("drift", result.drift.ci if result.drift else None, true_slope)):
            if interval is not None:
                hits[key].append(interval[0] <= truth <= interval[1])
    for key, found in hits.items():
        assert len(found) >= 270, key
        assert 0.91 <= np.mean(found) <= 0.99, (key, np.mean(found))
