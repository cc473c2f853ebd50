"""The resolved settings of one benchmark: defaults, presets, validation, resume identity."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from errors import UserError
from results.stats.looks import FIRST_LOOK, Design
from runner.options import declared, identity_names, run_option
from runner.parsing import parse_budgets, parse_multipliers, parse_names
from runner.plan import RunPlan
from runner.progress import DEFAULT_LOG_EVERY, parse_log_every
from runstate.storage import JOURNAL_FILE, default_url
from schedulers.lr_free import LR_FREE
from schedulers.params import DEFAULT_INFIMUM_LR
from schedulers.recipes import OPTIMIZERS, RECIPES, Recipe, check_optimizer, make_recipe
from schedulers.registry import SCHEDULERS
from tasks import TASKS, TaskSpec, get_task
from tasks.precision import PRECISIONS, Precision

PRUNERS = ("none", "median", "hyperband")
WandbMode = Literal["online", "offline", "disabled"]
WANDB_MODES: tuple[WandbMode, ...] = get_args(WandbMode)


def _task_help() -> str:
    return f"Task: {', '.join(TASKS)}."


def _dataset_help() -> str:
    return "Dataset of tasks that have several: " + "; ".join(
        f"{t.name}: {', '.join(t.datasets)}" for t in TASKS.values() if t.datasets) + "."


def _parse_schedulers(text: str) -> tuple[str, ...]:
    return tuple(parse_names(text, [*SCHEDULERS, *RECIPES], "scheduler code", "--schedulers"))


def _parse_compare_seeds(text: str) -> int | str:
    if text.strip() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise UserError(f"--compare-seeds must be a whole number >= 1 or auto, got {text!r}") from None


def _with_installed_plugins(given: list[str]) -> tuple[str, ...]:
    from runner import plugins

    return tuple(dict.fromkeys([*plugins.installed(), *map(plugins.canonical, given)]))


@dataclass(frozen=True)
class RunConfig:
    """Every setting of a run. Fields declared with ``run_option`` are the command's options
    (runner.options); ``identity`` ones change a stored number, so a folder holding results made
    with other values cannot be resumed with these (budgets, seeds to compare and the scheduler
    list may grow)."""

    task: str = run_option("cifar10", _task_help, "Task", identity=True)
    model: str = run_option("", "Model.", "Task", identity=True, resolved_by="the task's first model")
    optimizer: str = run_option("AdamW", f"Base optimizer of the schedules: {', '.join(OPTIMIZERS)}.", "Protocol",
                                identity=True)
    epochs: int = run_option(50, "Phase 1 (tuning) budget in epochs.", "Protocol", identity=True, minimum=1,
                             resolved_by="50, or the preset's")
    batch_size: int = run_option(0, "Batch size.", "Task", identity=True, minimum=1, resolved_by="the task's")
    lr: float = run_option(0.0, "Base LR of the default trial.", "Protocol", identity=True,
                           resolved_by="the task's for the model")
    infimum_lr: float = run_option(DEFAULT_INFIMUM_LR, "Default LR floor of the schedules.", "Protocol", identity=True)
    n_trials: int = run_option(25, "Optuna trials per scheduler.", "Protocol", identity=True, minimum=1,
                               resolved_by="25, or the preset's")
    n_seeds: int = run_option(1, "Seeds averaged inside each tuning trial.", "Protocol", identity=True, minimum=1,
                              resolved_by="1, or the preset's")
    compare_seeds: int | str = run_option(
        5, "Seeds per budget in Phase 2, or auto: rounds of --seed-step seeds after a first round of "
        f"{FIRST_LOOK}, each contender until its pairwise comparisons are decided or --max-seeds.", "Protocol",
        cli_type=str, parse=lambda text: _parse_compare_seeds(text),
        resolved_by="5, or the preset's", metavar="N|auto")
    max_seeds: int = run_option(12, "With --compare-seeds auto: the most seeds a contender trains per budget.",
                                "Protocol", minimum=FIRST_LOOK)
    seed_step: int = run_option(2, "With --compare-seeds auto: seeds per round after the first.", "Protocol",
                                minimum=1)
    epoch_budgets: tuple[int, ...] = run_option(
        (50, 100, 150, 200), "Phase 2 budgets, a comma list.", "Protocol", cli_type=str,
        parse=lambda text: tuple(parse_budgets(text)), resolved_by="50,100,150,200, or the preset's")
    schedulers: tuple[str, ...] = run_option(tuple(SCHEDULERS), "Comma list of scheduler codes.", "Protocol",
                                             cli_type=str, parse=_parse_schedulers, resolved_by="all")
    lr_free: tuple[str, ...] = run_option(
        tuple(LR_FREE), f"Do not run the LR-free optimizers ({', '.join(LR_FREE)}).", "Protocol",
        cli_name="skip_lr_free", cli_type=bool, cli_default=False, parse=lambda skip: () if skip else None)
    skip_compare: bool = run_option(False, "Stop after Phase 1.", "Protocol")
    transfer_grid: tuple[float, ...] = run_option(
        (), "Transfer phase: multipliers of each contender's tuned step size (base LR) trained at every Phase 2 "
        "budget, a comma list like 0.25,0.5,1,2,4 (1 is Phase 2's run).", "Protocol", cli_type=str,
        parse=lambda text: tuple(parse_multipliers(text)), resolved_by="off")
    transfer_seeds: int = run_option(0, "Seeds per budget and multiplier in the transfer phase (at most "
                                     "--compare-seeds, or its first round with auto).", "Protocol", minimum=1,
                                     resolved_by=f"--compare-seeds, {FIRST_LOOK} with auto")
    transfer_max_octaves: float = run_option(
        0.0, "Transfer phase: grow the grid in rounds, up to K octaves from the tuned step size: a grid step past an "
        "edge where a budget's lowest loss lies, then sqrt(2) steps around it. 0: the grid as given.", "Protocol",
        metavar="K")
    project: str = run_option("", "Project name.", "Output", resolved_by="task-dataset-model")
    dataset: str | None = run_option(None, _dataset_help, "Task", identity=True, resolved_by="the task's first")
    subset_ratio: float = run_option(1.0, "Seeded fraction of the data in (0, 1].", "Task", identity=True,
                                     resolved_by="the task's, 1 for most")
    options: dict[str, Any] = field(default_factory=dict)  # the task's own options (TaskSpec.options)
    sampler_seed: int = run_option(0, "Seed of the TPE sampler.", "Protocol", identity=True)
    pruner: str = run_option("none", f"Trial pruner: {', '.join(PRUNERS)} (none: the paper protocol).", "Protocol",
                             identity=True)
    precision: Precision = run_option("fp32", f"{' or '.join(PRECISIONS)} (autocast).", "Protocol", identity=True,
                                      cli_type=str)
    device: str = run_option("auto", "auto, cpu, cuda or cuda:N.", "Scale-out")
    wandb_mode: WandbMode = run_option("disabled", f"W&B logging: {', '.join(WANDB_MODES)} (needs wandb).", "Output",
                                       cli_type=str)

    workers: int = run_option(1, "Worker processes on this machine sharing the run (GPUs round-robin).",
                              "Scale-out", minimum=1)
    max_retries: int = run_option(2, "Retries of a unit whose worker died or raised, before it fails.",
                                  "Scale-out", minimum=0)
    data_dir: Path = run_option(Path("data"), "Where datasets are read and generated data cached.", "Task")
    download: bool = run_option(False, "Download missing dataset files (cifar10 task; needs internet).", "Task")
    out: Path = run_option(Path(), "Output folder.", "Output", resolved_by="runs/<project>")
    storage: str | None = run_option(None, "Optuna storage URL (e.g. postgresql://me@db/bench) that workers on "
                                     "other machines join.", "Scale-out",
                                     resolved_by=f"the journal file --out/{JOURNAL_FILE}")
    checkpoint_every: int = run_option(1, "Phase 2 runs save a checkpoint every K epochs, from which a rerun resumes "
                                       "exactly; 0: off.", "Scale-out", minimum=0)
    checkpoint_seconds: float = run_option(60.0, "...and at least this many seconds after the run's last save (fork "
                                           "points are always saved); 0: every K epochs.", "Scale-out")
    share_prefix: bool = run_option(True, "Train the LR prefix budgets share once in Phase 2, and fork each budget "
                                    "from it (exact; changes no number).", "Scale-out",
                                    flag="--share-prefix/--no-share-prefix")
    checkpoint_dir: Path | None = run_option(None, "Folder of the checkpoints (an Optuna artifact store); shared by "
                                             "workers on several machines.", "Scale-out", resolved_by="--out/artifacts")
    log_every: str = run_option(DEFAULT_LOG_EVERY, "When output is not a terminal (logs, batch jobs): a progress "
                                "line every so many seconds (60s), per cent of the work (5%), or finished run (0).",
                                "Output")
    plugins: tuple[str, ...] = run_option(  # files (absolute paths) and modules the run's code comes from
        (), "A file or module that registers schedules, recipes, tasks or models (repeatable; see examples/).",
        "Task", flag="--plugin", cli_name="plugin", cli_type=list[str], cli_default=[],
        parse=_with_installed_plugins,
        metavar="PATH_OR_MODULE")

    @property
    def plugin_sha256(self) -> dict[str, str]:
        """{plugin: sha256 of its file}, importing the plugins (once per process) to find them."""
        from runner import plugins

        return plugins.load(self.plugins)

    @cached_property
    def storage_url(self) -> str:
        """The run's storage: --storage, or the state file of --out (runstate.storage.default_url)."""
        return self.storage or default_url(self.out)

    @property
    def artifacts_dir(self) -> Path:
        return self.checkpoint_dir if self.checkpoint_dir is not None else self.out / "artifacts"

    @property
    def uses_checkpoints(self) -> bool:
        return not self.skip_compare and (self.checkpoint_every > 0 or self.share_prefix)

    @property
    def names(self) -> list[str]:
        """Every study of the run: scheduler codes, then LR-free optimizer names."""
        return [*self.schedulers, *self.lr_free]

    @property
    def transfer_multipliers(self) -> list[float]:
        """The grid points the transfer phase trains (multiplier 1 is Phase 2's run)."""
        return [] if self.skip_compare else [m for m in self.transfer_grid if m != 1.0]

    @property
    def tuning_seeds(self) -> list[int]:
        return list(range(1, self.n_seeds + 1))

    @property
    def sequential(self) -> bool:
        """--compare-seeds auto: Phase 2 trains seeds in rounds until decided (runner.seed_rounds)."""
        return self.compare_seeds == "auto"

    @property
    def most_compare_seeds(self) -> int:
        return self.max_seeds if self.sequential else int(self.compare_seeds)

    @property
    def seed_design(self) -> Design:
        return Design(self.max_seeds, self.seed_step)

    @property
    def comparison_seeds(self) -> list[int]:
        """Every seed Phase 2 may train (with --compare-seeds auto: up to --max-seeds, in rounds)."""
        return list(range(1, self.most_compare_seeds + 1))

    @cached_property
    def plan(self) -> RunPlan:
        """Every unit of the run (runner.plan)."""
        return RunPlan.build(self.project, self.names, n_trials=self.n_trials, tuning_budget=self.epochs,
                             tuning_seeds=self.n_seeds, budgets=self.epoch_budgets,
                             comparison_seeds=self.comparison_seeds, multipliers=self.transfer_multipliers,
                             transfer_seeds=list(range(1, self.transfer_seeds + 1)), compare=not self.skip_compare)

    @property
    def planned_epochs(self) -> int:
        """Training epochs of the whole run without prefix sharing: what the progress display counts."""
        return self.plan.epochs

    def recipe(self, name: str, steps_per_epoch: int) -> Recipe:
        """What study ``name`` tunes, with this run's base optimizer, default LR and LR floor."""
        return make_recipe(name, steps_per_epoch=steps_per_epoch, optimizer=self.optimizer, lr=self.lr,
                           infimum_lr=self.infimum_lr)

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> RunConfig:
        """The config a command stored (``to_json``), for a worker that joins a run."""
        from runner import plugins

        plugins.load(stored.get("plugins", []))  # a plugin may define the task, the model, a contender
        known = {f.name for f in fields(cls)}
        task = get_task(stored["task"])
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in known}
        values["data_dir"], values["out"] = Path(stored["data_dir"]), Path(stored["out"])
        if stored.get("checkpoint_dir") is not None:
            values["checkpoint_dir"] = Path(stored["checkpoint_dir"])
        return cls(**values, options={o.name: stored.get(o.name, o.default) for o in task.options})

    @property
    def task_spec(self) -> TaskSpec:
        return get_task(self.task)

    def to_json(self) -> dict[str, Any]:
        """The settings as stored and reported: flat, task options in place of ``options``."""
        data: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "options":
                data.update(value)
            elif isinstance(value, tuple):
                data[key] = list(value)
            else:
                data[key] = str(value) if isinstance(value, Path) else value
        data["plugin_sha256"] = self.plugin_sha256
        return data

    def differences(self, stored: dict[str, Any]) -> list[str]:
        """Identity settings whose stored value differs from this config's, as '--name old -> new'.

        A task option the stored run predates counts as its default."""
        mine = self.to_json()
        expected = {name: stored.get(name) for name in identity_names(RunConfig)}
        expected.update({o.name: stored.get(o.name, o.default) for o in self.task_spec.options if o.identity})
        from runner import plugins

        return [f"--{name.replace('_', '-')} {old!r} -> {mine[name]!r}"
                for name, old in expected.items() if old != mine[name]] + plugins.differences(
            stored.get("plugin_sha256", {}), mine["plugin_sha256"])


