"""docs/output-schema.md, rendered from the records (results.records) so the field reference cannot drift from
the code: ``python -m results.report.schema_doc`` rewrites it, and a test checks the committed file."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

from results.records import ROOTS

TARGET = Path(__file__).resolve().parents[2] / "docs" / "output-schema.md"
FILES = {"RunReport": "report.json", "AnalysisFile": "analysis.json (the `analyze` command)",
         "Summary": "summary.json (several runs or groups merged)"}


def _records_in(kind: Any) -> list[type]:
    """The record classes an annotation names, outermost first."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return [kind]
    return [r for arg in typing.get_args(kind) for r in _records_in(arg)]


def _in_order() -> list[type]:
    """Every record reachable from the files' roots, each once, in the order a reader meets them."""
    seen: list[type] = []

    def visit(record: type) -> None:
        if record in seen:
            return
        seen.append(record)
        for kind in typing.get_type_hints(record).values():
            for inner in _records_in(kind):
                visit(inner)

    for root in ROOTS:
        visit(root)
    return seen


def _cell(text: str) -> str:
    """Text for a table cell: a '|' escaped, so it does not end the cell."""
    return text.replace("|", "\\|")


def _section(record: type) -> list[str]:
    title = f"## `{record.__name__}`" + (f" — {FILES[record.__name__]}" if record.__name__ in FILES else "")
    lines = [title, "", " ".join((record.__doc__ or "").split()), "", "| key | type | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(record):
        key = "*(its keys, merged in)*" if f.metadata["inline"] else f"`{f.name}`"
        meaning = f.metadata["doc"] + (" (absent while null)" if f.metadata["omit_none"] else "")
        lines.append(f"| {key} | `{_cell(str(f.type))}` | {_cell(meaning)} |")
    return [*lines, ""]


def render() -> str:
    """The whole of docs/output-schema.md."""
    lines = ["# Output schema", "",
             "Generated from `results/records.py` by `python -m results.report.schema_doc`; do not edit by hand. "
             "Maps keyed by a budget, a seed or a multiplier use strings as keys; undefined numbers are null. "
             "What each `schema_version` of report.json changed: the comment on `SCHEMA_VERSION` in "
             "results/run_report.py.", ""]
    for record in _in_order():
        lines += _section(record)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    TARGET.write_text(render())
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
