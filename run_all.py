"""EpochBench command line: tune schedulers at one budget, re-train at many, report."""

from __future__ import annotations

import functools
import inspect
import json
import signal
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import typer
from rich.markup import escape

from errors import UserError
from results import ALPHA
from runner import plugins
from runner.config import PRESETS, RunConfig
from runner.options import PANELS, declared, default_of, help_of
from runner.parsing import parse_assignments, parse_budgets
from schedulers.params import DEFAULT_INFIMUM_LR, DEFAULT_LR, Budget
from schedulers.registry import SCHEDULERS, get_scheduler
from tasks import TASKS, TaskOption

if TYPE_CHECKING:  # optuna loads with the storage, after the checks
    from optuna.storages import BaseStorage

    from results.records import Analysis
    from runner import launch

app = typer.Typer(add_completion=False, help=__doc__, pretty_exceptions_enable=False, rich_markup_mode="rich")


INTERRUPTED = "interrupted: finished work is stored; run the same command again to resume"
MAX_TRACE_STEPS = 10_000_000  # lr-trace: LR values over all traces (minutes, ~150 MB of text at the limit)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or container's stop): stopped like Ctrl-C, exit status 143 = 128 + 15."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def interrupted_status(err: BaseException | None) -> int:
    """Print the resume hint; the exit status tells the signal: 143 for SIGTERM, 130 for Ctrl-C."""
    print(INTERRUPTED, file=sys.stderr)
    return 143 if isinstance(err, Terminated) else 130


def user_errors_exit(command: Callable) -> Callable:
    """Turn a UserError into one line on stderr and exit status 2; Ctrl-C into 130, SIGTERM into 143."""
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt as err:
            raise typer.Exit(interrupted_status(err)) from None
        except Exception as err:
            if not _is_storage_fault(err):
                raise  # a bug: the traceback is what a report needs
            from runstate.storage import root_cause

            typer.echo(f"error: the storage or a file could not be written or read: {root_cause(err)}; "
                       "finished work is kept, run the same command again once this is fixed", err=True)
            raise typer.Exit(1) from None
    return wrapped


def _is_storage_fault(err: BaseException) -> bool:
    """A damaged database, a full disk, a lost server: the environment's fault, said in one line."""
    return isinstance(err, OSError) or type(err).__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg")


def task_options() -> dict[str, tuple[TaskOption, list[str]]]:
    """Every task's own options by name, with the tasks that declare each."""
    found: dict[str, tuple[TaskOption, list[str]]] = {}
    for task in TASKS.values():
        for option in task.options:
            first = found.setdefault(option.name, (option, []))
            if first[0].type is not option.type:
                raise UserError(f"task option {option.name} has type {first[0].type.__name__} in task "
                                f"{first[1][0]} but {option.type.__name__} in task {task.name}")
            first[1].append(task.name)
    return found


PLUGIN_HELP = help_of(RunConfig, "plugins")


def run_parameters() -> list[inspect.Parameter]:
    """One option per declared RunConfig field (runner.options), grouped, defaults from the code."""
    hints = typing.get_type_hints(RunConfig)
    params = []
    for f, option in declared(RunConfig):
        kind, text = option.cli_type or hints[f.name], option.help_text()
        if option.resolved_by is not None:  # not given: the preset, the task or the folder decides
            default, shown, kind, text = None, False, kind | None, f"{text} [default: {option.resolved_by}]"
        else:
            default, shown = default_of(f) if option.cli_default is None else option.cli_default, True
        flags = [option.flag] if option.flag else []
        params.append(inspect.Parameter(
            option.cli_name or f.name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=typer.Option(
                default, *flags, help=escape(text), rich_help_panel=option.panel, show_default=shown,
                metavar=option.metavar)))
    return params


def task_parameters(taken: set[str]) -> list[inspect.Parameter]:
    """One option per task option (None = not given), in the Task group."""
    params = []
    for name, (option, tasks) in task_options().items():
        if name in taken:
            raise UserError(f"task {tasks[0]}: option {name!r} clashes with the command's own --{name}")
        help_text = escape(f"{', '.join(tasks)} task: {option.help} [default: {option.default}].")
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=option.type | None,
                                        default=typer.Option(None, option.flag, help=help_text,
                                                             rich_help_panel="Task")))
    return params