PRESETS: dict[str, dict[str, Any]] = {
    # Small enough that every scheduler and LR-free optimizer runs both phases in minutes on a CPU;
    # each task adds its own smoke settings (TaskSpec.smoke, TaskOption.smoke).
    "smoke": {"n_trials": 2, "n_seeds": 1, "compare_seeds": 2, "epochs": 3, "epoch_budgets": (3, 6)},
    "paper": {"n_trials": 25, "n_seeds": 1, "compare_seeds": 5, "epochs": 50, "epoch_budgets": (50, 100, 150, 200)},
}


def resolve(options: dict[str, Any], preset: str | None, task_options: dict[str, Any] | None = None) -> RunConfig:
    """Merge explicit options (None = not given) over the preset over task/model defaults.

    ``task_options`` are the task's own options that were given (None = not given)."""
    if preset is not None and preset not in PRESETS:
        raise UserError(f"--preset {preset!r} is unknown; allowed: {', '.join(PRESETS)}")
    given = {k: v for k, v in options.items() if v is not None}
    task = get_task(given.get("task", RunConfig.task))
    smoke = preset == "smoke"
    chosen = {"schedulers": (*SCHEDULERS, *RECIPES),  # all: built-in and plugin ones (RunConfig's is built-in)
              **PRESETS.get(preset or "", {}), **(task.smoke if smoke else {}), **given}
    known = {f.name for f in fields(RunConfig)}
    config = RunConfig(**{k: v for k, v in chosen.items() if k in known})
    model = config.model or task.default_model
    defaults = task.model_defaults(model)
    if config.dataset is not None and not task.datasets:
        raise UserError(f"--dataset does not apply to task {task.name}; tasks with datasets: "
                        f"{', '.join(t.name for t in TASKS.values() if t.datasets)}")
    foreign = [name for name, value in (task_options or {}).items()
               if value is not None and name not in {o.name for o in task.options}]
    if foreign:
        raise UserError(f"--{foreign[0].replace('_', '-')} is not an option of task {task.name}; its options: "
                        f"{', '.join(o.flag for o in task.options) or 'none'}")
    values = task.option_values({k: v for k, v in (task_options or {}).items() if v is not None}, smoke=smoke)
    dataset = (config.dataset or task.datasets[0]) if task.datasets else None
    project = config.project or "-".join(p for p in (task.name, dataset, model) if p)
    config = replace(config, model=model, batch_size=chosen.get("batch_size", task.batch_size),
                     lr=chosen.get("lr", defaults.lr), subset_ratio=chosen.get("subset_ratio", defaults.subset_ratio),
                     dataset=dataset, options=values, project=project,
                     epoch_budgets=tuple(sorted(config.epoch_budgets)),  # sensitivity runs first -> last budget
                     transfer_seeds=given.get("transfer_seeds", min(FIRST_LOOK, config.max_seeds)
                                              if config.compare_seeds == "auto" else config.compare_seeds),
                     out=config.out if str(config.out) not in ("", ".") else Path("runs") / project)
    validate(config)
    return config


