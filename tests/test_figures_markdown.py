"""The analyze command end to end: analysis.json, PNGs and report.md; multi-task merging; torch stays out."""

import json
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_coeffs
from typer.testing import CliRunner

from results.analysis import analyze_curves
from results.records import Analysis, Block, PaperValue, from_json
from results.report.markdown import verdict
from results.stats.across_tasks import complete_block, performance_profile
from results.summary import merge_reports
from run_all import app
from tests.processes import HANG_SECONDS
from tests.support.curves import synthetic_curves

PAPER = Path(__file__).parent / "fixtures" / "paper-curves"
SHARED_PAPER = Path(__file__).parents[2] / "shared" / "reference" / "paper-curves"
ROOT = Path(__file__).parents[1]


def independent_mean_decoupling(path: Path, code: str) -> float:
    """Reference computed here from the design's formula (design.md section 5) with scipy's SG-9 weights,
    independently of results.stats.metrics: smooth each budget's curve (edges raw), mean |x-y|/(x+y), mean over pairs.
    """
    frame = pd.read_csv(path)
    weights = savgol_coeffs(9, 2)
    smoothed = []
    for budget in (50, 100, 150, 200):
        curve = frame[f"{code}{budget}_val_loss"].dropna().to_numpy()
        inner = np.convolve(curve, weights[::-1], mode="valid")
        smoothed.append(np.concatenate([curve[:4], inner, curve[-4:]]))
    values = [np.mean(np.abs(x - y[:len(x)]) / (x + y[:len(x)]))  # x is the shorter curve
              for i, x in enumerate(smoothed) for y in smoothed[i + 1:]]
    return float(np.mean(values))


def links_resolve(report: Path) -> list[str]:
    links = re.findall(r"\]\(([^)]+)\)", report.read_text())
    assert links and all(not link.startswith("/") for link in links)
    assert all((report.parent / link).is_file() for link in links), links
    return links


def test_analyze_paper_fixture_prints_paper_decoupling_and_writes_everything(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(PAPER), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    analysis = json.loads((tmp_path / "out" / "analysis.json").read_text())
    h_mean = analysis["contenders"]["H"]["decoupling"]["paper_mean"]
    assert h_mean == pytest.approx(independent_mean_decoupling(PAPER / "Result_CIFAR10_CNN-H.csv", "H"), rel=1e-12)
    assert h_mean == pytest.approx(0.00214888, abs=1e-8)
    line = next(row for row in result.output.splitlines() if row.startswith("H "))
    assert line.split()[-1] == "0.00214888" and len(line.split()) == 8  # 6 pairs and the mean
    assert analysis["seed_mean_only"] and analysis["contenders"]["H"]["per_seed"] is None
    links = links_resolve(tmp_path / "out" / "report.md")
    assert "plots/decoupling_heatmap.png" in links and "plots/lr_schedules.png" not in links  # no lr in exports
    assert all((tmp_path / "out" / link).stat().st_size > 10_000 for link in links)
    text = (tmp_path / "out" / "report.md").read_text()  # seed means: no empty interval and test columns
    assert "| rank | contender | family | decoupling | change % (+: worse) | diverged |" in text
    assert " - |" not in text.split("## Final validation loss")[1].split("##")[0]  # was "9.565e-08 -"


@pytest.mark.skipif(not SHARED_PAPER.is_dir(), reason="the paper's curves are not next to this checkout")
def test_golden_osc_lstm_hyperbolic_with_non_positive_smoothing() -> None:
    from results.sources.curve_files import load_curves

    analysis = analyze_curves(load_curves([SHARED_PAPER]).frames["OSC_LSTM"])
    expected = independent_mean_decoupling(SHARED_PAPER / "Result_OSC_LSTM-H.csv", "H")
    assert analysis.contenders["H"].decoupling.paper_mean == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.259976, abs=1e-6)
    assert analysis.contenders["H"].decoupling.strict["mean"] is None  # smoothed values go negative


