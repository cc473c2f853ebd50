"""The convex bound against the reference values of design.md section 4 and a closed form."""

import math

import numpy as np
import pytest

from schedulers.theory import bound_terms, convex_bound

N = 101  # schedules of T + 1 = 101 steps, bound at T = 100


def wsd_reference(n: int = N, cooldown: float = 0.2, final: float = 0.0) -> np.ndarray:
    c = int(cooldown * n)
    return np.concatenate([np.ones(n - c), [1.0 - (j + 1) * (1.0 - final) / c for j in range(c)]])


@pytest.mark.parametrize("schedule, omega, gamma_star, omega_star", [
    (wsd_reference(), 2.256318734713, 0.049544203455, 0.223027579140),
    (0.5 * (1 + np.cos(np.pi * np.arange(N) / (N - 1))), 1.114053494746, 0.094694505862, 0.209114351648),
    (np.linspace(1.0, 0.0, N), 1.056674765277, 0.097255214546, 0.203608416171),
])
def test_reference_bounds(schedule, omega: float, gamma_star: float, omega_star: float) -> None:
    bound = convex_bound(schedule, T=100)
    assert bound.omega == pytest.approx(omega, rel=1e-10)
    assert bound.gamma_star == pytest.approx(gamma_star, rel=1e-10)
    assert bound.omega_star == pytest.approx(omega_star, rel=1e-10)


def test_constant_schedule_has_closed_form_terms() -> None:
    T, gamma = 100, 0.5
    terms = bound_terms([gamma] * (T + 1), T)
    harmonic = sum(1 / k for k in range(1, T))
    assert terms == pytest.approx((1 / (2 * gamma * T), gamma / 2, gamma / 2 * harmonic), rel=1e-12)
    assert math.isclose(sum(terms), 1 / (2 * gamma * T) + gamma / 2 * (1 + harmonic), rel_tol=1e-12)
