"""Sensitivity metrics: hand-computed cases and the paper's own validation curves."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_coeffs

from results.stats.metrics import decoupling, decoupling_matrix, final_loss_change, mean_std, relative_change, savgol9

PAPER = Path(__file__).parent / "fixtures" / "paper-curves"


def test_savgol9_leaves_linear_sequences_unchanged() -> None:
    line = [0.5 + 0.25 * k for k in range(20)]
    assert savgol9(line) == pytest.approx(line, abs=1e-12)
    bumpy = [1.0] * 9
    bumpy[4] = 2.0
    assert savgol9(bumpy)[4] == pytest.approx(1.0 + 59 / 231)
    assert savgol9(bumpy)[:4] == bumpy[:4]


def test_decoupling_of_constant_curves_one_and_three_is_half() -> None:
    assert decoupling([1.0] * 12, [3.0] * 30) == pytest.approx(0.5)
    assert decoupling([2.0] * 10, [2.0] * 10) == 0.0


def test_non_positive_smoothed_values_are_flagged() -> None:
    with pytest.raises(ValueError, match="non-positive"):
        decoupling([1.0, -1.0, 1.0], [1.0, 1.0, 1.0])
    assert decoupling_matrix({50: [1.0, -1.0], 100: [1.0, 1.0]}) == {"50-100": None, "mean": None}


def test_final_loss_change_and_spread() -> None:
    assert final_loss_change(0.8, 0.6) == pytest.approx(25.0)
    assert relative_change(0.8, 0.6) == pytest.approx(-25.0) and relative_change(0.6, 0.9) == pytest.approx(50.0)
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(2**0.5))
    assert mean_std([4.0]) == (4.0, None) and mean_std([]) == (None, None)  # one value has no spread


def paper_curves(code: str) -> dict[int, list[float]]:
    frame = pd.read_csv(PAPER / f"Result_CIFAR10_CNN-{code}.csv")
    return {b: frame[f"{code}{b}_val_loss"].dropna().tolist() for b in (50, 100, 150, 200)}


def reference_decoupling_mean(curves: dict[int, list[float]]) -> float:
    """design.md section 5 computed without results.stats.metrics: SG-9 weights from scipy's Savitzky-Golay
    design (window 9, quadratic), interior points smoothed by numpy convolution, the first and last
    4 points left raw; mean over budget pairs of mean_k |x_k - y_k| / (x_k + y_k) over the shorter curve."""
    weights = savgol_coeffs(9, 2)

    def smooth(curve: list[float]) -> np.ndarray:
        values = np.asarray(curve, dtype=float)
        out = values.copy()
        out[4:-4] = np.convolve(values, weights[::-1], mode="valid")
        return out

    smoothed = {b: smooth(c) for b, c in curves.items()}
    pairs = [(a, b) for a in sorted(smoothed) for b in sorted(smoothed) if a < b]
    per_pair = []
    for a, b in pairs:
        n = min(len(smoothed[a]), len(smoothed[b]))
        x, y = smoothed[a][:n], smoothed[b][:n]
        per_pair.append(np.mean(np.abs(x - y) / (x + y)))
    return float(np.mean(per_pair))


def test_sg9_weights_are_scipys_savitzky_golay_window_9_order_2() -> None:
    # design.md section 5 lists the weights -21, 14, 39, 54, 59, 54, 39, 14, -21 over 231.
    assert savgol_coeffs(9, 2) * 231 == pytest.approx([-21, 14, 39, 54, 59, 54, 39, 14, -21], abs=1e-9)


def test_paper_curves_hyperbolic_decouples_less_than_cosine() -> None:
    """The paper's finding on its own CIFAR-10 CNN curves: H/EH curves stay closer across budgets.

    Curves: tests/fixtures/paper-curves/ is a byte-identical copy of ../shared/reference/paper-curves/,
    the HyperbolicLR paper's (Kim 2024, arXiv 2407.15200) exported validation-loss curves. Expected
    values: reference_decoupling_mean above (scipy + numpy, design.md section 5), not a stored run.
    Ordering: the paper's claim that HyperbolicLR/ExpHyperbolicLR decouple less than PolynomialLR and
    CosineAnnealingLR, as these curves give it (EH < H < P < C).
    """
    expected = {code: reference_decoupling_mean(paper_curves(code)) for code in ("H", "EH", "C", "P")}
    means = {code: decoupling_matrix(paper_curves(code))["mean"] for code in ("H", "EH", "C", "P")}
    assert set(decoupling_matrix(paper_curves("H"))) == {"50-100", "50-150", "50-200", "100-150", "100-200",
                                                         "150-200", "mean"}
    assert means == pytest.approx(expected, rel=1e-12)
    assert expected["EH"] < expected["H"] < expected["P"] < expected["C"]
    assert [len(c) for c in paper_curves("C").values()] == [50, 100, 150, 200]
