"""--compare-seeds auto through the real CLI, storage and training: Phase 2 trains the seeds the group-sequential
decisions give (recomputed here from curves.csv alone), in the same rounds with two workers, after a SIGKILL
mid-round, and grown by a larger --max-seeds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from results.stats.looks import Design
from results.stats.sequential import SequentialOutcome, decide
from runstate import storage as store
from tests.processes import HANG_SECONDS, freeze_when, stored_trials
from tests.support.cli import command, run_cli, run_process
from tests.support.tiny_runs import OSC_PROJECT as PROJECT
from tests.support.tiny_runs import OSC_SEED_ROUNDS as ARGS

pytestmark = [pytest.mark.slow]

RUN = "osc seed rounds"  # ARGS trained once per session (tests/support/tiny_runs.py)
NAMES = ["N", "C", "H", "EH"]
BUDGETS = [3, 6]  # the smoke preset's
MOST, STEP = 6, 1  # ARGS' --max-seeds and --seed-step: looks at 4, 5 and 6 seeds


def with_option(args: Sequence[str], flag: str, value: str) -> list[str]:
    """``args`` with ``flag``'s value replaced."""
    i = list(args).index(flag)
    return [*args[:i + 1], value, *args[i + 2:]]


def units(out: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Per contender, (budget, seed, how it ended) of every Phase 2 trial, in trial order: its status (complete,
    yielded: another worker had the unit, ...), or RUNNING for a claim whose process died."""
    storage = store.open_storage(store.default_url(out))
    return {name: [(t.user_attrs["budget"], t.user_attrs["seed"],
                    t.user_attrs.get("status", t.state.name) if t.state.is_finished() else t.state.name)
                   for t in store.trials(storage, store.study_name(PROJECT, "compare", name))] for name in NAMES}


def trained(out: Path) -> dict[str, list[tuple[int, int]]]:
    """Per contender, (budget, seed) of each finished Phase 2 run, sorted (a unit trained twice shows twice)."""
    return {name: sorted((b, s) for b, s, how in runs if how == "complete") for name, runs in units(out).items()}


def fingerprints(out: Path) -> dict[str, list[tuple]]:
    """Per study, everything stored about each of its trials: a retrained or touched trial changes it."""
    storage = store.open_storage(store.default_url(out))
    return {name: [(t.number, t.state, t.params, t.values, t.intermediate_values, t.datetime_start,
                    t.datetime_complete, json.dumps(t.user_attrs, sort_keys=True, default=str))
                   for t in store.trials(storage, name)] for name in sorted(store.study_names(storage))}


def recomputed(out: Path, design: Design) -> tuple[SequentialOutcome, dict[str, dict[int, list[int]]]]:
    """The sequential decisions recomputed from curves.csv alone (not from the storage the runner planned from),
    and per contender and budget the seeds curves.csv holds."""
    curves = pd.read_csv(out / "curves.csv")
    held: dict[str, dict[int, list[int]]] = {}
    losses: dict[str, dict[int, dict[int, list[float]]]] = {}
    finished: dict[str, int] = {}
    for name in NAMES:
        mine = curves[curves["scheduler"] == name]
        held[name] = {b: sorted(mine[mine["budget"] == b]["seed"].unique().tolist()) for b in BUDGETS}
        losses[name] = {b: {int(seed): run.sort_values("epoch")["val_loss"].tolist()
                            for seed, run in mine[mine["budget"] == b].groupby("seed") if set(run["status"]) ==
                            {"complete"}} for b in BUDGETS}
        finished[name] = next(n - 1 for n in range(1, design.most + 2)
                              if any(n not in seeds for seeds in held[name].values()))
    return decide(losses, BUDGETS, design, finished), held


def look_lines(outcome: SequentialOutcome, design: Design) -> list[str]:
    """The progress line of each look (runner.seed_rounds.show_rounds), written out from the outcome."""
    lines = []
    for k, n in enumerate(outcome.looks):
        ended = [p for p in outcome.pairs if p.decided_at == n and p.outcome not in ("open", "untested")]
        apart = [f"{p.a}-{p.b}" for p in ended if p.outcome == "rejected"]
        said = f"{len(apart)} pair(s) told apart" + (f" ({', '.join(apart)})" if apart else "")
        said += "".join(f", {count} {o}" for o in ("futile", "no estimate", "max")
                        if (count := sum(p.outcome == o for p in ended)))
        training = [name for name, state in outcome.contenders.items() if state.seeds > n]
        first, last = n + 1, design.looks[k + 1] if k + 1 < len(design.looks) else n + 1
        seeds = f"seed {first}" if first == last else f"seeds {first}-{last}"
        after = (f"; round {k + 2} trains {seeds} of {', '.join(training)}"
                 if training else "; Phase 2 is decided")
        lines.append(f"[phase 2] look {k + 1} at {n} seeds: {said}{after}")
    return lines


def printed_looks(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[phase 2] look ")]


def check_rounds(out: Path, design: Design) -> SequentialOutcome:
    """Every contender trained seeds 1..n at every budget, each run once and finished, n the seeds the sequential
    decisions recomputed from curves.csv give it, and every contender stopped for a reason."""
    outcome, held = recomputed(out, design)
    stored = trained(out)
    for name, state in outcome.contenders.items():
        assert state.stopped is not None, (name, state)  # the run ended with no contender left training
        assert held[name] == {b: list(range(1, state.seeds + 1)) for b in BUDGETS}, (name, state, held[name])
        assert stored[name] == [(b, s) for b in BUDGETS for s in range(1, state.seeds + 1)], (name, stored[name])
    return outcome


def test_auto_trains_exactly_the_seeds_the_sequential_decisions_give(tmp_path: Path, capsys,
                                                                     one_torch_thread) -> None:
    """One worker, every run's line printed (--log-every 0): the rounds, the seeds and the looks' lines are those of
    the decisions recomputed from curves.csv; N (constant LR: every budget's run is a prefix of the longest) is
    untestable and stops after the first round; each look is taken once its round is done, before the next starts."""
    out = tmp_path / "out"
    assert run_cli(*ARGS, "--log-every", "0", "--out", out, "--data-dir", tmp_path / "data") == 0
    printed = capsys.readouterr().out
    design = Design(MOST, STEP)
    outcome = check_rounds(out, design)
    assert outcome.contenders["N"] == (4, "untested")
    assert {(p.outcome, p.seeds) for p in outcome.pairs if "N" in (p.a, p.b)} == {("untested", 4)}
    seeds = {name: state.seeds for name, state in outcome.contenders.items()}
    assert 4 < max(seeds.values()), seeds  # the case: a second round was trained (by some, never by N)
    assert outcome.looks == tuple(n for n in design.looks if n <= max(seeds.values()))  # no look past the last
    assert printed_looks(printed) == look_lines(outcome, design)
    lines = printed.splitlines()
    runs = [(i, int(found[1])) for i, line in enumerate(lines)  # (line, seed) of each Phase 2 run
            if (found := re.match(r"\[phase 2\] \S+ run \d+/\d+ \(\d+ epochs, seed (\d+)", line))]
    assert len(runs) == sum(seeds.values()) * len(BUDGETS)
    for k, n in enumerate(outcome.looks):  # the look comes after its round's last run, before the next round's first
        look = lines.index(look_lines(outcome, design)[k])
        assert max(i for i, seed in runs if seed <= n) < look
        assert all(i > look for i, seed in runs if seed > n)
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["compare_seeds"] == "auto" and report["config"]["max_seeds"] == MOST
    assert {name: epochs["planned"] for name, epochs in report["epochs"].items()} == {
        name: n * sum(BUDGETS) for name, n in seeds.items()}


@pytest.mark.multiprocess
def test_two_workers_train_the_rounds_and_numbers_of_one(finished_run, tmp_path: Path) -> None:
    """--workers 2 plans the same rounds from the storage: each contender's seeds, every unit finished once (no unit
    trained by both workers), equal curves; the pool's own progress shows the looks the workers took."""
    one = finished_run(RUN)
    two = tmp_path / "two"
    done = run_process(*ARGS, "--workers", "2", "--out", two, "--data-dir", one / "data")
    assert done.returncode == 0, done.stderr
    assert "2 workers, 1 thread(s) each, on cpu" in done.stdout
    assert trained(two) == trained(one / "out")  # each unit once: the claims never let two workers train one
    assert {how for runs in units(two).values() for _, _, how in runs} <= {"complete", "yielded"}
    assert (two / "curves.csv").read_bytes() == (one / "out" / "curves.csv").read_bytes()
    outcome = check_rounds(two, Design(MOST, STEP))
    assert printed_looks(done.stdout) == look_lines(outcome, Design(MOST, STEP))


# report.json fields a resumed run may differ in from one never killed, both trained from the same storage plan on
# the same machine and commit: the wall-clock seconds, and the faults, where the killed unit's retry is on record
# (checked on its own). Everything else, the config and environment, the sequential decisions and the epochs
# trained included, must be equal.
DIFFERS = ("training_time_s", "faults")


def comparable(report: dict) -> dict:
    return {key: value for key, value in report.items() if key not in DIFFERS}


@pytest.mark.multiprocess
def test_sigkill_mid_round_resumes_to_the_uninterrupted_numbers(finished_run, tmp_path: Path) -> None:
    """SIGKILL the run (its whole process group) once round 2 has a finished run (a seed past 4) and another in
    training; the same command plans the rounds again from the storage, retries the unit cut short, and ends with
    the curves and report of the run never killed (its fault on record besides)."""
    reference = finished_run(RUN)
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "data").symlink_to(reference / "data")
    argv = command(*ARGS, "--out", "out", "--data-dir", "data")  # as the reference was run: the same config
    url = store.default_url(killed / "out")
    process = subprocess.Popen(argv, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)

    def second_round() -> list[optuna.trial.FrozenTrial]:
        return [t for name, t in stored_trials(url) if "/compare/" in name and t.user_attrs.get("seed", 0) > 4]

    def mid_round() -> bool:
        """Round 2 has a finished run and one in training (an epoch reported): the kill cuts that one short."""
        runs = second_round()
        return process.poll() is not None or (any(t.state.is_finished() for t in runs) and any(
            t.state == TrialState.RUNNING and t.intermediate_values for t in runs))

    try:  # looked at only while frozen: what the condition saw is what the kill interrupts
        freeze_when([process.pid], mid_round, "a finished run of round 2 and one in training", group=True,
                    storage=url)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=HANG_SECONDS)
    second = sum(s > 4 for runs in trained(reference / "out").values() for _, s in runs)
    assert 0 < sum(t.state.is_finished() for t in second_round()) < second, "the kill came after round 2 was done"
    assert not (killed / "out" / "curves.csv").exists()
    done = subprocess.run(argv, cwd=killed, capture_output=True, text=True, timeout=HANG_SECONDS)
    assert done.returncode == 0, done.stderr
    outcome = check_rounds(killed / "out", Design(MOST, STEP))
    assert printed_looks(done.stdout) == look_lines(outcome, Design(MOST, STEP))  # look 1 read from the storage
    assert (killed / "out" / "curves.csv").read_bytes() == (reference / "out" / "curves.csv").read_bytes()
    resumed, uninterrupted = (json.loads((d / "out" / "report.json").read_text()) for d in (killed, reference))
    assert comparable(resumed) == comparable(uninterrupted)
    # the kill is on record: the unit it cut short, retried and finished (a RUNNING leftover of the dead process)
    cut = [(name, b, s) for name, runs in units(killed / "out").items() for b, s, how in runs if how == "RUNNING"]
    assert len(cut) == 1, units(killed / "out")
    name, b, s = cut[0]
    assert s > 4 and resumed["faults"] == {name: [{"phase": "compare", "unit": f"{b}/{s}", "retry_of": ["killed"],
                                                   "status": "complete", "reason": None}]}
    assert uninterrupted["faults"] == {}


def test_a_larger_max_seeds_trains_only_the_new_rounds(finished_run, monkeypatch) -> None:
    """The finished run resumed with --max-seeds 8: the decisions are those of the larger design (its boundaries
    depend on the most seeds), recomputed from the grown curves.csv; every stored trial is untouched and the new
    ones are all seeds past what the contender had."""
    folder = finished_run(RUN)
    before, had = fingerprints(folder / "out"), units(folder / "out")
    monkeypatch.chdir(folder)
    assert run_cli(*with_option(ARGS, "--max-seeds", "8"), "--out", "out", "--data-dir", "data") == 0
    after, grown = fingerprints(folder / "out"), units(folder / "out")
    assert {study: after[study][:len(trials)] for study, trials in before.items()} == before
    for name in NAMES:
        most = max(s for _, s, _ in had[name])
        assert all(s > most for _, s, _ in grown[name][len(had[name]):]), (name, grown[name])
    outcome = check_rounds(folder / "out", Design(8, STEP))
    assert sum(len(runs) for runs in grown.values()) > sum(len(runs) for runs in had.values())  # the case
    assert outcome.contenders["N"] == (4, "untested")
