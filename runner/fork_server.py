"""Imported by the pool's fork server before it forks workers, and by nothing else.

The runner (torch, optuna) is imported here once instead of in every worker, and torch._dynamo
too: the first torch optimizer imports it, 1.5 s. The server ignores SIGTERM: a SIGTERM sent to
the whole process group (systemd, Docker, Slurm) is the pool's parent's to turn into an orderly
stop, and the parent can follow its workers only while their server lives.
"""

import signal

import torch._dynamo  # noqa: F401

import runner.worker  # noqa: F401

signal.signal(signal.SIGTERM, signal.SIG_IGN)
