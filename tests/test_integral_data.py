"""The generated integral-operator data and the on-disk cache it lives in."""

import numpy as np
import pytest

from tasks import DataConfig, get_task, integral
from tasks import cache as cache_module
from tasks.integral import build_dataset, integrate, sample_fields


def test_integral_of_constant_is_exactly_linear_and_starts_at_zero() -> None:
    y = np.linspace(0, 1, 100)
    u = np.full((2, 1000), [[0.7], [-1.3]])
    assert np.allclose(integrate(u, y), np.array([[0.7], [-1.3]]) * y, rtol=0, atol=1e-14)
    # A quadratic's integral of its piecewise-linear interpolant is within the trapezoid error.
    x = np.linspace(0, 1, 1000)
    assert np.allclose(integrate(x[None] ** 2, y)[0], y**3 / 3, atol=1e-6)


def test_dataset_shapes_zero_start_and_normalisation() -> None:
    arrays = build_dataset(300, seed=0)
    assert arrays["sensors"].shape == (300, 100) and arrays["target"].shape == (300, 100)
    assert arrays["y"].shape == (100,)
    assert np.all(arrays["target"][:, 0] == 0.0)
    assert np.mean(np.abs(arrays["sensors"]) <= 1.0) > 0.8


@pytest.mark.slow
def test_random_field_has_unit_variance_and_kernel_correlation() -> None:
    fields = sample_fields(3000, seed=1)
    assert fields.var(axis=0).mean() == pytest.approx(1.0, abs=0.08)
    # Correlation at distance 0.1 averaged over l ~ U(0.1, 0.4): mean of exp(-0.01 / (2 l^2)).
    scales = np.linspace(0.1, 0.4, 100_001)
    expected = np.exp(-0.01 / (2 * scales**2)).mean()
    lag = round(0.1 * 999)
    measured = np.mean(fields[:, :-lag] * fields[:, lag:]) / fields.var()
    assert measured == pytest.approx(expected, abs=0.05)


def test_cache_is_reused_and_rebuilt_when_corrupt(tmp_path, monkeypatch) -> None:
    config = DataConfig(data_dir=tmp_path, options={"n_functions": 50})
    first = get_task("integral").load(config)
    files = list((tmp_path / "integral").glob("*.npz"))
    assert len(files) == 1

    def refuse(*args):
        raise AssertionError("cache was not used")
    with monkeypatch.context() as patch:
        patch.setattr(integral, "build_dataset", refuse)
        cached = get_task("integral").load(config)
    assert np.array_equal(cached.train.target.numpy(), first.train.target.numpy())

    files[0].write_bytes(files[0].read_bytes()[:200])  # a truncated (partial) file
    rebuilt = get_task("integral").load(config)
    assert np.array_equal(rebuilt.train.target.numpy(), first.train.target.numpy())
    assert files[0].stat().st_size > 200


def test_cache_detects_flipped_bytes(tmp_path) -> None:
    calls = []

    def build():
        calls.append(1)
        return {"a": np.arange(1000, dtype=np.float64)}
    cache_module.load_or_build(tmp_path, "t", {"k": 1}, build)
    path = cache_module.cache_path(tmp_path, "t", {"k": 1})
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    again = cache_module.load_or_build(tmp_path, "t", {"k": 1}, build)
    assert len(calls) == 2 and np.array_equal(again["a"], np.arange(1000))


def test_target_is_the_cumulative_integral_of_the_field_the_sensors_sample() -> None:
    """Reference: scipy's cumulative trapezoid on the dense normalised field with the query points y
    inserted (the field linearly interpolated there): exactly the integral of u's piecewise-linear
    interpolant, computed without tasks.integral.integrate."""
    from scipy.integrate import cumulative_trapezoid

    n, seed = 12, 3
    arrays = build_dataset(n, seed)
    dense = integral.normalise(sample_fields(n, seed))  # the normalised field on the 1000-point grid
    # The sensors are that very field, every 10th grid point.
    assert np.array_equal(arrays["sensors"], dense[:, ::10].astype(np.float32))
    x, y = np.linspace(0.0, 1.0, dense.shape[1]), arrays["y"].astype(np.float64)
    merged = np.union1d(x, y)
    expected = np.stack([cumulative_trapezoid(np.interp(merged, x, u), merged, initial=0.0)[np.searchsorted(merged, y)]
                         for u in dense])
    assert np.allclose(arrays["target"], expected, rtol=1e-6, atol=1e-6)  # float32 storage
    assert np.abs(expected).max() > 0.1  # not a trivially small target


def test_target_slope_is_the_sensor_field() -> None:
    """Independent of every tasks.integral helper but build_dataset: the target's difference
    quotient over [y_k, y_k+1] (the field's mean there) matches the sensor values interpolated at the
    interval midpoints. Bound: midpoint error h^2 |u''| / 24 (h = 1/99) plus linear-interpolation
    error (10/999)^2 |u''| / 8, i.e. ~1.7e-5 |u''|; for the shortest length scale l = 0.1 the
    unit-variance field has std(u'') = sqrt(3)/l^2 ~ 170, the normalisation scales by ~0.4, so
    |u''| stays below ~300 (4 sigma): error < 5e-3. A target from another field (unnormalised,
    another seed, offset sensors) is off by O(0.1-1). The last interval ends past the last sensor
    (x = 0.991) and is left out rather than extrapolated."""
    arrays = build_dataset(40, seed=5)
    y, target, sensors = arrays["y"].astype(np.float64), arrays["target"], arrays["sensors"]
    sensor_x = np.linspace(0.0, 1.0, 1000)[::10]
    slope = np.diff(target, axis=1) / np.diff(y)
    midpoints = (y[1:] + y[:-1]) / 2
    inside = midpoints <= sensor_x[-1]
    field_at_mid = np.stack([np.interp(midpoints[inside], sensor_x, s) for s in sensors])
    assert inside.sum() == 98
    assert np.abs(slope[:, inside] - field_at_mid).max() < 5e-3
    assert np.abs(field_at_mid).mean() > 0.3