class RunCommand(Protocol):
    """A command given the run options (``with_run_options``): typer reads its ``__signature__``."""

    __signature__: inspect.Signature
    refresh_options: Callable[[], None]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def with_run_options(function: Callable) -> RunCommand:
    """Give ``function`` the run options and every task's own options; they arrive in **kwargs.
    ``command.refresh_options()`` adds those of tasks (and help of names) registered since (plugins)."""
    command = cast(RunCommand, function)  # it becomes one below: both attributes are set
    signature = inspect.signature(command)
    base = [p for p in signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]

    def refresh() -> None:
        options = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in base[1:]] + run_parameters()
        options += task_parameters({p.name for p in options})
        options.sort(key=lambda p: PANELS.index(p.default.rich_help_panel))  # stable: declared order in a group
        params = [base[0], *options]
        command.__signature__ = signature.replace(parameters=params)

    command.refresh_options = refresh
    refresh()
    return command


@app.callback(invoke_without_command=True)
@with_run_options
@user_errors_exit
def benchmark(
    ctx: typer.Context,
    preset: str | None = typer.Option(None, help=f"Settings for a purpose: {', '.join(PRESETS)} (smoke: minutes "
                                      "on a CPU; paper: the full protocol).", rich_help_panel="Protocol"),
    **given: object,
) -> None:
    """Tune every scheduler at one budget (Phase 1), re-train at every budget (Phase 2), report."""
    if ctx.invoked_subcommand is not None:
        return
    run(resolved(preset, given))


def resolved(preset: str | None, given: dict[str, object]) -> RunConfig:
    """The run's settings from the run options and task options a command was given."""
    from runner.config import resolve

    options = {}
    for f, option in declared(RunConfig):
        value = given.pop(option.cli_name or f.name)
        options[f.name] = option.parse(value) if option.parse is not None and value is not None else value
    return resolve(options, preset, given)  # what is left: the task options


def run(config: RunConfig, report: bool = True) -> None:
    """Check everything before torch is imported, so a refusal comes at once; then run. A pool's
    fork server imports torch beside this process."""
    from runner.preflight import preflight

    preflight(config)
    if config.workers > 1:
        from runner.pool import start_fork_server

        start_fork_server()
    from runner.pipeline import run_benchmark, run_workers

    if report:
        run_benchmark(config, preflighted=True)
    else:
        run_workers(config, preflighted=True)


def open_project(target: str, project: str | None) -> tuple[BaseStorage, str]:
    """(storage, project) of a run folder or storage URL; creates nothing, even for a new file URL."""
    from runstate import storage as store

    folder = Path(target)
    if folder.is_dir():
        url = store.default_url(folder)
        if not store.exists(url):
            raise UserError(f"{folder} holds no {store.JOURNAL_FILE} (nor {store.DB_FILE}); pass the storage URL "
                            "used for the run")
    elif ":" not in target:
        raise UserError(f"{target}: no such folder; give a run's output folder or an Optuna storage URL")
    else:
        url = target
    if not store.exists(url):
        raise UserError(f"{target} holds no EpochBench project (no such file)")
    storage = store.open_storage(url)
    found = store.projects(storage)
    if not found:
        raise UserError(f"{target} holds no EpochBench project")
    if project is None and len(found) > 1:
        raise UserError(f"{target} holds several projects ({', '.join(found)}); choose one with --project")
    chosen = project or found[0]
    if chosen not in found:
        raise UserError(f"project {chosen!r} is not in {target}; found: {', '.join(found)}")
    return storage, chosen


ALPHA_OPTION = typer.Option(ALPHA, help="Family-wise level of the budget tests, in (0, 1): a contender is "
                                        "budget-sensitive when its Holm-adjusted p-value is at most this.")


def check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise UserError(f"--alpha must lie strictly between 0 and 1, got {alpha}")


