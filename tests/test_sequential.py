"""Seeds until decided (results.stats.sequential): the boundaries against Monte Carlo and by hand, the pieces of a
look (nominal levels, predictive power, the t test), the decisions on hand-built studies, and the error rates on
generated studies whose truth is known (results.stats.simulation.sequential_rates)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from scipy import stats

from results.stats.looks import seeds_finished
from results.stats.movement import movement
from results.stats.pairwise import compare_all
from results.stats.sequential import (
    ALPHA,
    ContenderState,
    Design,
    PairDecision,
    SequentialOutcome,
    boundaries,
    decide,
    nominal_levels,
    predictive_power,
    t_test,
)
from results.stats.simulation import sequential_rates, simulated_runs

BUDGETS = (5, 10, 20)
DESIGN = Design(most=12, step=2)
FRACTIONS = tuple(n / DESIGN.most for n in DESIGN.looks)  # 1/3, 1/2, 2/3, 5/6, 1


def test_the_default_design_looks_at_4_6_8_10_12_seeds() -> None:
    assert DESIGN.looks == (4, 6, 8, 10, 12)
    assert Design(most=9, step=4).looks == (4, 8, 9)  # the last look is always the most seeds
    assert Design(most=3, step=2).looks == (3,)


@pytest.mark.parametrize("alpha", [ALPHA, ALPHA / 6])
def test_the_boundaries_spend_alpha_t_squared_at_each_look(alpha: float) -> None:
    """Brownian paths at the look fractions (200,000, fixed seed): the share first crossing |Z_k| >= c_k at look k
    is alpha (t_k^2 - t_(k-1)^2), within 4 Monte Carlo sds at every look."""
    c = np.array(boundaries(FRACTIONS, alpha))
    paths = 200_000
    steps = np.diff(np.array((0.0, *FRACTIONS)))
    s = np.cumsum(np.random.default_rng(0).standard_normal((paths, len(steps))) * np.sqrt(steps), axis=1)
    crossed = np.abs(s / np.sqrt(FRACTIONS)) >= c
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    found = np.array([np.mean(first == k) for k in range(len(FRACTIONS))])
    spent = alpha * np.diff(np.array((0.0, *FRACTIONS)) ** 2)
    assert np.all(np.abs(found - spent) <= 4 * np.sqrt(spent * (1 - spent) / paths)), (found, spent)
    assert np.all(np.diff(c) < 0)  # t^2 spends little early: the boundaries fall towards the last look


def test_the_boundaries_by_hand() -> None:
    """One look is the fixed two-sided z test; with rho 1 and five equal looks the first spends alpha / 5."""
    assert boundaries((1.0,), 0.05) == pytest.approx((stats.norm.isf(0.025),), abs=1e-6)  # 1.95996
    first = boundaries((0.2, 0.4, 0.6, 0.8, 1.0), 0.05, rho=1.0)[0]
    assert first == pytest.approx(stats.norm.isf(0.01 / 2), abs=1e-6)
    assert first == pytest.approx(2.5758, abs=1e-4)


def test_the_nominal_levels_grow_with_alpha_at_every_look() -> None:
    """The Maurer-Bretz recycling re-checks past looks at a larger share of alpha: it needs each look's level to
    grow with the share (the shares Holm hands out over 6 pairs, and alpha itself)."""
    levels = np.array([nominal_levels(DESIGN.looks, ALPHA / m) for m in (6, 5, 4, 3, 2, 1)])
    assert np.all(np.diff(levels, axis=0) > 0)
    assert np.all(np.diff(levels, axis=1) > 0)  # and, with t^2 spending, with the look
    assert levels[-1, 0] == pytest.approx(2 * stats.norm.sf(boundaries(FRACTIONS, ALPHA)[0]))


def test_predictive_power_by_hand() -> None:
    """z = 1.5 at 4 of 12 seeds (t = 1/3): the final z is N(z / sqrt(t), (1 - t) / t) = N(1.5 sqrt(3), 2), so the
    chance of crossing 2.0 is Phi((1.5 sqrt(3) - 2) / sqrt(2)) = Phi(0.42290) = 0.66382."""
    assert predictive_power(1.5, 4, 12, 2.0) == pytest.approx(0.66382, abs=1e-5)
    assert predictive_power(3.0, 12, 12, 2.0) == 0.0  # no look after the last
    assert predictive_power(math.inf, 4, 12, 2.0) == 1.0
    assert predictive_power(0.0, 6, 12, 2.0) == pytest.approx(stats.norm.sf(2.0))  # N(0, 1) at t = 1/2


def test_the_t_test_is_scipys() -> None:
    values = [0.3, -0.1, 0.45, 0.2, 0.05]
    p, z = t_test(values)
    assert p == pytest.approx(stats.ttest_1samp(values, 0.0).pvalue, rel=1e-10)
    assert z == pytest.approx(stats.norm.isf(p / 2), rel=1e-10)
    assert t_test([-v for v in values]) == pytest.approx((p, z))  # z is the tail as a z: positive either way
    assert t_test([0.25, 0.25, 0.25]) == (0.0, math.inf)  # no spread, a difference
    assert t_test([0.0, 0.0, 0.0]) == (1.0, 0.0)


# -- decide on hand-built studies ----------------------------------------------------------------------------

Runs = dict[int, dict[int, list[float]]]  # budget -> seed -> validation losses


def _study(seed: int, effects: tuple[float, ...], seeds: int = DESIGN.most) -> dict[str, Runs]:
    rng = np.random.default_rng(seed)
    return {f"c{i}": simulated_runs(rng, kind="independent", seeds=seeds, budgets=BUDGETS, effect=e)
            for i, e in enumerate(effects)}


def _prefix_shared(seed: int) -> Runs:
    """Every seed's runs identical across budgets: a shorter budget's curve is the longer's first epochs."""
    rng = np.random.default_rng(seed)
    full = {s: np.exp(0.05 * rng.standard_normal(max(BUDGETS))).tolist() for s in range(1, DESIGN.most + 1)}
    return {b: {s: curve[:b] for s, curve in full.items()} for b in BUDGETS}


