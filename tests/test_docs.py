"""The documentation stays a short README and a map of docs/ pages that point at things that exist: every link
resolves (file and heading), and every module path named in the text is a file, so a move shows up here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
MODULE = re.compile(r"(?<![\w./<-])((?:[\w-]+/)+[\w-]+\.py)\b")  # results/stats/budget.py, not ../x.py or a URL
PACKAGE_DIR = re.compile(r"(?<![\w./<-])((?:[\w-]+/)+)(?![\w<.-])")  # results/stats/ (checked for packages only)


def prose(page: Path) -> str:
    """The page without its fenced code blocks (shell examples name files they create)."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for line in prose(page).splitlines():
        if line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, n = base, 1
            while name in found:  # repeated headings get -1, -2, ...
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(prose(page)) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_slug_follows_github() -> None:
    assert slug(" A small real study: osc / LSTM, and what the paper found") == \
        "a-small-real-study-osc--lstm-and-what-the-paper-found"
    assert slug("Transfer: tune short, train long") == "transfer-tune-short-train-long"


def test_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_readme_maps_every_docs_page() -> None:
    linked = {(ROOT / t.split("#")[0]).resolve() for t in relative_links(README)}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_links_resolve(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no such heading")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_named_modules_exist(page: Path) -> None:
    text = prose(page)
    named = set(MODULE.findall(text))
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    named |= {d for d in PACKAGE_DIR.findall(text) if d.split("/")[0] in packages}
    assert sorted(n for n in named if not (ROOT / n).exists()) == []


def test_the_module_pattern_sees_paths() -> None:
    assert MODULE.findall("see `results/stats/budget.py`, (runner/prefix.py) and ../examples/x.py") == \
        ["results/stats/budget.py", "runner/prefix.py"]
    assert PACKAGE_DIR.findall("`results/stats/` and runs/<project>/ and a/b.py") == ["results/stats/"]
