"""Each notebook's plan line names its sections: the "## N · Title" headings, in order, no more, no fewer.

A plan line is the markdown paragraph that starts with "Plan:" and lists "N title" items separated by
" · ". A section heading is a markdown line "## N · Title" (or lesson 2's "## N. Title"). The checks:
the numbered headings run 1, 2, 3, ... without a gap (a lost section shows as a jump); where a notebook has a
plan, its numbers are the headings' numbers, in order (a plan that ends at "9 summary" over headings that
go on to "## 10 · Summary" is out of date). Titles are not compared: a plan may paraphrase its headings.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
HEADING = re.compile(r"^## (\d+)\s*[·.]\s*(.+)$")
PLAN = re.compile(r"^Plan:\s*(.+?)(?:\n\s*\n|\Z)", re.S | re.M)
ITEM = re.compile(r"^(\d+)\s+(.+)$")


def markdown(cells: list[dict]) -> list[str]:
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def headings(cells: list[dict]) -> list[tuple[int, str]]:
    """The numbered "## N · Title" headings of the notebook, in order. Fenced code is skipped."""
    found, fenced = [], False
    for text in markdown(cells):
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and (m := HEADING.match(line.strip())):
                found.append((int(m.group(1)), m.group(2).strip()))
    return found


def plan(cells: list[dict]) -> list[tuple[int, str]] | None:
    """The "N title" items of the notebook's plan line, or None when it has no plan."""
    plans = [m.group(1) for text in markdown(cells) for m in PLAN.finditer(text)]
    if not plans:
        return None
    assert len(plans) == 1, f"more than one plan line: {plans}"
    items = []
    for part in " ".join(plans[0].split()).rstrip(".").split(" · "):
        m = ITEM.match(part.strip())
        assert m, f"plan item {part!r} does not start with a section number"
        items.append((int(m.group(1)), m.group(2).strip()))
    return items


def plan_problems(cells: list[dict]) -> list[str]:
    """Every way the notebook's plan and headings disagree, as sentences; [] when they agree."""
    found, items = headings(cells), plan(cells)
    numbers = [n for n, _ in found]
    problems = []
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"section headings are numbered {numbers}, not 1..{len(numbers)} without a gap")
    if items is None:
        return problems
    if [n for n, _ in items] != numbers:
        problems.append(f"the plan lists sections {[n for n, _ in items]}, the headings are {numbers}")
    return problems


def _cells(*texts: str) -> list[dict]:
    return [{"cell_type": "markdown", "source": [t]} for t in texts]


def test_plan_problems_catches_a_missing_section():
    intro = "Plan: 1 why JS fails · 2 the dual ·\n3 clipping · 4 summary."
    good = _cells(intro, "## 1 · Why JS fails", "## 2 · The dual\n\n## 3 · What clipping does", "## 4 · Summary")
    assert plan_problems(good) == []
    lost = _cells(intro, "## 1 · Why JS fails", "## 2 · The dual", "## 4 · Summary")
    assert plan_problems(lost) == ["section headings are numbered [1, 2, 4], not 1..3 without a gap",
                                   "the plan lists sections [1, 2, 3, 4], the headings are [1, 2, 4]"]


def test_plan_problems_catches_a_stale_plan():
    # Notebook 03's pattern: a section added before the summary, the plan left as it was.
    cells = _cells("Plan: 1 shapes · 2 summary.", "## 1 · Shapes", "## 2 · Your own images", "## 3 · Summary")
    assert plan_problems(cells) == ["the plan lists sections [1, 2], the headings are [1, 2, 3]"]


def test_headings_inside_code_fences_and_subheadings_are_not_sections():
    cells = _cells("## 1 · One\n```\n## 2 · not a heading\n```\n### 2 · a sub-heading", "## 2. Two")
    assert headings(cells) == [(1, "One"), (2, "Two")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_plan_matches_its_headings(path):
    cells = json.loads(path.read_text())["cells"]
    assert plan_problems(cells) == [], f"{path.name}: " + "; ".join(plan_problems(cells))
