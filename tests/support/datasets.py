"""Tiny datasets written in their real on-disk formats."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def write_cifar(root: Path, variant: str, per_file: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Official python-format CIFAR files (N x 3072 uint8 R,G,B planes) with random pixels."""
    rng = np.random.default_rng(seed)
    if variant == "CIFAR10":
        folder, files, label_key, meta = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + [
            "test_batch"], "labels", ("batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
        classes = 10
    else:
        folder, files, label_key, meta = "cifar-100-python", ["train", "test"], "fine_labels", (
            "meta", {"fine_label_names": [f"c{i}" for i in range(100)]})
        classes = 100
    (root / folder).mkdir(parents=True)
    written = {}
    for name in files:
        data = rng.integers(0, 256, size=(per_file, 3072), dtype=np.uint8)
        labels = rng.integers(0, classes, size=per_file).tolist()
        with open(root / folder / name, "wb") as handle:
            pickle.dump({"data": data, label_key: labels}, handle)
        written[name] = data
    with open(root / folder / meta[0], "wb") as handle:
        pickle.dump(meta[1], handle)
    return written