@pytest.mark.skipif(not SHARED_PAPER.is_dir(), reason="the paper's curves are not next to this checkout")
def test_the_paper_curves_summary_puts_e_and_n_apart_and_tests_what_was_measured() -> None:
    """Issue 25: the summary of the paper's four tasks opened with "Lowest mean rank: E", an artefact of the
    filter's end points on bit-identical prefixes, and ranked values the per-task reports call not a measurement."""
    from results.sources.curve_files import load_curves

    frames = load_curves([SHARED_PAPER]).frames
    merged = merge_reports({task: analyze_curves(frame) for task, frame in frames.items()})
    for name in ("E", "N"):
        contender = merged.contenders[name]
        assert contender.horizon_free and set(contender.status.values()) == {"prefix-shared"}
    unmeasured = {n: [t for t, s in c.status.items() if s == "not a measurement"] for n, c in merged.contenders.items()}
    assert unmeasured == {"EH": ["OSC_LSTM"], "H": ["Integral_MLP", "OSC_LSTM"], "P": ["Integral_MLP", "OSC_LSTM"],
                          "C": ["Integral_MLP", "Integral_TF", "OSC_LSTM"], "E": [], "N": []}
    assert merged.block == Block(["EH", "H", "P"], ["CIFAR10_CNN", "Integral_TF"])
    assert merged.friedman is not None and merged.friedman.p_value == pytest.approx(math.exp(-2))  # chi-squared 4


@pytest.mark.slow
def test_analyze_our_curves_with_diverged_run(tmp_path: Path) -> None:
    curves = synthetic_curves()
    (tmp_path / "run").mkdir()
    curves.to_csv(tmp_path / "run" / "curves.csv", index=False)
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "run" / "curves.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    analysis = json.loads((tmp_path / "o" / "analysis.json").read_text())
    c = analysis["contenders"]["C"]
    assert c["diverged"] == {"count": 1, "runs": ["40/2"]} and c["seeds"]["40"] == [0, 1]
    assert c["per_seed"]["n"] == 3 and c["per_seed"]["ci"][0] <= c["per_seed"]["mean"] <= c["per_seed"]["ci"][1]
    assert c["noise_ratio"] == pytest.approx(c["per_seed"]["mean"] / c["noise_floor"])
    assert analysis["predictor_source"] == "lr column" and len(analysis["ranking"]) == 20
    assert analysis["rank_stability"] == {"20": 1.0, "40": 1.0}  # the synthetic order never changes
    report = (tmp_path / "o" / "report.md").read_text()
    # 3 seeds x 3 budgets: the smallest p-value is 1/36, x20 contenders by Holm: nothing can be significant
    assert report.splitlines()[2] == "**What a longer budget does to the final validation loss** (mean over seeds):"
    assert "- Lowest at 10 epochs N (0.292); at 20 epochs N" in report
    assert "- Change per doubling of the budget: " in report
    assert "family: the 190 pairs of contenders, Holm-adjusted at 0.05" in report
    assert len(analysis["outcome"]["slope_comparisons"]) == 190 and analysis["outcome"]["order"]["tau"] == 1.0
    [verdict_line] = [line for line in report.splitlines() if line.startswith("**No contender is shown")]
    assert "At least 5 seeds per budget are needed." in verdict_line
    assert "1 (40/2)" in report  # diverged runs are named in the tables
    links = links_resolve(tmp_path / "o" / "report.md")
    assert len(links) == 7 and all((tmp_path / "o" / link).stat().st_size > 10_000 for link in links)


