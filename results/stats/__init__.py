"""The statistics: sensitivity metrics, the budget test, pairwise tests, detectability, transfer, tests across
tasks, and the simulated studies that calibrate them. No file writing, no figures."""