@app.command("report")
@user_errors_exit
def report_command(
    targets: list[str] = typer.Argument(..., help="Output folders or Optuna storage URLs (several: a cross-task "
                                                  "summary)."),
    project: str | None = typer.Option(None, help="Project in the storage (needed if it holds several)."),
    out: Path | None = typer.Option(None, help=escape("Where to write [the folder, or ./report; several: ./report].")),
    alpha: float = ALPHA_OPTION,
) -> None:
    """Rebuild report.json, curves.csv, plots and report.md from the storage alone; merge several runs."""
    check_alpha(alpha)
    opened = [open_project(target, project) for target in targets]
    from results.report.outputs import write_outputs  # pandas, scipy: after the checks
    from runstate.storage import stored_meta

    for storage_, chosen in opened:  # the run's plugins: its schedules are drawn like the built-in ones
        plugins.load((stored_meta(storage_, chosen) or {}).get("config", {}).get("plugins", []))

    if len(opened) == 1:
        folder = out or (Path(targets[0]) if Path(targets[0]).is_dir() else Path("report"))
        write_outputs(*opened[0], folder, alpha)
        typer.echo(f"wrote {folder / 'report.json'}", err=True)
        return
    from results.report.summary import write_summary

    out = out or Path("report")
    labels = [chosen for _, chosen in opened]  # projects, or the folders' names when projects repeat
    if len(set(labels)) < len(labels):
        labels = [Path(target.rstrip("/")).name for target in targets]
    if len(set(labels)) < len(labels):
        raise UserError("several targets share a project and a folder name; report them one at a time")
    analyses: dict[str, Analysis] = {}
    links: dict[str, Path] = {}
    for label, (storage, chosen) in zip(labels, opened):
        report = write_outputs(storage, chosen, out / label, alpha)
        if report.analysis is None:  # no Phase 2 runs (--skip-compare): no ranking to merge
            raise UserError(f"{label} has no Phase 2 runs, so no ranking for a cross-task summary; report it alone")
        analyses[label], links[label] = report.analysis, out / label / "report.md"
    typer.echo(f"wrote {write_summary(analyses, links, out)}", err=True)


@app.command("worker")
@user_errors_exit
def worker_command(
    storage: str = typer.Option(..., help="The run's Optuna storage URL (e.g. postgresql://me@db/bench)."),
    project: str = typer.Option(..., help="The run's project name in the storage."),
    workers: int = typer.Option(1, help=help_of(RunConfig, "workers")),
    device: str | None = typer.Option(None, help=escape(help_of(RunConfig, "device") + " [default: the run's]")),
    out: Path | None = typer.Option(None, help=escape("Where to write the report at the end [default: the run's "
                                                      "--out].")),
    data_dir: Path | None = typer.Option(None, help=escape(help_of(RunConfig, "data_dir") + " [default: the run's]")),
    max_retries: int | None = typer.Option(None, help=escape(help_of(RunConfig, "max_retries") +
                                                             " [default: the run's]")),
    report: bool = typer.Option(True, help="Write the report when the run is finished (launched jobs leave it "
                                           "to `launch`)."),
) -> None:
    """Join a run from anywhere: its settings are read from the storage, no options repeated."""
    from dataclasses import replace

    from runner.config import validate
    from runstate.storage import stored_meta

    opened, chosen = open_project(storage, project)
    stored = (stored_meta(opened, chosen) or {}).get("config")
    if stored is None:
        raise UserError(f"project {chosen!r} in {storage} has no stored settings; start it with the benchmark command")
    config = RunConfig.from_json(stored)
    config = replace(config, storage=storage, workers=workers, device=config.device if device is None else device,
                     out=config.out if out is None else out,
                     data_dir=config.data_dir if data_dir is None else data_dir,
                     max_retries=config.max_retries if max_retries is None else max_retries)
    validate(config)
    run(config, report)


CLUSTER = "Cluster"


