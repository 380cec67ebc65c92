"""Notebooks 05 and 06's exercises as a learner meets them: each stub cell's check says "not done yet" without
an exception, and the package's worked solution passes the same check. Read from the notebooks themselves, so
the stubs tested are the ones learners see."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import gancourse.exercises as exercises
from gancourse.exercises import lesson5, lesson6

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = {
    "05_conditional.ipynb": (lesson5, [("concat_condition", "check_concat_condition"),
                                       ("projection_output", "check_projection_output"),
                                       ("acgan_losses", "check_acgan_losses")]),
    "06_modern_gans.ipynb": (lesson6, [("hinge_d_loss", "check_hinge_d_loss"), ("r1", "check_r1"),
                                       ("spectral_norm_estimate", "check_spectral_norm_estimate")]),
}


def _exercise_cells(notebook: str) -> list[tuple[str, str, str]]:
    """(source of the stub function, its name, the checker's name) per exercise cell."""
    found = []
    for cell in json.loads((NOTEBOOKS / notebook).read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "raise NotImplementedError" not in source:
            continue
        tree = ast.parse(source)
        (fn,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        (check,) = [node.value.func.id for node in tree.body if isinstance(node, ast.Expr)
                    and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)]
        found.append((ast.unparse(fn), fn.name, check))
    return found


@pytest.mark.parametrize("notebook", LESSONS)
def test_notebook_has_its_lessons_exercises_in_order(notebook):
    assert [(name, check) for _, name, check in _exercise_cells(notebook)] == LESSONS[notebook][1]


@pytest.mark.parametrize("notebook,index", [(nb, i) for nb, (_, cells) in LESSONS.items() for i in range(len(cells))])
def test_each_stub_is_not_done_yet_and_the_solution_passes(notebook, index, capsys):
    source, name, check = _exercise_cells(notebook)[index]
    namespace: dict = {}
    exec(source, namespace)
    getattr(exercises, check)(namespace[name])  # must not raise
    assert "not done yet" in capsys.readouterr().out
    getattr(exercises, check)(getattr(LESSONS[notebook][0], name))
    out = capsys.readouterr().out
    assert out.strip() and "not done yet" not in out
