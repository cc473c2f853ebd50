"""The shared training loop on tiny real data: learning, determinism, divergence, stepping."""

import io
import math
from pathlib import Path

import pytest
import torch

from schedulers.params import Budget
from schedulers.recipes import make_recipe
from schedulers.trace import lr_trace
from tasks import DataConfig, get_task
from tasks.data import TaskData
from tasks.training import TrainConfig, Trainer, train
from tests.support.datasets import write_cifar


@pytest.fixture(scope="module")
def osc_data(tmp_path_factory):
    return get_task("osc").load(DataConfig(data_dir=tmp_path_factory.mktemp("osc"), subset_ratio=0.02,
                                           options={"hist": 10, "pred": 10}))


@pytest.fixture(scope="module")
def integral_data(tmp_path_factory):
    return get_task("integral").load(DataConfig(data_dir=tmp_path_factory.mktemp("integral"),
                                                options={"n_functions": 160}))


def small(task: str, model: str, data: TaskData, recipe: str = "C", lr: float | None = None, epochs: int = 4,
          batch_size: int | None = None, **overrides) -> TrainConfig:
    """A short run of ``recipe`` at its default parameters (base LR ``lr``, the model's default if None)."""
    spec = get_task(task)
    batch_size = batch_size or spec.batch_size
    made = make_recipe(recipe, steps_per_epoch=data.steps_per_epoch(batch_size), lr=lr or spec.models[model].lr)
    return TrainConfig(model=model, epochs=epochs, batch_size=batch_size, seed=1, recipe=made,
                       params=made.defaults(epochs), **overrides)


def test_osc_training_lowers_loss_and_is_deterministic(osc_data) -> None:
    first = train(get_task("osc"), osc_data, small("osc", "LSTM_Seq2Seq", osc_data, batch_size=16))
    second = train(get_task("osc"), osc_data, small("osc", "LSTM_Seq2Seq", osc_data, batch_size=16))
    assert first.status == "complete" and len(first.train_loss) == 4
    assert first.train_loss[-1] < first.train_loss[0]
    assert (first.train_loss, first.val_loss, first.lr, first.test_loss) == (
        second.train_loss, second.val_loss, second.lr, second.test_loss)
    assert first.val_accuracy is None and math.isfinite(first.test_loss)


def test_a_cpu_trainer_flushes_subnormal_floats_to_zero(osc_data) -> None:
    torch.set_flush_denormal(False)  # another test's trainer may have turned it on
    subnormal = torch.tensor([1e-40])
    assert (subnormal * 1.0).item() != 0.0
    Trainer(get_task("osc"), osc_data, small("osc", "LSTM_Seq2Seq", osc_data, device="cpu"))
    assert (subnormal * 1.0).item() == 0.0  # flushed: the arithmetic the slow path would do on it is skipped


@pytest.mark.slow
@pytest.mark.parametrize("model, lr", [("DeepONet", 1e-4), ("TFONet", 1e-3)])
def test_integral_training_lowers_loss(integral_data, model: str, lr: float) -> None:
    config = small("integral", model, integral_data, lr=lr, batch_size=32, epochs=3)
    record = train(get_task("integral"), integral_data, config)
    assert record.status == "complete"
    assert record.train_loss[-1] < record.train_loss[0]


@pytest.mark.slow
def test_cifar_training_lowers_loss_with_accuracy(tmp_path: Path, unchecked_cifar_md5) -> None:
    write_cifar(tmp_path, "CIFAR10", per_file=40)
    data = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10"))
    record = train(get_task("cifar10"), data, small("cifar10", "SimpleCNN", data, batch_size=30, lr=1e-3, epochs=5))
    assert record.train_loss[-1] < record.train_loss[0]
    assert len(record.val_accuracy) == 5 and 0.0 <= record.test_accuracy <= 1.0


def test_absurd_lr_is_reported_as_diverged(osc_data) -> None:
    record = train(get_task("osc"), osc_data, small("osc", "LSTM_Seq2Seq", osc_data, "N", lr=1e6, batch_size=16))
    assert record.status == "diverged"
    assert record.reason.startswith("non-finite")
    assert record.test_loss is None


def test_one_cycle_steps_per_batch(osc_data) -> None:
    config = small("osc", "LSTM_Seq2Seq", osc_data, "OC", epochs=3, batch_size=16)
    record = train(get_task("osc"), osc_data, config)
    steps = math.ceil(len(osc_data.train) / 16)
    per_batch = lr_trace("OC", Budget(3, steps, config.params["lr"]))
    assert len(per_batch) == 3 * steps
    expected = [sum(per_batch[e * steps:(e + 1) * steps]) / steps for e in range(3)]
    assert record.lr == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["Prodigy", "DAdapt", "ScheduleFree"])
def test_lr_free_optimizers_train(osc_data, name: str) -> None:
    record = train(get_task("osc"), osc_data, small("osc", "LSTM_Seq2Seq", osc_data, name, batch_size=16))
    assert record.status == "complete" and all(v > 0 for v in record.lr)


@pytest.mark.slow
def test_bf16_autocast_runs(integral_data) -> None:
    record = train(get_task("integral"), integral_data, small("integral", "DeepONet", integral_data, lr=1e-4,
                                                              epochs=1, precision="bf16"))
    assert record.status == "complete" and math.isfinite(record.val_loss[0])


