"""--compare-seeds auto: how many Phase 2 seeds each contender may train now, read from the storage alone.

A round is each contender's next few seeds at every budget (results.stats.looks). Once every contender still
training has finished every run of the round, the sequential tests (results.stats.sequential) look at them and
decide which pairs are settled; a contender with an open pair earns the next round, the others stop. The plan is a
function of the stored runs, so one worker, many, a crash and a resume all give the same rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from results.stats.looks import seeds_finished
from results.stats.sequential import SequentialOutcome, decide
from runner.config import RunConfig
from runner.progress import Progress
from runstate.storage import StudyName, best_params, finished_runs, tuning_finished


@dataclass(frozen=True)
class SeedRounds:
    """Per contender with a Phase 2 (a Phase 1 not finished yet counts as one): the seeds it may train now, and why
    it stopped (None while it trains on; results.stats.sequential.ContenderState)."""

    allowed: dict[str, int]
    stopped: dict[str, str | None]
    outcome: SequentialOutcome


def seed_rounds(storage: optuna.storages.BaseStorage, config: RunConfig) -> SeedRounds:
    """The rounds so far and the seeds each contender may train now (module docstring)."""
    budgets, design = config.epoch_budgets, config.seed_design
    curves: dict[str, dict[int, dict[int, list[float]]]] = {}
    finished: dict[str, int] = {}
    for name in config.names:
        tuned = tuning_finished(storage, config.project, name, config.n_trials)
        params = best_params(storage, config.project, name) if tuned else None
        if tuned and params is None:  # no complete Phase 1 trial: no Phase 2 (runner.comparison)
            continue
        runs = finished_runs(storage, str(StudyName(config.project, "compare", name)), params) if tuned else {}
        curves[name] = {b: {s: run.curves["val_loss"] for (budget, s), run in runs.items()
                            if budget == b and run.status == "complete"} for b in budgets}
        finished[name] = seeds_finished(runs.keys(), budgets, design.most)
    outcome = decide(curves, budgets, design, finished)
    upcoming = design.looks[min(len(outcome.looks), len(design.looks) - 1)]
    allowed = {name: state.seeds if state.stopped else upcoming for name, state in outcome.contenders.items()}
    return SeedRounds(allowed, {name: state.stopped for name, state in outcome.contenders.items()}, outcome)


def show_rounds(progress: Progress, rounds: SeedRounds, config: RunConfig) -> None:
    """The looks taken and the rounds they start, each printed once; the epochs of seeds a stopped contender will
    not train leave the progress total."""
    outcome, looks = rounds.outcome, config.seed_design.looks
    for k, n in enumerate(outcome.looks):
        ended = [p for p in outcome.pairs if p.decided_at == n and p.outcome not in ("open", "untested")]
        apart = [f"{p.a}-{p.b}" for p in ended if p.outcome == "rejected"]
        counts = {o: sum(p.outcome == o for p in ended) for o in ("futile", "no estimate", "max")}
        said = ", ".join([f"{len(apart)} pair(s) told apart" + (f" ({', '.join(apart)})" if apart else ""),
                          *(f"{k} {o}" for o, k in counts.items() if k)])
        training = [name for name, state in outcome.contenders.items() if state.seeds > n or state.stopped is None]
        nxt = (f"; round {k + 2} trains {_seeds(n + 1, looks[k + 1])} of {', '.join(training)}"
               if training and k + 1 < len(looks) else "; Phase 2 is decided")
        progress.note(f"[phase 2] look {k + 1} at {n} seeds: {said}{nxt}", key=("look", n))
    for name, why in rounds.stopped.items():
        if why is not None:
            left = sum(config.epoch_budgets) * (config.max_seeds - rounds.allowed[name])
            progress.skip(left, key=("seeds not needed", name))


def _seeds(first: int, last: int) -> str:
    return f"seed {first}" if first == last else f"seeds {first}-{last}"
