"""report.md's transfer section: what reusing the tuned step size at other budgets costs (results.stats.transfer)."""

from __future__ import annotations

from results.records import (
    SAME_EDGE,
    Drift,
    MultiplierLoss,
    Transfer,
    TransferCost,
    TransferOptimum,
    TransferRank,
    TransferRegret,
    cost_is_bound,
)
from results.report.markdown_format import fmt, fmt_ci, table
from results.stats.transfer import MIN_SEEDS

READING = ("Regret: how much worse the tuned step size is than the optimum at that budget, in % of the loss there: "
           "100 (exp(r) - 1), r = the seeds' mean log final loss at the tuned step size minus the optimum's: the "
           "minimum of the parabola in log step size through the lowest mean log loss and its two grid neighbours "
           "(the log scale because losses span decades across a grid), never deeper below the lowest mean than "
           "that lies below its nearer neighbour (else the lowest mean itself: 'dip'); 'regret' is the same in loss "
           "units (geometric means). At the tuning budget the regret is the tuning error (the tuned value was "
           "chosen on one seed's noise there); at a longer budget it mixes that error with the transfer. The "
           "transfer cost separates them: the regret at the budget of the step size optimal at the tuning budget, "
           "per seed. '>=' where the lowest mean lies at the grid's end (the optimum is beyond the grid, the value "
           "at least that; a transfer cost read at either budget's edge is at least its value; one with both optima "
           "beyond the same edge has none: read there it is 0 by construction); 'diverged': infinite. Intervals of "
           "the optimum, the regret, the transfer cost and the drift: leave-one-seed-out jackknife with a t quantile "
           "(95%; none below three seeds, for bounds, or where leaving a seed out moves the optimum to the grid's "
           "edge). They cover the optimum of the parabola through the grid's expected log losses: on a coarse grid "
           "and a lopsided loss curve that can lie off the true optimum (--transfer-max-octaves grows the grid past "
           "its edges and to sqrt(2) steps around each optimum). Drift: slope of log2(optimal step size) against "
           "log2(budget), 0 when the tuned step size stays optimal, an optimum at the grid's edge entered at the "
           "edge (the slope is then a bound); beside it the convex bound's slope for the same schedule (Schaipp et "
           "al. 2025) on the SGD steps trained (T = budget x steps per epoch), a prediction of the direction and rate "
           "only.")


def _cost(value: float | None, interval: list[float] | None, lower_bound: bool, unit: str = "",
          diverged: bool = False) -> str:
    if diverged:
        return "diverged"
    if value is None:
        return "-"
    text = f"{'>= ' if lower_bound else ''}{fmt(value, 3)}{unit}"
    return f"{text} {fmt_ci(interval)}" if interval else text


def _regret(regret: TransferRegret | None, percent: bool = True) -> str:
    if regret is None:
        return "-"
    if percent:
        return _cost(regret.percent, regret.percent_ci, regret.lower_bound, " %", regret.diverged)
    return _cost(regret.absolute, regret.ci, regret.lower_bound, diverged=regret.diverged)


def _censored_cost(percent: float | None, interval: list[float] | None, censored: str | None, diverged: bool) -> str:
    """A transfer cost: a bound ('>=') where censored, with why where it is read at the tuning budget's edge; none
    where both optima lie beyond the same edge (read there it is 0 by construction)."""
    if censored == SAME_EDGE and not diverged:
        return "- (both optima beyond the same edge of the grid)"
    text = _cost(percent, interval, cost_is_bound(censored), " %", diverged)
    return text + (" (tuning optimum at the grid's edge)" if censored == "tuning optimum at the edge" else "")


def _transfer_cost(cost: TransferCost | None) -> str:
    return "-" if cost is None else _censored_cost(cost.percent, cost.percent_ci, cost.censored, cost.diverged)


def _ranked(row: TransferRank) -> str:
    return _censored_cost(row.transfer_cost_percent, row.transfer_cost_ci, row.censored, row.diverged)


def _tuning_error(row: TransferRank) -> str:
    return _cost(row.tuning_error_percent, None, row.tuning_error_lower_bound, " %")