@app.command("launch")
@with_run_options
@user_errors_exit
def launch_command(
    ctx: typer.Context,
    preset: str | None = typer.Option(None, help=f"Settings for a purpose: {', '.join(PRESETS)}.",
                                      rich_help_panel="Protocol"),
    jobs: int = typer.Option(2, min=1, help="Jobs in the array: each runs a worker (--workers processes).",
                             rich_help_panel=CLUSTER),
    executor: str = typer.Option("slurm", help="slurm: sbatch to the cluster; local: the jobs run on this machine "
                                               "(submitit's local executor, for trying it without SLURM).",
                                 rich_help_panel=CLUSTER),
    partition: str | None = typer.Option(None, help=escape("SLURM partition [default: the cluster's]."),
                                         rich_help_panel=CLUSTER),
    time_limit: int = typer.Option(60, "--time", min=1, metavar="MINUTES", help="Time limit of each job in minutes; "
                                   "a job that reaches it is requeued and resumes.", rich_help_panel=CLUSTER),
    stop_before: int = typer.Option(90, min=1, metavar="SECONDS", help="A job is told this long before its time "
                                    "limit to stop at its unit's last checkpoint and requeue.",
                                    rich_help_panel=CLUSTER),
    cpus_per_task: int = typer.Option(1, min=1, help="CPUs of each job.", rich_help_panel=CLUSTER),
    gpus_per_task: int = typer.Option(0, min=0, help="GPUs of each job.", rich_help_panel=CLUSTER),
    workers_per_gpu: int = typer.Option(1, min=1, help="Worker processes per GPU of a job (small models fill a "
                                        "GPU this way).", rich_help_panel=CLUSTER),
    mem_gb: float | None = typer.Option(None, min=0, help=escape("Memory of each job in GB [default: the "
                                        "cluster's]."), rich_help_panel=CLUSTER),
    sbatch: list[str] = typer.Option([], metavar="NAME=VALUE", help="Extra sbatch parameter, e.g. account=lab or "
                                     "qos=long (repeatable).", rich_help_panel=CLUSTER),
    max_requeues: int = typer.Option(100, min=0, help="Requeues of a job after its time limit, before it ends.",
                                     rich_help_panel=CLUSTER),
    detach: bool = typer.Option(False, help="Return once submitted (else: wait, show progress, write the report).",
                                rich_help_panel=CLUSTER),
    status: bool = typer.Option(False, "--status", help="Show the run's jobs and progress (the run: --out, or "
                                "--storage); submits nothing.", rich_help_panel=CLUSTER),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel the run's jobs; their units are marked "
                                "interrupted and resume in a later launch or worker.", rich_help_panel=CLUSTER),
    **given: object,
) -> None:
    """Run the benchmark as a job array on a SLURM cluster (submitit): storage every node reaches
    (PostgreSQL; a journal file only on a shared file system)."""
    from runner import launch

    config = resolved(preset, given)
    if status and cancel:
        raise UserError("give one of --status and --cancel")
    if status or cancel:
        found = launch.recorded_jobs(config.out)
        if cancel:
            stopped = launch.cancel(found)
            typer.echo(f"cancelled {len(stopped)} job(s): {' '.join(j.job_id for j in stopped) or 'none running'}; "
                       "their units resume in a later launch or worker")
            return
        for job in found:
            typer.echo(f"job {job.job_id}: {launch.state(job, force=True)}")
        typer.echo(_progress_line(config))
        return
    settings = launch.Launch(jobs=jobs, executor=executor, time_minutes=time_limit,  # type: ignore[arg-type]
                             stop_before=stop_before, partition=partition, cpus_per_task=cpus_per_task,
                             gpus_per_task=gpus_per_task, workers_per_gpu=workers_per_gpu, mem_gb=mem_gb,
                             sbatch=parse_assignments(sbatch, lambda name, text: text, "--sbatch", "account=lab"),
                             max_requeues=max_requeues)
    launch.check(settings, config)
    _launch(settings, config, detach)


def _progress_line(config: RunConfig) -> str:
    """'PROJECT: D of N epochs trained' from the storage of the run in config.out (or --storage)."""
    from runner.pool import epochs_done
    from runstate.storage import stored_meta

    storage, project = open_project(config.storage or str(config.out), None)
    stored = RunConfig.from_json((stored_meta(storage, project) or {})["config"])
    return f"{project}: {epochs_done(storage, stored)} of {stored.planned_epochs} epochs trained"


