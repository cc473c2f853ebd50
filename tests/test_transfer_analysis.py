"""The transfer analysis (results.stats.transfer) on generated grids where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from results.report.markdown_format import fmt
from results.report.transfer_markdown import transfer_section, transfer_verdict
from results.run_report import sgd_gamma_star
from results.stats.transfer import (
    analyze_transfer,
    budget_grid,
    censored_direction,
    find_optimum,
    jackknife_interval,
)
from schedulers.theory import moving_bound, per_sgd_step

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
    assert (detail.regret.ci, detail.regret.percent_ci) == (None, None)  # a bound has no interval
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
    95% intervals of the optimum, the regret, the transfer cost (of the 10-epoch optimum at 40) and the drift cover
    the truth in 91-99 % of them."""
    rng = np.random.default_rng(seeds)
    x0s = {10: 0.3, 20: -0.2, 40: -0.7}
    true_slope = np.polyfit(np.log2(list(x0s)), list(x0s.values()), 1)[0]
    hits = {"optimum": [], "regret": [], "transfer cost": [], "drift": []}
    for _ in range(300):
        curves = {("C", b): u_curve(x0) for b, x0 in x0s.items()}
        result = analyze_transfer(table(curves, seeds, rng, seed_sd=0.05, noise_sd=0.01),
                                  tuning_budget=10).contenders["C"]
        at_40 = result.budgets["40"]
        for key, interval, truth in (("optimum", at_40.optimum.multiplier_ci, 2 ** -0.7),
                                     ("regret", at_40.regret.percent_ci, 100 * math.expm1(0.05 * 0.49)),
                                     ("transfer cost", at_40.transfer_cost.percent_ci, 100 * math.expm1(0.05)),
                                     ("drift", result.drift.ci if result.drift else None, true_slope)):
            if interval is not None:
                hits[key].append(interval[0] <= truth <= interval[1])
    for key, found in hits.items():
        assert len(found) >= 270, key
        assert 0.91 <= np.mean(found) <= 0.99, (key, np.mean(found))


def test_a_blown_up_neighbour_cannot_invent_a_regret() -> None:
    # the tuned step size is the best point measured, x0.5 nearly as good, x2 blows up (k = 10): the parabola's
    # minimum lies ln(10)/8 below every mean; the guard keeps the loss at the best mean and names the dip
    losses = {0.25: 1.3, 0.5: 1.001, 1.0: 1.0, 2.0: 10.0, 4.0: 50.0}
    result = analyze_transfer(table({("P", 20): lambda m: losses[m]}, seeds=3), tuning_budget=20)
    detail = result.contenders["P"].budgets["20"]
    assert detail.regret.percent == pytest.approx(0.0, abs=1e-12)
    assert detail.optimum.loss == pytest.approx(1.0, abs=1e-12)
    assert detail.optimum.dip > 0.25 and 0.5 < detail.optimum.multiplier < 1.0  # the vertex still locates it


def test_the_guard_keeps_a_parabola_the_data_support() -> None:
    found = find_optimum([-1.0, 0.0, 1.0], [0.018, 0.008, 0.098], [True] * 3)  # 0.05 (x - 0.4)^2, exact
    assert found.dip is None and found.log_loss == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seeds", [1, 2])
def test_fewer_than_three_seeds_give_a_report_without_intervals(seeds: int) -> None:
    curves = {("C", b): u_curve(x0) for b, x0 in ((5, 0.4), (10, 0.0), (20, -0.4))}
    result = analyze_transfer(table(curves, seeds=seeds), {"C": {5: 0.4, 10: 0.2, 20: 0.1}}, tuning_budget=5,
                              in_sample_seeds=[1])
    contender = result.contenders["C"]
    assert contender.drift.slope == pytest.approx(-0.4, abs=1e-12) and contender.drift.ci is None
    assert contender.budgets["20"].regret.percent_ci is None and contender.budgets["20"].optimum.multiplier_ci is None
    text = "\n".join(transfer_verdict(result) + transfer_section(result))
    assert f"With {seeds} seed{'s' * (seeds > 1)} no intervals (they need three)." in text
    assert "Seed 1 also tuned the step size (Phase 1): in-sample" in text


