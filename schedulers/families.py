"""The paper's scheduler families, named once: registry entries declare one, reports group and order by them
(``schedulers.recipes.family_of`` says which a contender is in)."""

from __future__ import annotations

from typing import Literal, get_args

Family = Literal["traditional", "cyclic", "hyperbolic", "warmup", "theory-inspired"]
LR_FREE_FAMILY = "LR-free"
FAMILIES: tuple[str, ...] = (*get_args(Family), LR_FREE_FAMILY)  # the order reports list them in

