"""Progress output when stdout is not a terminal: one plain line per finished run."""

import io

from runner.progress import Progress


def test_plain_lines_name_phase_run_result_and_eta() -> None:
    stream = io.StringIO()
    progress = Progress(total_epochs=10, stream=stream)
    assert not progress.live  # a StringIO is not a terminal
    progress.skip(4)  # work found finished in the storage
    progress.run_started("phase 1", "EH", "trial 2/3")
    for epoch in range(3):
        progress.epoch_done(epoch, 3, 0.5 - 0.1 * epoch)
    progress.run_finished("val 0.3")
    progress.run_started("phase 2", "EH", "run 1/1 (3 epochs, seed 1)")
    progress.epoch_done(0, 3, 2.0)
    progress.run_finished("diverged: non-finite training loss in epoch 1", skipped_epochs=2)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[phase 1] EH trial 2/3: val 0.3 (ETA ")
    assert lines[1].startswith("[phase 2] EH run 1/1 (3 epochs, seed 1): diverged: non-finite training loss")
    assert lines[1].endswith("(ETA 0m00s)")  # 6 of the 6 remaining epochs accounted for
    assert progress.done == progress.total == 6


def finish_runs(progress: Progress, clock: list[float], times: list[float], epochs: int = 1) -> None:
    for k, at in enumerate(times):
        clock[0] = at
        progress.run_started("phase 2", "C", f"run {k + 1}/{len(times)}")
        for epoch in range(epochs):
            progress.epoch_done(epoch, epochs, 0.5)
        progress.run_finished("val 0.5")


def test_logs_get_a_line_a_minute_not_one_per_run() -> None:
    """A batch job's log: the first run's line (t=1), then one 60 s after the last line (t=62, t=130), and the last."""
    stream, clock = io.StringIO(), [0.0]
    progress = Progress(total_epochs=8, stream=stream, log_every="60s", clock=lambda: clock[0])
    finish_runs(progress, clock, [1, 30, 59, 62, 100, 121, 130, 131])
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["[phase 2] C run 1/8", "[phase 2] C run 4/8",
                                                      "[phase 2] C run 7/8", "[phase 2] C run 8/8"]
    assert lines[1].startswith("[phase 2] C run 4/8: val 0.5 (4/8 epochs, ETA ")


def test_logs_by_per_cent_of_the_work_and_always_name_a_diverged_run() -> None:
    stream, clock = io.StringIO(), [0.0]
    progress = Progress(total_epochs=20, stream=stream, log_every="25%", clock=lambda: clock[0])
    finish_runs(progress, clock, [float(k) for k in range(10)], epochs=2)  # 2 epochs each: 10 % a run
    progress.run_started("phase 2", "E", "run 1/1")
    progress.run_finished("diverged: non-finite training loss in epoch 0")
    lines = [line.split(":")[0] for line in stream.getvalue().splitlines()]
    assert lines == ["[phase 2] C run 1/10", "[phase 2] C run 4/10", "[phase 2] C run 7/10", "[phase 2] C run 10/10",
                     "[phase 2] E run 1/1"]


def test_bad_log_every_is_one_clear_error() -> None:
    import pytest

    from errors import UserError
    from runner.progress import parse_log_every

    assert parse_log_every("60s") == parse_log_every("60") == (60.0, 0.0) and parse_log_every("5%") == (0.0, 5.0)
    for bad in ("soon", "-1", "150%", "inf"):
        with pytest.raises(UserError, match="--log-every"):
            parse_log_every(bad)
