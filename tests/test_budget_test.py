"""The budget test (results.stats.budget): hand-computed cases, exactness on shared prefixes, the interval's
jackknife built by hand and its coverage, Holm, and its calibration on simulated studies where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from results.analysis import analyze_curves
from results.report.markdown import verdict
from results.stats.budget import (
    _labelings,
    _ratios,
    budget_test,
    holm,
    ratio_interval,
    seeds_for,
    smoothed_log,
)
from results.stats.metrics import decoupling_paper
from results.stats.simulation import NOISE_KINDS, flag_rates, simulated_curves, simulated_runs
from tests.support.curves import frame


def constant(log_value: float, epochs: int = 12) -> list[float]:
    return [math.exp(log_value)] * epochs


def test_two_seeds_two_budgets_by_hand() -> None:
    # constant curves: smoothing keeps them, distances are |differences of the logs|
    curves = {10: {1: constant(0.0, 10), 2: constant(0.1, 10)}, 20: {1: constant(0.3, 20), 2: constant(0.5, 20)}}
    result = budget_test(curves)
    # different seeds: same budget |0-0.1| and |0.3-0.5| (mean 0.15); across budgets |0-0.5| and |0.3-0.1| (0.35)
    assert result.ratio == pytest.approx(0.35 / 0.15, rel=1e-12)
    # the other labeling swaps seed 2's curves: same 0.5, 0.2 (0.35); across 0.1, 0.2 (0.15); one of 2 is >= observed
    assert result.p_value == 0.5 and result.min_p == 0.5 and result.exact
    assert result.window == 10 and result.seeds == 2 and result.ratio_interval is None  # 2 seeds: no interval


def test_runs_sharing_their_prefix_are_exactly_zero_apart() -> None:
    """Prefix sharing makes a seed's 5- and 10-epoch runs bit-identical over their first 5 epochs:
    the test sees no budget effect at all, where the paper's decoupling sees its filter's edges."""
    rng = np.random.default_rng(0)
    long = {seed: (0.2 + np.exp(-np.arange(10) / 3) + 0.01 * rng.random(10)).tolist() for seed in (1, 2, 3)}
    curves = {5: {s: c[:5] for s, c in long.items()}, 10: long}
    for seed, curve in long.items():
        assert np.array_equal(smoothed_log(curves[5][seed], 5), smoothed_log(curve, 5))
        assert decoupling_paper(curves[5][seed], curve).value > 0  # each curve smoothed over its own length
    result = budget_test(curves)
    assert result.ratio == pytest.approx(1.0, rel=1e-12) and result.p_value == 1.0


def test_no_pair_drops_out_where_the_paper_scale_goes_non_positive() -> None:
    """Losses near 0 that SG-9 pushes below 0 on the paper's scale stay defined on the log scale."""
    jagged = ([1.0] + [1e-3] * 7) * 2  # SG-9 weighs epochs k-4 and k+4 by -21: epoch 4 smooths to below 0
    curves = {16: {1: jagged, 2: [v * 1.1 for v in jagged], 3: [v * 0.9 for v in jagged]},
              32: {s: [v * f for v in jagged] * 2 for s, f in ((1, 1.2), (2, 1.3), (3, 0.8))}}
    assert decoupling_paper(curves[16][1], curves[32][1]).non_positive
    result = budget_test(curves)
    assert result.p_value is not None and result.seeds == 3 and result.note is None


def test_undefined_cases_say_why() -> None:
    assert budget_test({10: {1: constant(0.0), 2: constant(0.1)}}).note == "fewer than two budgets"
    assert budget_test({10: {1: constant(0.0)}, 20: {1: constant(0.1, 20), 2: constant(0, 20)}}).note == \
        "fewer than two seeds with two budgets"
    zero = {10: {1: [0.0] * 10, 2: constant(0.1, 10)}, 20: {1: constant(0.1, 20), 2: constant(0.2, 20)}}
    assert budget_test(zero).note == "a validation loss <= 0 (no log scale)"
    same = {10: {1: constant(0.0, 10), 2: constant(0.0, 10)}, 20: {1: constant(0.1, 20), 2: constant(0.1, 20)}}
    assert budget_test(same).note == "no difference between seeds" and budget_test(same).p_value is None


def test_exact_enumeration_and_monte_carlo() -> None:
    items = [(b, s) for s in (1, 2, 3) for b in (10, 20, 40)]
    rows, exact = _labelings(items, 9999, np.random.default_rng(0))
    assert exact and len(rows) == 36 and len({tuple(r) for r in rows}) == 36  # 3! x 3!: seed 1 kept fixed
    assert all(sorted(r[3 * k:3 * k + 3]) == [10, 20, 40] for r in rows for k in range(3))
    rows, exact = _labelings(items, 10, np.random.default_rng(0))
    assert not exact and len(rows) == 11 and list(rows[0]) == [b for b, _ in items]
    curves = simulated_curves(np.random.default_rng(1), seeds=6, budgets=(20, 40, 80))
    result = budget_test(curves, n_permutations=99)
    assert not result.exact and result.min_p == 0.01  # Monte Carlo: (1 + hits) / (1 + 99)
    assert round(result.p_value * 100) == pytest.approx(result.p_value * 100)


