"""Which recipe a study name runs: a registry schedule, an LR-free optimizer, or a registered recipe kind.

Plugins add recipe kinds with :func:`register_recipe` (say SGD with momentum under a schedule of
their own); schedules added with :func:`register_schedule` get the built-in
scheduled recipe like every registry code.
"""

from __future__ import annotations

from collections.abc import Callable

from errors import UserError
from registry import Registry
from schedulers.families import LR_FREE_FAMILY
from schedulers.lr_free import LR_FREE
from schedulers.params import DEFAULT_INFIMUM_LR, DEFAULT_LR
from schedulers.recipes.contract import Recipe, check_optimizer
from schedulers.recipes.lr_free import LRFreeRecipe
from schedulers.recipes.scheduled import ScheduledRecipe
from schedulers.registry import SCHEDULERS, SchedulerSpec, check_schedule

# name -> factory(steps_per_epoch=, optimizer=, lr=, infimum_lr=) -> Recipe, for recipe kinds of plugins
RecipeFactory = Callable[..., Recipe]
RECIPES: Registry[RecipeFactory] = Registry("recipe")


def check_new_contender(name: str, what: str) -> None:
    """Refuse a new contender name that is empty, not a plain word, or taken (built-in or registered)."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise UserError(f"{what} name {name!r} must be a non-empty word (letters, digits, '_', '-')")
    if name in contender_names():
        raise UserError(f"{what} {name!r} clashes with a scheduler, recipe or LR-free optimizer of that name")


def register_schedule(spec: SchedulerSpec) -> None:
    """Add a schedule to the registry: it is then a contender like every built-in code (tuned over
    Adam/AdamW with the base LR), traced by ``lr-trace`` and listed by ``schedulers``."""
    if not isinstance(spec, SchedulerSpec):
        raise UserError(f"register_schedule takes a SchedulerSpec, got {type(spec).__name__}")
    check_new_contender(spec.code, "schedule")
    check_schedule(spec)
    SCHEDULERS.register(spec.code, spec)


def register_recipe(name: str, factory: RecipeFactory) -> None:
    """Make ``name`` a contender whose study tunes ``factory(steps_per_epoch=..., optimizer=..., lr=...,
    infimum_lr=...)``: the run's base optimizer, default LR and LR floor come as keywords."""
    check_new_contender(name, "recipe")
    if not callable(factory):
        raise UserError(f"recipe {name!r}: the factory must be callable, got {factory!r}")
    RECIPES.register(name, factory)


def contender_names() -> list[str]:
    """Every name a study can be run for: scheduler codes, registered recipes, then LR-free optimizers."""
    return [*SCHEDULERS, *RECIPES, *LR_FREE]


def family_of(name: str) -> str:
    """The paper's family of a contender; "other" for names outside the registry (plugin recipe kinds)."""
    if name in SCHEDULERS:
        return SCHEDULERS[name].family
    return LR_FREE_FAMILY if name in LR_FREE else "other"


def horizon_free(name: str) -> bool | None:
    """Whether a contender's LR at each step ignores the run's length (SchedulerSpec.horizon_free,
    LRFreeSpec.horizon_free); None for names outside the registry (plugin recipe kinds)."""
    if name in SCHEDULERS:
        return SCHEDULERS[name].horizon_free
    return LR_FREE[name].horizon_free if name in LR_FREE else None


def make_recipe(name: str, *, steps_per_epoch: int, optimizer: str = "AdamW", lr: float = DEFAULT_LR,
                infimum_lr: float = DEFAULT_INFIMUM_LR) -> Recipe:
    """The recipe a study called ``name`` tunes."""
    check_optimizer(optimizer)
    if name in SCHEDULERS:
        return ScheduledRecipe(SCHEDULERS[name], steps_per_epoch, optimizer, lr, infimum_lr)
    if name in RECIPES:
        recipe = RECIPES[name](steps_per_epoch=steps_per_epoch, optimizer=optimizer, lr=lr, infimum_lr=infimum_lr)
        if not isinstance(recipe, Recipe) or recipe.name != name:
            raise UserError(f"recipe {name!r}: its factory must return a Recipe named {name!r}, got {recipe!r}")
        return recipe
    if name in LR_FREE:
        return LRFreeRecipe(LR_FREE[name], steps_per_epoch, optimizer)
    raise UserError(f"unknown scheduler or LR-free optimizer {name!r}; known: {', '.join(contender_names())}")