def _everything(curves: Mapping[str, object]) -> dict[str, int]:
    return dict.fromkeys(curves, DESIGN.most)


def _by_pair(outcome: SequentialOutcome) -> dict[tuple[str, str], PairDecision]:
    return {(d.a, d.b): d for d in outcome.pairs}


def test_a_contender_moving_0_by_construction_is_untested_and_stops_after_the_first_look() -> None:
    curves = {**_study(1, (0.0, 0.0)), "shared": _prefix_shared(1)}
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    pairs = _by_pair(outcome)
    for pair in (("c0", "shared"), ("c1", "shared")):
        assert pairs[pair][2:] == ("untested", 4, 4, None, None, None)
    assert outcome.contenders["shared"] == ContenderState(4, "untested")
    assert pairs[("c0", "c1")].outcome in ("futile", "max")  # one process: tested on its own


def test_no_look_before_every_contender_has_the_first_looks_seeds() -> None:
    curves = _study(2, (0.0, 0.0, 30.0))
    outcome = decide(curves, BUDGETS, DESIGN, {"c0": 12, "c1": 12, "c2": 3})
    assert outcome.looks == ()
    assert outcome.contenders == dict.fromkeys(curves, ContenderState(0, None))
    assert all(d[2:] == ("open", 0, 0, None, None, None) for d in outcome.pairs)


def test_a_round_one_active_contender_has_not_finished_holds_the_next_look() -> None:
    """Study 2: the null pair c0-c1 is open past 6 seeds while c2's pairs are rejected at 4. With c0 finished at 7
    seeds the looks stop at 6 and c0, c1 train on; c2, stopped at 4, holds nothing back however few it finished."""
    curves = _study(2, (0.0, 0.0, 30.0))
    full = decide(curves, BUDGETS, DESIGN, _everything(curves))
    assert full.contenders["c0"].seeds >= 8 and full.contenders["c2"] == ContenderState(4, "decided")  # the setting
    held = decide(curves, BUDGETS, DESIGN, {"c0": 7, "c1": 12, "c2": 4})
    assert held.looks == (4, 6)
    assert held.contenders == {"c0": ContenderState(6, None), "c1": ContenderState(6, None),
                               "c2": ContenderState(4, "decided")}
    assert _by_pair(held)[("c0", "c1")][2:4] == ("open", 6)
    assert decide(curves, BUDGETS, DESIGN, {"c0": 12, "c1": 12, "c2": 4}).pairs == full.pairs


