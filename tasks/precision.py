"""The training precisions, torch-free: the run settings (runner.config) name and check them before torch loads."""

from __future__ import annotations

from typing import Literal, get_args

Precision = Literal["fp32", "bf16"]  # bf16: the forward passes under autocast (tasks.training)
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
