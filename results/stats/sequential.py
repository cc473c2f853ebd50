"""Seeds until decided: the pairwise movement comparisons looked at after every round of seeds, with error rates
that hold over every look.

Phase 2 with ``--compare-seeds auto`` trains seeds in rounds (looks at FIRST_LOOK seeds, then every ``step`` more up to
the most seeds). After each round every open pair of contenders is tested on the per-seed units of the fixed design
(results.stats.pairwise: the jackknife pseudo-values of log(movement a / movement b)), and a contender trains further
seeds only while one of its pairs is open.

- Test at a look: Tukey's jackknife t test, the one-sample t test of the pseudo-values' mean (n - 1 df). Not the
  fixed design's sign-flip test: its smallest p-value, 2 / 2^n, lies above every boundary before about 10 seeds, so
  no look before could ever decide.
- Efficacy: Lan & DeMets' alpha spending (1983, Biometrika 70:659) with the Kim-DeMets power family
  alpha(t) = alpha t^RHO (1987, Biometrika 74:149), t = seeds / most seeds. The z boundaries are those of a statistic
  with independent increments (Brownian motion at the looks), by numerical integration; each becomes a nominal
  p-level its look's t test is held to (Jennison & Turnbull 2000, section 3.8). The pseudo-values are recomputed at
  every look, so the increments are independent only approximately: the family-wise error over every look is
  measured by simulation (tests/test_sequential.py, benchmarks/sequential_calibration.py), not assumed.
- Pairs: Holm's procedure carried into the group-sequential setting by the graphical approach of Maurer & Bretz
  (2013, Stat Biopharm Res 5:311): each pair not rejected holds alpha / (pairs not rejected); a rejected pair's share
  passes to the others, whose boundaries (at the larger level) are checked again at every look so far.
- Futility (non-binding: the boundaries ignore it, so stopping for it only lowers the error rate): after a look
  before the last, a pair whose predictive power is below FUTILITY stops: the chance that the look at the most seeds
  crosses its boundary, averaged over the effects the data allow so far (flat prior; Spiegelhalter, Freedman &
  Blackburn 1986, Control Clin Trials 7:8). A pair stopped for futility is *not shown equal*: a difference the most
  seeds could show has become unlikely, nothing more; its contenders may still differ by less than that.
- A pair with no test at two looks in a row (a movement without an estimate: every long run diverged, a loss <= 0)
  ends as "no estimate", keeping its share of alpha, so its partner does not train to the most seeds for nothing.
- A contender trains another round while one of its pairs is open. Why it stopped: every pair rejected (decided),
  a pair stopped for futility or without an estimate (futile), a pair still open at the most seeds (max), or no
  pair to test (untested: its movement is 0 by construction or never estimated, or there is no other contender).

The decisions at every look are recomputed from the curves alone (a look uses each contender's first n_k seeds), so
any worker, a resumed run and the report reach the same rounds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import optimize, special, stats

from results.stats.budget import SeedCurves
from results.stats.looks import Design
from results.stats.movement import log_ratio_pseudo, movement

RHO = 2.0  # Kim-DeMets spending exponent: between Pocock (1) and O'Brien-Fleming (about 3)
FUTILITY = 0.1  # predictive power below which a pair stops
ALPHA = 0.05  # family-wise, over every pair and look
METHOD = (f"group-sequential jackknife t tests of log(movement a / movement b) over seeds: Lan-DeMets alpha "
          f"spending, Kim-DeMets alpha t^{RHO:g} over t = seeds / most seeds, nominal p-levels; Holm over pairs by "
          f"the Maurer-Bretz graphical approach; non-binding futility where the predictive power at the most seeds "
          f"is below {FUTILITY:g}; family-wise alpha {ALPHA:g} over every pair and look")
_GRID = 0.01  # step of the numerical integration on the sum scale
_WIDTH = 10.0  # the integration covers |S| < _WIDTH


@lru_cache(maxsize=256)
def boundaries(fractions: tuple[float, ...], alpha: float, rho: float = RHO) -> tuple[float, ...]:
    """Two-sided z boundaries c_k at the information ``fractions`` t_k (ascending, the last 1) such that a z
    statistic with independent increments first crosses |Z_k| >= c_k at look k with probability
    alpha (t_k^rho - t_{k-1}^rho) under the null (Lan-DeMets; Armitage-McPherson-Rowe recursion on a grid)."""
    grid = np.arange(-_WIDTH, _WIDTH + _GRID / 2, _GRID)
    density: np.ndarray | None = None  # of S_k = Z_k sqrt(t_k) over the paths not stopped yet, on ``grid``
    previous, spent = 0.0, 0.0
    found: list[float] = []
    for t in fractions:
        sd = math.sqrt(t - previous)

        def crossing(c: float) -> float:
            if density is None:
                return float(2 * stats.norm.sf(c))
            edge = c * math.sqrt(t)
            tails = stats.norm.sf((edge - grid) / sd) + stats.norm.cdf((-edge - grid) / sd)
            return float(np.sum(density * tails) * _GRID)

        c = optimize.brentq(lambda c: crossing(c) - (alpha * t**rho - spent), 0.0, 40.0, xtol=1e-10)
        found.append(c)
        spent += crossing(c)
        if density is None:
            density = stats.norm.pdf(grid / math.sqrt(t)) / math.sqrt(t)
        else:
            offsets = np.arange(-len(grid) + 1, len(grid)) * _GRID  # the increment's density, centred
            density = np.convolve(density, stats.norm.pdf(offsets / sd) / sd, mode="valid") * _GRID
        density = np.where(np.abs(grid) < c * math.sqrt(t), density, 0.0)
        previous = t
    return tuple(found)


def design_boundaries(looks: Sequence[int], alpha: float) -> tuple[float, ...]:
    """The z boundaries of ``looks`` (seed counts, the last the most) for one hypothesis at ``alpha``."""
    return boundaries(tuple(n / looks[-1] for n in looks), alpha)


@lru_cache(maxsize=256)
def nominal_levels(looks: tuple[int, ...], alpha: float) -> tuple[float, ...]:
    """The two-sided p-value each look rejects at or below, for one hypothesis tested at ``alpha`` (cached: every
    look of every pair asks again)."""
    return tuple(float(2 * stats.norm.sf(c)) for c in design_boundaries(looks, alpha))


def t_test(differences: Sequence[float]) -> tuple[float, float]:
    """(two-sided p, the same tail as a z) of the one-sample t test of mean(differences) = 0 (n - 1 df)."""
    d = np.asarray(differences, dtype=np.float64)
    sd = float(d.std(ddof=1))
    if sd == 0:
        return (0.0, math.inf) if d.mean() != 0 else (1.0, 0.0)
    tail = float(special.stdtr(len(d) - 1, -abs(float(d.mean())) / (sd / math.sqrt(len(d)))))
    return 2 * tail, float(stats.norm.isf(tail))


def predictive_power(z: float, seeds: int, most: int, final_boundary: float) -> float:
    """The chance that the look at ``most`` seeds crosses ``final_boundary`` given |z| now at ``seeds`` seeds,
    averaging over the drift the data allow (flat prior: Spiegelhalter, Freedman & Blackburn 1986)."""
    if seeds >= most:
        return 0.0
    if not math.isfinite(z):
        return 1.0
    t = seeds / most
    return float(stats.norm.sf((final_boundary - z / math.sqrt(t)) / math.sqrt((1 - t) / t)))


class PairLook(NamedTuple):
    """One pair at one look: the mean of its per-seed differences (log movement ratio) and their t test."""

    seeds: int  # the look's seed count
    difference: float
    p_value: float
    z: float  # the t statistic's tail as a z


class PairDecision(NamedTuple):
    """How a pair ended: ``outcome`` rejected (told apart), futile, max (open at the most seeds), open (more seeds
    to come), untested (a contender 0 by construction) or no estimate (no test at two looks in a row: a movement
    without an estimate, e.g. every long run diverged); ``seeds``: the look its numbers come from (a rejection by
    the Holm recycling of a later look reads an earlier look's p), ``decided_at``: the look where it ended (or the
    last one taken)."""

    a: str
    b: str
    outcome: str
    seeds: int
    decided_at: int
    difference: float | None
    p_value: float | None
    level: float | None  # the nominal p-level it was held to at that look


class ContenderState(NamedTuple):
    """How many seeds a contender has earned, and why it stopped (None while it trains on)."""

    seeds: int
    stopped: str | None  # decided, futile, max, untested


class SequentialOutcome(NamedTuple):
    looks: tuple[int, ...]  # the looks taken so far
    pairs: list[PairDecision]
    contenders: dict[str, ContenderState]


def first_seeds(curves: SeedCurves, n: int) -> SeedCurves:
    """The runs of seeds 1..n: what a look at n seeds sees."""
    return {b: {s: c for s, c in by_seed.items() if s <= n} for b, by_seed in curves.items()}


def decide(curves: Mapping[str, SeedCurves], budgets: Sequence[int], design: Design, finished: Mapping[str, int],
           alpha: float = ALPHA) -> SequentialOutcome:
    """The decisions after every look that can be taken: look k once every contender still training has finished
    every run of its first n_k seeds (``finished``: per contender, the most seeds n with every run of seeds 1..n
    finished). A pair's p at a look uses the complete ``curves`` of the first n_k seeds."""
    names = list(curves)
    pairs = list(itertools.combinations(names, 2))
    history: dict[tuple[str, str], list[PairLook]] = {pair: [] for pair in pairs}
    ended: dict[tuple[str, str], PairDecision] = {}
    untestable: set[str] = set()
    seen = dict.fromkeys(names, 0)
    looks: list[int] = []
    for n in design.looks:
        active = [name for name in names if any(p not in ended for p in pairs if name in p) or not looks]
        if not active or any(finished.get(name, 0) < n for name in active):
            break
        looks.append(n)
        moved = {name: movement(first_seeds(curves[name], n), budgets) for name in active}
        for name in active:
            seen[name] = n
            if moved[name].by_construction:
                untestable.add(name)
        for pair in [p for p in pairs if p not in ended]:
            if untestable & set(pair):
                ended[pair] = _ended(pair, "untested", n, None, None)
                continue
            d = log_ratio_pseudo(moved[pair[0]], moved[pair[1]])
            if len(d) >= 2:
                p, z = t_test(d)
                history[pair].append(PairLook(n, float(np.mean(d)), p, z))
        _reject(history, ended, pairs, design, alpha, n)
        share = alpha / _holding(ended, pairs)
        final = design_boundaries(design.looks, share)[-1]
        level = nominal_levels(design.looks, share)[design.looks.index(n)]
        for pair in [p for p in pairs if p not in ended]:
            last = history[pair][-1] if history[pair] and history[pair][-1].seeds == n else None
            untested_twice = last is None and len(looks) >= 2 and not any(h.seeds == looks[-2] for h in history[pair])
            if n == design.most:
                ended[pair] = _ended(pair, "max", n, last, level)
            elif last is not None and predictive_power(last.z, n, design.most, final) < FUTILITY:
                ended[pair] = _ended(pair, "futile", n, last, level)
            elif untested_twice:  # holds its share of alpha: never rejected, as if futile
                ended[pair] = _ended(pair, "no estimate", n, None, level)
    decisions = [ended.get(pair) or _ended(pair, "open", looks[-1] if looks else 0,
                                           history[pair][-1] if history[pair] else None, None) for pair in pairs]
    states = {name: _state(name, decisions, seen[name], untestable) for name in names}
    return SequentialOutcome(tuple(looks), decisions, states)


