"""Notebook 03's exercises as a learner meets them: every stub is reported "not done yet" by its check,
and every worked solution (the ```python blocks of the collapsed <details> cells) passes it.

The functions are read from the notebook itself, so the stubs and solutions tested here are the ones
shown to learners, not copies of them.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import gancourse.exercises as exercises

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_dcgan.ipynb"


def _cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text())["cells"]


def _exercise_cells() -> list[tuple[str, list[tuple[str, str]]]]:
    """(source of the functions defined, [(checker name, function name), ...]) per exercise cell."""
    found = []
    for cell in _cells():
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "raise NotImplementedError" not in source:
            continue
        tree = ast.parse(source)
        defs = "\n\n".join(ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef))
        checks = [(node.value.func.id, node.value.args[0].id) for node in tree.body
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                  and isinstance(node.value.func, ast.Name) and node.value.func.id.startswith("check_")]
        found.append((defs, checks))
    return found


def _solutions() -> dict[str, object]:
    namespace: dict[str, object] = {"nn": nn, "torch": torch}
    for cell in _cells():
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("<details>"):
            for block in re.findall(r"```python\n(.*?)```", source, re.S):
                exec(block, namespace)
    return namespace


def test_notebook_has_the_six_lesson_3_exercises():
    checks = [check for _, cell_checks in _exercise_cells() for check, _ in cell_checks]
    assert checks == ["check_conv_output_size", "check_conv_transpose_output_size", "check_conv_parameters",
                      "check_dcgan_init", "check_dcgan_generator", "check_dcgan_discriminator"]


@pytest.mark.parametrize("index", range(5))
def test_each_stub_is_reported_not_done_without_an_exception(index, capsys):
    defs, checks = _exercise_cells()[index]
    namespace: dict[str, object] = {"nn": nn, "torch": torch}
    exec(defs, namespace)
    for check, function in checks:
        getattr(exercises, check)(namespace[function])
        out = capsys.readouterr().out
        assert "not done yet. Hint:" in out, (check, out)


def test_each_worked_solution_passes_its_check(capsys):
    solutions = _solutions()
    for _, checks in _exercise_cells():
        for check, function in checks:
            assert function in solutions, f"no worked solution defines {function}"
            getattr(exercises, check)(solutions[function])
            out = capsys.readouterr().out
            assert out.rstrip().endswith("correct") and "not done" not in out, (check, out)


def test_later_cells_never_call_the_learners_functions():
    names = {function for _, checks in _exercise_cells() for _, function in checks}
    for cell in _cells():
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "raise NotImplementedError" in source:
            continue
        called = {node.func.id for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not called & names, f"a later cell depends on the learner's answer: {called & names}"
