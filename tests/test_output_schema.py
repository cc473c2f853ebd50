"""docs/output-schema.md is the records' own documentation, rendered: it cannot drift from the code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from results.records import ROOTS, AnalysisFile, RunReport, Summary, from_json, to_json
from results.report.schema_doc import TARGET, _in_order, render

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_the_committed_schema_doc_is_the_rendered_one() -> None:
    assert TARGET.read_text() == render(), "run: python -m results.report.schema_doc"


def test_every_field_of_every_record_says_what_it_is() -> None:
    records = _in_order()
    assert set(ROOTS) <= set(records) and len(records) > 20
    undocumented = [f"{r.__name__}.{f.name}" for r in records for f in dataclasses.fields(r) if not f.metadata["doc"]]
    assert undocumented == []


@pytest.mark.parametrize(("record", "path"), [(RunReport, "golden-run/report.json"),
                                               (AnalysisFile, "golden-analyze/golden-run/analysis.json"),
                                               (Summary, "golden-analyze/summary.json")])
def test_a_file_read_back_gives_the_same_file(record: type, path: str) -> None:
    """from_json is to_json's inverse, inline and omitted fields included."""
    data = json.loads((FIXTURES / path).read_text())
    assert to_json(from_json(record, data)) == data
