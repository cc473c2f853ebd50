"""Learning curves with a known budget effect, and how often the budget test flags them.

The truth is set here, so the test's false-alarm rate (no effect) and power (an effect of known size)
can be measured: by the calibration tests, and by ``benchmarks/budget_test_power.py`` for the
power table of docs/method.md.

Model of one run's log validation loss at epoch e of budget b (seed s):
    log(0.1 + exp(-3 e / W)) + effect * noise_sd * i_b / (K - 1) + shared_s(e) + own_run(e)
with W the smallest budget, i_b the budget's index among K budgets, and shared_s and own_run
independent AR(1) processes (coefficient 0.8) whose variances sum to noise_sd^2 (``shared``: the part
common to one seed's runs, as a shared initialisation and data order make it). ``effect`` is the shift
of the log loss from the smallest to the largest budget, in units of the per-epoch rerun noise sd.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from results.stats.budget import budget_test, holm, significant
from results.stats.movement import movement
from results.stats.pairwise import compare_all
from results.stats.sequential import ALPHA, Design, decide, first_seeds

AR = 0.8


def _ar1(rng: np.random.Generator, length: int, sd: float) -> np.ndarray:
    """A stationary AR(1) path with marginal standard deviation ``sd``."""
    steps = rng.standard_normal(length) * sd * np.sqrt(1 - AR**2)
    path = np.empty(length)
    path[0] = rng.standard_normal() * sd
    for k in range(1, length):
        path[k] = AR * path[k - 1] + steps[k]
    return path


def simulated_curves(rng: np.random.Generator, *, seeds: int, budgets: Sequence[int], effect: float = 0.0,
                     noise_sd: float = 0.05, shared: float = 0.5) -> dict[int, dict[int, list[float]]]:
    """budget -> seed -> validation losses of the module's model."""
    window, longest = min(budgets), max(budgets)
    epochs = np.arange(longest)
    base = np.log(0.1 + np.exp(-3 * epochs / window))
    curves: dict[int, dict[int, list[float]]] = {b: {} for b in budgets}
    for seed in range(1, seeds + 1):
        common = _ar1(rng, longest, noise_sd * np.sqrt(shared))
        for index, budget in enumerate(sorted(budgets)):
            shift = effect * noise_sd * index / (len(budgets) - 1)
            own = _ar1(rng, longest, noise_sd * np.sqrt(1 - shared))
            curves[budget][seed] = np.exp(base + shift + common + own)[:budget].tolist()
    return curves


class Rates(NamedTuple):
    """Over repeated simulated studies: how often any null contender was flagged (family-wise false
    alarms), how often the one contender with an effect was flagged (power), and every null p-value."""

    family_wise_false_alarms: float
    power: float | None
    null_p_values: list[float]


def flag_rates(rng: np.random.Generator, *, studies: int, contenders: int, seeds: int, budgets: Sequence[int],
               effect: float = 0.0, alpha: float = 0.05, n_permutations: int = 199, shared: float = 0.5,
               kind: str | None = None) -> Rates:
    """Simulate ``studies`` studies of ``contenders`` contenders each, the first with ``effect`` (none
    if 0) and the rest with none; test them as the analysis does (Holm over the contenders at ``alpha``).
    ``kind``: runs of ``simulated_runs`` with that noise kind instead of the module's model."""
    alarms = hits = 0
    null_p: list[float] = []
    for _ in range(studies):
        p_values: dict[int, float] = {}
        for index in range(contenders):
            size = effect if index == 0 else 0.0
            curves = (simulated_curves(rng, seeds=seeds, budgets=budgets, effect=size, shared=shared) if kind is None
                      else simulated_runs(rng, kind=kind, seeds=seeds, budgets=budgets, effect=size))
            test = budget_test(curves, n_permutations=n_permutations, seed=int(rng.integers(2**31)), interval=False)
            if test.p_value is None:  # the simulated losses are positive and noisy: only below two seeds
                raise ValueError(f"the budget test needs two seeds or more ({seeds}: {test.note})")
            p_values[index] = test.p_value
        adjusted = holm(p_values)
        null = range(1, contenders) if effect else range(contenders)
        null_p += [p_values[i] for i in null]
        alarms += any(significant(adjusted[i], alpha) for i in null)
        hits += bool(effect and significant(adjusted[0], alpha))
    return Rates(alarms / studies, hits / studies if effect else None, null_p)


