"""The adaptive transfer grid's rule (runner.transfer_grid) by hand, and on generated losses where the optimum is
known: rounds grown as the runner grows them, analysed as the report analyses them."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from results.records import Transfer
from results.stats.transfer import analyze_transfer
from runner.transfer_grid import asked, lowest, mean_log_loss, next_round

INF = math.inf
Curve = Callable[[float], float]


def u_curve(x0: float) -> Curve:
    """Log loss 0.05 (x - x0)^2 in x = log2(multiplier): the parabola's own model, its vertex exact on any grid."""
    return lambda m: math.exp(0.05 * (math.log2(m) - x0) ** 2)


def lopsided(x0: float) -> Curve:
    """Log loss 0.1 (e^d - 1 - d), d = log2(multiplier) - x0 (docs/method.md): steep above the optimum, flat below,
    so a parabola through a coarse grid puts its vertex low."""
    return lambda m: math.exp(0.1 * (math.expm1(math.log2(m) - x0) - (math.log2(m) - x0)))


@pytest.mark.parametrize(("means", "max_octaves", "expected"), [
    ([0.3, 0.2, 0.1], 3, [2.0]),  # lowest at the high edge: one grid step (1 octave) beyond it
    ([0.1, 0.2, 0.3], 3, [-2.0]),  # ... the low edge
    ([0.1, 0.2, 0.3], 1.5, [-1.5]),  # the step clipped to the limit
    ([0.1, 0.2, 0.3], 1, []),  # the edge is at the limit already
    ([0.2, 0.1, 0.3], 3, [-0.5, 0.5]),  # inside: the log midpoints to both neighbours
    ([0.2, INF, 0.1], 3, [2.0]),  # a diverged column is no optimum, but still a column of the grid
    ([INF, 0.1, INF], 3, [-0.5, 0.5]),  # diverged neighbours bound it like any other
    ([INF, INF, INF], 3, []),  # nothing to go by
])
def test_each_budget_asks_beyond_an_edge_or_between_the_lowest_and_its_neighbours(means, max_octaves,
                                                                                   expected) -> None:
    assert asked([-1.0, 0.0, 1.0], means, max_octaves) == expected


def test_refining_stops_at_half_an_octave_and_steps_follow_the_grid_spacing() -> None:
    assert asked([-1.0, -0.5, 0.0, 1.0], [0.3, 0.1, 0.2, 0.4], 3) == []  # neighbours half an octave away
    assert asked([-1.0, -0.5, 0.0, 1.0], [0.3, 0.2, 0.1, 0.4], 3) == [0.5]  # only the far side
    assert asked([-2.0, 0.0, 2.0], [0.3, 0.2, 0.1], 5) == [4.0]  # a 4x grid steps by 4x
    assert asked([-2.0, 0.0, 2.0], [0.3, 0.1, 0.2], 5) == [-1.0, 1.0]
    assert lowest([0.2, 0.1, 0.1]) == 1  # the first of equal means, as results.stats.transfer takes it


def test_the_next_round_is_every_budgets_points_once_and_not_what_was_tried() -> None:
    means = {10: [0.1, 0.2, 0.3], 40: [0.2, 0.1, 0.3], 80: [0.3, 0.2, 0.1]}  # low edge, inside, high edge
    assert next_round([0.5, 1.0, 2.0], means, 3, [0.5, 1.0, 2.0]) == [0.25, 2 ** -0.5, 2 ** 0.5, 4.0]
    assert next_round([0.5, 1.0, 2.0], means, 3, [0.5, 1.0, 2.0, 4.0, 0.25]) == [2 ** -0.5, 2 ** 0.5]


def test_the_mean_log_loss_is_the_analysis_one_and_infinite_where_a_seed_diverged() -> None:
    assert mean_log_loss([0.2, 0.05]) == pytest.approx(math.log(0.1), abs=1e-15)
    assert [mean_log_loss(v) for v in ([0.1, None], [0.1, 0.0], [0.1, INF], [])] == [INF] * 4


def grow(curves: dict[int, Curve], grid: list[float], max_octaves: float, seeds: int = 3,
         loss: Callable[[int, float, int], float] | None = None) -> tuple[list[list[float]], Transfer]:
    """The rounds the runner trains (each round's grid) on losses ``loss(budget, multiplier, seed)`` (default: the
    curves themselves), and the transfer analysis of the last round's grid."""
    loss = loss or (lambda budget, m, seed: curves[budget](m))
    rounds, tried = [sorted({*grid, 1.0})], {*grid, 1.0}
    while max_octaves:
        means = {b: [mean_log_loss(loss(b, m, s) for s in range(1, seeds + 1)) for m in rounds[-1]] for b in curves}
        new = next_round(rounds[-1], means, max_octaves, tried)
        if not new:
            break
        rounds.append(sorted(rounds[-1] + new))
        tried |= set(new)
    rows = [{"contender": "C", "budget": b, "multiplier": m, "lr": 0.01 * m, "seed": s,
             "final_val_loss": loss(b, m, s), "status": "complete"}
            for b in curves for m in rounds[-1] for s in range(1, seeds + 1)]
    result = analyze_transfer(pd.DataFrame(rows), tuning_budget=min(curves))
    assert result is not None
    return rounds, result


