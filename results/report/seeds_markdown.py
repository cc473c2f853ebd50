"""report.md's section on --compare-seeds auto: the rounds, who stopped why, and the seeds saved."""

from __future__ import annotations

from results.records import SeedsUntilDecided
from results.report.markdown_format import fmt, table
from results.stats.sequential import FUTILITY

READING = ("Each contender trains seeds in rounds while one of its pairwise comparisons is open. A pair is told apart "
           "(rejected) where its jackknife t test crosses the group-sequential boundary of that look: alpha is spent "
           "over the looks (Lan-DeMets, Kim-DeMets t^2) and shared among the pairs by Holm's procedure, so the "
           "family-wise error over every pair and every look stays at alpha. A pair stopped for futility had a "
           f"predictive power below {FUTILITY:g} of being told apart at the most seeds: it is not shown equal — a "
           "difference that many seeds could show had become unlikely, a smaller one may remain. A pair open at the "
           "most seeds is not decided either way; the seeds-needed line below the ranking says what more might do. "
           "Untested: a contender whose runs share every step across budgets moves 0 by construction; no estimate: "
           "a pair without a test at two looks in a row (a movement with no estimate, such as a contender whose long "
           "runs all diverged). 'Test at seeds' can precede 'ended at': a pair told apart once another one's alpha "
           "passed to it is judged on its earlier looks too. Runs count what the storage holds.")


def seeds_section(found: SeedsUntilDecided | None) -> list[str]:
    """The section, or nothing for a fixed --compare-seeds."""
    if found is None:
        return []
    saved = found.fixed_seed_runs - found.seed_runs
    share = 100 * saved / found.fixed_seed_runs if found.fixed_seed_runs else 0.0
    lines = ["## Seeds until decided (--compare-seeds auto)", "",
             f"Looks at {', '.join(map(str, found.looks_taken)) or 'none yet'} seeds (planned: "
             f"{', '.join(map(str, found.looks))}); {found.seed_runs} runs of {found.fixed_seed_runs} the fixed design "
             f"at --max-seeds {found.max_seeds} would train ({saved} saved, {share:.0f} %); {found.epochs} of "
             f"{found.fixed_epochs} planned epochs.", ""]
    lines += table(["contender", "seeds", "stopped", "runs", "runs saved"],
                   [[n, c.seeds, c.stopped or "training", c.seed_runs, c.saved_seed_runs]
                    for n, c in found.contenders.items()])
    tested = [p for p in found.pairs if p.outcome != "untested"]
    if tested:
        lines += table(["pair", "outcome", "ended at seeds", "test at seeds", "log movement ratio", "p (t test)",
                        "level there"],
                       [[f"{p.a} vs {p.b}", p.outcome, p.decided_at, p.seeds, fmt(p.difference, 3), fmt(p.p_value, 3),
                         fmt(p.level, 3)] for p in tested])
    return [*lines, READING, ""]
