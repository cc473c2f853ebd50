"""ResNetCIFAR: torchvision ResNet-18/34/50 with the CIFAR stem (3x3 stride-1 conv, no max-pool)."""

from __future__ import annotations

from torch import nn

DEPTHS = (18, 34, 50)


def ResNetCIFAR(in_channels: int = 3, num_classes: int = 10, image_size: int = 32, depth: int = 18) -> nn.Module:
    """No pretrained weights; only the stem differs from torchvision's ImageNet model."""
    from torchvision import models  # here: importing torchvision costs a second every worker need not pay

    if depth not in DEPTHS:
        raise ValueError(f"ResNetCIFAR depth must be one of {DEPTHS}, got {depth}")
    model = getattr(models, f"resnet{depth}")(weights=None, num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model
