"""Seeds until decided against the fixed design, on generated runs whose truth is known.

    PYTHONPATH=. python benchmarks/sequential_calibration.py [--studies 1000] [--quick]

Each study: 4 contenders c0..c3 with the scenario's budget effects (in rerun noise sds; results.stats.simulation.
simulated_runs at budgets 5/10/20, noise independent per epoch, AR(1) along epochs or a seed-level offset), all 12
seeds drawn up front. The sequential design (results.stats.sequential.decide, looks at 4, 6, 8, 10 and 12 seeds)
replays its rounds on them; the fixed design (results.stats.pairwise.compare_all: sign-flip tests, Holm) tests
every pair on the first n seeds. A pair is null where its two contenders have the same effect.

(a) Per scenario (results.stats.simulation.sequential_rates):
    - FWER: the share of studies with a null pair rejected (the sequential design: at any look; nominal 0.05).
    - power: the share of non-null pairs rejected, over every study.
    - same decisions: the share of studies whose set of rejected pairs is the fixed design's at 12 seeds;
      agreement: the share of pairs (over every study) both reject or both leave standing.
    - seed-runs / fixed 12: the seeds the contenders earned over 4 x 12 (the fixed design's), mean over studies.
    - fixed seeds for that power: the fewest seeds n with which the fixed design's power reaches the sequential
      design's ("> 12": not even 12), and the sequential design's seed-runs over that fixed design's (4 x n).
(b) The fixed design's power at each number of seeds, per scenario with non-null pairs (what (a) reads its seeds
    from). Below 8 seeds its smallest p-value, 2 / 2^n, lies above alpha / 6: it cannot reject.
(c) The sequential design's family-wise false alarms with no effect under noise it was not built around: unequal
    rerun noise (c0, c1 noise sd 0.05, c2, c3 0.10: every pair across the two groups is null in rerun units) and
    heavy tails (per-epoch noise t with 3 df, scaled to sd 0.05, independent per run).

With 1,000 studies a share near 0.05 is within about 0.007 (one binomial sd) of its own truth.
--quick: 3 studies per cell: seconds, to check that it runs (the test suite does); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from results.stats.looks import Design
from results.stats.sequential import decide
from results.stats.simulation import RUN_NOISE_SD, SequentialRates, sequential_rates, simulated_runs

BUDGETS = (5, 10, 20)
MOST, STEP = 12, 2
SCENARIOS: tuple[tuple[tuple[float, ...], str], ...] = (
    ((0.0, 0.0, 0.0, 0.0), "independent"),
    ((0.0, 0.0, 0.0, 0.0), "AR(1)"),
    ((0.0, 0.0, 0.0, 0.0), "seed level"),
    ((0.0, 0.0, 2.0, 2.0), "independent"),
    ((0.0, 0.0, 2.0, 2.0), "AR(1)"),
    ((0.0, 0.0, 2.0, 2.0), "seed level"),
    ((0.0, 1.0, 2.0, 4.0), "independent"),
    ((0.0, 0.0, 0.0, 4.0), "independent"),
    ((0.0, 0.0, 0.0, 8.0), "independent"),
    ((0.0, 2.0, 4.0, 8.0), "independent"),
)
HEADER = ("| scenario | noise | FWER adaptive | FWER fixed | power adaptive | power fixed | same decisions as fixed "
          "| per-pair agreement | seed-runs adaptive / fixed-12 | fixed seeds reaching adaptive power "
          "| seed-runs adaptive / that fixed |")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def row(effects: tuple[float, ...], kind: str, rates: SequentialRates) -> str:
    if rates.power is None:
        matching, against = "-", "-"
    elif rates.matching_seeds is None:
        matching, against = f"> {MOST}", f"< {rates.seed_runs:.2f}"
    else:
        matching, against = str(rates.matching_seeds), f"{rates.seed_runs * MOST / rates.matching_seeds:.2f}"
    scenario = "null" if len(set(effects)) == 1 else "(" + ", ".join(f"{e:g}" for e in effects) + ")"
    cells = (scenario, kind, _share(rates.false_alarms), _share(rates.fixed_false_alarms), _share(rates.power),
             _share(rates.fixed_power), _share(rates.same_decisions), _share(rates.agreement),
             f"{rates.seed_runs:.2f}", matching, against)
    return "| " + " | ".join(cells) + " |"


def heavy_tailed_runs(rng: np.random.Generator, seeds: int) -> dict[int, dict[int, list[float]]]:
    """simulated_runs' curve with no budget effect and per-epoch t(3) noise of sd RUN_NOISE_SD, independent per run."""
    base = np.log(0.1 + np.exp(-3 * np.arange(max(BUDGETS)) / min(BUDGETS)))
    return {b: {s: np.exp(base + rng.standard_t(3, len(base)) * RUN_NOISE_SD / np.sqrt(3))[:b].tolist()
                for s in range(1, seeds + 1)} for b in BUDGETS}


def untargeted_false_alarms(kind: str, studies: int, rng: np.random.Generator) -> tuple[float, float]:
    """(c): the share of null studies with any pair rejected, and the seed-runs used over the fixed 12's."""
    alarms, used = 0, 0.0
    for _ in range(studies):
        if kind == "unequal rerun noise":
            curves = {f"c{i}": simulated_runs(rng, kind="independent", seeds=MOST, budgets=BUDGETS, noise_sd=sd)
                      for i, sd in enumerate((0.05, 0.05, 0.10, 0.10))}
        else:
            curves = {f"c{i}": heavy_tailed_runs(rng, MOST) for i in range(4)}
        outcome = decide(curves, BUDGETS, Design(MOST, STEP), dict.fromkeys(curves, MOST))
        alarms += any(p.outcome == "rejected" for p in outcome.pairs)
        used += sum(state.seeds for state in outcome.contenders.values()) / (len(curves) * MOST)
    return alarms / studies, used / studies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000, help="simulated studies per scenario")
    parser.add_argument("--quick", action="store_true", help="3 studies per scenario: checks that it runs")
    args = parser.parse_args()
    studies = 3 if args.quick else args.studies
    started = time.perf_counter()
    print(f"(a) sequential (looks at 4..{MOST} seeds, step {STEP}) against the fixed design, {studies} studies each, "
          f"budgets {'/'.join(map(str, BUDGETS))}, alpha 0.05")
    print(HEADER)
    print("|" + "---|" * HEADER.count(" | ") + "---|")
    found = []
    for index, (effects, kind) in enumerate(SCENARIOS):
        rates = sequential_rates(np.random.default_rng(index), studies=studies, effects=effects, budgets=BUDGETS,
                                 kind=kind, most=MOST, step=STEP)
        found.append((effects, kind, rates))
        print(row(effects, kind, rates), flush=True)
    seeds = range(4, MOST + 1)
    print("\n(b) the fixed design's per-pair power by seeds")
    print("| scenario | noise | " + " | ".join(f"{n} seeds" for n in seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for effects, kind, rates in found:
        if rates.power is not None:
            powers = " | ".join(f"{rates.fixed_power_by_seeds[n]:.3f}" for n in seeds)
            print(f"| ({', '.join(f'{e:g}' for e in effects)}) | {kind} | {powers} |")
    print("\n(c) no effect, noise the design was not built around")
    print("| noise | FWER adaptive | seed-runs adaptive / fixed-12 |")
    print("|---|---|---|")
    for index, kind in enumerate(("unequal rerun noise", "heavy tails (t, 3 df)")):
        alarms, used = untargeted_false_alarms(kind, studies, np.random.default_rng(100 + index))
        print(f"| {kind} | {alarms:.3f} | {used:.2f} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