def _launch(settings: launch.Launch, config: RunConfig, detach: bool) -> None:
    """Prepare the run as the benchmark command does, submit its jobs; unless ``detach``, wait and report."""
    from runner import launch
    from runner.pipeline import prepare
    from runner.pool import epochs_done
    from runner.preflight import preflight
    from runner.progress import Progress

    preflight(config)
    storage, _ = prepare(config)  # the data cache the jobs read, the run's settings in its storage
    jobs = launch.submit(settings, config)
    folder = launch.job_folder(config.out)
    typer.echo(f"submitted {len(jobs)} {settings.executor} job(s): {' '.join(j.job_id for j in jobs)}; logs in "
               f"{folder}", err=True)
    if detach:
        typer.echo("watch with `launch --status`, stop with `launch --cancel` (with the same --out)", err=True)
        return
    progress = Progress(config.planned_epochs, log_every=config.log_every)
    already = epochs_done(storage, config)
    progress.skip(already)
    try:
        launch.wait(jobs, lambda: progress.advance_to(epochs_done(storage, config) - already, "training"))
    except KeyboardInterrupt:
        typer.echo("stopped watching: the jobs keep running; `launch --status` watches them, `launch --cancel` "
                   "stops them", err=True)
        raise typer.Exit(130) from None
    finally:
        progress.close()
    if epochs_done(storage, config) < config.planned_epochs:
        states = ", ".join(f"{job.job_id} {launch.state(job, force=True)}" for job in jobs)
        raise UserError(f"the jobs ended before the run did ({states}); their logs are in {folder}; launch again to "
                        "resume")
    from results.report.outputs import write_outputs

    write_outputs(storage, config.project, config.out)
    typer.echo(f"wrote {config.out / 'report.json'}", err=True)


@app.command("analyze")
@user_errors_exit
def analyze_command(
    paths: list[Path] = typer.Argument(..., help="curves.csv files, paper Result_*.csv exports, or folders of them."),
    out: Path = typer.Option(Path("analysis"), help="Where to write analysis.json, plots/ and report.md."),
    tuning_budget: int | None = typer.Option(None, help=escape("Budget the rank stability compares with [smallest].")),
    seed: int = typer.Option(0, help="Seed of the bootstrap intervals and permutation tests."),
    alpha: float = ALPHA_OPTION,
) -> None:
    """Analyse learning curves from files: budget sensitivity metrics, plots and report.md."""
    check_alpha(alpha)
    from results.analyze_command import analyze_paths

    for line in analyze_paths(paths, out, tuning_budget, seed, alpha):
        typer.echo(line)


@app.command("schedulers")
@user_errors_exit
def schedulers_command(
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    epochs: int = typer.Option(50, min=1, help="Budget at which defaults and search spaces are shown."),
    lr: float = typer.Option(DEFAULT_LR, help="Base LR for LR-dependent defaults."),
    steps_per_epoch: int = typer.Option(1, min=1, help="Batches per epoch (per-batch schedules)."),
    plugin: list[str] = typer.Option([], metavar="PATH_OR_MODULE", help=PLUGIN_HELP + " Its schedules are listed too."),
) -> None:
    """List the scheduler registry: codes, families, defaults and search spaces."""
    from schedulers.trace import describe

    budget = Budget(epochs, steps_per_epoch, lr)
    rows = [describe(code, budget) for code in SCHEDULERS]
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Schedulers (defaults at {epochs} epochs, lr {lr:g})")
    for column in ("code", "name", "family", "per batch", "defaults", "search space"):
        table.add_column(column)
    for row in rows:
        space = ", ".join(f"{k} {_range_text(v)}" for k, v in row["search_space"].items())
        defaults = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["defaults"].items())
        table.add_row(row["code"], row["name"], row["family"], "yes" if row["per_batch"] else "", defaults, space)
    Console(width=160).print(table)


def _range_text(dist: dict) -> str:
    if dist["type"] == "categorical":
        return "{" + ", ".join(map(str, dist["choices"])) + "}"
    prefix = "logU" if dist.get("log") else ("int" if dist["type"] == "int" else "U")
    return f"{prefix}[{dist['low']:g}, {dist['high']:g}]"


