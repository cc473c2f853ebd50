"""Pairwise tests between contenders (results.stats.pairwise): hand-computed cases, and calibration on generated
curves where the truth is known (no difference: false alarms at most alpha; a real one: found)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from results.analysis import analyze_curves
from results.report.markdown import verdict
from results.stats.metrics import t_interval
from results.stats.movement import movement
from results.stats.pairwise import compare_all, not_separated, sign_flip_p
from results.stats.simulation import NOISE_KINDS, simulated_curves, simulated_runs
from tests.support.curves import frame

BUDGETS = (20, 40, 80)


def test_sign_flip_p_values_by_hand() -> None:
    rng = np.random.default_rng(0)
    assert sign_flip_p([1.0, 2.0, 3.0], rng) == 2 / 8  # only +++ and --- reach |mean| 2
    assert sign_flip_p([1.0, -1.0], rng) == 1.0
    assert sign_flip_p([1.0, 1.0, 1.0, 1.0, -1.0], rng) == pytest.approx(12 / 32)  # |mean| >= 0.6: 1 or 0 minus signs
    assert sign_flip_p([2.0], rng) is None


def test_the_t_interval_matches_scipy() -> None:
    values = [0.1, 0.4, 0.35, 0.2]
    expected = stats.t.interval(0.95, 3, loc=np.mean(values), scale=stats.sem(values))
    assert t_interval(values) == pytest.approx(expected)
    assert t_interval([0.3]) is None


def _study(rng: np.random.Generator, contenders: int, seeds: int, effect_first: float = 0.0) -> dict:
    return {f"S{i}": simulated_curves(rng, seeds=seeds, budgets=BUDGETS, effect=effect_first if i == 0 else 0.0)
            for i in range(contenders)}


def _movements(study: dict) -> dict:
    return {name: movement(curves) for name, curves in study.items()}


@pytest.mark.slow
def test_no_difference_between_contenders_gives_false_alarms_at_most_alpha_and_uniform_p_values() -> None:
    """Every contender is the same process: over 200 studies of 4 contenders (6 pairs) x 8 seeds, a pair is
    separated in at most alpha of the studies, and the unadjusted p-values are uniform (Kolmogorov-Smirnov)."""
    rng = np.random.default_rng(2)
    alarms, p_values = 0, []
    for k in range(200):
        comparisons = compare_all(_movements(_study(rng, 4, 8)), alpha=0.05, seed=k)
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
    assert all(r.metric == "movement" for r in ranking)
    text = verdict(analysis)[-2]
    assert "3 of 6 pairs separated" in text
    top = analysis.top_pair  # the two lowest, from one process: no evidence of a difference, so no count
    assert top is not None and top.pair == [r.name for r in ranking[:2]] and top.seeds == 10
    assert (top.evidence, top.seeds_needed, top.planning_effect, top.level) == (False, None, None, 0.05 / 6)
    assert "the data show no evidence of a difference" in text


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
    comparisons = compare_all(_movements(_study(rng, 3, 3)), alpha=0.05)
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
    seed that ran every budget, so it has no movement and is not ranked."""
    rng = np.random.default_rng(7)
    study = _study(rng, 3, 6, effect_first=6.0)
    curves = frame(study)
    curves.loc[(curves["scheduler"] == "S2") & (curves["budget"] == 80), "status"] = "diverged"
    analysis = analyze_curves(curves)
    assert analysis.contenders["S2"].movement.value is None
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


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_equal_movement_with_twice_the_rerun_noise_is_not_separated_beyond_alpha(kind: str) -> None:
    """A and B move alike in rerun units (the same effect in noise sds, no effect or 2 sds) but B's runs are twice as
    noisy: a raw distance would call B more budget-sensitive (the shift did in 56-94% of studies); in rerun units the
    single test at 0.05 fires in at most alpha plus two binomial sds of 150 studies (6 seeds)."""
    rng = np.random.default_rng(11)
    alarms = 0
    for k in range(150):
        effect = 2.0 * (k % 2)
        a = movement(simulated_runs(rng, kind=kind, seeds=6, budgets=BUDGETS, effect=effect, noise_sd=0.05))
        b = movement(simulated_runs(rng, kind=kind, seeds=6, budgets=BUDGETS, effect=effect, noise_sd=0.10))
        alarms += bool(compare_all({"A": a, "B": b}, alpha=0.05, seed=k)[0].separated)
    assert alarms / 150 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 150)


def test_a_prefix_shared_contender_is_zero_by_construction_not_best_and_not_tested() -> None:
    """P shares every step across budgets (movement exactly 0); Q has only 1% nondeterminism per run. P is not in
    any pairwise test (it cannot be 'separated' for free), is ranked first as 0, and the opening names it as 0 by
    construction."""
    rng = np.random.default_rng(12)
    runs = simulated_runs(rng, kind="independent", seeds=6, budgets=BUDGETS)
    shared = {b: {s: runs[80][s][:b] for s in runs[80]} for b in BUDGETS}
    noisy = {b: {s: (np.asarray(c) * np.exp(0.01 * rng.standard_normal(len(c)))).tolist() for s, c in by_seed.items()}
             for b, by_seed in shared.items()}
    analysis = analyze_curves(frame({"P": shared, "Q": noisy, "R": simulated_runs(rng, kind="independent", seeds=6,
                                                                                    budgets=BUDGETS)}))
    assert analysis.contenders["P"].movement.by_construction and analysis.contenders["P"].movement.value == 0.0
    assert all("P" not in (c.a, c.b) for c in analysis.comparisons or [])
    assert analysis.ranking[0].name == "P" and analysis.ranking[0].tied_with == []
    opening = "\n".join(verdict(analysis))
    assert "0 by construction (every run repeats the shorter budget's run, bit for bit): P." in opening


def test_seed_mean_curves_name_prefix_identical_contenders_zero_not_lowest() -> None:
    """Paper-style seed means: N's longer runs repeat its shorter one bit for bit. The verdict calls N 0 by
    construction (its decoupling is the filter's end points) and names the lowest among the others."""
    rng = np.random.default_rng(13)
    runs = simulated_runs(rng, kind="independent", seeds=1, budgets=BUDGETS, effect=0.0)
    shared = {b: {1: runs[80][1][:b]} for b in BUDGETS}
    moving = {b: {1: (np.asarray(runs[b][1]) * np.exp(0.2 * np.arange(b) / b * i)).tolist()}
              for i, b in enumerate(BUDGETS)}
    steeper = {b: {1: (np.asarray(runs[b][1]) * np.exp(0.6 * np.arange(b) / b * i)).tolist()}
               for i, b in enumerate(BUDGETS)}
    analysis = analyze_curves(frame({"N": shared, "A": moving, "B": steeper}).assign(val_loss_min=0.0))
    text = verdict(analysis)[-2]
    assert text.startswith("N is 0 by construction: every longer run repeats the shorter one bit for bit")
    assert "By decoupling the lowest of the other 2 is A (" in text and "and the highest B (" in text
