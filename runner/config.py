"""The resolved settings of one benchmark: defaults, presets, validation, resume identity."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from errors import UserError
from runner.progress import DEFAULT_LOG_EVERY, parse_log_every
from schedulers.lr_free import LR_FREE
from schedulers.recipes import RECIPES, Recipe, check_optimizer, make_recipe
from schedulers.registry import SCHEDULERS
from tasks import TASKS, TaskSpec, get_task

PRUNERS = ("none", "median", "hyperband")
PRECISIONS = ("fp32", "bf16")  # bf16: autocast (tasks.training)
WANDB_MODES = ("online", "offline", "disabled")

# Settings that change a stored number: a folder holding results made with other values
# cannot be resumed with these (nor with another value of a task option marked ``identity``).
# Budgets, seeds-to-compare and the scheduler list may grow.
IDENTITY = ("task", "model", "dataset", "optimizer", "epochs", "batch_size", "lr", "infimum_lr", "n_trials",
            "n_seeds", "subset_ratio", "sampler_seed", "pruner", "precision")


@dataclass(frozen=True)
class RunConfig:
    task: str = "cifar10"
    model: str = ""
    optimizer: str = "AdamW"
    epochs: int = 50
    batch_size: int = 0
    lr: float = 0.0
    infimum_lr: float = 1e-6
    n_trials: int = 25
    n_seeds: int = 1
    compare_seeds: int = 5
    epoch_budgets: tuple[int, ...] = (50, 100, 150, 200)
    schedulers: tuple[str, ...] = tuple(SCHEDULERS)
    lr_free: tuple[str, ...] = tuple(LR_FREE)
    skip_compare: bool = False
    project: str = ""
    dataset: str | None = None
    subset_ratio: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)  # the task's own options (TaskSpec.options)
    sampler_seed: int = 0
    pruner: str = "none"
    precision: str = "fp32"
    device: str = "auto"
    wandb_mode: str = "disabled"
    workers: int = 1  # processes on this machine sharing the run (not part of the identity)
    max_retries: int = 2  # attempts after a unit's worker died or raised, before it is stored as failed
    data_dir: Path = Path("data")
    download: bool = False
    out: Path = Path()
    storage: str | None = None
    checkpoint_every: int = 1  # Phase 2 runs save a checkpoint every k epochs; 0: never
    checkpoint_seconds: float = 60.0  # ... and at least this long after the run's last save
    share_prefix: bool = True  # Phase 2 budgets continue an earlier budget's run over their common LR prefix
    checkpoint_dir: Path | None = None  # Optuna artifact store of the checkpoints [--out/artifacts]
    log_every: str = DEFAULT_LOG_EVERY  # plain progress lines (not a terminal): '60s', '5%', '0' = every run
    plugins: tuple[str, ...] = ()  # files (absolute paths) and modules the run's code comes from (runner.plugins)

    @property
    def plugin_sha256(self) -> dict[str, str]:
        """{plugin: sha256 of its file}, importing the plugins (once per process) to find them."""
        from runner import plugins

        return plugins.load(self.plugins)

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
    def tuning_seeds(self) -> list[int]:
        return list(range(1, self.n_seeds + 1))

    @property
    def comparison_seeds(self) -> list[int]:
        return list(range(1, self.compare_seeds + 1))

    def unit_epochs(self, phase: str, budget: int = 0) -> int:
        """Training epochs of one unit: a Phase 1 trial trains every tuning seed at the tuning budget,
        a Phase 2 run its own ``budget``."""
        return self.n_seeds * self.epochs if phase == "tune" else budget

    @property
    def planned_epochs(self) -> int:
        """Training epochs of the whole run without prefix sharing: what the progress display counts."""
        tuning = self.n_trials * self.unit_epochs("tune")
        comparison = 0 if self.skip_compare else sum(self.unit_epochs("compare", b) for b in self.epoch_budgets)
        return len(self.names) * (tuning + comparison * self.compare_seeds)

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
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in known}
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
        expected = {name: stored.get(name) for name in IDENTITY}
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
    for name, value, low in (("--n-trials", config.n_trials, 1), ("--n-seeds", config.n_seeds, 1),
                             ("--compare-seeds", config.compare_seeds, 1), ("--epochs", config.epochs, 1),
                             ("--batch-size", config.batch_size, 1), ("--workers", config.workers, 1),
                             ("--max-retries", config.max_retries, 0),
                             ("--checkpoint-every", config.checkpoint_every, 0)):
        if value < low:
            raise UserError(f"{name} must be an integer >= {low}, got {value}")
    if not 0.0 <= config.checkpoint_seconds < math.inf:
        raise UserError(f"--checkpoint-seconds must be a finite number >= 0, got {config.checkpoint_seconds:g}")
    if not 0.0 < config.subset_ratio <= 1.0:
        raise UserError(f"--subset-ratio must be in (0, 1], got {config.subset_ratio:g}")
    if not (0.0 < config.lr and math.isfinite(config.lr)):
        raise UserError(f"--lr must be a positive finite number, got {config.lr:g}")
    if not 0.0 <= config.infimum_lr < config.lr:
        raise UserError(f"--infimum-lr must be in [0, lr={config.lr:g}), got {config.infimum_lr:g}")
    for option, value, allowed in (("--pruner", config.pruner, PRUNERS), ("--precision", config.precision, PRECISIONS),
                                   ("--wandb-mode", config.wandb_mode, WANDB_MODES)):
        if value not in allowed:
            raise UserError(f"{option} {value!r} is unknown; allowed: {', '.join(allowed)}")
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
