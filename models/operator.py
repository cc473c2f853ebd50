"""Operator-learning models: DeepONet (branch x trunk) and TFONet (encoder-decoder transformer)."""

from __future__ import annotations

import math

import torch
from torch import nn


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with GELU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class DeepONet(nn.Module):
    """G(u)(y) = sum_p branch_p(u) trunk_p(y) + b.

    The trunk only sees query points. When the whole batch shares one grid (``y`` of shape
    (M,), or (B, M) with identical rows) it runs on those M points once and is broadcast, which
    gives the same outputs and gradients as evaluating it for every sample, B times cheaper.
    """

    def __init__(self, sensors: int = 100, width: int = 1024, hidden_layers: int = 5, basis: int = 50) -> None:
        super().__init__()
        self.branch = mlp([sensors] + [width] * hidden_layers + [basis])
        self.trunk = mlp([1] + [width] * hidden_layers + [basis])
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """u: (B, sensors); y: (M,) shared or (B, M) per sample -> (B, M)."""
        coefficients = self.branch(u)
        if y.dim() == 2 and torch.equal(y, y[:1].expand_as(y)):
            y = y[0]
        if y.dim() == 1:
            return coefficients @ self.trunk(y.unsqueeze(-1)).T + self.bias
        return self.per_sample(coefficients, y)

    def per_sample(self, coefficients: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The straightforward form: the trunk evaluated at all B x M points in one call."""
        basis = self.trunk(y.reshape(-1, 1)).reshape(*y.shape, -1)
        return torch.einsum("bp,bmp->bm", coefficients, basis) + self.bias


class SinusoidalEncoding(nn.Module):
    """Fixed sine/cosine position encoding added to a (B, L, d) sequence."""

    table: torch.Tensor  # a buffer: moves with the module, not trained, not saved

    def __init__(self, d_model: int, max_len: int = 4096) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("table", table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


class TFONet(nn.Module):
    """Transformer operator net: encoder over u's sensor values, decoder over query points y."""

    MAX_QUERIES = 4096  # the longest query grid the position table covers

    def __init__(self, sensors: int = 100, d_model: int = 128, heads: int = 2, feedforward: int = 512,
                 layers: int = 3) -> None:
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.embed_u = nn.Linear(1, d_model)
        self.embed_y = nn.Linear(1, d_model)
        self.position = SinusoidalEncoding(d_model, max_len=max(sensors, self.MAX_QUERIES))
        self.transformer = nn.Transformer(d_model, heads, layers, layers, feedforward, dropout=0.0, batch_first=True)
        self.head = nn.Linear(d_model, 1)

    def forward(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """u: (B, sensors); y: (M,) shared or (B, M) -> (B, M)."""
        if y.dim() == 1:
            y = y.expand(len(u), -1)
        source = self.position(self.embed_u(u.unsqueeze(-1)) * self.scale)
        target = self.position(self.embed_y(y.unsqueeze(-1)) * self.scale)
        return self.head(self.transformer(source, target)).squeeze(-1)
