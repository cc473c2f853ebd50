"""The report's account of --compare-seeds auto, rebuilt from the stored runs as the workers planned them.

The sequential decisions (results.stats.sequential) are recomputed from the complete curves, exactly as
runner.seed_rounds computes them while the run goes on, so the report names the rounds the run took. They are the
run's pairwise comparisons: a fixed-sample test on seeds gathered until a p-value crossed would not hold its level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from results.records import SeedsUntilDecided, SequentialContender, SequentialPair
from results.stats import sequential
from results.stats.looks import Design, seeds_finished
from results.stats.pairwise import Comparison


def stored_design(config: Mapping[str, Any]) -> Design | None:
    """The stored run's design; None for a fixed --compare-seeds."""
    if config.get("compare_seeds") != "auto":
        return None
    return Design(int(config["max_seeds"]), int(config["seed_step"]))


def seeds_until_decided(curves: pd.DataFrame, units: Mapping[str, set[tuple[int, int]]],
                        config: Mapping[str, Any]) -> tuple[SeedsUntilDecided, list[Comparison]] | None:
    """The section of report.json and the pairwise comparisons the run decided, from its tidy curves (every run
    but failed ones, its status a column) and the finished (budget, seed) ``units`` (failed ones included) of every
    contender the rounds wait for (results.sources.storage.round_contenders; in the order given); None for a fixed
    --compare-seeds."""
    design = stored_design(config)
    if design is None or curves.empty:
        return None
    budgets = sorted(int(b) for b in config["epoch_budgets"])
    names = list(units)
    complete: dict[str, dict[int, dict[int, list[float]]]] = {}
    finished: dict[str, int] = {}
    for name in names:
        complete[name] = {b: {} for b in budgets}
        for (budget, seed), run in curves[curves["scheduler"] == name].groupby(["budget", "seed"], sort=True):
            if run["status"].iloc[0] == "complete" and int(budget) in complete[name]:
                complete[name][int(budget)][int(seed)] = run.sort_values("epoch")["val_loss"].tolist()
        finished[name] = seeds_finished(units[name], budgets, design.most)
    outcome = sequential.decide(complete, budgets, design, finished)
    per_run, per_seed = len(budgets), sum(budgets)
    contenders = {name: SequentialContender(seeds=state.seeds, stopped=state.stopped, seed_runs=len(units[name]),
                                            saved_seed_runs=design.most * per_run - len(units[name]))
                  for name, state in outcome.contenders.items()}
    section = SeedsUntilDecided(
        max_seeds=design.most, seed_step=design.step, looks=list(design.looks), looks_taken=list(outcome.looks),
        alpha=sequential.ALPHA, method=sequential.METHOD, contenders=contenders,
        pairs=[SequentialPair(*pair) for pair in outcome.pairs], seed_runs=sum(map(len, units.values())),
        fixed_seed_runs=design.most * len(names) * per_run,
        epochs=sum(budget for found in units.values() for budget, _ in found),
        fixed_epochs=design.most * len(names) * per_seed)
    decided = [Comparison(p.a, p.b, p.difference, p.p_value, None, p.outcome == "rejected", p.seeds)
               for p in outcome.pairs if p.difference is not None and p.outcome != "open"]
    return section, decided
