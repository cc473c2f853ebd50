"""Training throughput per task/model (fp32 and bf16) and two side-by-side speed-ups.

    python benchmarks/throughput.py [--device auto] [--cnn-epoch] [--quick]

--quick runs every row and comparison at tiny sizes (seconds; the test suite runs it so that a
benchmark broken by a code change fails CI); its figures mean nothing.

Prints one table row per (model, precision): samples/s, seconds per epoch at the bench size,
ms per batch and peak memory (CUDA: max allocated; CPU: the process's peak RSS since the row
started). Then, measured in the same run:
  (a) whole-batch tensor augmentation vs a per-sample torchvision-transforms DataLoader;
  (b) DeepONet's shared-grid trunk vs evaluating the trunk at every sample's points.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from schedulers.recipes import make_recipe
from tasks import DataConfig, get_task
from tasks.augment import CropFlip
from tasks.cifar import DATASETS
from tasks.data import Split, TaskData
from tasks.precision import PRECISIONS, Precision
from tasks.training import TrainConfig, Trainer, resolve_device


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)


def peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def image_data(n: int, size: int = 32, channels: int = 3, classes: int = 10) -> TaskData:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, channels, size, size, generator=generator)
    y = torch.randint(0, classes, (n,), generator=generator)
    split = Split((x,), y)
    spec = DATASETS["CIFAR10"]
    return TaskData(split, split.take(torch.arange(min(n, 256))), split.take(torch.arange(min(n, 256))),
                    model_kwargs={"in_channels": channels, "num_classes": classes, "image_size": size},
                    augment=CropFlip(-torch.tensor(spec.mean) / torch.tensor(spec.std)))


def first_samples(data: TaskData, n: int | None) -> TaskData:
    """``data`` with only its first ``n`` training samples (None: all of them)."""
    return data if n is None else replace(data, train=data.train.take(torch.arange(n)))


def time_epoch(task: str, model: str, data: TaskData, batch: int, precision: Precision, device: str) -> dict:
    """Time one training epoch after a warm-up epoch over the first few batches."""
    def config_for(run_data: TaskData) -> TrainConfig:
        recipe = make_recipe("N", steps_per_epoch=run_data.steps_per_epoch(batch), lr=1e-4)
        return TrainConfig(model=model, epochs=1, batch_size=batch, seed=0, recipe=recipe, params={"lr": 1e-4},
                           device=device, precision=precision)

    warm = first_samples(data, min(len(data.train), 4 * batch))
    Trainer(get_task(task), warm, config_for(warm))._train_epoch(0)
    trainer = Trainer(get_task(task), data, config_for(data))
    reset_peak_memory(trainer.device)
    synchronize(trainer.device)
    start = time.perf_counter()
    trainer._train_epoch(0)
    synchronize(trainer.device)
    seconds = time.perf_counter() - start
    n = len(trainer.data.train)
    return {"samples_per_s": n / seconds, "epoch_s": seconds, "ms_per_batch": 1000 * seconds / trainer.steps_per_epoch,
            "peak_mib": peak_memory_mib(trainer.device)}


def best_of(fn: Callable[[], None], repeats: int, device: torch.device) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def pipeline_speedup(n: int, device: torch.device) -> tuple[float, float]:
    """(a): seconds per epoch of augmented, normalised batches of 128, both pipelines."""
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    spec = DATASETS["CIFAR10"]
    raw = np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = torch.zeros(n, dtype=torch.long)
    per_sample = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                     transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std)])

    class PILImages(Dataset):
        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
            from PIL import Image
            return per_sample(Image.fromarray(raw[i])), labels[i]

    def loader_epoch() -> None:
        for x, _ in DataLoader(PILImages(), batch_size=128, shuffle=True, num_workers=0):
            x.to(device)

    mean, std = torch.tensor(spec.mean).view(1, 3, 1, 1), torch.tensor(spec.std).view(1, 3, 1, 1)
    images = ((torch.from_numpy(raw).permute(0, 3, 1, 2).float() / 255 - mean) / std).to(device)
    augment = CropFlip((-mean / std).flatten())
    generator = torch.Generator(device=device).manual_seed(0)

    def whole_batch_epoch() -> None:
        order = torch.randperm(n, device=device, generator=generator)
        for start in range(0, n, 128):
            augment(images[order[start:start + 128]], generator)

    return best_of(loader_epoch, 2, device), best_of(whole_batch_epoch, 3, device)


def deeponet_speedup(device: torch.device, batch: int = 128) -> tuple[float, float]:
    """(b): seconds per training step (forward, backward, Adam) of both trunk forms."""
    from models.operator import DeepONet

    torch.manual_seed(0)
    model = DeepONet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    u = torch.randn(batch, 100, device=device)
    y = torch.linspace(0, 1, 100, device=device)
    target = torch.randn(batch, 100, device=device)

    def step(forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            loss = torch.nn.functional.mse_loss(forward(), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return run

    per_sample = best_of(step(lambda: model.per_sample(model.branch(u), y.expand(batch, -1))), 2, device)
    shared = best_of(step(lambda: model(u, y)), 5, device)
    return per_sample, shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cnn-epoch", action="store_true", help="also time SimpleCNN on 50,000 CIFAR-sized images")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: checks that it runs")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    quick = args.quick  # every case at two batches of 4 (images 8 x 8): it runs, its figures mean nothing
    osc = get_task("osc").load(DataConfig(data_dir=args.data_dir, options={"hist": 50, "pred": 50}))
    integral = get_task("integral").load(DataConfig(data_dir=args.data_dir,
                                                    options={"n_functions": 100 if quick else 2000}))
    side = 8 if quick else 32
    cases = [
        ("cifar10", "SimpleCNN", image_data(1280, side), 128),
        ("cifar10", "ResNetCIFAR", image_data(512, side), 128),
        ("cifar10", "SimpleViT", image_data(512, side), 128),
        ("osc", "LSTM_Seq2Seq", osc, 64),
        ("integral", "DeepONet", integral, 128),
        ("integral", "TFONet", integral, 128),
    ]
    sizes = {"cifar10": None, "osc": 640, "integral": 1280}  # training samples timed (images: as made)
    cases = [(task, model, first_samples(data, 8 if quick else sizes[task]), 4 if quick else batch)
             for task, model, data, batch in cases]
    if args.cnn_epoch:
        cases.append(("cifar10", "SimpleCNN", image_data(50_000), 128))
    print(f"device: {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'}), "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'model':<14}{'train n':>8}{'prec':>6}{'samples/s':>11}{'s/epoch':>9}{'ms/batch':>10}{'peak MiB':>10}")
    for task, model, data, batch in cases:
        for precision in PRECISIONS:
            try:
                r = time_epoch(task, model, data, batch, precision, args.device)
            except RuntimeError as err:  # e.g. oneDNN has no bf16 LSTM kernel for this CPU
                print(f"{model:<14}{len(data.train):>8}{precision:>6}  not supported here: {str(err)[:60]}")
                continue
            print(f"{model:<14}{len(data.train):>8}{precision:>6}{r['samples_per_s']:>11.1f}{r['epoch_s']:>9.2f}"
                  f"{r['ms_per_batch']:>10.1f}{r['peak_mib']:>10.0f}")
    images = 64 if quick else 10_000
    loader_s, whole_s = pipeline_speedup(images, device)
    print(f"(a) augmentation, {images:,} CIFAR images/epoch: per-sample DataLoader {loader_s:.3f} s, "
          f"whole-batch {whole_s:.3f} s -> {loader_s / whole_s:.1f}x")
    batch = 4 if quick else 128
    per_sample_s, shared_s = deeponet_speedup(device, batch)
    print(f"(b) DeepONet step, batch {batch} x 100 points: per-sample trunk {per_sample_s * 1000:.0f} ms, "
          f"shared grid {shared_s * 1000:.1f} ms -> {per_sample_s / shared_s:.1f}x")


if __name__ == "__main__":
    main()
