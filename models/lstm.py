"""LSTM_Seq2Seq: encoder over the history, autoregressive decoder feeding back its predictions."""

from __future__ import annotations

import torch
from torch import nn


class LSTM_Seq2Seq(nn.Module):  # noqa: N801 - the paper's name is part of the CLI
    def __init__(self, input_size: int = 1, output_size: int = 1, pred: int = 50, hidden_size: int = 128,
                 num_layers: int = 3) -> None:
        super().__init__()
        self.pred = pred
        self.encoder = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.decoder = nn.LSTM(output_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        """(B, hist, input_size) -> (B, pred, output_size); the decoder starts from a zero input."""
        _, state = self.encoder(history)
        step_input = history.new_zeros(len(history), 1, self.head.out_features)
        outputs = []
        for _ in range(self.pred):
            hidden, state = self.decoder(step_input, state)
            step_input = self.head(hidden)
            outputs.append(step_input)
        return torch.cat(outputs, dim=1)