# -- Final losses with a known outcome: the coverage of the outcome's intervals ---------------------------------

NOISE_KINDS = ("independent", "AR(1)", "seed level")
PHI = 0.9  # the AR(1) coefficient along epochs
SEED_SD = 0.3  # the seed-level offset's sd on the log scale (x3 the per-run noise)
# the outcome model's contenders: log loss level at the smallest budget and change per doubling; their order at
# the smallest budget (A < B < C < D) becomes C < B < A < D four doublings later (true Kendall tau 0), with gaps
# of 0.3-1.1 noise sd there, so the order a few seeds find is uncertain
LEVELS = (0.0, 0.05, 0.1, 0.15)
SLOPES = (-0.02, -0.04, -0.06, -0.03)


def simulated_finals(rng: np.random.Generator, *, kind: str, seeds: int, budgets: Sequence[int],
                     noise_sd: float = 0.1) -> tuple[dict[str, dict[int, dict[int, float]]], float]:
    """contender -> budget -> seed -> final loss, and the log noise's variance. The log final loss of contender c
    at budget b is LEVELS[c] + SLOPES[c] log2(b / b_min) + noise: ``independent`` N(0, noise_sd) per run;
    ``AR(1)`` a path along epochs (coefficient PHI) shared by one seed's runs of a contender (read at its last
    epoch) plus a run's own part, each half the variance; ``seed level`` an offset per seed (sd SEED_SD) shared
    by every run of that seed, plus independent noise."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; one of {', '.join(NOISE_KINDS)}")
    low, longest = min(budgets), max(budgets)
    offsets = rng.standard_normal(seeds) * SEED_SD if kind == "seed level" else np.zeros(seeds)
    finals: dict[str, dict[int, dict[int, float]]] = {}
    for name, level, slope in zip("ABCD", LEVELS, SLOPES):
        finals[name] = {b: {} for b in budgets}
        for s in range(seeds):
            path = _ar1_path(rng, longest, noise_sd * np.sqrt(0.5)) if kind == "AR(1)" else np.zeros(longest)
            own = noise_sd * (np.sqrt(0.5) if kind == "AR(1)" else 1.0)
            for b in budgets:
                log_loss = level + slope * np.log2(b / low) + offsets[s] + path[b - 1] + rng.standard_normal() * own
                finals[name][b][s + 1] = float(np.exp(log_loss))
    return finals, noise_sd**2 + (SEED_SD**2 if kind == "seed level" else 0.0)


def _ar1_path(rng: np.random.Generator, length: int, sd: float) -> np.ndarray:
    """A stationary AR(1) path with coefficient PHI and marginal standard deviation ``sd``."""
    path = np.empty(length)
    path[0] = rng.standard_normal() * sd
    for k in range(1, length):
        path[k] = PHI * path[k - 1] + rng.standard_normal() * sd * np.sqrt(1 - PHI**2)
    return path


class Coverage(NamedTuple):
    """Shares of intervals that contain the truth over simulated studies."""

    final: float  # final-loss t interval (every contender and budget) of the true mean final loss
    seed_slope: float  # per-seed slope t interval of the true change per doubling (every contender)
    pooled_slope: float  # the pooled regression's interval (log_slope) of the same
    order: float  # Kendall tau's seed bootstrap interval of the true tau (0) at the longest budget


def interval_coverage(rng: np.random.Generator, *, kind: str, seeds: int, studies: int,
                      budgets: Sequence[int] = (5, 10, 20, 40, 80)) -> Coverage:
    """Simulate ``studies`` studies of the outcome model and count which intervals contain the truth."""
    from results.stats.metrics import loss_slope, order_tau, seed_log_slopes, summarize

    covered = {field: 0 for field in Coverage._fields}
    totals = {"final": len(LEVELS) * len(budgets), "seed_slope": len(LEVELS), "pooled_slope": len(LEVELS), "order": 1}
    low = min(budgets)
    for _ in range(studies):
        finals, variance = simulated_finals(rng, kind=kind, seeds=seeds, budgets=budgets)
        for (name, by_budget), level, slope in zip(finals.items(), LEVELS, SLOPES):
            for b, by_seed in by_budget.items():
                truth = np.exp(level + slope * np.log2(b / low) + variance / 2)
                covered["final"] += _contains(summarize(list(by_seed.values())).ci, truth)
            covered["seed_slope"] += _contains(seed_log_slopes(by_budget, budgets).ci, slope)
            covered["pooled_slope"] += _contains(
                loss_slope({b: list(v.values()) for b, v in by_budget.items()}, log=True).ci, slope)
        covered["order"] += _contains(order_tau(finals, low, max(budgets), int(rng.integers(2**31))).ci, 0.0)
    return Coverage(**{k: float(covered[k] / (studies * totals[k])) for k in Coverage._fields})


def _contains(interval: tuple[float, float] | None, truth: float) -> bool:
    return interval is not None and interval[0] <= truth <= interval[1]


# -- Whole runs with a known movement: the headline size's interval and the pairwise tests on it --------------

RUN_NOISE_SD = 0.05  # per-epoch sd of a run's own log-loss noise


def simulated_runs(rng: np.random.Generator, *, kind: str, seeds: int, budgets: Sequence[int], effect: float = 0.0,
                   noise_sd: float = RUN_NOISE_SD) -> dict[int, dict[int, list[float]]]:
    """budget -> seed -> validation losses: log(0.1 + exp(-3 e / W)) + effect * noise_sd * i_b / (K - 1) + noise,
    i_b the budget's index among K, W the smallest budget. Noise: ``independent`` N(0, noise_sd) per epoch and run;
    ``AR(1)`` a run's own path along epochs (coefficient PHI, marginal sd noise_sd); ``seed level`` an offset per
    seed (sd SEED_SD) shared by its runs plus independent noise."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; one of {', '.join(NOISE_KINDS)}")
    ordered, longest = sorted(budgets), max(budgets)
    base = np.log(0.1 + np.exp(-3 * np.arange(longest) / ordered[0]))
    curves: dict[int, dict[int, list[float]]] = {b: {} for b in ordered}
    for seed in range(1, seeds + 1):
        offset = rng.standard_normal() * SEED_SD if kind == "seed level" else 0.0
        for index, budget in enumerate(ordered):
            own = _ar1_path(rng, longest, noise_sd) if kind == "AR(1)" else rng.standard_normal(longest) * noise_sd
            shift = effect * noise_sd * index / (len(ordered) - 1)
            curves[budget][seed] = np.exp(base + offset + shift + own)[:budget].tolist()
    return curves