def test_a_diverged_tuned_step_size_is_ranked_last_and_named() -> None:
    curves = {("C", b): u_curve(0.0) for b in (5, 20)} | {("H", b): u_curve(0.0) for b in (5, 20)}
    result = analyze_transfer(table(curves, seeds=3, diverged={("C", 20, 1.0, 2)}), tuning_budget=5)
    regret = result.contenders["C"].budgets["20"].regret
    assert regret.diverged and regret.percent is None
    assert [(r.name, r.regret_diverged) for r in result.ranking] == [("H", False), ("C", True)]
    (verdict, _) = transfer_verdict(result)
    assert "Diverged at 20 epochs (infinite, ranked last): C." in verdict


def test_the_transfer_cost_separates_the_tuning_error_from_the_transfer() -> None:
    # optimum at x0 = 0.4 when tuned (5 epochs), -0.4 at 20 epochs, log loss 0.05 (x - x0)^2: the fit's own model
    curves = {("C", 5): u_curve(0.4), ("C", 20): u_curve(-0.4), ("H", 5): u_curve(0.0), ("H", 20): u_curve(-0.2)}
    result = analyze_transfer(table(curves, seeds=3), tuning_budget=5)
    at_20 = result.contenders["C"].budgets["20"]
    assert at_20.transfer_cost.multiplier == pytest.approx(2 ** 0.4, rel=1e-12)
    assert at_20.transfer_cost.log == pytest.approx(0.05 * 0.8 ** 2, abs=1e-12)  # at x 0.4 against -0.4
    assert at_20.regret.log == pytest.approx(0.05 * 0.4 ** 2, abs=1e-12)  # the practitioner's: at x 0
    assert result.contenders["C"].budgets["5"].regret.log == pytest.approx(0.05 * 0.4 ** 2, abs=1e-12)
    assert result.contenders["C"].budgets["5"].transfer_cost is None
    assert result.ranked_by == "transfer cost"
    (c, h) = sorted(result.ranking, key=lambda r: r.name)
    assert c.transfer_cost_percent == pytest.approx(100 * math.expm1(0.032), abs=1e-9)
    assert c.tuning_error_percent == pytest.approx(100 * math.expm1(0.008), abs=1e-9)
    assert [r.name for r in result.ranking] == ["H", "C"]  # H's cost 0.05 * 0.2^2 below C's
    assert h.transfer_cost_percent == pytest.approx(100 * math.expm1(0.05 * 0.2 ** 2), abs=1e-9)
    assert np.mean(list(at_20.transfer_cost.per_seed_log.values())) == pytest.approx(at_20.transfer_cost.log)


def test_the_transfer_cost_away_from_the_long_optimum_reads_the_nearest_grid_points() -> None:
    # the tuning optimum x 0.9 lies outside the 20-epoch parabola's window (-2..0): the parabola through the grid
    # points at 0, 1, 2 (exact on this model), not their chord (which would read 0.05 (0.1 * 1.44 + 0.9 * 4.41))
    curves = {("C", 5): u_curve(0.9), ("C", 20): u_curve(-1.2)}
    cost = analyze_transfer(table(curves, seeds=3), tuning_budget=5).contenders["C"].budgets["20"].transfer_cost
    assert cost.log == pytest.approx(0.05 * 2.1 ** 2, abs=1e-12)


def test_censored_values_are_bounds_listed_apart() -> None:
    # C's optimum at 20 epochs lies beyond the grid's high edge (x8): its drift is at least the slope through the
    # edge, its regret and transfer cost lower bounds, not ranked
    curves = {("C", 5): u_curve(0.0), ("C", 10): u_curve(1.0), ("C", 20): u_curve(3.0),
              ("H", 5): u_curve(0.0), ("H", 20): u_curve(0.3)}
    result = analyze_transfer(table(curves, seeds=3), tuning_budget=5)
    drift = result.contenders["C"].drift
    assert (drift.bound, drift.censored, drift.ci) == ("at least", [20], None)
    assert drift.slope == pytest.approx(1.0, abs=1e-12)  # through x = 0, 1, 2 (the edge)
    assert [r.name for r in result.ranking] == ["H"] and [r.censored for r in result.unranked] == ["lower bound"]
    section = "\n".join(transfer_section(result))
    assert "| C | 20 | 3 | >= x4 (the grid's high edge) |" in section and "| C | >= 1 |" in section