def test_a_huge_effect_is_rejected_at_the_first_look() -> None:
    """Effects (0, 0, 30): both pairs with c2 rejected at 4 seeds (p at or below the level they were held to), the
    null pair ends futile or at the most seeds, and each contender's state says so."""
    curves = _study(0, (0.0, 0.0, 30.0))
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    pairs = _by_pair(outcome)
    for pair in (("c0", "c2"), ("c1", "c2")):
        decision = pairs[pair]
        assert (decision.outcome, decision.seeds, decision.decided_at) == ("rejected", 4, 4)
        difference, p, level = decision[5:]
        assert difference is not None and p is not None and level is not None
        assert difference < 0 and p <= level  # c2 moves more
    null = pairs[("c0", "c1")]
    assert null.outcome in ("futile", "max")
    assert outcome.contenders == {"c0": ContenderState(null.seeds, null.outcome),
                                  "c1": ContenderState(null.seeds, null.outcome), "c2": ContenderState(4, "decided")}


@pytest.mark.parametrize("seed", [0, 4])
def test_seeds_beyond_the_looks_change_nothing(seed: int) -> None:
    """The decisions come from the stored curves alone: each contender cut to the seeds it earned, or given 4 more
    past the most (seeds 13-16), or stored in another order, gives the same pairs and contender states."""
    curves = _study(seed, (0.0, 1.0, 30.0))
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    earned = {name: state.seeds for name, state in outcome.contenders.items()}
    assert min(earned.values()) < DESIGN.most  # the setting: a contender stopped early
    cut = {name: {b: {s: v for s, v in by_seed.items() if s <= earned[name]} for b, by_seed in c.items()}
           for name, c in curves.items()}
    short = decide(cut, BUDGETS, DESIGN, earned)
    assert (short.pairs, short.contenders) == (outcome.pairs, outcome.contenders)
    extra = np.random.default_rng(99)
    more = {name: {b: {**by_seed, **{DESIGN.most + s: v for s, v in added[b].items()}} for b, by_seed in c.items()}
            for name, c in curves.items()
            for added in [simulated_runs(extra, kind="independent", seeds=4, budgets=BUDGETS)]}
    again = decide(more, BUDGETS, DESIGN, dict.fromkeys(more, 16))
    assert again == outcome
    shuffled = {name: {b: dict(reversed(by_seed.items())) for b, by_seed in c.items()} for name, c in more.items()}
    assert decide(shuffled, BUDGETS, DESIGN, dict.fromkeys(more, 16)) == outcome


def test_the_looks_taken_end_when_every_contender_has_stopped() -> None:
    curves = _study(0, (0.0, 0.0, 30.0))
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    assert max(state.seeds for state in outcome.contenders.values()) == 4  # every pair ended at the first look
    assert outcome.looks == (4,)


# -- error rates on generated studies ------------------------------------------------------------------------

STUDIES = 150


@pytest.mark.slow
def test_no_difference_gives_family_wise_false_alarms_at_most_alpha_over_every_look() -> None:
    """4 contenders of one process (6 null pairs), 150 studies: the share with any pair rejected at any look is at
    most alpha, up to the 99.9% binomial allowance (seeded: it cannot flake), and the contenders stop early."""
    rates = sequential_rates(np.random.default_rng(11), studies=STUDIES, effects=(0.0,) * 4, budgets=BUDGETS)
    allowance = stats.binom.ppf(0.999, STUDIES, ALPHA) / STUDIES
    assert rates.false_alarms is not None and rates.false_alarms <= allowance
    assert rates.fixed_false_alarms is not None and rates.fixed_false_alarms <= allowance
    assert rates.power is None and rates.matching_seeds is None
    assert rates.seed_runs < 0.8


@pytest.mark.slow
def test_a_large_effect_is_found_with_fewer_seeds() -> None:
    """Effects (0, 0, 0, 8): the pairs with the big contender are rejected in at least 90% of the studies, the
    null pairs stay within the allowance, and the adaptive design uses fewer seed-runs than the fixed one."""
    rates = sequential_rates(np.random.default_rng(12), studies=STUDIES, effects=(0.0, 0.0, 0.0, 8.0),
                             budgets=BUDGETS)
    assert rates.power is not None and rates.power >= 0.9
    assert rates.false_alarms is not None and rates.false_alarms <= stats.binom.ppf(0.999, STUDIES, ALPHA) / STUDIES
    assert rates.seed_runs < 1.0
    assert rates.matching_seeds is not None and rates.fixed_power_by_seeds[rates.matching_seeds] >= rates.power
    assert all(rates.fixed_power_by_seeds[n] < rates.power for n in range(4, rates.matching_seeds))


