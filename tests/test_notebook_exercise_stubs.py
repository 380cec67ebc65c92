"""Every exercise of notebooks 01-06 as a learner meets it, read from the notebook itself so that notebook and
checker cannot drift apart:

* the exercise cell's stub makes its check print "not done yet" and a hint, without an exception;
* the worked solution, a collapsed ``<details>`` markdown cell right under the exercise, passes the same check
  when run with nothing but the notebook's own imports (so a solution using ``F.`` needs the notebook to import F);
* the first hint names the idea, not the answer: it contains none of the worked solution's code;
* the exercises are numbered 1, 2, 3, ... in the text, one number per exercise cell;
* no other cell calls the learner's functions (later cells use the package's versions).
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The checks each notebook's exercise cells call, in order (21 exercises; notebook 03's Exercise 5 has two checks).
EXPECTED = {
    "01_vanilla_gan.ipynb": [["check_optimal_discriminator"], ["check_js_divergence"], ["check_nonsaturating_loss"]],
    "02_mode_collapse.ipynb": [["check_coverage"], ["check_pack"], ["check_minibatch_std"]],
    "03_dcgan.ipynb": [["check_conv_output_size"], ["check_conv_transpose_output_size"], ["check_conv_parameters"],
                       ["check_dcgan_init"], ["check_dcgan_generator", "check_dcgan_discriminator"]],
    "04_wgan.ipynb": [["check_wasserstein_1d"], ["check_gradient_penalty"], ["check_wgan_gp_critic"]],
    "05_conditional.ipynb": [["check_concat_condition"], ["check_projection_output"], ["check_acgan_losses"]],
    "06_modern_gans.ipynb": [["check_hinge_d_loss"], ["check_r1"], ["check_spectral_norm_estimate"]],
    "08_text_and_sound.ipynb": [["check_gumbel_softmax"], ["check_reinforce_loss"], ["check_phase_shuffle"]],
}


@dataclass
class Exercise:
    notebook: str
    number: int  # 1, 2, ... in the notebook's order
    index: int  # the exercise cell's index among the notebook's cells
    tree: ast.Module  # the exercise cell
    solution_cell: str  # the markdown cell right under it
    imports: str  # every top-level import of the notebook's code cells up to and including the exercise cell

    @property
    def functions(self) -> list[str]:
        return [node.name for node in self.tree.body if isinstance(node, ast.FunctionDef)]

    @property
    def checks(self) -> list[ast.Expr]:
        return [node for node in self.tree.body if _check_call(node)]

    @property
    def solution(self) -> str:
        return "\n".join(re.findall(r"```python\n(.*?)```", self.solution_cell, re.S))

    def __str__(self) -> str:
        return f"{self.notebook} exercise {self.number}"


def _check_call(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
            and node.value.func.id.startswith("check_"))


def _cells(notebook: str) -> list[dict]:
    return json.loads((NOTEBOOKS / notebook).read_text())["cells"]


def _imports(tree: ast.Module) -> list[str]:
    """The cell's top-level imports, less those of the package's submodules other than the exercises (the
    worked solutions need torch, nn, F, math and gancourse's top level; the rest is other sections' business)."""
    return [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import) or (
        isinstance(node, ast.ImportFrom) and (not (node.module or "").startswith("gancourse.")
                                              or node.module.startswith("gancourse.exercises")))]


def exercises(notebook: str) -> list[Exercise]:
    cells, found, imports = _cells(notebook), [], []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        imports += _imports(tree)
        if any(_check_call(node) for node in tree.body):
            below = cells[i + 1] if i + 1 < len(cells) else {"cell_type": "none", "source": []}
            solution = "".join(below["source"]) if below["cell_type"] == "markdown" else ""
            found.append(Exercise(notebook, len(found) + 1, i, tree, solution, "\n".join(imports)))
    return found


ALL = [ex for notebook in EXPECTED for ex in exercises(notebook)]


def _run(ex: Exercise, definitions: str) -> str:
    """Run ``definitions`` and then the exercise cell's checks in a namespace holding only the notebook's
    imports; the printed output (an exception propagates: a check must never raise on these)."""
    namespace: dict = {}
    exec(ex.imports, namespace)  # noqa: S102
    exec(definitions, namespace)  # noqa: S102
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for check in ex.checks:
            exec(ast.unparse(check), namespace)  # noqa: S102
    return out.getvalue()


def _stub_definitions(ex: Exercise) -> str:
    return "\n\n".join(ast.unparse(node) for node in ex.tree.body if isinstance(node, ast.FunctionDef))


@pytest.mark.parametrize("notebook", EXPECTED)
def test_each_notebook_has_its_exercises_in_order(notebook):
    found = [[check.value.func.id for check in ex.checks] for ex in exercises(notebook)]
    assert found == EXPECTED[notebook]


@pytest.mark.parametrize("notebook", EXPECTED)
def test_exercises_are_numbered_one_to_n_in_the_text(notebook):
    text = "".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "markdown")
    numbers = [int(n) for n in re.findall(r"\*\*Exercise (\d+)", text)]
    assert numbers == list(range(1, len(EXPECTED[notebook]) + 1)), numbers


@pytest.mark.parametrize("ex", ALL, ids=str)
def test_the_stub_is_reported_not_done_without_an_exception(ex):
    out = _run(ex, _stub_definitions(ex))
    assert out.count("not done yet") == len(ex.checks) and "Hint:" in out, out
    assert "Traceback" not in out and not re.search(r"\bcorrect\b", out), out


@pytest.mark.parametrize("ex", ALL, ids=str)
def test_the_worked_solution_is_collapsed_right_under_the_exercise(ex):
    assert ex.solution_cell.lstrip().startswith("<details><summary>"), f"{ex}: no collapsed cell under the exercise"
    assert "Worked solution" in ex.solution_cell.split("</summary>")[0]
    assert ex.solution_cell.rstrip().count("</details>") == 1
    solved = {node.name for node in ast.parse(ex.solution).body if isinstance(node, ast.FunctionDef)}
    assert set(ex.functions) <= solved, f"{ex}: the worked solution does not define {set(ex.functions) - solved}"


@pytest.mark.parametrize("ex", ALL, ids=str)
def test_the_worked_solution_passes_its_check_with_the_notebooks_imports(ex):
    out = _run(ex, ex.solution)
    verdicts = [line for line in out.splitlines() if line.strip()]
    assert len(verdicts) == len(ex.checks), out
    assert all(re.search(r"\b(correct|pass)\b", v) and "not done" not in v for v in verdicts), out


def _code_fragments(code: str) -> set[str]:
    """Every expression and statement of the solution's function bodies, spaces removed, 16 characters or more;
    a bare name such as ``torch.autograd.grad`` is not one (a hint may name the function to use)."""
    fragments = set()
    for fn in ast.parse(code).body:
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, (ast.expr, ast.stmt)) and node is not fn and not isinstance(
                        node, (ast.Name, ast.Attribute, ast.Constant)):
                    text = re.sub(r"\s", "", ast.unparse(node))
                    if len(text) >= 16:
                        fragments.add(text)
    return fragments


@pytest.mark.parametrize("ex", ALL, ids=str)
def test_the_first_hint_names_the_idea_not_the_answer(ex):
    hints = re.findall(r"Hint: (.*)", _run(ex, _stub_definitions(ex)))
    assert hints
    for hint in hints:
        assert len(hint) <= 210, f"{ex}: a first hint of {len(hint)} characters: {hint}"
        flat = re.sub(r"\s", "", hint)
        given = [f for f in _code_fragments(ex.solution) if f in flat]
        assert not given, f"{ex}: the hint gives away the worked solution's code {given}: {hint}"


@pytest.mark.parametrize("notebook", EXPECTED)
def test_no_other_cell_calls_the_learners_functions(notebook):
    learners = {name: ex.index for ex in exercises(notebook) for name in ex.functions}
    for i, cell in enumerate(_cells(notebook)):
        if cell["cell_type"] != "code" or i in learners.values():
            continue
        called = {node.func.id for node in ast.walk(ast.parse("".join(cell["source"])))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not called & set(learners), f"cell {i} depends on the learner's answer: {called & set(learners)}"


# --- the exercises' text ------------------------------------------------------------------------------------------

def _markdown(notebook: str) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "markdown")


def test_lesson_1_defines_kl_and_js_before_exercise_2_asks_for_them():
    before = _markdown("01_vanilla_gan.ipynb").split("**Exercise 2.**")[0]
    assert r"\mathrm{KL}(p\,\|\,q) = \sum_i p_i \log" in before
    assert r"\mathrm{JS}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m)" in before


# The second argument of N(mu, .) is a variance: sigma^2 written as a square, 1, or a covariance such as 9I.
_NORMAL = re.compile(r"(?:\\mathcal N|\bN)\((?P<mean>[^,()]+(?:\([^()]*\))?),\s*(?P<var>[^()]*(?:\([^()]*\))?[^()]*)\)")
_VARIANCE = re.compile(r"^(1|[\d.]*\s*I|.*\^\s*\{?2\}?|.*²|.*\{\s*\[1, 3\]\[c\]\s*\}²)$")


@pytest.mark.parametrize("notebook", [nb for nb in EXPECTED if not nb.startswith("04")])
def test_the_normal_distribution_is_written_with_its_variance(notebook):
    text = "\n".join("".join(c["source"]) for c in _cells(notebook))
    found = [(m.group(0), m.group("var").strip()) for m in _NORMAL.finditer(text)]
    wrong = [whole for whole, var in found if not _VARIANCE.match(var)]
    assert not wrong, f"write N(mu, sigma^2) (or say 'std'): {wrong}"


def test_lesson_3_checker_messages_write_the_variance():
    from gancourse.exercises import lesson3

    source = Path(lesson3.__file__).read_text()
    wrong = [m.group(0) for m in _NORMAL.finditer(source) if not _VARIANCE.match(m.group("var").strip())]
    assert not wrong, wrong


def test_the_acgan_exercise_lists_each_players_terms():
    text = _markdown("05_conditional.ipynb").split("**Exercise 3 · AC-GAN's losses.**")[1].split("```")[0]
    d_part, g_part = text.split("**D's loss has four terms**")[1].split("**G's loss has two terms**")
    for term in (r"-\log\sigma(s_{real})", r"-\log(1 - \sigma(s_{fake}))", "`y_real`", "`y_fake`"):
        assert term in d_part, term
    assert r"-\log\sigma(s_{fake})" in g_part and "`y_fake`" in g_part and "does not depend on G" in g_part
