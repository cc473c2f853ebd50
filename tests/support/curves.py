"""Synthetic tidy curves (our curves.csv form) with a known structure, for the analysis and figure tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schedulers.registry import SCHEDULERS

NAMES = [*SCHEDULERS, "Prodigy", "DAdapt"]  # 20 contenders: every family, LR-free included


def synthetic_curves(names: list[str] = NAMES, budgets: tuple[int, ...] = (10, 20, 40), seeds: int = 3,
                     diverged: tuple[str, int, int] | None = ("C", 40, 2)) -> pd.DataFrame:
    """Loss decays with the cumulative LR fraction; contender i decays its LR faster with i; seeded noise.

    ``diverged`` names one (scheduler, budget, seed) run marked diverged with a NaN tail.
    """
    rng = np.random.default_rng(0)
    rows = []
    for i, name in enumerate(names):
        for budget in budgets:
            t = np.arange(budget) / budget
            lr = 0.01 * np.exp(-3.0 * t * (1 + i / 10))
            for seed in range(seeds):
                loss = 0.05 + np.exp(-40 * np.cumsum(lr)) * (1 + 0.05 * seed) + rng.normal(0, 0.002, budget) ** 2
                status = "complete"
                if diverged == (name, budget, seed):
                    loss[budget // 2:] = np.nan
                    status = "diverged"
                rows += [{"scheduler": name, "budget": budget, "seed": seed, "epoch": e, "lr": lr[e],
                          "train_loss": loss[e], "val_loss": loss[e], "status": status} for e in range(budget)]
    return pd.DataFrame(rows)


def frame(curves_by_name: dict[str, dict[int, dict[int, list[float]]]]) -> pd.DataFrame:
    """Tidy curves (our curves.csv form) of simulated contenders."""
    return pd.DataFrame([{"scheduler": name, "budget": b, "seed": s, "epoch": e, "val_loss": v, "status": "complete"}
                         for name, curves in curves_by_name.items() for b, by_seed in curves.items()
                         for s, curve in by_seed.items() for e, v in enumerate(curve)])