def _ended(pair: tuple[str, str], outcome: str, n: int, look: PairLook | None, level: float | None) -> PairDecision:
    """The pair's end at the look of ``n`` seeds, with the numbers of ``look`` (its own look's, or an earlier one's)."""
    if look is None:
        return PairDecision(*pair, outcome, n, n, None, None, level)
    return PairDecision(*pair, outcome, look.seeds, n, look.difference, look.p_value, level)


def _holding(ended: Mapping[tuple[str, str], PairDecision], pairs: Sequence[tuple[str, str]]) -> int:
    """Pairs holding a share of alpha: every pair not rejected and not untested."""
    return max(1, sum(ended[p].outcome not in ("rejected", "untested") if p in ended else True for p in pairs))


def _reject(history: Mapping[tuple[str, str], list[PairLook]], ended: dict[tuple[str, str], PairDecision],
            pairs: Sequence[tuple[str, str]], design: Design, alpha: float, n: int) -> None:
    """Holm by the graphical approach: reject the pairs still open whose p crossed their boundary at any look so far,
    at alpha / (pairs not rejected); repeat while that frees alpha (at the look of ``n`` seeds)."""
    while True:
        levels = dict(zip(design.looks, nominal_levels(design.looks, alpha / _holding(ended, pairs))))
        newly = {pair: crossed[0] for pair in pairs if pair not in ended
                 and (crossed := [look for look in history[pair] if look.p_value <= levels[look.seeds] * (1 + 1e-12)])}
        if not newly:
            return
        for pair, look in newly.items():
            ended[pair] = _ended(pair, "rejected", n, look, levels[look.seeds])


def _state(name: str, decisions: Sequence[PairDecision], seeds: int, untestable: set[str]) -> ContenderState:
    mine = [d.outcome for d in decisions if name in (d.a, d.b)]
    if name in untestable or all(o in ("untested", "no estimate") for o in mine):
        return ContenderState(seeds, "untested")
    if "open" in mine:
        return ContenderState(seeds, None)
    if "max" in mine:
        return ContenderState(seeds, "max")
    return ContenderState(seeds, "futile" if "futile" in mine else "decided")
