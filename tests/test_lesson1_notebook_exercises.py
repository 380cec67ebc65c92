"""Notebook 01's exercises as a learner meets them: each exercise cell is a stub whose check reports
"not done yet", the worked solution in the collapsed cell below it passes the same check, and no later
cell calls the learner's function (they use ``gancourse.exercises.lesson1``'s versions)."""
import json
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_vanilla_gan.ipynb"
EXERCISES = {"optimal_discriminator": "optimal discriminator: correct",
             "js_divergence": "Jensen-Shannon divergence: correct",
             "nonsaturating_loss": "non-saturating generator loss: correct"}


def _cells():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return [(c["cell_type"], "".join(c["source"])) for c in cells]


def _exercise_cell(name):
    cells = _cells()
    matches = [i for i, (kind, src) in enumerate(cells) if kind == "code" and src.startswith(f"def {name}(")]
    assert len(matches) == 1, f"expected one exercise cell defining {name}, found {len(matches)}"
    return matches[0], cells


def _run(source):
    namespace = {"torch": torch, "F": F}
    exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("name", EXERCISES)
def test_the_exercise_cell_is_a_stub_reported_as_not_done(name, capsys):
    i, cells = _exercise_cell(name)
    source = cells[i][1]
    assert "raise NotImplementedError" in source
    _run(source)  # the cell itself calls the check: it must not raise
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint:" in out


@pytest.mark.parametrize("name", EXERCISES)
def test_the_worked_solution_passes_its_check(name, capsys):
    i, cells = _exercise_cell(name)
    kind, solution_cell = cells[i + 1]
    assert kind == "markdown" and solution_cell.lstrip().startswith("<details>"), "the solution is collapsed"
    code = re.search(r"```python\n(.*?)```", solution_cell, re.S)
    assert code, "the worked solution shows its code"
    # the exercise cell with the learner's stub replaced by the worked solution
    stub, check = cells[i][1].split("\nfrom gancourse.exercises import", 1)
    _run(code.group(1) + "\nfrom gancourse.exercises import" + check)
    assert EXERCISES[name] in capsys.readouterr().out


@pytest.mark.parametrize("name", EXERCISES)
def test_later_cells_do_not_use_the_learners_function(name):
    i, cells = _exercise_cell(name)
    call = re.compile(rf"(?<![\w.]){name}\(")
    users = [j for j, (kind, src) in enumerate(cells) if kind == "code" and j != i
             and call.search(src.replace(f"def {name}(", ""))]
    assert users == [], f"cells {users} call the learner's {name}; use lesson1.{name} instead"
