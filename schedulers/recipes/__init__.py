"""Recipes, split as Optuna splits its samplers: the contract, one module per kind, and a registry.

The names below are the public API; plugins import them from here.
"""

from schedulers.recipes.contract import OPTIMIZERS, Batches, Recipe, check_optimizer, weight_decay
from schedulers.recipes.lr_free import LRFreeRecipe, recalibrate_batchnorm
from schedulers.recipes.registry import (
    RECIPES,
    check_new_contender,
    contender_names,
    family_of,
    horizon_free,
    make_recipe,
    register_recipe,
    register_schedule,
)
from schedulers.recipes.scheduled import ScheduledRecipe, schedule_params

__all__ = ["OPTIMIZERS", "RECIPES", "Batches", "LRFreeRecipe", "Recipe", "ScheduledRecipe", "check_new_contender",
           "check_optimizer", "contender_names", "family_of", "horizon_free", "make_recipe", "recalibrate_batchnorm",
           "register_recipe", "register_schedule", "schedule_params", "weight_decay"]