def test_one_budget_draws_no_empty_heatmap_and_warns_nothing(tmp_path: Path) -> None:
    """One budget has no budget pair: the heatmap would be an empty, degenerate image (matplotlib warned)."""
    from results.figures.run import write_figures

    curves = synthetic_curves(["N", "H"], budgets=(10,), seeds=2, diverged=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = write_figures(analyze_curves(curves), curves, tmp_path)
    assert sorted(p.name for p in written) == ["decoupling_vs_noise.png", "final_loss.png", "lr_schedules.png",
                                               "val_curves.png"]


@pytest.mark.parametrize("content, expected", [
    (None, "no such file or folder"), ("a,b\n1,2\n", "unrecognised CSV; expected an EpochBench curves.csv")])
def test_analyze_bad_input_is_one_error_line_and_status_2(tmp_path: Path, content: str | None, expected: str) -> None:
    target = tmp_path / "x.csv"
    if content is not None:
        target.write_text(content)
    result = subprocess.run([sys.executable, "run_all.py", "analyze", str(target), "--out", str(tmp_path / "o")],
                            cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {target}: {expected}")


def _report(values: dict[str, float]) -> Analysis:
    """The parts of an analysis a merge reads: a ranking value per contender, no sensitivity."""
    return from_json(Analysis, {"contenders": {n: {"sensitivity": {"value": None}} for n in values},
                                "ranking": [{"name": n, "value": v} for n, v in values.items()]})


def test_merge_reports_ranks_only_on_shared_tasks_and_gives_a_performance_profile() -> None:
    """C has no value on t1: it is named with the task it misses, not ranked on t2 alone (a summary once averaged
    ranks over different task sets); A and B are ranked among themselves on both."""
    merged = merge_reports({"t1": _report({"A": 1.0, "B": 2.0}), "t2": _report({"A": 4.0, "B": 2.0, "C": 1.0})})
    assert merged.contenders["A"].ranks == {"t1": 1.0, "t2": 2.0}
    assert merged.contenders["B"].ranks == {"t1": 2.0, "t2": 1.0}
    assert merged.contenders["C"].ranks == {"t1": None, "t2": None}
    assert merged.contenders["C"].status == {"t1": "not run", "t2": "measured"}
    assert [(n, c.mean_rank) for n, c in merged.contenders.items()] == [("A", 1.5), ("B", 1.5), ("C", None)]
    assert merged.block == Block(["A", "B"], ["t1", "t2"]) and merged.friedman is None  # 2 contenders: no test
    profile, skipped = performance_profile({"A": {"t1": 1.0, "t2": 5.0}, "B": {"t1": 2.0, "t2": 2.0}},
                                           taus=(1.0, 2.0, 3.0))
    # A: best on t1, 2.5 x the best on t2; B: 2 x the best on t1, best on t2
    assert profile == {"A": [0.5, 0.5, 1.0], "B": [0.5, 1.0, 1.0]} and skipped == []
    assert performance_profile({"A": {"t": -1.0}}, taus=(1.0,)) == ({"A": [0.0]}, ["t"])


def test_the_complete_block_has_the_most_measurements_3_contenders_first() -> None:
    """t1 measures A, B, C, D; t2 A, B, C; t3 A, B; t4 A, B. A and B on all four tasks (8 cells) beat A, B, C on
    t1 and t2 (6 cells), but the test needs 3 contenders, so those come first; one task is no block."""
    measured = {"t1": ["A", "B", "C", "D"], "t2": ["A", "B", "C"], "t3": ["A", "B"], "t4": ["B", "A"]}
    assert complete_block(measured) == (["A", "B", "C"], ["t1", "t2"])
    assert complete_block({t: m for t, m in measured.items() if t != "t2"}) == (["A", "B"], ["t1", "t3", "t4"])
    assert complete_block({"t1": ["A", "B", "C"], "t2": ["A", "B", "D"], "t3": ["C", "D"]}) == (["A", "B"],
                                                                                              ["t1", "t2"])
    assert complete_block({"t1": ["A", "B", "C"]}) is None and complete_block({"t1": ["A"], "t2": ["A"]}) is None

@pytest.mark.slow
def test_analyze_folder_with_several_groups_writes_a_cross_task_summary(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for code in ("H", "C", "EH"):
        text = (PAPER / f"Result_CIFAR10_CNN-{code}.csv").read_text()
        (source / f"Result_CIFAR10_CNN-{code}.csv").write_text(text)
        (source / f"Result_OSC_LSTM-{code}.csv").write_text(text)
    result = CliRunner().invoke(app, ["analyze", str(source), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["tasks"] == ["CIFAR10_CNN", "OSC_LSTM"]
    assert {n: c["mean_rank"] for n, c in summary["contenders"].items()} == {"EH": 1.0, "H": 2.0, "C": 3.0}
    links = links_resolve(tmp_path / "o" / "report.md")
    assert "plots/performance_profile.png" in links and "OSC_LSTM/report.md" in links
    links_resolve(tmp_path / "o" / "OSC_LSTM" / "report.md")


def test_results_modules_leave_torch_out() -> None:
    code = ("import sys, results.analysis, results.sources.curve_files, results.figures.run, results.report.markdown, "
            "results.summary, results.analyze_command, results.stats.metrics; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=HANG_SECONDS)
    assert result.stdout.strip() == "False", result.stderr


def test_val_curves_use_a_log_axis_only_across_a_decade() -> None:
    from results.figures.style import spans_decades

    assert not spans_decades(pd.Series([0.8, 1.4, 2.3]))  # CIFAR: three tick labels on a log axis
    assert spans_decades(pd.Series([0.05, 0.2, 0.9])) and not spans_decades(pd.Series([0.0, 0.5, 5.0]))
    assert spans_decades(pd.Series([0.01, float("nan"), 0.5]))
    # decoupling_vs_noise: E's 0.0011 beside P's 0.75 (OSC) goes on a log axis; 0.05 beside 0.75 does not
    assert spans_decades(pd.Series([0.0011, 0.75]), factor=100) and not spans_decades(pd.Series([0.05, 0.75]), 100)


def test_the_heatmap_colours_only_distances() -> None:
    """Integral MLP P's flagged 1.7 stretched the colour scale past 1, the most a distance can be."""
    from results.figures.run import coloured_values

    cells = [[PaperValue(0.05, False), PaperValue(1.7, True)], [PaperValue(None, False), PaperValue(-0.04, True)]]
    values = coloured_values(cells)
    assert values[0, 0] == 0.05 and np.isnan(values[0, 1]) and np.isnan(values[1]).all()


def test_the_verdict_says_when_a_named_contenders_pairs_are_all_flagged() -> None:
    """The OSC verdict named E as least sensitive without saying every one of its pairs was flagged."""
    jagged = ([1.0] + [1e-3] * 7) * 4  # SG-9 smooths epoch 4 of every 8 to below 0
    smooth = list(np.linspace(1.0, 0.5, 32))
    rows = [{"scheduler": name, "budget": budget, "seed": 0, "epoch": e, "val_loss": v * (1 + 0.01 * (budget == 32)),
             "val_loss_min": v, "val_loss_max": v, "status": "complete"}
            for name, curve in (("E", jagged), ("C", smooth)) for budget in (16, 32)
            for e, v in enumerate(curve[:budget])]
    analysis = analyze_curves(pd.DataFrame(rows))
    assert analysis.seed_mean_only and len(analysis.ranking) == 2  # both named: lowest and highest
    assert "Every budget pair of E was smoothed to a loss <= 0 somewhere" in "\n".join(verdict(analysis))


def test_friedman_and_nemenyi_by_hand() -> None:
    """A ranks first, B second and C third on each of 4 tasks: Friedman's chi-squared is
    12 / (N k (k + 1)) * sum R_j^2 - 3 N (k + 1) = 12 / 48 * (16 + 64 + 144) - 48 = 8 (p = exp(-4) with 2 df).
    Nemenyi's critical difference at 0.05 is q 2.343 * sqrt(k (k + 1) / 6N) = 1.657 mean ranks: A and C (2 apart)
    are separated, A and B (1 apart) are not."""
    tasks = {f"t{i}": _report({"A": 0.1 * i, "B": 0.5 + i, "C": 9.0 + i}) for i in range(4)}
    merged = merge_reports(tasks, alpha=0.05)
    friedman = merged.friedman
    assert friedman is not None
    assert friedman.statistic == pytest.approx(8.0) and friedman.p_value == pytest.approx(math.exp(-4))
    assert friedman.nemenyi_p["A"]["C"] < 0.05 < friedman.nemenyi_p["A"]["B"]
    assert friedman.nemenyi_p["A"]["C"] == friedman.nemenyi_p["C"]["A"]


def test_friedman_false_alarms_at_the_stated_rate_when_no_contender_differs() -> None:
    """Values drawn alike for 5 contenders on 10 tasks, 400 times: the test rejects at 0.05 in about 5% of them."""
    rng = np.random.default_rng(0)
    rejected = np.mean([merge_reports({f"t{i}": _report({n: float(rng.random()) for n in "ABCDE"}) for i in range(10)},
                                      alpha=0.05).friedman.p_value <= 0.05 for _ in range(400)])
    assert abs(rejected - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / 400)


def test_horizon_free_contenders_alone_give_sizes_and_no_test(tmp_path: Path) -> None:
    """N, E and S ignore the run's length: never ranked, so three tasks of them alone give their sizes, no block, no
    Friedman test and no profile (summary.json and report.md still write)."""
    from results.report.summary import write_summary

    tasks = {f"t{i}": _report({"N": 0.01, "E": 0.02 + i / 100, "S": 0.03}) for i in range(3)}
    merged = merge_reports(tasks)
    assert all(c.horizon_free and c.mean_rank is None for c in merged.contenders.values())
    assert merged.block is None and merged.friedman is None and merged.profile is None
    assert merged.contenders["E"].values == {"t0": 0.02, "t1": 0.03, "t2": 0.04}
    write_summary(tasks, {}, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text())["friedman"] is None
    text = (tmp_path / "report.md").read_text()
    assert "- Horizon-free, reported apart and never ranked (the LR at each step ignores the run's length, so a size " \
           "above 0 is what a rerun moves, not the budget): N 0.01 on t0, 0.01 on t1, 0.01 on t2; E 0.02 on t0, " \
           "0.03 on t1, 0.04 on t2; S 0.03 on t0, 0.03 on t1, 0.03 on t2." in text
    assert "No ranks and no tests: no 2 horizon-aware contenders are measured on the same 2 tasks." in text
    assert not (tmp_path / "plots").exists()


def test_the_opening_gives_the_outcome_and_what_the_seeds_could_separate() -> None:
    """Three contenders whose LR decays a little faster each (tests.support.curves): N ends lowest at every budget,
    C gains most per doubling; 8 seeds separate every pair on it, 4 cannot under Holm over 3 pairs
    (3 x 2 / 2^4 = 0.375 > 0.05; the first S with 3 x 2 / 2^S <= 0.05 is 7)."""
    from results.report.markdown import outcome_lines

    eight = outcome_lines(analyze_curves(synthetic_curves(["N", "H", "C"], seeds=8, diverged=None)))
    assert eight[2] == ("- Lowest at 10 epochs N (0.321); at 20 epochs N (0.127); at 40 epochs N (0.0561); the "
                        "highest there, C, ends 1.1x higher.")
    assert eight[3].startswith("- Change per doubling of the budget: C -59% [-60%, -58%], H -59% [-60%, -57%], "
                               "N -58% [-59%, -57%] (each seed's own fit")
    assert eight[4] == ("- Told apart on it: C from H, N; H from N (3 of 3 pairs; paired sign-flip tests over seeds; "
                        "family: the 3 pairs of contenders, Holm-adjusted at 0.05).")
    assert eight[5].startswith("- The tuning budget's order (10 epochs) at 40 epochs: Kendall tau 1 [1, 1]")
    four = outcome_lines(analyze_curves(synthetic_curves(["N", "H", "C"], seeds=4, diverged=None)))
    assert four[4].endswith("with 4 seeds the smallest adjusted p-value is 0.38, above 0.05: no pair could have "
                            "been told apart, at least 7 seeds are needed).")


def _seed_means(curves: dict[str, dict[int, list[float]]]) -> pd.DataFrame:
    """Seed-mean curves (the paper's exports): name -> budget -> curve."""
    return pd.DataFrame([{"scheduler": name, "budget": budget, "seed": 0, "epoch": e, "val_loss": v, "val_loss_min": v,
                          "val_loss_max": v, "status": "complete"}
                         for name, by_budget in curves.items() for budget, curve in by_budget.items()
                         for e, v in enumerate(curve)])


def test_the_summary_counts_prefix_shared_runs_as_0_and_leaves_out_what_is_not_a_measurement() -> None:
    """E's 32-epoch curve repeats its 16-epoch one, yet the filter's raw end points give the paper's decoupling a
    value above 0: the summary counts it as exactly 0, by construction. J's curve is smoothed to a loss <= 0 on t1
    (SG-9 on a spike every 8 epochs): not a measurement there, so C and J share no 2 tasks and nothing is ranked."""
    long = list(np.linspace(1.0, 0.2, 32) ** 2)
    jagged = ([1.0] + [1e-3] * 7) * 4
    shared = {16: long[:16], 32: long}
    smooth = {16: list(np.linspace(1.0, 0.5, 16)), 32: list(np.linspace(1.0, 0.4, 32))}
    tasks = {"t1": {"E": shared, "C": smooth, "J": {16: jagged[:16], 32: [1.01 * v for v in jagged]}},
             "t2": {"E": shared, "C": {b: [1.1 * v for v in c] for b, c in smooth.items()}, "J": smooth}}
    analyses = {task: analyze_curves(_seed_means(curves)) for task, curves in tasks.items()}
    e = analyses["t1"].contenders["E"]
    assert e.prefix_shared is True and e.sensitivity.value > 0  # the filter's raw end points differ
    assert analyses["t1"].contenders["J"].prefix_shared is False
    merged = merge_reports(analyses)
    assert merged.contenders["E"].values == {"t1": 0.0, "t2": 0.0}
    assert merged.contenders["E"].status == {"t1": "prefix-shared", "t2": "prefix-shared"}
    assert merged.contenders["J"].status == {"t1": "not a measurement", "t2": "measured"}
    assert merged.contenders["J"].values["t1"] is None and merged.block is None
    assert [(n, c.horizon_free) for n, c in merged.contenders.items()] == [("C", False), ("J", False), ("E", True)]


def _scaled(k: float) -> dict[int, list[float]]:
    """A linear curve at 16 epochs and (1 + k) times it at 32: SG-9 keeps a line, so the decoupling is exactly
    |x - (1 + k) x| / (x + (1 + k) x) = k / (2 + k)."""
    line = list(np.linspace(1.0, 0.5, 32))
    return {16: line[:16], 32: [(1 + k) * v for v in line]}


def test_the_summary_ranks_and_tests_only_measured_horizon_aware_contenders(tmp_path: Path) -> None:
    """Three tasks of seed-mean curves. N repeats its 16-epoch curve at 32 (prefix-identical; the filter's raw end
    points give the paper's number 0.000214 on every task): 0 by construction, apart. P's t3 curve is smoothed to a
    loss <= 0: not a measurement. Sizes k / (2 + k): t1 H 0.1, C 0.2, P 0.3; t2 C 0.1, H 0.2, P 0.3; t3 C 0.1,
    H 0.2. H, C, P on t1, t2 (6 cells, 3 contenders) is the block, not C, H on all three (6 cells, 2 contenders).
    Ranks: t1 H 1, C 2, P 3; t2 C 1, H 2, P 3; mean ranks H 1.5, C 1.5, P 3. Friedman (k = 3, N = 2): rank sums
    3, 3, 6, chi-squared 12 / (2 * 3 * 4) * (9 + 9 + 36) - 3 * 2 * 4 = 3, p = exp(-3 / 2) (2 df). Profile: on t1
    C is 1.909 x H (0.2 / 2.2 against 0.1 / 2.1), P 2.739 x; on t2 the same with C and H swapped."""
    from results.report.summary import write_summary
    from results.stats.across_tasks import TAUS

    jagged = ([1.0] + [1e-3] * 7) * 4
    spiky = {16: jagged[:16], 32: [1.01 * v for v in jagged]}
    bent = list(1 / np.linspace(1.0, 8.0, 32) ** 2)
    n = {16: bent[:16], 32: bent}
    tasks = {"t1": {"N": n, "H": _scaled(0.1), "C": _scaled(0.2), "P": _scaled(0.3)},
             "t2": {"N": n, "H": _scaled(0.2), "C": _scaled(0.1), "P": _scaled(0.3)},
             "t3": {"N": n, "H": _scaled(0.2), "C": _scaled(0.1), "P": spiky}}
    analyses = {task: analyze_curves(_seed_means(curves)) for task, curves in tasks.items()}
    assert analyses["t1"].contenders["N"].sensitivity.value == pytest.approx(2.14e-4, rel=0.01)
    merged = merge_reports(analyses, alpha=0.05)
    assert merged.contenders["H"].values == {"t1": pytest.approx(0.1 / 2.1), "t2": pytest.approx(0.2 / 2.2),
                                             "t3": pytest.approx(0.2 / 2.2)}
    assert merged.contenders["P"].status == {"t1": "measured", "t2": "measured", "t3": "not a measurement"}
    assert merged.contenders["N"].values == {"t1": 0.0, "t2": 0.0, "t3": 0.0} and merged.contenders["N"].horizon_free
    assert merged.block == Block(["H", "C", "P"], ["t1", "t2"])  # in the order the curves name them
    assert [(name, c.mean_rank) for name, c in merged.contenders.items()] == [("H", 1.5), ("C", 1.5), ("P", 3.0),
                                                                              ("N", None)]
    assert merged.contenders["H"].ranks == {"t1": 1.0, "t2": 2.0, "t3": None}
    friedman = merged.friedman
    assert friedman is not None and friedman.contenders == ["H", "C", "P"] and friedman.tasks == ["t1", "t2"]
    assert friedman.statistic == pytest.approx(3.0) and friedman.p_value == pytest.approx(math.exp(-1.5))
    assert merged.family == ("the 3 horizon-aware contenders measured on the same 2 tasks: one Friedman test over "
                             "their ranks, then Nemenyi's test over their 3 pairs, family-wise at 0.05")
    ratio = (0.2 / 2.2) / (0.1 / 2.1)
    assert merged.profile is not None and set(merged.profile.fractions) == {"C", "H", "P"}
    assert merged.profile.fractions["H"] == [0.5 if tau < ratio else 1.0 for tau in TAUS]
    assert merged.profile.fractions["P"] == [0.0 if tau < 0.3 / 2.3 / (0.1 / 2.1) else 1.0 for tau in TAUS]
    write_summary(analyses, {}, tmp_path)
    lines = (tmp_path / "report.md").read_text().splitlines()
    assert lines[4].startswith("- **Horizon-free: N is 0 by construction on every task** (the LR at each step")
    assert lines[5].startswith("- Horizon-aware: H, C and P (the LR at each step depends on the run's length")
    assert lines[6] == ("- Left out of the ranks, tests and profile, not a measurement (the paper pipeline's seed-mean "
                        "decoupling with a budget pair smoothed to a loss <= 0, where the formula is no distance): P "
                        "on t3.")
    assert lines[8:14] == ["| contender | schedule | t1 | t2 | t3 |", "|---|---|---|---|---|",
                           "| H | horizon-aware | 0.0476 | 0.0909 | 0.0909 |",
                           "| C | horizon-aware | 0.0909 | 0.0476 | 0.0476 |",
                           "| P | horizon-aware | 0.13 | 0.13 | not a measurement |",
                           "| N | horizon-free | 0 by construction | 0 by construction | 0 by construction |"]
    assert "Friedman test over 2 tasks and 3 contenders: chi-squared 3, p = 0.22. Above 0.05" in "\n".join(lines)
    assert links_resolve(tmp_path / "report.md") == ["plots/performance_profile.png", "plots/critical_difference.png"]
