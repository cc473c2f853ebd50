"""Model registry: name -> constructor. Adding a model is one file and one line here (a plugin's:
``register_model``)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from errors import UserError
from models.cnn import SimpleCNN
from models.lstm import LSTM_Seq2Seq
from models.operator import DeepONet, TFONet
from models.resnet import ResNetCIFAR
from models.vit import SimpleViT
from registry import Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model", {
    "SimpleCNN": SimpleCNN,
    "ResNetCIFAR": ResNetCIFAR,
    "SimpleViT": SimpleViT,
    "LSTM_Seq2Seq": LSTM_Seq2Seq,
    "DeepONet": DeepONet,
    "TFONet": TFONet,
})


def register_model(name: str, constructor: Callable[..., nn.Module]) -> None:
    """Add a model: ``constructor(**task_data.model_kwargs)`` returns the nn.Module; a task names it."""
    if name not in MODELS and not callable(constructor):
        raise UserError(f"model {name!r}: the constructor must be callable, got {constructor!r}")
    MODELS.register(name, constructor)
