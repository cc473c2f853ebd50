"""False alarms and power of the budget test on simulated studies where the truth is known.

    PYTHONPATH=. python benchmarks/budget_test_power.py [--studies 100] [--contenders 21] [--quick]

Each simulated study has ``--contenders`` contenders (21: every schedule and LR-free optimizer of
the suite) at budgets 20, 40, 80 (results.stats.simulation's model). The test runs as the analysis runs
it: permutation p-values, Holm-adjusted over the contenders, decided at alpha = 0.05.

(a) No contender has an effect: the family-wise false-alarm rate (any contender flagged; at most
    alpha by construction) and the share of unadjusted p-values <= 0.05 (about 0.05 if they are
    uniform), per number of seeds.
(b) One contender has an effect (the shift of its log loss from the smallest to the largest budget,
    in units of the rerun noise sd): how often it is flagged, per effect and number of seeds.

(c) The same power under the three noise kinds of results.stats.simulation.simulated_runs (independent per epoch,
    AR(1) along epochs, a seed-level offset), with the effect also as its true movement in rerun units (the
    headline size; results.stats.movement), so one column reads alike whatever the noise.

--quick: 3 studies of 3 contenders with 99 permutations: seconds, to check that it runs (the test
suite does); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from results import ALPHA
from results.stats.simulation import NOISE_KINDS, flag_rates, true_movement

BUDGETS = (20, 40, 80)
SEEDS = (3, 5, 10)
EFFECTS = (0.5, 1.0, 2.0, 4.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=100, help="simulated studies per cell")
    parser.add_argument("--contenders", type=int, default=21, help="contenders per study (Holm over them)")
    parser.add_argument("--permutations", type=int, default=1999, help="Monte Carlo permutations per test")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args()
    if args.quick:
        args.studies, args.contenders, args.permutations = 3, 3, 99
    started = time.perf_counter()
    common = {"studies": args.studies, "contenders": args.contenders, "budgets": BUDGETS, "alpha": ALPHA,
              "n_permutations": args.permutations}
    print(f"{args.studies} studies of {args.contenders} contenders per cell, budgets {BUDGETS}, alpha {ALPHA}, "
          f"{args.permutations} permutations")
    print("\n(a) no effect: seeds, family-wise false alarms, share of unadjusted p <= 0.05")
    for seeds in SEEDS:
        rates = flag_rates(np.random.default_rng(seeds), seeds=seeds, **common)
        share = float(np.mean(np.asarray(rates.null_p_values) <= ALPHA))
        print(f"{seeds:5d}  {rates.family_wise_false_alarms:.3f}  {share:.3f}")
    print("\n(b) power (one contender with the effect; effect in rerun noise sd): effect, then per seeds "
          + ", ".join(map(str, SEEDS)))
    for effect in EFFECTS:
        powers = [flag_rates(np.random.default_rng(1000 * seeds + int(10 * effect)), seeds=seeds, effect=effect,
                             **common).power for seeds in SEEDS]
        print(f"{effect:5.1f}  " + "  ".join(f"{p:.2f}" for p in powers))
    print("\n(c) power per noise kind: kind, effect (noise sd), true movement, then per seeds "
          + ", ".join(map(str, SEEDS)))
    for kind in NOISE_KINDS:
        for effect in EFFECTS[1:]:
            moved = true_movement(kind=kind, budgets=BUDGETS, effect=effect, seeds=200 if args.quick else 4000)
            powers = [flag_rates(np.random.default_rng(1000 * seeds + int(10 * effect)), seeds=seeds, effect=effect,
                                 kind=kind, **common).power for seeds in SEEDS]
            print(f"{kind:12s}  {effect:4.1f}  {moved:5.2f}  " + "  ".join(f"{p:.2f}" for p in powers))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