def test_optima_beyond_both_edges_are_bracketed_then_fitted_on_a_sqrt2_grid() -> None:
    # the 10-epoch optimum lies at x 2^-2.4, beyond the first grid's low edge; the 40-epoch one at 2^1.7, beyond its
    # high edge: both at the edge on the first grid (bounds), bracketed after two rounds, sqrt(2) around after three
    curves = {10: u_curve(-2.4), 40: u_curve(1.7)}
    rounds, result = grow(curves, [0.5, 2.0], max_octaves=3)
    _, first = grow(curves, [0.5, 2.0], max_octaves=0)
    assert [first.contenders["C"].budgets[b].optimum.at_edge for b in ("10", "40")] == ["low", "high"]
    assert [[math.log2(m) for m in grid] for grid in rounds] == [
        [-1, 0, 1], [-2, -1, 0, 1, 2], [-3, -2, -1, 0, 1, 2, 3],
        pytest.approx([-3, -2.5, -2, -1.5, -1, 0, 1, 1.5, 2, 2.5, 3], abs=1e-12)]
    optima = {b: d.optimum for b, d in result.contenders["C"].budgets.items()}
    assert [optima[b].at_edge for b in ("10", "40")] == [None, None]
    assert math.log2(optima["10"].multiplier) == pytest.approx(-2.4, abs=1e-12)  # the parabola's own model: exact
    assert math.log2(optima["40"].multiplier) == pytest.approx(1.7, abs=1e-12)
    assert result.contenders["C"].drift.bound is None  # no longer a bound: a point estimate
    assert result.contenders["C"].drift.slope == pytest.approx(4.1 / 2, abs=1e-12)


def test_the_grid_stops_at_the_limit_and_the_optimum_stays_a_bound() -> None:
    rounds, result = grow({10: u_curve(-2.4), 40: u_curve(0.2)}, [0.5, 2.0], max_octaves=2)
    assert math.log2(rounds[-1][0]) == -2  # 2^-3 would pass the limit of 2 octaves
    assert result.contenders["C"].budgets["10"].optimum.at_edge == "low"
    assert result.contenders["C"].budgets["40"].optimum.at_edge is None


def vertex(curve: Curve, xs: list[float]) -> float:
    """The vertex of the parabola through ``curve``'s log loss at the log2 multipliers ``xs`` (numpy's fit)."""
    a, b, _ = np.polyfit(xs, [math.log(curve(2 ** x)) for x in xs], 2)
    return -b / (2 * a)


def test_refined_points_take_the_vertex_bias_of_a_lopsided_curve_from_a_seventh_to_a_fiftieth_of_an_octave() -> None:
    # the lopsided curve with its optimum at 2^-0.7: the parabola through the lowest point of a 2x grid and its
    # neighbours (x -2, -1, 0) puts the vertex 0.14 octave low; through the sqrt(2) points the grid adds (-1, -0.5,
    # 0), 0.019
    curves = {10: lopsided(0.0), 40: lopsided(-0.7)}
    coarse = grow(curves, [0.25, 0.5, 2.0, 4.0], max_octaves=0)[1].contenders["C"].budgets["40"].optimum
    rounds, result = grow(curves, [0.25, 0.5, 2.0, 4.0], max_octaves=3)
    fine = result.contenders["C"].budgets["40"].optimum
    assert math.log2(coarse.multiplier) == pytest.approx(vertex(curves[40], [-2, -1, 0]), abs=1e-12)
    assert math.log2(fine.multiplier) == pytest.approx(vertex(curves[40], [-1, -0.5, 0]), abs=1e-12)
    assert math.log2(coarse.multiplier) + 0.7 == pytest.approx(-0.139, abs=1e-3)
    assert math.log2(fine.multiplier) + 0.7 == pytest.approx(-0.019, abs=1e-3)
    # the second round: the midpoints either side of the 40-epoch lowest (x -1) and of the 10-epoch one (x 0)
    assert [[math.log2(m) for m in grid] for grid in rounds] == [
        [-2, -1, 0, 1, 2], pytest.approx([-2, -1.5, -1, -0.5, 0, 0.5, 1, 2], abs=1e-12)]


@pytest.mark.slow
def test_the_optimums_interval_covers_the_lopsided_truth_once_the_grid_is_refined() -> None:
    """300 generated studies with 5 seeds (a factor per seed, noise per run), the rounds decided on their noisy
    means as the runner decides them: the optimum's 95% interval covers the true 2^-0.7 in 0.40 of them on the 2x
    grid, 0.91 on the grid grown from it (docs/method.md)."""
    rng = np.random.default_rng(5)
    curves = {10: lopsided(0.0), 40: lopsided(-0.7)}
    covered: dict[float, list[bool]] = {0: [], 3: []}
    for _ in range(300):
        offsets = rng.normal(0, 0.05, size=6)
        drawn: dict[tuple[int, float, int], float] = {}

        def loss(budget: int, m: float, seed: int) -> float:
            if (budget, m, seed) not in drawn:
                drawn[(budget, m, seed)] = curves[budget](m) * math.exp(offsets[seed] + rng.normal(0, 0.01))
            return drawn[(budget, m, seed)]

        for octaves, hits in covered.items():
            interval = grow(curves, [0.25, 0.5, 2.0, 4.0], octaves, seeds=5, loss=loss)[1].contenders["C"].budgets[
                "40"].optimum.multiplier_ci
            if interval is not None:
                hits.append(interval[0] <= 2 ** -0.7 <= interval[1])
    assert all(len(hits) >= 270 for hits in covered.values())
    assert np.mean(covered[0]) < 0.6
    assert 0.88 <= np.mean(covered[3]) <= 0.99, np.mean(covered[3])
