"""CIFAR-10/100 fixtures in the official pickle format and the real Fashion-MNIST files."""

from pathlib import Path

import pytest
import torch

from errors import UserError
from tasks import DataConfig, get_task
from tasks.cifar import DEBIAN_FASHION_MNIST
from tests.support.datasets import write_cifar

# Normalisation constants as the sources give them, written here rather than read from the code:
# design.md section 6 (the HyperbolicLR paper suite's CIFAR preprocessing; the widely used values from
# kuangliu/pytorch-cifar for CIFAR-10 and the common CIFAR-100 statistics).
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)


def test_normalisation_constants_are_the_cited_values() -> None:
    from tasks.cifar import DATASETS

    assert (DATASETS["CIFAR10"].mean, DATASETS["CIFAR10"].std) == (CIFAR10_MEAN, CIFAR10_STD)
    assert (DATASETS["CIFAR100"].mean, DATASETS["CIFAR100"].std) == (CIFAR100_MEAN, CIFAR100_STD)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
@pytest.mark.slow
def test_fashion_mnist_constants_are_the_training_set_statistics() -> None:
    """Fashion-MNIST's mean/std (design.md cites none) recomputed from the real training images:
    pixel mean and population std over all 60000 training images scaled to [0, 1], to 4 decimals."""
    import gzip

    import numpy as np

    from tasks.cifar import DATASETS

    with gzip.open(DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz", "rb") as handle:
        pixels = np.frombuffer(handle.read(), dtype=np.uint8, offset=16).astype(np.float64) / 255
    assert pixels.size == 60000 * 28 * 28
    assert DATASETS["FashionMNIST"].mean == pytest.approx((pixels.mean(),), abs=5e-5)
    assert DATASETS["FashionMNIST"].std == pytest.approx((pixels.std(),), abs=5e-5)


def test_cifar10_fixture_loads_through_torchvision(tmp_path: Path, unchecked_cifar_md5) -> None:
    written = write_cifar(tmp_path, "CIFAR10", per_file=8)
    data = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10", split_seed=5))
    assert len(data.train) == 36 and len(data.val) == 4 and len(data.test) == 8
    assert data.train.inputs[0].shape[1:] == (3, 32, 32)
    assert data.model_kwargs == {"in_channels": 3, "num_classes": 10, "image_size": 32}
    # Test image 0, pixel (row 1, col 2): planes are R, G, B of 1024 bytes each, row-major.
    raw = written["test_batch"][0]
    expected = [(raw[c * 1024 + 1 * 32 + 2] / 255 - m) / s
                for c, (m, s) in enumerate(zip(CIFAR10_MEAN, CIFAR10_STD))]
    assert data.test.inputs[0][0, :, 1, 2].tolist() == pytest.approx(expected, abs=1e-6)
    again = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10", split_seed=5))
    assert torch.equal(again.val.inputs[0], data.val.inputs[0])
    other = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10", split_seed=6))
    assert not torch.equal(other.val.inputs[0], data.val.inputs[0])


def test_cifar100_fixture_uses_fine_labels_and_its_statistics(tmp_path: Path, unchecked_cifar_md5) -> None:
    written = write_cifar(tmp_path, "CIFAR100", per_file=20)
    data = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR100", subset_ratio=0.5))
    assert len(data.train) + len(data.val) == 10 and len(data.test) == 10
    assert data.model_kwargs["num_classes"] == 100
    assert int(data.train.target.max()) < 100
    full = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR100"))
    raw = written["test"][3]
    expected = (raw[2048] / 255 - CIFAR100_MEAN[2]) / CIFAR100_STD[2]  # blue plane, pixel (0, 0)
    assert full.test.inputs[0][3, 2, 0, 0].item() == pytest.approx(expected, abs=1e-6)


def test_missing_files_name_the_path_and_the_remedy(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10"))
    assert str(tmp_path / "cifar-10-batches-py") in str(err.value)
    assert "--download" in str(err.value)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_the_debian_package(tmp_path: Path) -> None:
    data = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="FashionMNIST", subset_ratio=0.01))
    assert len(data.train) + len(data.val) == 600 and len(data.test) == 100
    assert data.train.inputs[0].shape[1:] == (1, 28, 28)
    assert set(data.train.target.unique().tolist()) <= set(range(10))
    assert abs(data.train.inputs[0].mean().item()) < 0.2  # normalised with the dataset's mean/std


def test_crop_flip_is_whole_batch_and_seeded() -> None:
    from tasks.augment import CropFlip

    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    augment = CropFlip(torch.tensor([-1.0]), padding=1)
    out = augment(images, torch.Generator().manual_seed(0))
    again = augment(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and torch.equal(out, again)
    for i in range(2):
        padded = torch.nn.functional.pad(images[i, 0], (1, 1, 1, 1), value=-1.0)
        windows = [padded[r:r + 4, c:c + 4] for r in range(3) for c in range(3)]
        assert any(torch.equal(out[i, 0], w) or torch.equal(out[i, 0], w.flip(-1)) for w in windows)