def _practitioner(row: TransferRank) -> str:
    return _cost(row.regret_percent, row.ci, row.lower_bound, " %", row.regret_diverged)


def _optimum(optimum: TransferOptimum | None) -> str:
    if optimum is None:
        return "-"
    if optimum.at_edge:
        sign = "<=" if optimum.at_edge == "low" else ">="
        return f"{sign} x{fmt(optimum.multiplier, 3)} (the grid's {optimum.at_edge} edge)"
    interval = fmt_ci(optimum.multiplier_ci) if optimum.multiplier_ci else ""
    text = f"x{fmt(optimum.multiplier, 3)} {interval}".strip() + (" (grid point)" if optimum.fit != "parabola" else "")
    return text + (f" (dip {fmt(optimum.dip, 2)} refused)" if optimum.dip is not None else "")


def _lr(optimum: TransferOptimum | None) -> str:
    if optimum is None:
        return "-"
    return f"{'<= ' if optimum.at_edge == 'low' else '>= ' if optimum.at_edge == 'high' else ''}{fmt(optimum.lr, 3)}"


def _seeds_note(transfer: Transfer) -> str:
    """Which seeds are in-sample, and that fewer than three give no intervals."""
    counts = sorted({len(d.seeds) for c in transfer.contenders.values() for d in c.budgets.values()})
    few = f" With {counts[0]} seed{'s' * (counts[0] != 1)} no intervals (they need three)." \
        if counts and counts[0] < MIN_SEEDS else ""
    in_sample = transfer.in_sample_seeds
    tuned = (f" Seed{'s' * (len(in_sample) != 1)} {', '.join(map(str, in_sample))} also tuned the step size "
             f"(Phase 1): in-sample, kept; the tuning error is optimistic there.") if in_sample else ""
    return few + tuned


def transfer_verdict(transfer: Transfer | None) -> list[str]:
    """One paragraph: per contender at the longest budget the ranked value (transfer cost, else regret) beside the
    practitioner's regret and the tuning error, diverged ones named, bounds apart, and which the tests tell apart."""
    if transfer is None or not (transfer.ranking or transfer.unranked):
        return []
    longest, tuned = transfer.longest_budget, transfer.tuning_budget
    by_cost = transfer.ranked_by == "transfer cost"
    value = _ranked if by_cost else _practitioner
    text = f"**Tuned at {tuned} epochs, trained at {longest}:** "
    if by_cost:
        text += ("the transfer cost (the regret at the longest budget of the step size optimal at the tuning budget; "
                 "beside it the practitioner's regret of the tuned step size, and the tuning error at the tuning "
                 "budget) is ")
        described = [f"{r.name} {value(r)} (regret {_practitioner(r)}, tuning error "
                     f"{_tuning_error(r)})" for r in transfer.ranking]
    else:
        text += "reusing the tuned step size costs "
        described = [f"{r.name} {value(r)}" for r in transfer.ranking]
    text += (", ".join(described) + f" in final validation loss against the best step size of the grid at {longest} "
             "epochs (jackknife 95% intervals in brackets).") if described else "no point estimate at this grid."
    diverged = [r.name for r in transfer.ranking if r.diverged] + [
        r.name for r in [*transfer.ranking, *transfer.unranked] if r.regret_diverged and not r.diverged]
    if diverged:
        text += f" Diverged at {longest} epochs (infinite, ranked last): {', '.join(diverged)}."
    if transfer.unranked:
        text += (" Not ranked (a bound, or read at the tuning budget's grid edge): "
                 + ", ".join(f"{r.name} {value(r)}" for r in transfer.unranked) + ".")
    seeds = min((len(d.seeds) for r in transfer.ranking if not r.diverged
                 for d in [transfer.contenders[r.name].budgets[str(longest)]]), default=0)
    separated = [c for c in transfer.comparisons if c.separated]
    if separated:
        tests = " The paired tests separate " + "; ".join(
            f"{c.a} from {c.b} (adjusted p {fmt(c.p_adjusted, 2)})" for c in separated) + "."
    elif transfer.comparisons:
        tests = (f" No two ranked contenders can be told apart (paired sign-flip tests over {seeds} seeds, Holm; the "
                 f"smallest p-value {seeds} seeds allow is {fmt(2 / 2 ** seeds, 2)}).")
    else:
        tests = ""
    return [text + tests + _seeds_note(transfer), ""]


