"""When ``--compare-seeds auto`` looks at the seeds: the rounds' seed counts (results.stats.sequential decides at
each). Free of scipy, so the command line can name it before any statistics load."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

FIRST_LOOK = 4  # seeds of the first round: the fewest whose jackknife pseudo-values leave a t test 3 df


@dataclass(frozen=True)
class Design:
    """FIRST_LOOK seeds, then every ``step`` more, up to ``most``."""

    most: int
    step: int

    @property
    def looks(self) -> tuple[int, ...]:
        """The seed counts after each round (the last is always ``most``)."""
        first = min(FIRST_LOOK, self.most)
        return tuple(sorted({*range(first, self.most, self.step), self.most}))


def seeds_finished(units: Collection[tuple[int, int]], budgets: Sequence[int], most: int) -> int:
    """The most seeds n (up to ``most``) with a finished run of every seed 1..n at every budget, from the finished
    (budget, seed) ``units``: how far a contender's rounds have got."""
    return next((n - 1 for n in range(1, most + 1) if any((b, n) not in units for b in budgets)), most)
