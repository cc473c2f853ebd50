"""What the tests share: the command line (in-process and as a process), snapshots of what a run left,
the tiny runs and their session cache, the refusal tables, tiny datasets and synthetic curves.

Test modules import from here, never from one another; tests/conftest.py holds only fixtures."""