def transfer_section(transfer: Transfer | None) -> list[str]:
    """The tables of the transfer phase with their reading, or nothing without transfer runs."""
    if transfer is None:
        return []
    contenders = transfer.contenders
    longest, tuned = transfer.longest_budget, transfer.tuning_budget
    lines = [f"## Transfer: the tuned step size at other budgets (tuned at {tuned} epochs)", ""]
    lines += table(["rank", "contender", f"transfer cost at {longest} epochs [95%]",
                    f"regret at {longest} epochs [95%]", f"tuning error at {tuned} epochs",
                    "cannot be told apart from"],
                   [[str(i + 1) if r in transfer.ranking else "-", r.name, _ranked(r), _practitioner(r),
                     _tuning_error(r), ", ".join(r.tied_with) or "-"]
                    for i, r in enumerate([*transfer.ranking, *transfer.unranked])])
    lines += [f"Ranked by {transfer.ranked_by}; bounds and undefined values listed apart (rank '-')."
              f"{_seeds_note(transfer)}", ""]
    rows = []
    for name, result in contenders.items():
        for budget, detail in result.budgets.items():
            diverged = "; ".join(f"x{m}: seeds {', '.join(map(str, s))}" for m, s in detail.diverged.items())
            rows.append([name, budget, len(detail.seeds), _optimum(detail.optimum), _lr(detail.optimum),
                         _regret(detail.regret, percent=False), _regret(detail.regret),
                         _transfer_cost(detail.transfer_cost), diverged or "-"])
    lines += ["### Optimum, regret and transfer cost per budget", ""]
    lines += table(["contender", "budget", "seeds", "optimal multiplier [95%]",
                    f"optimal {'/'.join(sorted(set(transfer.step_params.values()))) or 'step size'}",
                    "regret", "regret %", f"transfer cost % (the {tuned}-epoch optimum)", "diverged (left out)"], rows)
    lines += ["### Drift of the optimal step size", ""]
    lines += table(["contender", "log2 slope per doubling [95%]", "budgets used (at the edge)",
                    "convex bound's slope (SGD steps)"],
                   [[name, _drift(d), (", ".join(map(str, d.budgets)) + (f" ({len(d.censored)} at the edge: "
                                                                          f"{', '.join(map(str, d.censored))})"
                                                                          if d.censored else ""))
                     if d else "fewer than two budgets with an optimum",
                     _bound(d, transfer.bound_steps_per_epoch.get(name))]
                    for name, result in contenders.items() for d in [result.drift]])
    multipliers = sorted({float(m) for c in contenders.values() for d in c.budgets.values() for m in d.loss})
    lines += ["### Final validation loss per multiplier (geometric mean over seeds [95% t interval of the log])", ""]
    lines += table(["contender", "budget", *(f"x{m:g}" for m in multipliers)],
                   [[name, budget, *(_loss_cell(detail.loss.get(f"{m:g}")) for m in multipliers)]
                    for name, result in contenders.items() for budget, detail in result.budgets.items()])
    return lines + [READING, ""]


def _drift(drift: Drift | None) -> str:
    if drift is None:
        return "-"
    if drift.slope is None:
        return "undefined (optima beyond both edges pull it both ways)"
    sign = {"at least": ">= ", "at most": "<= "}.get(drift.bound or "", "")
    return f"{sign}{fmt(drift.slope, 3)} {fmt_ci(drift.ci)}" if drift.ci else f"{sign}{fmt(drift.slope, 3)}"


def _bound(drift: Drift | None, steps: int | None) -> str:
    if drift is None or drift.bound_slope is None:
        return "-"
    return fmt(drift.bound_slope, 3) + (f" (T = budget x {steps} steps)" if steps else "")


def _loss_cell(loss: MultiplierLoss | None) -> str:
    if loss is None:
        return "-"
    if loss.geometric_mean is None:
        return "diverged"
    return f"{fmt(loss.geometric_mean)} {fmt_ci(loss.ci)}" if loss.ci else fmt(loss.geometric_mean)
