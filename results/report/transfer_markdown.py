"""report.md's transfer section: what reusing the tuned step size at other budgets costs (results.stats.transfer)."""

from __future__ import annotations

from results.records import MultiplierLoss, Transfer, TransferOptimum, TransferRank, TransferRegret
from results.report.markdown_format import fmt, fmt_ci, table

READING = ("Regret: how much worse the tuned step size is than the optimum at that budget, in % of the loss there: "
           "100 (exp(r) - 1), r = the seeds' mean log final loss at the tuned step size minus the minimum of the "
           "parabola in log step size through the lowest mean log loss and its two grid neighbours (the log scale "
           "because losses span decades across a grid); 'regret' is the same in loss units (geometric means). "
           "'>=' where the lowest mean lies at the grid's end (the optimum is beyond the grid, the regret at least "
           "that). Intervals of the optimum, the regret and the drift: leave-one-seed-out jackknife with a t "
           "quantile (95%; none below three seeds, or where leaving a seed out moves the optimum to the grid's "
           "edge). They cover the optimum of the parabola through the grid's expected log losses: on a coarse grid "
           "and a lopsided loss curve that can lie off the true optimum. Drift: slope of log2(optimal step size) "
           "against log2(budget), 0 when the tuned step size stays optimal; beside it the convex bound's slope for "
           "the same schedule (Schaipp et al. 2025), a prediction of the direction and rate only.")


def _cost(value: float, interval: list[float] | None, lower_bound: bool, unit: str = "") -> str:
    text = f"{'>= ' if lower_bound else ''}{fmt(value, 3)}{unit}"
    return f"{text} {fmt_ci(interval)}" if interval else text


def _regret(regret: TransferRegret | None, percent: bool = True) -> str:
    if regret is None:
        return "-"
    if percent:
        return _cost(regret.percent, regret.percent_ci, regret.lower_bound, " %")
    return _cost(regret.absolute, regret.ci, regret.lower_bound)


def _ranked(row: TransferRank) -> str:
    return _cost(row.regret_percent, row.ci, row.lower_bound, " %")


def _optimum(optimum: TransferOptimum | None) -> str:
    if optimum is None:
        return "-"
    if optimum.at_edge:
        return f"at the grid's {optimum.at_edge} edge (x{fmt(optimum.multiplier, 3)})"
    interval = fmt_ci(optimum.multiplier_ci) if optimum.multiplier_ci else ""
    return f"x{fmt(optimum.multiplier, 3)} {interval}".strip() + (" (grid point)" if optimum.fit != "parabola" else "")


def transfer_verdict(transfer: Transfer | None) -> list[str]:
    """One paragraph: the regret at the longest budget per contender, and which the tests tell apart."""
    if transfer is None or not transfer.ranking:
        return []
    longest, tuned = transfer.longest_budget, transfer.tuning_budget
    costs = ", ".join(f"{r.name} {_ranked(r)}" for r in transfer.ranking)
    seeds = min(len(transfer.contenders[r.name].budgets[str(longest)].seeds) for r in transfer.ranking)
    separated = [c for c in transfer.comparisons if c.separated]
    if separated:
        tests = "The paired tests separate " + "; ".join(
            f"{c.a} from {c.b} (adjusted p {fmt(c.p_adjusted, 2)})" for c in separated) + "."
    else:
        tests = (f"No two contenders' regrets can be told apart (paired sign-flip tests over {seeds} seeds, Holm; the "
                 f"smallest p-value {seeds} seeds allow is {fmt(2 / 2 ** seeds, 2)}).")
    return [f"**Tuned at {tuned} epochs, trained at {longest}:** reusing the tuned step size costs {costs} in final "
            f"validation loss against the best step size of the grid at {longest} epochs (jackknife 95% intervals "
            f"in brackets, none below three seeds). {tests}", ""]


def transfer_section(transfer: Transfer | None) -> list[str]:
    """The tables of the transfer phase with their reading, or nothing without transfer runs."""
    if transfer is None:
        return []
    contenders = transfer.contenders
    lines = [f"## Transfer: the tuned step size at other budgets (tuned at {transfer.tuning_budget} epochs)", ""]
    lines += table(["rank", "contender", f"regret at {transfer.longest_budget} epochs [95%]",
                    "cannot be told apart from"],
                   [[str(i + 1), r.name, _ranked(r), ", ".join(r.tied_with) or "-"]
                    for i, r in enumerate(transfer.ranking)])
    rows = []
    for name, result in contenders.items():
        for budget, detail in result.budgets.items():
            diverged = "; ".join(f"x{m}: seeds {', '.join(map(str, s))}" for m, s in detail.diverged.items())
            rows.append([name, budget, len(detail.seeds), _optimum(detail.optimum),
                         fmt(detail.optimum.lr, 3) if detail.optimum else "-",
                         _regret(detail.regret, percent=False), _regret(detail.regret), diverged or "-"])
    lines += ["### Optimum and regret per budget", ""]
    lines += table(["contender", "budget", "seeds", "optimal multiplier [95%]",
                    f"optimal {'/'.join(sorted(set(transfer.step_params.values()))) or 'step size'}",
                    "regret", "regret %", "diverged (left out)"], rows)
    lines += ["### Drift of the optimal step size", ""]
    lines += table(["contender", "log2 slope per doubling [95%]", "budgets used", "convex bound's slope"],
                   [[name, (f"{fmt(d.slope, 3)} {fmt_ci(d.ci)}" if d.ci else fmt(d.slope, 3)) if d else "-",
                     ", ".join(map(str, d.budgets)) if d else "fewer than two budgets with an optimum inside the grid",
                     fmt(d.bound_slope, 3) if d and d.bound_slope is not None else "-"]
                    for name, result in contenders.items() for d in [result.drift]])
    multipliers = sorted({float(m) for c in contenders.values() for d in c.budgets.values() for m in d.loss})
    lines += ["### Final validation loss per multiplier (geometric mean over seeds [95% t interval of the log])", ""]
    lines += table(["contender", "budget", *(f"x{m:g}" for m in multipliers)],
                   [[name, budget, *(_loss_cell(detail.loss.get(f"{m:g}")) for m in multipliers)]
                    for name, result in contenders.items() for budget, detail in result.budgets.items()])
    return lines + [READING, ""]


def _loss_cell(loss: MultiplierLoss | None) -> str:
    if loss is None:
        return "-"
    if loss.geometric_mean is None:
        return "diverged"
    return f"{fmt(loss.geometric_mean)} {fmt_ci(loss.ci)}" if loss.ci else fmt(loss.geometric_mean)
