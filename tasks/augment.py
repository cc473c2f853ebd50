"""Whole-batch image augmentation on tensors (no per-sample PIL work): crop with padding, flip."""

from __future__ import annotations

import torch


class CropFlip:
    """Random crop back to the input size from a ``padding``-padded image, and a random
    horizontal flip, for a whole (N, C, H, W) batch at once on its own device.

    The border is filled with ``fill`` per channel, the normalised value of a black pixel,
    which is what torchvision's RandomCrop(padding) before Normalize produces.
    """

    def __init__(self, fill: torch.Tensor, padding: int = 4) -> None:
        self.fill = fill
        self.padding = padding

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, c, h, w = images.shape
        p = self.padding
        padded = self.fill.to(images.device, images.dtype).view(1, c, 1, 1).repeat(n, 1, h + 2 * p, w + 2 * p)
        padded[:, :, p:p + h, p:p + w] = images
        shifts = torch.randint(0, 2 * p + 1, (2, n), device=images.device, generator=generator)
        rows = (shifts[0, :, None] + torch.arange(h, device=images.device))[:, None, :, None]
        cols = (shifts[1, :, None] + torch.arange(w, device=images.device))[:, None, None, :]
        batch = torch.arange(n, device=images.device)[:, None, None, None]
        channel = torch.arange(c, device=images.device)[None, :, None, None]
        crops = padded[batch, channel, rows, cols]
        flip = torch.rand(n, device=images.device, generator=generator) < 0.5
        return torch.where(flip[:, None, None, None], crops.flip(-1), crops)
