"""The run options are declared once (runner.options): --help shows each in its group with the
default the code uses, and validation and resume identity read the same declarations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import run_all
from runner.config import RunConfig, resolve
from runner.options import PANELS, declared, default_of, identity_names
from runstate.storage import JOURNAL_FILE, default_url
from tests.support.refusals import BELOW_MINIMUM


@pytest.fixture
def help_text(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "300")  # one line per option
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--help"])
    run_all.main()
    return capsys.readouterr().out


def groups(text: str) -> dict[str, list[str]]:
    """{--help group title: its lines}."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("╭─ "):
            current = line[3:].split(" ─")[0]
            found[current] = []
        elif current is not None and line.startswith("│"):
            found[current].append(line)
    return found


def flag_of(name: str) -> str:
    f, option = next((f, o) for f, o in declared(RunConfig) if f.name == name)
    return (option.flag or "--" + (option.cli_name or f.name).replace("_", "-")).split("/")[0]


def test_every_run_option_is_in_its_group_in_declared_order(help_text: str) -> None:
    shown = groups(help_text)
    used = [panel for panel in PANELS if any(option.panel == panel for _, option in declared(RunConfig))]
    assert [g for g in shown if g in PANELS] == used  # Cluster: launch's own options only
    for panel in PANELS:
        flags = [flag_of(f.name) for f, option in declared(RunConfig) if option.panel == panel]
        lines = [next(i for i, line in enumerate(shown[panel]) if f"│ {flag} " in line) for flag in flags]
        assert lines == sorted(lines), panel


def test_stated_defaults_are_the_code_defaults(help_text: str) -> None:
    rows = {line.split()[1]: line for lines in groups(help_text).values() for line in lines if line.startswith("│ --")}
    checked = 0
    for f, option in declared(RunConfig):
        row = rows[flag_of(f.name)]
        if option.resolved_by is not None:
            assert f"[default: {option.resolved_by}]" in row
        elif option.cli_default is None and not isinstance(default_of(f), bool | tuple):
            assert f"[default: {default_of(f)}]" in row, row
            checked += 1
    assert checked >= 12
    assert f"[default: the journal file --out/{JOURNAL_FILE}]" in rows["--storage"]
    assert default_url(RunConfig().out).endswith(JOURNAL_FILE)


def test_resolved_defaults_say_what_resolve_does() -> None:
    """The "[default: N, or the preset's]" texts name the values resolve() uses without a preset."""
    config = resolve({"task": "osc"}, None)
    for name in ("epochs", "n_trials", "n_seeds", "compare_seeds", "epoch_budgets"):
        option = next(o for f, o in declared(RunConfig) if f.name == name)
        value = getattr(config, name)
        stated = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        assert option.resolved_by == f"{stated}, or the preset's"


def test_identity_is_the_declared_identity_options() -> None:
    assert set(identity_names(RunConfig)) == {
        "task", "model", "dataset", "optimizer", "epochs", "batch_size", "lr", "infimum_lr", "n_trials", "n_seeds",
        "subset_ratio", "sampler_seed", "pruner", "precision"}


@pytest.mark.parametrize("flag, value, minimum", BELOW_MINIMUM)
def test_declared_minimum_is_enforced(flag: str, value: str, minimum: int, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--task", "osc", "--preset", "smoke", flag, value])
    with pytest.raises(SystemExit) as done:
        run_all.main()
    assert done.value.code == 2
    assert capsys.readouterr().err == f"error: {flag} must be an integer >= {minimum}, got {value}\n"


def test_the_readme_table_lists_every_option() -> None:
    readme = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    table = readme[readme.index("| option | default | meaning |"):readme.index("Explicit options override")]
    missing = [flag_of(f.name) for f, _ in declared(RunConfig) if f"`{flag_of(f.name)}" not in table]
    assert missing == []