def test_a_cost_read_at_one_edge_is_a_bound_and_at_the_same_edge_at_both_budgets_no_number() -> None:
    # P: optima beyond the high edge (x4) at both budgets, so read there the cost is 0 by construction: no number,
    # never a measured 0 %. E: the tuning optimum beyond the high edge, the 20-epoch one at 2^-0.4 inside: read at
    # x4 against it, 0.05 (2 + 0.4)^2 in log, at least what the truth (further out) costs. Their tuning errors
    # are bounds too.
    curves = {("P", 5): u_curve(3.0), ("P", 20): u_curve(3.5), ("E", 5): u_curve(3.0), ("E", 20): u_curve(-0.4),
              ("H", 5): u_curve(0.0), ("H", 20): u_curve(0.3)}
    result = analyze_transfer(table(curves, seeds=3), tuning_budget=5)
    same, one = (result.contenders[n].budgets["20"].transfer_cost for n in ("P", "E"))
    assert (same.censored, same.percent, same.log, same.per_seed_log, same.diverged) == (
        "both optima at the same edge", None, None, {}, False)
    assert one.censored == "tuning optimum at the edge" and one.log == pytest.approx(0.05 * 2.4 ** 2, abs=1e-12)
    assert [r.name for r in result.ranking] == ["H"]
    unranked = {r.name: r for r in result.unranked}
    assert unranked["P"].transfer_cost_percent is None and unranked["P"].censored == "both optima at the same edge"
    assert unranked["P"].tuning_error_lower_bound and not result.ranking[0].tuning_error_lower_bound
    section, verdict = "\n".join(transfer_section(result)), "\n".join(transfer_verdict(result))
    percent = fmt(100 * math.expm1(0.05 * 2.4 ** 2), 3)
    assert "| P | 20 | 3 | >= x4 (the grid's high edge) | >= 0.04 | >= " in section
    assert "| - (both optima beyond the same edge of the grid) | - |" in section
    assert f"| >= {percent} % (tuning optimum at the grid's edge) | - |" in section
    assert f"Not ranked (a bound, or read at the tuning budget's grid edge): P - (both optima beyond the same " \
           f"edge of the grid), E >= {percent} % (tuning optimum at the grid's edge)." in verdict
    tuning_error = fmt(100 * math.expm1(0.05 * (3 ** 2 - 1)), 3)  # x1 against the edge x4 (optimum 2^3), in log
    assert "| - | P | - (both optima beyond the same edge of the grid) | >= " in section
    assert f"| >= {tuning_error} % | - |" in section


def test_an_infinite_complete_loss_is_left_out_like_a_diverged_run() -> None:
    rows = table({("C", 20): u_curve(0.0)}, seeds=3)
    rows.loc[(rows["seed"] == 2) & (rows["multiplier"] == 4.0), "final_val_loss"] = math.inf
    detail = analyze_transfer(rows).contenders["C"].budgets["20"]
    assert detail.diverged == {"4": [2]} and detail.optimum.multiplier == pytest.approx(1.0)


def test_duplicate_rows_are_one_clear_error() -> None:
    rows = table({("C", 20): u_curve(0.0)}, seeds=2)
    with pytest.raises(ValueError, match="share a .contender, budget, seed, multiplier.*C at 20 epochs, seed 1, x1"):
        analyze_transfer(pd.concat([rows, rows[(rows["seed"] == 1) & (rows["multiplier"] == 1.0)]]))


def test_the_bound_runs_on_the_sgd_steps_trained() -> None:
    # a per-epoch schedule holds each epoch's LR for its steps: gamma* of the bound on 3 x 4 SGD steps, not 3
    assert per_sgd_step([1.0, 0.5, 0.25], 4, per_batch=False) == [1.0] * 4 + [0.5] * 4 + [0.25] * 4
    assert per_sgd_step([1.0, 0.5], 4, per_batch=True) == [1.0, 0.5]
    steps = sgd_gamma_star({"C": {3: [1.0, 0.5, 0.25]}}, 4)["C"][3]
    assert steps == pytest.approx(moving_bound([1.0] * 4 + [0.5] * 4 + [0.25] * 4).gamma_star, rel=1e-12)
    assert steps != pytest.approx(moving_bound([1.0, 0.5, 0.25]).gamma_star, rel=1e-3)
    assert sgd_gamma_star({"C": {3: [1.0]}}, None) == {}


def test_an_edge_optimum_at_the_centre_budget_leaves_the_drift_a_point_estimate() -> None:
    """log2(8) is the centre of 4, 8, 16: its weight in the slope is 0, so its censoring biases nothing."""
    assert censored_direction([4, 8, 16], {8: "high"}) is None
    assert censored_direction([4, 8, 16], {16: "high"}) == "at least"
    assert censored_direction([4, 8, 16], {4: "high", 16: "high"}) == "unknown"
