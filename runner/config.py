"""The resolved settings of one benchmark: defaults, presets, validation, resume identity."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from schedulers.errors import UserError
from schedulers.lr_free import LR_FREE
from schedulers.params import Budget
from schedulers.registry import SCHEDULERS, get_scheduler
from tasks import get_task
from tasks.training import OPTIMIZERS, PRECISIONS

PRUNERS = ("none", "median", "hyperband")
WANDB_MODES = ("online", "offline", "disabled")
LR_SEARCH = (1e-4, 5e-2)

# Settings that change a stored number: a folder holding results made with other values
# cannot be resumed with these. Budgets, seeds-to-compare and the scheduler list may grow.
IDENTITY = ("task", "model", "dataset", "optimizer", "epochs", "batch_size", "lr", "infimum_lr", "n_trials",
            "n_seeds", "subset_ratio", "dtype", "hist", "pred", "n_functions", "sampler_seed", "pruner", "precision")


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
    dtype: str = "simple"
    hist: int = 50
    pred: int = 50
    n_functions: int = 10_000
    sampler_seed: int = 0
    pruner: str = "none"
    precision: str = "fp32"
    device: str = "auto"
    wandb_mode: str = "disabled"
    data_dir: Path = Path("data")
    download: bool = False
    out: Path = Path()
    storage: str | None = None

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

    def budget(self, epochs: int, steps_per_epoch: int = 1, lr: float | None = None) -> Budget:
        return Budget(epochs, steps_per_epoch, self.lr if lr is None else lr, self.infimum_lr)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["data_dir"], data["out"] = str(self.data_dir), str(self.out)
        data["epoch_budgets"], data["schedulers"], data["lr_free"] = (
            list(self.epoch_budgets), list(self.schedulers), list(self.lr_free))
        return data

    def differences(self, stored: dict[str, Any]) -> list[str]:
        """Identity settings whose stored value differs from this config's, as 'name: old -> new'."""
        mine = self.to_json()
        return [f"--{name.replace('_', '-')} {stored.get(name)!r} -> {mine[name]!r}"
                for name in IDENTITY if stored.get(name) != mine[name]]


PRESETS: dict[str, dict[str, Any]] = {
    # Small enough that every scheduler and LR-free optimizer runs both phases in minutes on a CPU.
    "smoke": {"n_trials": 2, "n_seeds": 1, "compare_seeds": 2, "epochs": 3, "epoch_budgets": (3, 6),
              "hist": 20, "pred": 10, "n_functions": 200},
    "paper": {"n_trials": 25, "n_seeds": 1, "compare_seeds": 5, "epochs": 50, "epoch_budgets": (50, 100, 150, 200)},
}
SMOKE_SUBSET = {"cifar10": 0.01, "osc": 0.01, "integral": 1.0}  # integral is sized by n_functions instead


def resolve(options: dict[str, Any], preset: str | None) -> RunConfig:
    """Merge explicit options (None = not given) over the preset over task/model defaults."""
    if preset is not None and preset not in PRESETS:
        raise UserError(f"--preset {preset!r} is unknown; allowed: {', '.join(PRESETS)}")
    chosen = {**PRESETS.get(preset or "", {}), **{k: v for k, v in options.items() if v is not None}}
    known = {f.name for f in fields(RunConfig)}
    config = RunConfig(**{k: v for k, v in chosen.items() if k in known})
    task = get_task(config.task)
    model = config.model or task.default_model
    defaults = task.model_defaults(model)
    if "subset_ratio" not in chosen:
        chosen["subset_ratio"] = SMOKE_SUBSET[task.name] if preset == "smoke" else defaults.subset_ratio
    if config.dataset is not None and not task.datasets:
        raise UserError(f"--dataset applies to task cifar10 only, not {task.name}")
    dataset = (config.dataset or task.datasets[0]) if task.datasets else None
    project = config.project or "-".join(p for p in (task.name, dataset, model) if p)
    config = replace(config, model=model, batch_size=chosen.get("batch_size", task.batch_size),
                     lr=chosen.get("lr", defaults.lr), subset_ratio=chosen["subset_ratio"], dataset=dataset,
                     project=project, out=config.out if str(config.out) not in ("", ".") else Path("runs") / project)
    validate(config)
    return config


def validate(config: RunConfig) -> None:
    """Every check that needs no data or storage; raises one-line UserErrors."""
    task = get_task(config.task)
    task.model_defaults(config.model)
    if config.dataset is not None and task.datasets and config.dataset not in task.datasets:
        raise UserError(f"--dataset {config.dataset!r} is unknown for task {task.name}; allowed: "
                        f"{', '.join(task.datasets)}")
    if config.optimizer not in OPTIMIZERS:
        raise UserError(f"--optimizer {config.optimizer!r} is unknown; allowed: {', '.join(OPTIMIZERS)}")
    for name, value, low in (("--n-trials", config.n_trials, 1), ("--n-seeds", config.n_seeds, 1),
                             ("--compare-seeds", config.compare_seeds, 1), ("--epochs", config.epochs, 1),
                             ("--batch-size", config.batch_size, 1)):
        if value < low:
            raise UserError(f"{name} must be an integer >= {low}, got {value}")
    if not 0.0 < config.subset_ratio <= 1.0:
        raise UserError(f"--subset-ratio must be in (0, 1], got {config.subset_ratio:g}")
    if not 0.0 < config.lr:
        raise UserError(f"--lr must be positive, got {config.lr:g}")
    if not 0.0 <= config.infimum_lr < config.lr:
        raise UserError(f"--infimum-lr must be in [0, lr={config.lr:g}), got {config.infimum_lr:g}")
    for option, value, allowed in (("--pruner", config.pruner, PRUNERS), ("--precision", config.precision, PRECISIONS),
                                   ("--wandb-mode", config.wandb_mode, WANDB_MODES)):
        if value not in allowed:
            raise UserError(f"{option} {value!r} is unknown; allowed: {', '.join(allowed)}")
    if not config.names:
        raise UserError("nothing to run: --schedulers is empty and --skip-lr-free is set")
    budgets = [config.budget(config.epochs)] + [config.budget(e) for e in config.epoch_budgets]
    for code in config.schedulers:
        spec = get_scheduler(code)
        spec.validate(spec.defaults(budgets[0]), budgets)
    if config.wandb_mode != "disabled":
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise UserError(f"--wandb-mode {config.wandb_mode} needs wandb, which is not installed; "
                            "pip install 'epochbench[wandb]' or use --wandb-mode disabled") from None