def test_recalibrate_batchnorm_sets_the_calibration_mean_and_restores_momentum() -> None:
    import torch
    from torch import nn

    from schedulers.recipes import recalibrate_batchnorm

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3))
    batches = [(torch.randn(8, 3),), (torch.randn(8, 3),)]
    recalibrate_batchnorm(model, batches)
    with torch.no_grad():
        features = model[0](torch.cat([b[0] for b in batches]))
    norm = model[1]
    assert torch.allclose(norm.running_mean, features.mean(0), atol=1e-6)  # equal-size batches: mean of means
    assert norm.momentum == 0.3 and norm.num_batches_tracked.item() == 2


def test_schedule_free_trains_in_train_mode_and_evaluates_its_averaged_weights(osc_data) -> None:
    config = small("osc", "LSTM_Seq2Seq", osc_data, "ScheduleFree", batch_size=16, epochs=2)
    from tasks.training import Trainer

    trainer = Trainer(get_task("osc"), osc_data, config)
    seen = []  # (model.training, optimizer train_mode, first weight) at every forward pass
    weight = next(trainer.model.parameters())
    trainer.model.register_forward_hook(lambda module, args, out: seen.append(
        (module.training, trainer.optimizer.param_groups[0]["train_mode"], weight.detach().clone())))
    trainer.run()
    training = [s for s in seen if s[0] and s[1]]
    evaluating = [s for s in seen if not s[0]]
    assert training and evaluating and all(not s[1] for s in evaluating)  # eval forward passes: optimizer.eval()
    assert not any(s[0] and not s[1] for s in seen)  # never a training step at the averaged weights
    assert not torch.equal(training[-1][2], evaluating[-1][2])  # the evaluated x is not the training iterate y


@pytest.mark.slow
def test_bf16_forward_runs_in_bfloat16_and_tracks_fp32(integral_data) -> None:
    import torch

    from tasks.training import Trainer

    dtypes = []
    losses = {}
    for precision in ("fp32", "bf16"):
        config = small("integral", "DeepONet", integral_data, lr=1e-4, epochs=2, precision=precision)
        trainer = Trainer(get_task("integral"), integral_data, config)
        hook = trainer.model.branch[0].register_forward_hook(lambda m, a, out: dtypes.append(out.dtype))
        losses[precision] = trainer.run().val_loss
        hook.remove()
        assert set(dtypes) == {torch.bfloat16 if precision == "bf16" else torch.float32}
        dtypes.clear()
    # bf16 keeps 8 bits of mantissa: losses agree to a few percent, not to float32 precision.
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=0.05)
    assert losses["bf16"] != losses["fp32"]


@pytest.mark.parametrize("task", ["osc", "integral", "cifar10"])
def test_the_data_order_does_not_depend_on_the_budget(task: str, osc_data, integral_data, tmp_path: Path,
                                                      unchecked_cifar_md5, one_torch_thread) -> None:
    """Same seed, constant LR: a 2-epoch run is exactly the first 2 epochs of a 3-epoch run
    (shuffle and, for images, crop/flip draws are seeded by (seed, epoch) alone)."""
    if task == "cifar10":
        write_cifar(tmp_path, "CIFAR10", per_file=12)
        data = get_task("cifar10").load(DataConfig(data_dir=tmp_path, dataset="CIFAR10"))
        model, lr = "SimpleCNN", 1e-3
    else:
        data = osc_data if task == "osc" else integral_data
        model, lr = ("LSTM_Seq2Seq", 0.01) if task == "osc" else ("DeepONet", 1e-4)
    short, long = (train(get_task(task), data, small(task, model, data, "N", lr=lr, epochs=e, batch_size=32))
                   for e in (2, 3))
    assert (short.train_loss, short.val_loss, short.lr) == (long.train_loss[:2], long.val_loss[:2], long.lr[:2])
    assert long.train_loss[2] != long.train_loss[1]


@pytest.mark.parametrize("name", ["C", "CY", "Prodigy", "ScheduleFree"])
def test_a_run_restored_mid_way_ends_with_the_uninterrupted_curves(osc_data, name: str, one_torch_thread) -> None:
    """Per-epoch and per-batch schedules and LR-free optimizers: state after epoch 2, through bytes."""
    from runner.checkpoints import encode
    from tasks.training import Trainer

    config = small("osc", "LSTM_Seq2Seq", osc_data, name, epochs=4, batch_size=32)
    straight = Trainer(get_task("osc"), osc_data, config).run()
    saved = {}

    def stop_after_two(epoch: int, record) -> None:
        if epoch == 1:
            saved["state"] = encode(trainer.state(record))
            raise KeyboardInterrupt

    trainer = Trainer(get_task("osc"), osc_data, config)
    with pytest.raises(KeyboardInterrupt):
        trainer.run(stop_after_two)
    torch.manual_seed(12345)  # whatever the process did since: the state carries the RNG
    resumed = Trainer(get_task("osc"), osc_data, config)
    record = resumed.run(record=resumed.restore(torch.load(io.BytesIO(saved["state"]), weights_only=True)))
    assert (record.lr, record.train_loss, record.val_loss, record.test_loss) == (
        straight.lr, straight.train_loss, straight.val_loss, straight.test_loss)
