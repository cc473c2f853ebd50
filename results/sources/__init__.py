"""Where curves come from: curve files on disk (ours and the paper's exports) and a run's storage."""
