"""Pairwise tests between contenders (results.stats.pairwise): hand-computed cases, and calibration on generated
curves where the truth is known (no difference: false alarms at most alpha; a real one: found)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from results.analysis import analyze_curves
from results.report.markdown import verdict
from results.stats.metrics import t_interval
from results.stats.pairwise import (
    compare_all,
    not_separated,
    pair_shifts,
    paired_differences,
    seeds_to_separate,
    shift,
    sign_flip_p,
)
from results.stats.simulation import simulated_curves
from tests.support.curves import frame

BUDGETS = (20, 40, 80)


def test_runs_that_share_every_step_have_a_shift_of_exactly_zero() -> None:
    """A horizon-free schedule with prefix sharing: the 5-epoch run is the 10-epoch run's first half."""
    rng = np.random.default_rng(0)
    long = {s: (1 + rng.random(10)).tolist() for s in (1, 2)}
    curves = {5: {s: c[:5] for s, c in long.items()}, 10: long}
    assert pair_shifts(curves) == {1: {(5, 10): 0.0}, 2: {(5, 10): 0.0}}
    assert shift(curves, [5, 10]).mean == 0.0


def test_the_shift_is_the_mean_log_gap_over_the_shorter_budgets_epochs() -> None:
    """Curves a constant factor apart over the window: the smoothing keeps a constant, so the shift is |log factor|."""
    curves = {3: {1: [1.0, 0.5, 0.25]}, 6: {1: [2.0, 1.0, 0.5, 9.0, 9.0, 9.0]}}  # epochs past 3 are not compared
    assert pair_shifts(curves)[1][(3, 6)] == pytest.approx(np.log(2))


def test_sign_flip_p_values_by_hand() -> None:
    rng = np.random.default_rng(0)
    assert sign_flip_p([1.0, 2.0, 3.0], rng) == 2 / 8  # only +++ and --- reach |mean| 2
    assert sign_flip_p([1.0, -1.0], rng) == 1.0
    assert sign_flip_p([1.0, 1.0, 1.0, 1.0, -1.0], rng) == pytest.approx(12 / 32)  # |mean| >= 0.6: 1 or 0 minus signs
    assert sign_flip_p([2.0], rng) is None


def test_paired_differences_use_the_seeds_and_budget_pairs_both_ran() -> None:
    a = {1: {(5, 10): 0.3, (10, 20): 0.5}, 2: {(5, 10): 0.2}, 3: {(5, 10): 0.9}}
    b = {1: {(5, 10): 0.1}, 2: {(5, 10): 0.4, (10, 20): 7.0}}
    assert paired_differences(a, b) == pytest.approx([0.2, -0.2])


def test_the_t_interval_matches_scipy() -> None:
    values = [0.1, 0.4, 0.35, 0.2]
    expected = stats.t.interval(0.95, 3, loc=np.mean(values), scale=stats.sem(values))
    assert t_interval(values) == pytest.approx(expected)
    assert t_interval([0.3]) is None


def test_seeds_needed_match_the_textbook_paired_t_sample_size() -> None:
    """Effect size 1 (mean 1, sd 1) at two-sided 0.05 with 80% power: 10 pairs (G*Power's paired t answer)."""
    differences = [1 + x for x in (-1.2, -0.6, 0.0, 0.6, 1.2)]
    differences = (np.asarray(differences) - 1) / np.std(differences, ddof=1) + 1
    assert seeds_to_separate(differences.tolist(), 0.05) == 10
    assert seeds_to_separate([0.5, -0.5], 0.05) is None  # no observed difference: no number of seeds follows


def test_the_seeds_needed_give_about_80_percent_power() -> None:
    """Simulated pairs of the size seeds_to_separate asks for: the sign-flip test finds the difference ~80% of
    the time."""
    rng = np.random.default_rng(1)
    n = seeds_to_separate([0.0, 2.0], 0.05)  # mean 1, sd 1.41
    found = np.mean([sign_flip_p(rng.normal(1.0, np.sqrt(2), n).tolist(), rng) <= 0.05 for _ in range(400)])
    assert n == 18 and 0.72 <= found <= 0.88  # binomial sd at 400 draws: 0.02


def _study(rng: np.random.Generator, contenders: int, seeds: int, effect_first: float = 0.0) -> dict:
    return {f"S{i}": simulated_curves(rng, seeds=seeds, budgets=BUDGETS, effect=effect_first if i == 0 else 0.0)
            for i in range(contenders)}


def _shifts(study: dict) -> dict:
    return {name: pair_shifts(curves) for name, curves in study.items()}


@pytest.mark.slow
def test_no_difference_between_contenders_gives_false_alarms_at_most_alpha_and_uniform_p_values() -> None:
    """Every contender is the same process: over 200 studies of 4 contenders (6 pairs) x 8 seeds, a pair is
    separated in at most alpha of the studies, and the unadjusted p-values are uniform (Kolmogorov-Smirnov)."""
    rng = np.random.default_rng(2)
    alarms, p_values = 0, []
    for k in range(200):
        comparisons = compare_all(_shifts(_study(rng, 4, 8)), alpha=0.05, seed=k)
        alarms += any(c.separated for c in comparisons)
        p_values += [c.p_value for c in comparisons]
    assert alarms / 200 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 200)
    # sign-flip p-values of 8 seeds are discrete (multiples of 1/128): compare the share at a few levels
    shares = [np.mean(np.asarray(p_values) <= level) for level in (0.05, 0.25, 0.5)]
    assert shares == pytest.approx([0.05, 0.25, 0.5], abs=0.04)


