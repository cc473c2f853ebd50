"""Every model: forward/backward at its task's shapes, paper-architecture parameter counts."""

import pytest
import torch

from models import MODELS
from models.operator import DeepONet


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def linear(i: int, o: int) -> int:
    return i * o + o


def conv(i: int, o: int, k: int, bias: bool = True) -> int:
    return i * o * k * k + (o if bias else 0)


def attention(d: int) -> int:
    return 3 * d * d + 3 * d + linear(d, d)


def lstm(i: int, h: int, layers: int) -> int:
    return sum(4 * h * ((i if layer == 0 else h) + h) + 8 * h for layer in range(layers))


@pytest.mark.parametrize("channels, size, classes, flat", [(3, 32, 10, 4 * 4), (1, 28, 10, 3 * 3), (3, 32, 100, 16)])
def test_simple_cnn(channels: int, size: int, classes: int, flat: int) -> None:
    model = MODELS["SimpleCNN"](in_channels=channels, num_classes=classes, image_size=size)
    expected = conv(channels, 128, 3) + 2 * conv(128, 128, 3) + linear(128 * flat, 512) + linear(512, classes)
    assert n_params(model) == expected
    out = model(torch.randn(4, channels, size, size))
    assert out.shape == (4, classes)
    out.sum().backward()


def test_resnet18_cifar_count_and_stem() -> None:
    model = MODELS["ResNetCIFAR"](num_classes=10)
    # The well-known CIFAR ResNet-18 size: ImageNet resnet18 (11,689,512) with a 3x3 stem and a 10-way head.
    assert n_params(model) == 11_689_512 - conv(3, 64, 7, False) + conv(3, 64, 3, False) - linear(512, 1000) + linear(
        512, 10) == 11_173_962
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert MODELS["ResNetCIFAR"](in_channels=1)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("channels, size", [(3, 32), (1, 28)])
def test_simple_vit(channels: int, size: int) -> None:
    d, patches = 192, (size // 4) ** 2
    model = MODELS["SimpleViT"](in_channels=channels, num_classes=10, image_size=size)
    block = 2 * d + attention(d) + 2 * d + linear(d, 4 * d) + linear(4 * d, d)
    expected = conv(channels, d, 4) + d + (patches + 1) * d + 6 * block + 2 * d + linear(d, 10)
    assert n_params(model) == expected
    out = model(torch.randn(3, channels, size, size))
    assert out.shape == (3, 10)
    out.sum().backward()


@pytest.mark.parametrize("mode_in, mode_out", [(1, 1), (3, 1), (3, 3)])
def test_lstm_seq2seq_modes(mode_in: int, mode_out: int) -> None:
    model = MODELS["LSTM_Seq2Seq"](input_size=mode_in, output_size=mode_out, pred=50)
    assert n_params(model) == lstm(mode_in, 128, 3) + lstm(mode_out, 128, 3) + linear(128, mode_out)
    out = model(torch.randn(5, 50, mode_in))
    assert out.shape == (5, 50, mode_out)
    out.sum().backward()


def test_deeponet_count() -> None:
    hidden = 4 * linear(1024, 1024)
    expected = (linear(100, 1024) + hidden + linear(1024, 50)) + (linear(1, 1024) + hidden + linear(1024, 50)) + 1
    assert n_params(DeepONet()) == expected


def test_deeponet_shared_grid_equals_per_sample_form() -> None:
    torch.manual_seed(0)
    model = DeepONet(width=64).double()
    u = torch.randn(6, 100, dtype=torch.float64)
    y = torch.linspace(0, 1, 100, dtype=torch.float64)
    shared = model(u, y)
    shared.square().sum().backward()
    shared_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    per_sample = model.per_sample(model.branch(u), y.expand(6, -1))
    per_sample.square().sum().backward()
    assert torch.allclose(shared, per_sample, rtol=1e-12, atol=1e-12)
    for a, p in zip(shared_grads, model.parameters()):
        assert torch.allclose(a, p.grad, rtol=1e-10, atol=1e-12)
    # A (B, M) grid with identical rows takes the shared path; distinct rows the batched one.
    assert torch.allclose(model(u, y.expand(6, -1)), shared, rtol=1e-12, atol=1e-12)
    distinct = torch.rand(6, 100, dtype=torch.float64)
    assert torch.allclose(model(u, distinct), model.per_sample(model.branch(u), distinct), rtol=1e-12)


def test_tfonet() -> None:
    d, ff = 128, 512
    model = MODELS["TFONet"]()
    enc = attention(d) + linear(d, ff) + linear(ff, d) + 4 * d
    dec = 2 * attention(d) + linear(d, ff) + linear(ff, d) + 6 * d
    expected = 2 * linear(1, d) + 3 * enc + 2 * d + 3 * dec + 2 * d + linear(d, 1)
    assert n_params(model) == expected
    out = model(torch.randn(4, 100), torch.linspace(0, 1, 100))
    assert out.shape == (4, 100)
    out.sum().backward()