def test_the_rates_of_one_study_by_hand() -> None:
    """One study of effects (0, 0, 30) redrawn from the same seed and decided here by both designs: each figure is
    the count it names (1 null pair, 2 others, 3 pairs, 3 contenders x 12 seeds)."""
    effects = (0.0, 0.0, 30.0)
    rates = sequential_rates(np.random.default_rng(13), studies=1, effects=effects, budgets=BUDGETS)
    curves = _study(13, effects)
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    rejected = {(d.a, d.b) for d in outcome.pairs if d.outcome == "rejected"}
    fixed = {(c.a, c.b) for c in compare_all({n: movement(c, BUDGETS) for n, c in curves.items()}, ALPHA)
             if c.separated}
    null, pairs = ("c0", "c1"), [("c0", "c1"), ("c0", "c2"), ("c1", "c2")]
    assert (rates.studies, rates.false_alarms, rates.fixed_false_alarms) == (1, null in rejected, null in fixed)
    assert (rates.power, rates.fixed_power) == (len(rejected - {null}) / 2, len(fixed - {null}) / 2)
    assert rates.same_decisions == (rejected == fixed)
    assert rates.agreement == pytest.approx(sum((p in rejected) == (p in fixed) for p in pairs) / 3)
    assert rates.seed_runs == pytest.approx(sum(s.seeds for s in outcome.contenders.values()) / 36)
    assert sorted(rates.fixed_power_by_seeds) == list(range(4, 13))
    assert rates.fixed_power_by_seeds[12] == rates.fixed_power and rates.power is not None
    reaching = [n for n, p in rates.fixed_power_by_seeds.items() if p >= rates.power]
    assert rates.matching_seeds == min(reaching, default=None)


def test_the_rates_name_what_a_scenario_lacks() -> None:
    """No null pair: no false alarms to count; every pair null: no power, nor seeds that reach it."""
    apart = sequential_rates(np.random.default_rng(14), studies=1, effects=(0.0, 30.0), budgets=BUDGETS)
    assert apart.false_alarms is None and apart.fixed_false_alarms is None and apart.power is not None
    alike = sequential_rates(np.random.default_rng(14), studies=1, effects=(0.0, 0.0), budgets=BUDGETS)
    assert (alike.power, alike.fixed_power, alike.fixed_power_by_seeds, alike.matching_seeds) == (None, None, {}, None)
    assert alike.false_alarms is not None


def test_seeds_finished_is_the_complete_prefix_of_seeds() -> None:
    units = {(5, 1), (10, 1), (5, 2), (10, 2), (5, 3), (10, 4), (5, 4)}  # seed 3 lacks budget 10
    assert seeds_finished(units, (5, 10), 12) == 2
    assert seeds_finished(set(), (5, 10), 12) == 0
    assert seeds_finished({(b, s) for b in (5, 10) for s in range(1, 13)}, (5, 10), 12) == 12


def test_a_rejection_freed_by_another_pair_ends_at_its_own_look_with_an_earlier_looks_numbers() -> None:
    """Study 7 of effects (0, 1.5, 3): c0-c1 stays open through look 4 (its p at 10 seeds, 0.0171, is above the
    level it holds then) and is told apart at look 5, when another pair's alpha passes to it and its 10-seed p is
    judged again at the larger level: it ends at 12 seeds with the numbers of 10."""
    curves = _study(7, (0.0, 1.5, 3.0))
    pair = _by_pair(decide(curves, BUDGETS, DESIGN, _everything(curves)))[("c0", "c1")]
    assert (pair.outcome, pair.seeds, pair.decided_at) == ("rejected", 10, 12)
    assert pair.p_value is not None and pair.level is not None and pair.p_value <= pair.level
    held = _by_pair(decide(curves, BUDGETS, DESIGN, dict.fromkeys(curves, 10)))[("c0", "c1")]
    assert held.outcome == "open"  # at 10 seeds its own level did not reach it


def test_a_pair_without_an_estimate_at_two_looks_ends_and_frees_its_partner() -> None:
    """c0's runs all diverged (no complete curve: no movement, no test): its pairs end as "no estimate" at the
    second look and c0 stops there, "untested"; the pair of c1 and c2 (effects 0 and 8) is decided on its own."""
    curves = _study(1, (0.0, 0.0, 8.0))
    curves["c0"] = {b: {} for b in BUDGETS}
    outcome = decide(curves, BUDGETS, DESIGN, _everything(curves))
    pairs = _by_pair(outcome)
    for pair in (("c0", "c1"), ("c0", "c2")):
        assert pairs[pair][2:] == ("no estimate", 6, 6, None, None, pairs[pair].level)
    assert outcome.contenders["c0"] == ContenderState(6, "untested")
    assert pairs[("c1", "c2")].outcome == "rejected" and outcome.contenders["c2"].seeds < DESIGN.most
