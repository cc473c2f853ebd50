"""Phase 1: tune one recipe's parameters with TPE at the tuning budget."""

from __future__ import annotations

import statistics
import warnings

import optuna
from optuna.trial import FrozenTrial

from runner.claims import claim
from runner.trials import RunContext, curves, derived_seed, train_run
from runner.units import work_through
from runstate.records import TuningTrial, write
from runstate.storage import StudyName, finish
from schedulers.params import InvalidParameter
from schedulers.recipes import Recipe

TPE_STARTUP = 10  # TPE's first trials sample at random: independently of the other trials' results


def trial_sampler(recipe: Recipe, epochs: int, index: int, seed: int) -> optuna.samplers.BaseSampler:
    """TPE seeded by (study seed, name, trial index): a resumed study samples what an
    uninterrupted one would have. Trial 0 is the registry defaults, so tuning never loses to them."""
    sampler = optuna.samplers.TPESampler(n_startup_trials=TPE_STARTUP, seed=derived_seed(seed, recipe.name, index))
    if index == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.PartialFixedSampler(recipe.defaults(epochs), sampler)
    return sampler


def sees_history(index: int, pruner: str) -> bool:
    """Whether trial ``index`` depends on earlier trials' results: a TPE trial past the random
    start-up, or any trial a pruner compares with the others."""
    return index >= TPE_STARTUP or pruner != "none"


def index_of(trial: FrozenTrial) -> int | None:
    """The Phase 1 trial index a trial trains."""
    return TuningTrial.from_trial(trial).index


def tune(ctx: RunContext, recipe: Recipe) -> bool:
    """The Phase 1 trials of ``recipe`` that are free; True once all are finished (``work_through``)."""
    config = ctx.config
    name = StudyName(config.project, "tune", recipe.name)
    study = ctx.study(str(name))
    space = recipe.search_space(config.epochs)
    budgets = sorted({config.epochs, *config.epoch_budgets})
    run_epochs = config.plan.tuning_epochs

    def ask(index: int) -> optuna.Trial:
        study.sampler = trial_sampler(recipe, config.epochs, index, config.sampler_seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Fixed parameter .* is out of range")
            return study.ask(space)

    def run(index: int) -> bool:
        with claim(study, lambda: ask(index), TuningTrial(index=index, device=ctx.device).claim_attrs(),
                   lambda t: index_of(t) == index, config.max_retries) as trial:
            if trial is None:
                return False
            ctx.progress.run_started("phase 1", recipe.name, f"trial {index + 1}/{config.n_trials}")
            params = dict(trial.params)
            try:
                recipe.validate(params, budgets)
            except InvalidParameter as err:
                finish(study, trial, "invalid", str(err))
                ctx.progress.run_finished(f"invalid: {err}", run_epochs)
                return True
            run_trial(ctx, recipe, study, trial, params, index)
            return True

    def ready(index: int, done: set) -> bool:
        """A trial that sees the history starts once every earlier trial finished, so with any
        number of workers it samples and prunes on exactly what a serial run would show it."""
        return not sees_history(index, config.pruner) or done.issuperset(range(index))

    return work_through(study, config.plan.of(name), index_of, run, ctx.progress, ready)


def run_trial(ctx: RunContext, recipe: Recipe, study: optuna.Study, trial: optuna.Trial, params: dict,
              index: int) -> None:
    """Train every tuning seed; the objective is the mean final validation loss."""
    config = ctx.config
    runs = []
    try:
        for k, seed in enumerate(config.tuning_seeds):
            def on_epoch(epoch: int, record, k: int = k) -> None:
                trial.report(record.val_loss[-1], k * config.epochs + epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()

            record = train_run(ctx, ctx.trainer(recipe, params, config.epochs, seed), on_epoch,
                               f"tune/{recipe.name}/trial{index}-seed{seed}")
            runs.append(curves(record, seed))
            if record.status == "diverged":
                write(trial, TuningTrial(index=index, runs=runs).result_attrs())
                finish(study, trial, "diverged", f"seed {seed}: {record.reason}")
                ctx.progress.skip(config.epochs * (len(config.tuning_seeds) - k - 1))
                return
    except optuna.TrialPruned:
        finish(study, trial, "pruned")
        ctx.progress.run_finished("pruned")
        return
    write(trial, TuningTrial(index=index, runs=runs).result_attrs())
    value = statistics.fmean(run["val_loss"][-1] for run in runs)
    finish(study, trial, "complete", value=value)
    ctx.progress.run_finished(f"val {value:.4g}")
