"""The `schedulers` and `lr-trace` commands, run through the real CLI."""

import json

import pytest
from typer.testing import CliRunner

from run_all import app
from tests.support.refusals import BAD_LR_TRACE

runner = CliRunner()


def test_schedulers_json_lists_every_code() -> None:
    result = runner.invoke(app, ["schedulers", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows][:13] == ["N", "P", "C", "E", "L", "S", "OC", "CY", "H", "EH", "WH", "WEH", "WC"]
    by_code = {r["code"]: r for r in rows}
    assert by_code["OC"]["per_batch"] is True and by_code["H"]["per_batch"] is False
    assert by_code["S"]["defaults"] == {"step_size": 16, "gamma": 0.1}
    assert by_code["H"]["search_space"]["upper_bound"] == {"type": "int", "low": 200, "high": 400, "step": 50}
    assert by_code["OC"]["param_kinds"]["pct_start"] == "relative"


def test_lr_trace_json_prints_hyperbolic_reference() -> None:
    result = runner.invoke(app, ["lr-trace", "H", "--epochs", "10", "--lr", "1", "--set", "infimum_lr=1e-3",
                                 "--set", "upper_bound=20", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["code"] == "H"
    assert out["lr"] == pytest.approx([1, 0.941808, 0.882424, 0.821540, 0.758716, 0.693299, 0.624249,
                                       0.549756, 0.466171, 0.363740], abs=5e-7)


def test_lr_trace_per_batch_has_one_value_per_step() -> None:
    result = runner.invoke(app, ["lr-trace", "OC", "--epochs", "5", "--steps-per-epoch", "4", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["lr"]) == 20


@pytest.mark.parametrize("args, message", BAD_LR_TRACE)
def test_lr_trace_bad_input_is_one_line_and_nonzero(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_lr_trace_all_plots_one_png_per_scheduler(tmp_path) -> None:
    result = runner.invoke(app, ["lr-trace", "--all", "--epochs", "50,100", "--plot", str(tmp_path)])
    assert result.exit_code == 0
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 18 and "lr_WEH.png" in pngs
    assert all((tmp_path / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_lr_trace_metrics_report_budget_and_convex_bound() -> None:
    from schedulers.theory import convex_bound

    result = runner.invoke(app, ["lr-trace", "L", "--epochs", "100", "--lr", "1", "--set", "end_factor=0.001",
                                 "--metrics", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["cumulative_lr"] == pytest.approx(sum(out["lr"]), rel=1e-12)
    relative = [1 + (0.001 - 1) * min(t, 100) / 100 for t in range(101)]
    assert out["bound_gamma_star"] == pytest.approx(convex_bound(relative, 100).gamma_star, rel=1e-12)
    # Linear decay to (almost) zero: close to the reference gamma* of 0.09726 for decay exactly to zero.
    assert out["bound_gamma_star"] == pytest.approx(0.097255214546, rel=0.01)
