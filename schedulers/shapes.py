"""Pure learning-rate shapes: ``lr(t, horizon, base_lr, **params) -> float``.

Each function is the single source of truth for one schedule: the torch adapter,
``lr-trace``, the plots and the tests all evaluate these. ``t`` is the number of
scheduler steps taken so far (epochs, or batches for per-batch schedules) and
``horizon`` the number of steps in the run. Callers clamp ``t`` to ``horizon``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol


class Shape(Protocol):
    def __call__(self, t: int, horizon: int, lr: float, **params: float) -> float: ...


def constant(t: int, horizon: int, lr: float) -> float:
    """N: the base LR throughout."""
    return lr


def polynomial(t: int, horizon: int, lr: float, power: float) -> float:
    """P: PyTorch PolynomialLR with total_iters = horizon."""
    return lr * (1.0 - min(t, horizon) / horizon) ** power


def cosine(t: int, horizon: int, lr: float, infimum_lr: float) -> float:
    """C: PyTorch CosineAnnealingLR with T_max = horizon, eta_min = infimum_lr."""
    if horizon == 0:
        return lr
    return infimum_lr + (lr - infimum_lr) * (1.0 + math.cos(math.pi * t / horizon)) / 2.0


def exponential(t: int, horizon: int, lr: float, gamma: float) -> float:
    """E: PyTorch ExponentialLR."""
    return lr * gamma**t


def linear(t: int, horizon: int, lr: float, end_factor: float) -> float:
    """L: PyTorch LinearLR from factor 1 to ``end_factor`` over the horizon."""
    return lr * (1.0 + (end_factor - 1.0) * min(t, horizon) / horizon)


def step(t: int, horizon: int, lr: float, step_size: int, gamma: float) -> float:
    """S: PyTorch StepLR."""
    return lr * gamma ** (t // step_size)


def one_cycle(t: int, horizon: int, lr: float, pct_start: float,
              div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """OC: PyTorch OneCycleLR (cos anneal, two phases) over ``horizon`` batches.

    Phase boundaries follow PyTorch exactly (they sit at ``pct_start*T - 1`` and
    ``T - 1``); the last step's value is held afterwards.
    """
    initial = lr / div_factor
    final = initial / final_div_factor
    t = min(t, horizon - 1)
    warm_end = pct_start * horizon - 1.0
    if t <= warm_end:
        return _cos_between(initial, lr, t / warm_end)
    return _cos_between(lr, final, (t - warm_end) / (horizon - 1 - warm_end))


def _cos_between(start: float, end: float, progress: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * progress) + 1.0)


def cyclic(t: int, horizon: int, lr: float, step_size_up: int, infimum_lr: float) -> float:
    """CY: PyTorch CyclicLR, triangular, between infimum_lr and lr, up = down."""
    total = 2 * step_size_up
    cycle = math.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    scale = x / 0.5 if x <= 0.5 else (x - 1.0) / (0.5 - 1.0)
    return infimum_lr + (lr - infimum_lr) * scale


def _hyperbolic_h(x: int, n: int, upper_bound: float) -> float:
    return math.sqrt((n - x) / upper_bound * (2.0 - (n + x) / upper_bound))


def hyperbolic(t: int, horizon: int, lr: float, infimum_lr: float, upper_bound: float) -> float:
    """H: HyperbolicLR (Kim 2024); ends exactly at infimum_lr when upper_bound == horizon."""
    x = min(t, horizon)
    return lr + (lr - infimum_lr) * (_hyperbolic_h(x, horizon, upper_bound) - _hyperbolic_h(0, horizon, upper_bound))


def exp_hyperbolic(t: int, horizon: int, lr: float, infimum_lr: float, upper_bound: float) -> float:
    """EH: ExpHyperbolicLR, the hyperbolic curve in log-LR space."""
    x = min(t, horizon)
    exponent = _hyperbolic_h(x, horizon, upper_bound) - _hyperbolic_h(0, horizon, upper_bound)
    return lr * (lr / infimum_lr) ** exponent


def cosine_restarts(t: int, horizon: int, lr: float, t_0: int, t_mult: int, infimum_lr: float) -> float:
    """CR: PyTorch CosineAnnealingWarmRestarts (period t_0, growing by t_mult)."""
    period, offset = t_0, t
    while offset >= period:
        offset -= period
        period *= t_mult
    return infimum_lr + (lr - infimum_lr) * (1.0 + math.cos(math.pi * offset / period)) / 2.0


def stable_decay(t: int, horizon: int, lr: float, cooldown_frac: float,
                 cooldown_shape: str, infimum_lr: float) -> float:
    """WSD after warm-up: constant, then cool down over the last ``cooldown_frac`` of the horizon.

    Cool-down progress q runs 0 -> 1 over ``c = max(1, round(frac * horizon))`` steps;
    linear gives f + (1-f)(1-q), "1-sqrt" gives f + (1-f)(1-sqrt q) (relative to lr).
    """
    length = max(1, round(cooldown_frac * horizon))
    start = horizon - length
    if t <= start:
        return lr
    q = min(t - start, length) / length
    keep = 1.0 - q if cooldown_shape == "linear" else 1.0 - math.sqrt(q)
    return infimum_lr + (lr - infimum_lr) * keep


def inverse_sqrt_after(timescale: int) -> Callable[..., float]:
    """ISR decay (HF form, timescale = warm-up length): lr * sqrt(tau / (t + tau))."""
    def decay(t: int, horizon: int, lr: float, infimum_lr: float) -> float:
        return lr * math.sqrt(timescale / (t + timescale))
    return decay


def eml(x: float, y: float) -> float:
    """The EML operator eml(x, y) = exp(x) - ln(y) that the EML schedule is built from."""
    return math.exp(x) - math.log(y)


def eml_schedule(t: int, horizon: int, lr: float, warmup_frac: float, sharpness: float,
                 infimum_lr: float) -> float:
    """EML: log-shaped warm-up, then (e^{k(1-q)} - 1)/(e^k - 1) decay; built from eml().

    Warm-up multiplier ln(1 + (e-1)q) is written as eml(1, eml(eml(1, z), 1)) = ln z; the
    decay with k = 1 is (eml(1-q, 1) - 1)/(e - 1).
    """
    p = min(t, horizon) / horizon
    if p < warmup_frac:
        z = 1.0 + (math.e - 1.0) * (p / warmup_frac)
        multiplier = eml(1.0, eml(eml(1.0, z), 1.0))
    else:
        q = (p - warmup_frac) / (1.0 - warmup_frac)
        multiplier = (eml(sharpness * (1.0 - q), 1.0) - 1.0) / (math.exp(sharpness) - 1.0)
    return infimum_lr + (lr - infimum_lr) * multiplier


def warmup_epochs(horizon: int) -> int:
    """Paper rule W = max(1, E // 10), never the whole run (a 1-epoch run has no warm-up)."""
    return min(max(1, horizon // 10), horizon - 1) if horizon > 1 else 0


StartLR = Callable[[float, dict], float]


def start_at_infimum(lr: float, params: dict) -> float:
    return params["infimum_lr"]


def start_at_one_percent(lr: float, params: dict) -> float:
    return 0.01 * lr


def with_warmup(inner: Callable[..., float], start: StartLR = start_at_infimum) -> Callable[..., float]:
    """Compose a linear warm-up over W = warmup_epochs(horizon) with ``inner`` on the rest.

    The warm-up starts at ``start(lr, params)`` at t = 0 and reaches ``lr`` at t = W, where
    ``inner`` takes over with its own horizon ``horizon - W``.
    """
    def warmed(t: int, horizon: int, lr: float, **params: float) -> float:
        length = warmup_epochs(horizon)
        if t < length:
            first = start(lr, params)
            return first + (lr - first) * t / length
        return inner(t - length, horizon - length, lr, **params)

    warmed.__doc__ = f"Linear warm-up, then {inner.__name__}."
    return warmed


def inverse_sqrt(t: int, horizon: int, lr: float, infimum_lr: float) -> float:
    """ISR: linear warm-up over W from infimum_lr, then lr * sqrt(W / t) (timescale W)."""
    length = max(1, warmup_epochs(horizon))
    return with_warmup(inverse_sqrt_after(length))(t, horizon, lr, infimum_lr=infimum_lr)


def _constant_tail(t: int, horizon: int, lr: float, infimum_lr: float) -> float:
    return lr


constant_with_warmup = with_warmup(_constant_tail)
warmup_hyperbolic = with_warmup(hyperbolic)
warmup_exp_hyperbolic = with_warmup(exp_hyperbolic)
warmup_cosine = with_warmup(cosine, start_at_one_percent)
warmup_stable_decay = with_warmup(stable_decay)