@pytest.mark.slow
def test_a_contender_with_a_budget_effect_is_separated_from_the_rest() -> None:
    """One contender's curves move with the budget (effect 6 rerun sds), 10 seeds: it is separated from every other
    contender, ranked last, and those others cannot be told apart from one another."""
    rng = np.random.default_rng(3)
    analysis = analyze_curves(frame(_study(rng, 4, 10, effect_first=6.0)))
    ranking = analysis.ranking
    assert ranking[-1].name == "S0" and ranking[-1].tied_with == []
    assert all(sorted(r.tied_with or []) == sorted({"S1", "S2", "S3"} - {r.name}) for r in ranking[:-1])
    assert all(r.metric == "shift" for r in ranking)
    text = verdict(analysis)[-2]
    assert "3 of 6 pairs separated" in text


def test_without_a_test_tied_with_is_null_not_empty() -> None:
    """Seed-mean curves give no pairwise test: 'tied with nobody' would read as clearly distinct."""
    rng = np.random.default_rng(4)
    study = _study(rng, 2, 1)
    curves = frame(study).assign(val_loss_min=0.0)
    analysis = analyze_curves(curves)
    assert analysis.comparisons is None and analysis.top_pair is None
    assert [r.tied_with for r in analysis.ranking] == [None, None]


def test_not_separated_names_the_other_side_of_each_unseparated_pair() -> None:
    rng = np.random.default_rng(5)
    comparisons = compare_all(_shifts(_study(rng, 3, 3)), alpha=0.05)
    assert not any(c.separated for c in comparisons)  # 3 seeds: the smallest p is 2/8, nothing can be separated
    assert not_separated("S1", comparisons, ["S0", "S1", "S2"]) == ["S0", "S2"]


def test_a_contender_never_compared_is_not_called_separated() -> None:
    """C ran other seeds than A and B: no pair with it is tested, so it cannot be 'separated from every other'."""
    rng = np.random.default_rng(6)
    study = {"A": simulated_curves(rng, seeds=8, budgets=BUDGETS), "B": simulated_curves(rng, seeds=8, budgets=BUDGETS,
                                                                                         effect=8.0)}
    other = simulated_curves(rng, seeds=8, budgets=BUDGETS)
    study["C"] = {b: {s + 100: c for s, c in by_seed.items()} for b, by_seed in other.items()}
    analysis = analyze_curves(frame(study))
    assert [(c.a, c.b, c.separated) for c in analysis.comparisons or []] == [("A", "B", True)]
    tied = {r.name: r.tied_with for r in analysis.ranking}
    assert tied == {"A": ["C"], "B": ["C"], "C": ["A", "B"]}


def test_a_contender_whose_long_runs_diverged_is_not_ranked_on_its_short_gaps() -> None:
    """Averaged over the budget pairs it has, C (every 80-epoch run diverged) would look least sensitive; it has no
    seed that ran every pair, so it has no shift and is not ranked."""
    rng = np.random.default_rng(7)
    study = _study(rng, 3, 6, effect_first=6.0)
    curves = frame(study)
    curves.loc[(curves["scheduler"] == "S2") & (curves["budget"] == 80), "status"] = "diverged"
    analysis = analyze_curves(curves)
    assert analysis.contenders["S2"].shift.mean is None
    assert [r.name for r in analysis.ranking] == ["S1", "S0"]


def test_a_contender_missing_a_budget_pair_gets_dashes_not_a_crash(tmp_path) -> None:
    """Every 40-epoch run of S1 diverged: it has no 20-40 or 40-80 pair; the tables show '-' there (they took the
    first contender's pairs and raised KeyError)."""
    from results.analyze_command import decoupling_lines
    from results.records import AnalysisFile
    from results.report.markdown import write_markdown

    curves = frame(_study(np.random.default_rng(8), 2, 3))
    curves.loc[(curves["scheduler"] == "S1") & (curves["budget"] == 40), "status"] = "diverged"
    analysis = analyze_curves(curves)
    text = write_markdown(AnalysisFile("g", [], [], analysis), [], tmp_path / "report.md").read_text()
    table = text.split("## Decoupling per budget pair")[1].splitlines()
    assert table[2].startswith("| contender | 20-40 | 20-80 | 40-80 | mean |")
    s1 = next(line for line in table if line.startswith("| S1 |")).split(" | ")
    assert s1[1] == "-" and s1[2] != "-" and s1[3] == "-"
    lines = decoupling_lines("g", analysis)
    assert lines[1].split()[:4] == ["scheduler", "20-40", "20-80", "40-80"]
    assert lines[3].split()[0] == "S1" and lines[3].split()[1] == "-" and lines[3].split()[3] == "-"