def true_movement(*, kind: str, budgets: Sequence[int], effect: float, seeds: int = 20000, seed: int = 0) -> float:
    """The movement ``simulated_runs`` estimates, by Monte Carlo: its numerator and rerun unit averaged over
    ``seeds`` seeds, the unit over disjoint pairs of seeds (every pair has the same expectation)."""
    from results.stats.movement import seed_gaps

    rng = np.random.default_rng(seed)
    own, between = [], []
    for _ in range(seeds // 2):
        gaps = seed_gaps(simulated_runs(rng, kind=kind, seeds=2, budgets=budgets, effect=effect))
        assert not isinstance(gaps, str)  # positive losses, two seeds at every budget
        own += list(gaps.own)
        between.append(float(gaps.between[0, 1]))
    return float(np.mean(own) / np.mean(between))


# -- Seeds until decided: the sequential design against the fixed one on runs with known movements --------------

class SequentialRates(NamedTuple):
    """Over simulated studies of one scenario (one effect per contender): the sequential design's decisions
    (results.stats.sequential) beside the fixed design's (results.stats.pairwise.compare_all at every seed). A pair
    is *null* where its two contenders have the same effect; the false alarms are None without a null pair, the
    powers without any other."""

    studies: int
    false_alarms: float | None  # family-wise: share of studies with a null pair rejected at any look
    fixed_false_alarms: float | None  # the same of the fixed design at the most seeds
    power: float | None  # share of the non-null pairs rejected (over every study)
    fixed_power: float | None
    same_decisions: float  # share of studies whose set of rejected pairs is the fixed design's
    agreement: float  # share of pairs (over every study) that both designs reject or both leave standing
    seed_runs: float  # mean over studies of the seeds the contenders earned / (contenders x most)
    fixed_power_by_seeds: dict[int, float]  # the fixed design's power at n seeds, n from the first look to the most
    matching_seeds: int | None  # the fewest fixed seeds whose power reaches ``power``; None: more than the most
    #                             (or no power to reach)


def sequential_rates(rng: np.random.Generator, *, studies: int, effects: Sequence[float], budgets: Sequence[int],
                     kind: str = "independent", most: int = 12, step: int = 2,
                     alpha: float = ALPHA) -> SequentialRates:
    """Why: the sequential design's error rates over every look rest on approximations (jackknife pseudo-values
    recomputed at every look, t tests held to z boundaries), so they are measured here, on studies whose truth is
    known, beside what it saves and what it decides differently from the fixed design it replaces.

    Each study: contender c{i} with budget effect ``effects[i]`` (``simulated_runs`` of noise ``kind``), all ``most``
    seeds drawn up front from ``rng``; ``decide`` with every contender finished at ``most`` replays the rounds, and
    ``compare_all`` on the first n seeds gives the fixed design of n seeds."""
    design = Design(most=most, step=step)
    names = [f"c{i}" for i in range(len(effects))]
    effect = dict(zip(names, effects))
    pairs = list(itertools.combinations(names, 2))
    null = {p for p in pairs if effect[p[0]] == effect[p[1]]}
    fixed_seeds = range(design.looks[0], most + 1)
    alarms = fixed_alarms = same = agreeing = hits = earned = 0
    fixed_hits = dict.fromkeys(fixed_seeds, 0)
    for k in range(studies):
        curves = {name: simulated_runs(rng, kind=kind, seeds=most, budgets=budgets, effect=effect[name])
                  for name in names}
        outcome = decide(curves, budgets, design, dict.fromkeys(names, most), alpha)
        rejected = {(d.a, d.b) for d in outcome.pairs if d.outcome == "rejected"}
        separated: set[tuple[str, str]] = set()
        for n in fixed_seeds:
            moved = {name: movement(first_seeds(curves[name], n), budgets) for name in names}
            separated = {(c.a, c.b) for c in compare_all(moved, alpha, seed=k) if c.separated}
            fixed_hits[n] += len(separated - null)
        alarms += bool(rejected & null)
        fixed_alarms += bool(separated & null)  # the last n: the most seeds
        same += rejected == separated
        agreeing += sum((p in rejected) == (p in separated) for p in pairs)
        hits += len(rejected - null)
        earned += sum(state.seeds for state in outcome.contenders.values())
    tested = studies * (len(pairs) - len(null))
    power = hits / tested if tested else None
    by_seeds = {n: count / tested for n, count in fixed_hits.items()} if tested else {}
    reaching = [n for n, p in by_seeds.items() if power is not None and p >= power]
    return SequentialRates(studies, alarms / studies if null else None, fixed_alarms / studies if null else None,
                           power, by_seeds.get(most), same / studies, agreeing / (studies * len(pairs)),
                           earned / (studies * len(names) * most), by_seeds, min(reaching, default=None))
