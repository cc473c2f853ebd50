"""cifar10: image classification on CIFAR-10, CIFAR-100 or Fashion-MNIST (torchvision files)."""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from errors import UserError
from tasks.spec import DataConfig, ModelDefaults, TaskSpec, TorchLoss

if TYPE_CHECKING:
    from tasks.data import Split, TaskData

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class ImageDataset:
    """A torchvision dataset (its class has the same name as the DATASETS key) and how to normalise it."""

    folder: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: int
    how_to_get: str


DATASETS = {
    "CIFAR10": ImageDataset("cifar-10-batches-py", (0.4914, 0.4822, 0.4465),
                            (0.2023, 0.1994, 0.2010), 10, "pass --download where there is internet"),
    "CIFAR100": ImageDataset("cifar-100-python", (0.5071, 0.4867, 0.4408),
                             (0.2675, 0.2565, 0.2761), 100, "pass --download where there is internet"),
    "FashionMNIST": ImageDataset("FashionMNIST/raw", (0.2860,), (0.3530,), 10,
                                 "install Debian's dataset-fashion-mnist, or pass --download where there is internet"),
}


def _unpack_debian_fashion_mnist(raw: Path) -> None:
    """Decompress the Debian package's idx files into torchvision's raw folder (no network)."""
    raw.mkdir(parents=True, exist_ok=True)
    for source in DEBIAN_FASHION_MNIST.glob("*-ubyte.gz"):
        target = raw / source.name[:-3]
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            with gzip.open(source, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(target)


def read_images(name: str, root: Path, train: bool, download: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, C) uint8 images and int64 labels through torchvision's dataset class."""
    from torchvision import datasets

    spec = DATASETS[name]
    if name == "FashionMNIST" and not download and DEBIAN_FASHION_MNIST.is_dir():
        _unpack_debian_fashion_mnist(root / spec.folder)
    try:
        dataset = getattr(datasets, name)(str(root), train=train, download=download)
    except RuntimeError:
        raise UserError(f"{name} files not found or corrupted under {root / spec.folder}; {spec.how_to_get}, "
                        f"or point --data-dir at a folder holding {spec.folder}/") from None
    images = np.asarray(dataset.data)
    if images.ndim == 3:
        images = images[..., None]
    return images, np.asarray(dataset.targets, dtype=np.int64)


def _to_tensor(images: np.ndarray, labels: np.ndarray, spec: ImageDataset) -> Split:
    import torch

    from tasks.data import Split

    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)
    mean, std = torch.tensor(spec.mean).view(1, -1, 1, 1), torch.tensor(spec.std).view(1, -1, 1, 1)
    return Split(((x - mean) / std,), torch.from_numpy(labels))


def load(config: DataConfig) -> TaskData:
    import torch

    from tasks.augment import CropFlip
    from tasks.data import TaskData, seeded_subset, split_fractions

    name = config.dataset or "CIFAR10"
    if name not in DATASETS:
        raise UserError(f"--dataset {name!r} is unknown; allowed: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    pool = _to_tensor(*read_images(name, config.data_dir, True, config.download), spec)
    test = _to_tensor(*read_images(name, config.data_dir, False, config.download), spec)
    pool = seeded_subset(pool, config.subset_ratio, config.split_seed)
    test = seeded_subset(test, config.subset_ratio, config.split_seed + 1)
    train, val, _ = split_fractions(pool, (VALIDATION_FRACTION, 0.0), config.split_seed)
    image = train.inputs[0]
    black = -torch.tensor(spec.mean) / torch.tensor(spec.std)
    return TaskData(train, val, test, augment=CropFlip(black),
                    model_kwargs={"in_channels": image.shape[1], "num_classes": spec.classes,
                                  "image_size": image.shape[-1]})


TASK = TaskSpec(
    name="cifar10",
    models={"SimpleCNN": ModelDefaults(lr=0.01, subset_ratio=0.1, channels_last=True),
            "ResNetCIFAR": ModelDefaults(lr=0.01, channels_last=True),
            "SimpleViT": ModelDefaults(lr=0.001)},
    batch_size=128,
    loss=TorchLoss("CrossEntropyLoss", {"label_smoothing": 0.1}),
    classification=True,
    loader=load,
    datasets=tuple(DATASETS),
    smoke={"subset_ratio": 0.01},
)
