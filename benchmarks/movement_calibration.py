"""Calibration of the headline size and what rests on it, on generated runs whose truth is known.

    PYTHONPATH=. python benchmarks/movement_calibration.py [--studies 1000] [--quick]

(a) Coverage of the movement's 95% jackknife interval (results.stats.movement) under three noise kinds
    (results.stats.simulation.simulated_runs: independent per epoch, AR(1) along epochs with coefficient 0.9, a
    seed-level offset shared by a seed's runs) at budgets 10/20/40, budget effects 0, 1 and 4 noise sds, 3/5/10
    seeds; the truth is the Monte Carlo value over 20,000 seeds.
(b) Pairwise false alarms with equal movements and unequal rerun noise: A's runs noise sd 0.05, B's 0.10, the same
    effect in noise sds (0 or 2); the single test at 0.05 (nominal 0.05).
(c) Seeds-needed (results.stats.seeds_needed): a pair whose per-seed differences are N(delta, 1) at level
    0.05 / 15 (6 contenders), delta 1.2 (80% power at about 14-15 seeds) and 0 (no difference), 5 and 10 seeds
    per study: the share of studies that name a count, and of those the share whose count has a realised power
    between 0.7 and 0.95 — measured with the pairwise test itself on 1,000 fresh datasets per count.

(d) Coverage of the budget test's ratio interval (results.stats.budget: jackknife of log ratio) on the same runs,
    effects 0 and 2, 3/5/10 seeds; the truth is the statistic over 300 seeds (mean of 3 such draws).

With 1,000 studies a share is within about 0.007 (one binomial sd at 0.95) of its own truth.
--quick: 4 studies per cell and a cheap truth: seconds, to check that it runs (the test suite does); its figures
mean nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from results.stats import seeds_needed as planning
from results.stats.budget import budget_test
from results.stats.movement import movement
from results.stats.pairwise import compare_all, sign_flip_p
from results.stats.simulation import NOISE_KINDS, simulated_runs, true_movement

BUDGETS = (10, 20, 40)
SEEDS = (3, 5, 10)
EFFECTS = (0.0, 1.0, 4.0)
LEVEL = 0.05 / 15
DELTA = 1.2  # per-seed sd units: 80% power at about 14-15 seeds at LEVEL


def coverage(studies: int, truth_seeds: int) -> None:
    print("(a) movement interval coverage (nominal 0.95)")
    print("noise kind    effect  truth  " + "  ".join(f"{s:2d} seeds" for s in SEEDS))
    for kind in NOISE_KINDS:
        for effect in EFFECTS:
            truth = true_movement(kind=kind, budgets=BUDGETS, effect=effect, seeds=truth_seeds)
            shares = []
            for seeds in SEEDS:
                rng = np.random.default_rng(seeds)
                covered = 0
                for _ in range(studies):
                    ci = movement(simulated_runs(rng, kind=kind, seeds=seeds, budgets=BUDGETS, effect=effect)).ci
                    covered += ci is not None and ci[0] <= truth <= ci[1]
                shares.append(covered / studies)
            print(f"{kind:12s}  {effect:6.1f}  {truth:5.3f}  " + "  ".join(f"{v:8.3f}" for v in shares))


def false_alarms(studies: int) -> None:
    print("\n(b) pairwise false alarms, equal movement, B twice as noisy (nominal 0.05)")
    print("noise kind    effect   6 seeds  10 seeds")
    for kind in NOISE_KINDS:
        for effect in (0.0, 2.0):
            rates = []
            for seeds in (6, 10):
                rng = np.random.default_rng(seeds)
                alarms = 0
                for k in range(studies):
                    a, b = (movement(simulated_runs(rng, kind=kind, seeds=seeds, budgets=BUDGETS, effect=effect,
                                                   noise_sd=sd)) for sd in (0.05, 0.10))
                    alarms += bool(compare_all({"A": a, "B": b}, alpha=0.05, seed=k)[0].separated)
                rates.append(alarms / studies)
            print(f"{kind:12s}  {effect:6.1f}  {rates[0]:8.3f}  {rates[1]:8.3f}")


def realised_power(n: int, delta: float, datasets: int) -> float:
    """The pairwise test itself (exact sign flips up to 16 seeds, Monte Carlo beyond) on fresh datasets of n seeds
    whose per-seed differences are N(delta, 1): independent of the plan's own simulation."""
    rng = np.random.default_rng(n)
    return float(np.mean([(p := sign_flip_p((delta + rng.standard_normal(n)).tolist(), rng)) is not None
                          and p <= LEVEL for _ in range(datasets)]))


def plans(studies: int, datasets: int) -> None:
    print(f"\n(c) seeds-needed at level {LEVEL:.4f}: share naming a count; of those, realised power in [0.7, 0.95]")
    print("difference  seeds  named  in band  median count")
    realised: dict[tuple[float, int], float] = {}
    for delta in (DELTA, 0.0):
        for seeds in (5, 10):
            rng = np.random.default_rng(seeds)
            counts = [planning.seeds_needed((delta + rng.standard_normal(seeds)).tolist(), LEVEL, seed=k).seeds
                      for k in range(studies)]
            named = [c for c in counts if c is not None]
            in_band = 0
            for count in named:
                n = min(count, planning.MOST_SEEDS)
                if (delta, n) not in realised:
                    realised[(delta, n)] = realised_power(n, delta, datasets)
                in_band += 0.7 <= realised[(delta, n)] <= 0.95
            band = f"{in_band / len(named):7.3f}" if named else "      -"
            median = f"{int(np.median(named)):12d}" if named else "           -"
            print(f"{delta:10.2f}  {seeds:5d}  {len(named) / studies:5.3f}  {band}  {median}")


def ratio_coverage(studies: int, truth_seeds: int) -> None:
    print("\n(d) budget-test ratio interval coverage (nominal 0.95)")
    print("noise kind    effect  truth  " + "  ".join(f"{s:2d} seeds" for s in SEEDS))
    for kind in NOISE_KINDS:
        for effect in (0.0, 2.0):
            truth = float(np.mean([budget_test(simulated_runs(np.random.default_rng(99 + k), kind=kind,
                                                              seeds=truth_seeds, budgets=BUDGETS, effect=effect),
                                               n_permutations=1, interval=False).ratio for k in range(3)]))
            shares = []
            for seeds in SEEDS:
                rng = np.random.default_rng(seeds)
                covered = 0
                for _ in range(studies):
                    runs = simulated_runs(rng, kind=kind, seeds=seeds, budgets=BUDGETS, effect=effect)
                    ci = budget_test(runs, n_permutations=1).ratio_interval
                    covered += ci is not None and ci[0] <= truth <= ci[1]
                shares.append(covered / studies)
            print(f"{kind:12s}  {effect:6.1f}  {truth:5.3f}  " + "  ".join(f"{v:8.3f}" for v in shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000, help="simulated studies per cell")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args()
    studies, truth_seeds, datasets = (4, 200, 20) if args.quick else (args.studies, 20000, 1000)
    started = time.perf_counter()
    coverage(studies, truth_seeds)
    false_alarms(studies)
    plans(studies, datasets)
    ratio_coverage(studies, 20 if args.quick else 300)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