@app.command("lr-trace")
@user_errors_exit
def lr_trace_command(
    code: str | None = typer.Argument(None, help="Scheduler code (see `schedulers`)."),
    all_codes: bool = typer.Option(False, "--all", help="Trace every scheduler in the registry."),
    epochs: str = typer.Option("50", help="Budget in epochs, or a comma list of budgets."),
    lr: float = typer.Option(DEFAULT_LR, help="Base LR."),
    infimum_lr: float = typer.Option(DEFAULT_INFIMUM_LR, help="Default LR floor."),
    set_values: list[str] = typer.Option([], "--set", help="Override a parameter: name=value (repeatable)."),
    steps_per_epoch: int = typer.Option(1, min=1, help=f"Batches per epoch (per-batch schedules); at most "
                                        f"{MAX_TRACE_STEPS:,} LR values over all traces."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    plot: Path | None = typer.Option(None, help="PNG file (one code) or folder (--all)."),
    metrics: bool = typer.Option(False, help="Add sum(LR) and the convex bound (gamma*, Omega*) per budget, on one "
                                 "LR per scheduler step (epochs or batches; the transfer report's is on SGD steps)."),
    plugin: list[str] = typer.Option([], metavar="PATH_OR_MODULE", help=PLUGIN_HELP),
) -> None:
    """Print the LR used in each epoch (each batch for per-batch schedules)."""
    if all_codes == (code is not None):
        raise UserError("lr-trace: give exactly one of CODE or --all")
    if all_codes and set_values:
        raise UserError("lr-trace: --set applies to one scheduler; drop --all or --set")
    codes = list(SCHEDULERS) if code is None else [get_scheduler(code).code]
    budgets = parse_budgets(epochs, "--epochs")
    steps = sum(budgets) * sum(steps_per_epoch if SCHEDULERS[c].per_batch else 1 for c in codes)
    if steps > MAX_TRACE_STEPS:
        raise UserError(f"lr-trace: {steps:,} LR values to trace (epochs x steps per epoch of per-batch schedules) "
                        f"is over the limit of {MAX_TRACE_STEPS:,}; lower --epochs or --steps-per-epoch")
    if lr <= 0:
        raise UserError(f"--lr must be positive, got {lr:g}")
    overrides = parse_assignments(set_values, lambda name, text: get_scheduler(codes[0]).param(name).parse(text))
    from schedulers.trace import lr_trace, schedule_metrics  # torch: after the checks

    runs = {e: Budget(e, steps_per_epoch, lr, infimum_lr) for e in budgets}
    traces = {c: {e: lr_trace(c, budget, overrides) for e, budget in runs.items()} for c in codes}
    if plot is not None:
        _plot_traces(traces, plot, all_codes, steps_per_epoch)
    extra = {(c, e): schedule_metrics(c, budget, overrides) if metrics else {} for c in codes
             for e, budget in runs.items()}
    if json_out:
        objects = [{"code": c, "epochs": e, "steps_per_epoch": steps_per_epoch if SCHEDULERS[c].per_batch else 1,
                    "lr": values, **extra[c, e]}
                   for c, per_budget in traces.items() for e, values in per_budget.items()]
        typer.echo(json.dumps(objects[0] if len(objects) == 1 else objects))
    elif plot is None or not all_codes or metrics:
        for c, per_budget in traces.items():
            for e, values in per_budget.items():
                summary = "".join(f", {k} {v:.6g}" for k, v in extra[c, e].items())
                typer.echo(f"# {c} at {e} epochs ({len(values)} steps{summary})")
                if plot is None or not all_codes:
                    typer.echo("\n".join(f"{i}\t{v:.9g}" for i, v in enumerate(values)))


def _plot_traces(traces: dict[str, dict[int, list[float]]], target: Path, many: bool, steps_per_epoch: int) -> None:
    from results.figures.lr_trace import plot_curves

    for code, per_budget in traces.items():
        spec = SCHEDULERS[code]
        path = target / f"lr_{code}.png" if many else target
        plot_curves(per_budget, title=f"{code}: {spec.name}", ylabel="learning rate", path=path,
                    steps_per_epoch=steps_per_epoch if spec.per_batch else 1)
        typer.echo(f"wrote {path}", err=True)


def given_plugins(argv: list[str]) -> list[str]:
    """The --plugin values on a command line: loaded before it is parsed, since a plugin task's
    options are flags of the command."""
    found = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--plugin"]
    return found + [arg.split("=", 1)[1] for arg in argv if arg.startswith("--plugin=")]


def main() -> None:
    """Entry point: usage errors become one line; Ctrl-C and SIGTERM leave a resumable state."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        plugins.load([*plugins.installed(), *given_plugins(sys.argv[1:])])
        benchmark.refresh_options()
        launch_command.refresh_options()
        status = app(standalone_mode=False)  # returns the exit status of typer.Exit
    except UserError as err:  # a plugin that cannot load
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as done:
        status = done.exit_code
    except typer.TyperException as err:  # usage errors: unknown option, value of the wrong type
        print(f"error: {err.format_message()}", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort) as err:  # click turns one raised outside a command into Abort
        sys.exit(interrupted_status(err.__cause__ if isinstance(err, typer.Abort) else err))
    finally:
        signal.signal(signal.SIGTERM, previous)
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":
    main()