def check_device(name: str) -> None:
    """The spelling of --device (whether CUDA is there is known once torch loads)."""
    if name not in ("auto", "cpu", "cuda") and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise UserError(f"--device {name!r} is unknown; allowed: auto, cpu, cuda, cuda:N")


def validate(config: RunConfig) -> None:
    """Every check that needs no data or storage; raises one-line UserErrors."""
    task = config.task_spec
    check_device(config.device)
    task.model_defaults(config.model)
    if config.dataset is not None and task.datasets and config.dataset not in task.datasets:
        raise UserError(f"--dataset {config.dataset!r} is unknown for task {task.name}; allowed: "
                        f"{', '.join(task.datasets)}")
    check_optimizer(config.optimizer)
    # before the minimums: --transfer-seeds defaults to --compare-seeds, and a bad one must be named as given
    if config.compare_seeds != "auto" and (not isinstance(config.compare_seeds, int) or config.compare_seeds < 1):
        raise UserError(f"--compare-seeds must be a whole number >= 1 or auto, got {config.compare_seeds!r}")
    for f, option in declared(RunConfig):
        value = getattr(config, f.name)
        if option.minimum is not None and value < option.minimum:
            raise UserError(f"--{f.name.replace('_', '-')} must be an integer >= {option.minimum}, got {value}")
    if not 0.0 <= config.checkpoint_seconds < math.inf:
        raise UserError(f"--checkpoint-seconds must be a finite number >= 0, got {config.checkpoint_seconds:g}")
    fewest = config.seed_design.looks[0] if config.sequential else int(config.compare_seeds)
    if config.transfer_seeds > fewest:
        where = (f"the first round of --compare-seeds auto ({fewest})" if config.sequential
                 else f"--compare-seeds ({fewest})")
        raise UserError(f"--transfer-seeds must be at most {where}: multiplier 1 is Phase 2's run, got "
                        f"{config.transfer_seeds}")
    if not 0.0 <= config.transfer_max_octaves < math.inf:
        raise UserError(f"--transfer-max-octaves must be a finite number >= 0, got {config.transfer_max_octaves:g}")
    if config.transfer_max_octaves and not config.transfer_grid:
        raise UserError("--transfer-max-octaves grows the transfer grid: give its first round with --transfer-grid")
    if config.transfer_grid and config.skip_compare:
        raise UserError("--transfer-grid needs Phase 2 (its multiplier 1 is Phase 2's run); drop --skip-compare")
    if not 0.0 < config.subset_ratio <= 1.0:
        raise UserError(f"--subset-ratio must be in (0, 1], got {config.subset_ratio:g}")
    if not (0.0 < config.lr and math.isfinite(config.lr)):
        raise UserError(f"--lr must be a positive finite number, got {config.lr:g}")
    if not 0.0 <= config.infimum_lr < config.lr:
        raise UserError(f"--infimum-lr must be in [0, lr={config.lr:g}), got {config.infimum_lr:g}")
    for flag, value, allowed in (("--pruner", config.pruner, PRUNERS), ("--precision", config.precision, PRECISIONS),
                                 ("--wandb-mode", config.wandb_mode, WANDB_MODES)):
        if value not in allowed:
            raise UserError(f"{flag} {value!r} is unknown; allowed: {', '.join(allowed)}")
    parse_log_every(config.log_every)
    if not config.names:
        raise UserError("nothing to run: --schedulers is empty and --skip-lr-free is set")
    for name in config.names:  # the defaults (Phase 1's first trial) must work at every budget
        recipe = config.recipe(name, steps_per_epoch=1)
        recipe.validate(recipe.defaults(config.epochs), [config.epochs, *config.epoch_budgets])
    if config.wandb_mode != "disabled":
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise UserError(f"--wandb-mode {config.wandb_mode} needs wandb, which is not installed; "
                            "pip install 'epochbench[wandb]' or use --wandb-mode disabled") from None