def test_the_ratio_interval_is_the_jackknife_over_seeds_built_by_hand() -> None:
    """Leaving seed g out means dropping its runs from both means: the budget test's own statistic on the other
    seeds' runs; the interval is the t interval of the log-ratio pseudo-values, exponentiated around the ratio."""
    curves = simulated_curves(np.random.default_rng(2), seeds=4, budgets=(20, 40), effect=2.0)
    items = [(b, s) for s in range(1, 5) for b in (20, 40)]
    smoothed = np.stack([smoothed_log(curves[b][s], 20) for b, s in items])
    distances = np.abs(smoothed[:, None] - smoothed[None]).mean(axis=2)
    seeds, labels = np.asarray([s for _, s in items]), np.asarray([b for b, _ in items])
    low, high = ratio_interval(distances, seeds, labels)
    whole = _ratios(distances, seeds, labels[None])[0]
    left = [_ratios(distances[np.ix_(keep, keep)], seeds[keep], labels[None, keep])[0]
            for g in range(1, 5) if len(keep := np.flatnonzero(seeds != g))]
    pseudo = 4 * np.log(whole) - 3 * np.log(left)
    half = stats.t.ppf(0.975, 3) * np.std(pseudo, ddof=1) / 2
    assert (low, high) == pytest.approx((whole * np.exp(-half), whole * np.exp(half)), rel=1e-12)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_the_ratio_interval_covers_the_true_ratio(kind: str) -> None:
    """150 generated studies of 10 seeds (budgets 10/20/40, effect 2 noise sd): the 95% interval contains the true
    ratio (the statistic over 300 seeds) in at least 0.90 of them, and 0.85 where seeds differ by level (measured
    0.89-0.93 there; fewer seeds cover less: docs/method.md's table from benchmarks/movement_calibration.py)."""
    budgets = (10, 20, 40)
    truth = budget_test(simulated_runs(np.random.default_rng(99), kind=kind, seeds=300, budgets=budgets, effect=2.0),
                        n_permutations=1, interval=False).ratio
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(150):
        runs = simulated_runs(rng, kind=kind, seeds=10, budgets=budgets, effect=2.0)
        ci = budget_test(runs, n_permutations=1).ratio_interval
        covered += ci is not None and ci[0] <= truth <= ci[1]
    assert covered / 150 >= (0.85 if kind == "seed level" else 0.90)


def test_holm_by_hand() -> None:
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": None})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "d": None})
    assert holm({"a": 0.6, "b": 0.5}) == {"a": 1.0, "b": 1.0}


def test_seeds_needed_for_the_smallest_p_value_to_reach_alpha() -> None:
    # 3 budgets: min p 1/6^(S-1); 20 contenders need 6^(S-1) >= 400: S = 5 (1296), not 4 (216)
    assert seeds_for(0.05, 20, 3) == 5
    assert seeds_for(0.05, 1, 2) == 6  # 2^(S-1) >= 20
    assert seeds_for(0.05, 1, 4) == 2  # 24^(S-1) >= 20: S - 1 = 1


@pytest.mark.slow
def test_no_budget_effect_false_alarms_at_most_alpha_and_uniform_p_values() -> None:
    """(a) Every contender pure noise: 40 studies x 10 contenders. The family-wise false-alarm rate
    may not exceed 0.05 by more than chance allows, and the 400 unadjusted p-values are uniform."""
    rates = flag_rates(np.random.default_rng(11), studies=40, contenders=10, seeds=5, budgets=(20, 40, 80),
                       n_permutations=999)
    alarms = round(rates.family_wise_false_alarms * 40)
    assert stats.binomtest(alarms, 40, 0.05, alternative="greater").pvalue > 0.01, alarms
    p = np.asarray(rates.null_p_values)
    for level in (0.05, 0.2, 0.5):
        hits = int(np.sum(p <= level))
        assert stats.binomtest(hits, len(p), level).pvalue > 0.01, (level, hits)
    assert stats.kstest(p, "uniform").pvalue > 0.01


@pytest.mark.slow
def test_a_known_budget_effect_is_found() -> None:
    """(b) One contender of 10 shifts its log loss by 4 noise sd from the smallest to the largest budget."""
    rates = flag_rates(np.random.default_rng(12), studies=20, contenders=10, seeds=5, budgets=(20, 40, 80),
                       effect=4.0, n_permutations=999)
    assert rates.power >= 0.9


@pytest.mark.slow
def test_the_verdict_ranks_no_noise_and_names_a_real_effect() -> None:
    """18 contenders of pure noise: report.md says none is shown sensitive, and that the order of the
    point estimates is no test; give one of them a large effect and it is named, with its adjusted p."""
    rng = np.random.default_rng(3)
    names = [f"S{i}" for i in range(18)]
    noise = {n: simulated_curves(rng, seeds=5, budgets=(20, 40, 80)) for n in names}
    analysis = analyze_curves(frame(noise))
    assert not any(c.budget_test.sensitive for c in analysis.contenders.values())
    text = verdict(analysis)[-2]  # the tests' paragraph, after the outcome and the sizes
    assert text.startswith("**No contender is shown to be budget-sensitive at family-wise level 0.05 (permutation "
                           "test; family: the 18 contenders' budget tests, Holm-adjusted; 5 seeds, 3 budgets).**")
    assert "no pair can be told apart" in text and "point estimates only" in text
    assert "Least budget-sensitive" not in text
    noise["S4"] = simulated_curves(rng, seeds=5, budgets=(20, 40, 80), effect=8.0)
    analysis = analyze_curves(frame(noise))
    flagged = [n for n, c in analysis.contenders.items() if c.budget_test.sensitive]
    assert flagged == ["S4"] and analysis.contenders["S4"].budget_test.p_adjusted <= 0.05
    assert verdict(analysis)[-2].startswith("**Budget-sensitive at family-wise level 0.05 (permutation test; "
                                            "family: the 18 contenders' budget tests, Holm-adjusted; 5 seeds, 3 "
                                            "budgets): S4.**")
