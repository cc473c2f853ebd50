"""Model registry: name -> constructor. Adding a model is one file and one line here."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from models.cnn import SimpleCNN
from models.lstm import LSTM_Seq2Seq
from models.operator import DeepONet, TFONet
from models.resnet import ResNetCIFAR
from models.vit import SimpleViT

MODELS: dict[str, Callable[..., nn.Module]] = {
    "SimpleCNN": SimpleCNN,
    "ResNetCIFAR": ResNetCIFAR,
    "SimpleViT": SimpleViT,
    "LSTM_Seq2Seq": LSTM_Seq2Seq,
    "DeepONet": DeepONet,
    "TFONet": TFONet,
}
