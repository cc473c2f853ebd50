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
