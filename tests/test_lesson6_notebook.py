"""Notebook 06's exercises as a learner meets them: each stub cell's check says "not done yet" without an
exception, and the package's worked solution passes the same check. Read from the notebook itself."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import gancourse.exercises as exercises
from gancourse.exercises import lesson6

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_modern_gans.ipynb"


def _exercise_cells() -> list[tuple[str, str, str]]:
    """(source of the stub function, its name, the checker's name) per exercise cell."""
    found = []
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "raise NotImplementedError" not in source:
            continue
        tree = ast.parse(source)
        (fn,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        (check,) = [node.value.func.id for node in tree.body if isinstance(node, ast.Expr)
                    and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)]
        found.append((ast.unparse(fn), fn.name, check))
    return found


def test_notebook_has_the_three_lesson_6_exercises():
    assert [(name, check) for _, name, check in _exercise_cells()] == [
        ("hinge_d_loss", "check_hinge_d_loss"), ("r1", "check_r1"),
        ("spectral_norm_estimate", "check_spectral_norm_estimate")]


@pytest.mark.parametrize("index", range(3))
def test_each_stub_is_not_done_yet_and_the_solution_passes(index, capsys):
    source, name, check = _exercise_cells()[index]
    namespace: dict = {}
    exec(source, namespace)
    getattr(exercises, check)(namespace[name])  # must not raise
    assert "not done yet" in capsys.readouterr().out
    getattr(exercises, check)(getattr(lesson6, name))
    out = capsys.readouterr().out
    assert out.strip() and "not done yet" not in out
