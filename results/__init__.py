"""Reports and analyses of learning curves.

``ALPHA`` lives here, not beside the tests that use it, so the command line can show it as the
default of ``--alpha`` without importing pandas and scipy.
"""

ALPHA = 0.05  # default family-wise level of the budget tests (results.stats.budget, Holm-adjusted)
