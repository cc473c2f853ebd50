"""How often the outcome's intervals contain the truth, on simulated final losses where it is known.

    PYTHONPATH=. python benchmarks/interval_coverage.py [--studies 400] [--quick]

Four contenders at budgets 5, 10, 20, 40, 80 whose log final loss changes by a known amount per doubling
(results.stats.simulation's outcome model; their order reverses in part, true Kendall tau 0), under three noise
kinds: independent per run, AR(1) along epochs (half of it shared by a seed's runs), and a seed-level offset
shared by every run of a seed (sd 0.3 against a per-run 0.1). Per number of seeds and kind, the share of
intervals containing the truth: the final loss's t interval (every contender and budget), the per-seed slope's
t interval, the pooled regression's slope interval (the old ``log_slope``), Kendall tau's seed bootstrap.
Nominal: 0.95. With 400 studies a share is within about 0.011 (one binomial sd per interval) of its own truth.

--quick: 3 studies per cell: seconds, to check that it runs (the test suite does); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from results.stats.simulation import NOISE_KINDS, interval_coverage

SEEDS = (3, 5, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=400, help="simulated studies per cell")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args()
    if args.quick:
        args.studies = 3
    started = time.perf_counter()
    print(f"{args.studies} studies per cell; nominal coverage 0.95")
    print("noise kind    seeds  final loss  per-seed slope  pooled slope  Kendall tau")
    for kind in NOISE_KINDS:
        for seeds in SEEDS:
            found = interval_coverage(np.random.default_rng(seeds), kind=kind, seeds=seeds, studies=args.studies)
            print(f"{kind:12s}  {seeds:5d}  {found.final:10.3f}  {found.seed_slope:14.3f}  {found.pooled_slope:12.3f}"
                  f"  {found.order:11.3f}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
