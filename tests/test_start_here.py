"""Notebook 00 and README: one course map, a first screen that says how to start, no undefined jargon, and every
notebook's cells run in order from a fresh kernel outside Colab (no name borrowed from the Colab setup cell)."""
import builtins
import re
import symtable
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from gancourse.course import LESSONS, lesson_table, readme_table, write_readme_table
from gancourse.notebook_check import SETUP_MARKER

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
START_HERE = ROOT / "notebooks" / "00_start_here.ipynb"
# What a Jupyter kernel defines before the first cell runs.
KERNEL_NAMES = set(dir(builtins)) | {"get_ipython", "display", "In", "Out", "exit", "quit"}


def _readme_course_map() -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")
    start = lines.index("## The course map") + 2
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[start:end])


def test_readme_course_map_is_written_from_the_package():
    assert _readme_course_map() == readme_table(), "README's course map drifted: python -m gancourse.course README.md"


def test_the_course_map_lists_every_notebook_and_marks_planned_lessons():
    assert [lesson.number for lesson in LESSONS] == list(range(len(LESSONS)))
    built = [lesson for lesson in LESSONS if lesson.built]
    assert [f"{lesson.notebook}.ipynb" for lesson in built] == [p.name for p in NOTEBOOKS]
    assert all(lesson.full_s > 0 and 0 < lesson.quick_s[0] <= lesson.quick_s[1] < lesson.full_s for lesson in built)
    planned = [lesson for lesson in LESSONS if not lesson.built]
    assert [lesson.title for lesson in planned] == ["GANs at work"]
    assert all(lesson.full_s is None and lesson.summary.startswith("coming") for lesson in planned)


def test_lesson_table_shows_each_lessons_times_full_and_quick():
    rows = {int(row.split(" · ")[0].strip("| ")): row.strip("|").split(" | ") for row in lesson_table().split("\n")[2:]}
    assert sorted(rows) == list(range(9))
    for lesson in LESSONS:
        name, summary, full, quick = (cell.strip() for cell in rows[lesson.number])
        assert lesson.title in name and summary == lesson.summary
        if not lesson.built:
            assert (full, quick) == ("-", "-")
    # 490 s = 8.2 min, 162 s = 2.7 min; under 90 s stays in seconds; lesson 5's quick runs spread from 30 to 52 s
    assert [cell.strip() for cell in rows[4][2:]] == ["about 8 min", "38 s"]
    assert [cell.strip() for cell in rows[1][2:]] == ["about 3 min", "20 s"]
    assert [cell.strip() for cell in rows[0][2:]] == ["31 s", "10 s"]
    assert rows[5][3].strip() == "30-52 s"


def test_write_readme_table_replaces_only_the_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# t\n\n## The course map\n\n| a |\n|---|\n| stale |\n\nAfter.\n", encoding="utf-8")
    assert write_readme_table(readme) is True
    assert readme.read_text(encoding="utf-8") == f"# t\n\n## The course map\n\n{readme_table()}\n\nAfter.\n"
    (tmp_path / "other.md").write_text("# no map\n")
    with pytest.raises(ValueError, match="The course map"):
        write_readme_table(tmp_path / "other.md")


@pytest.fixture(scope="module")
def start_here():
    return nbformat.read(START_HERE, as_version=4)


def test_notebook_00_shows_the_packages_course_map_not_a_copy(start_here):
    assert any(c.cell_type == "code" and "display(Markdown(lesson_table()))" in c.source for c in start_here.cells)
    markdown = [c.source for c in start_here.cells if c.cell_type == "markdown"]
    typed = [text for text in markdown if re.search(r"^\| *\d ·", text, re.M)]
    assert not typed, "a hand-typed lesson table in notebook 00 would drift from gancourse.course"


def test_notebook_00_first_screen_says_how_to_open_the_course_and_what_quick_mode_is(start_here):
    first = start_here.cells[0].source
    for needed in ("make lab", "Open in Colab", "GANCOURSE_QUICK=1", "gancourse.budget(full, quick)",
                   "budget(3000, 100)"):
        assert needed in first, needed
    # the budget line it names is the one the notebook runs
    assert any("steps=budget(3000, 100)" in c.source for c in start_here.cells if c.cell_type == "code")


# Each term a newcomer would not know, and the words that define it: the definition must come no later than the
# sentence where the term is first used.
JARGON = {
    r"\bnsgan\b": '"non-saturating" GAN loss',
    r"\bz_dim\b": "the noise z that G turns into a point",
    r"\blr_g\b": "learning rates (step sizes) of G",
    r"\blr_d\b": "learning rates (step sizes) of G and of D",
    r"\bMLPs?\b": "(multilayer perceptrons",
    r"\bstd\b": "standard deviation, *std*",
    r"\bKL\b": "Kullback-Leibler",
    r"\bCLI\b": "command-line interface (CLI)",
    r"\bcheckpoint\b": "**checkpoint**",
    r"\bequilibrium\b": "neither player can improve",
    r"gradient norms": "how steeply that loss changes",
    r"\bbudgets?\b": "*budgets*",
}


@pytest.mark.parametrize("term", list(JARGON))
def test_notebook_00_defines_each_term_where_it_is_first_used(start_here, term):
    # the badge's HTML is not prose; everything else is read in order, code included
    text = "\n".join([start_here.cells[0].source.split("</a>", 1)[1]] + [c.source for c in start_here.cells[1:]])
    text = re.sub(r"\s+", " ", text)  # line breaks in prose are not words
    first_use = re.search(term, text)
    assert first_use, f"{term} is not used: drop it from JARGON"
    definition = text.find(JARGON[term])
    assert definition >= 0, f"notebook 00 never defines {term} ({JARGON[term]!r})"
    sentence_end = text.find(".", first_use.end())
    assert definition <= sentence_end, f"{term} is used before it is defined: {text[first_use.start():][:80]!r}"


_COMPREHENSIONS = {"listcomp", "setcomp", "dictcomp", "genexpr"}  # Python 3.11's scopes; 3.12 inlines them


def _globals_read(table: symtable.SymbolTable, deferred: bool = False) -> tuple[set[str], set[str]]:
    """Module-level names a cell reads (now, deferred): names read by its top level, class bodies and
    comprehensions are needed when the cell runs; names read inside a def or lambda only when it is called."""
    if table.get_type() == "module":
        names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    else:
        names = {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.is_global()}
    now, later = (set(), names) if deferred else (names, set())
    for child in table.get_children():
        body = child.get_type() == "function" and child.get_name() not in _COMPREHENSIONS
        child_now, child_later = _globals_read(child, deferred or body)
        now |= child_now
        later |= child_later
    return now, later


def undefined_names(sources: list[str]) -> list[tuple[int, list[str]]]:
    """(cell index, names) for each cell that reads a name that neither an earlier cell nor the cell itself defines;
    a name read inside a function only has to be defined somewhere in the notebook."""
    to_python = TransformerManager().transform_cell  # %magics and !shell lines become Python
    defined, problems, deferred = set(KERNEL_NAMES), [], []
    for i, source in enumerate(sources):
        table = symtable.symtable(to_python(source), f"cell {i}", "exec")
        bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
        now, later = _globals_read(table)
        if now - bound - defined:
            problems.append((i, sorted(now - bound - defined)))
        deferred.append((i, later))
        defined |= bound
    problems += [(i, sorted(later - defined)) for i, later in deferred if later - defined]
    return sorted(problems)


def test_undefined_names_catches_a_cell_that_leans_on_the_colab_setup_cell():
    # notebook 00 before issue 25: the CLI cell used subprocess and sys, imported only by the Colab setup cell
    cells = ["import json, tempfile, os\nout = os.path.join(tempfile.mkdtemp(), 'x')\n"
             "subprocess.run([sys.executable, '-m', 'gancourse'], check=True)\nprint(json.dumps(out))",
             "def f():\n    return [np.sqrt(v) + missing for v in range(3)]\nz = [w for w in range(3) if w < np.pi]",
             "import numpy as np\ny = [x * x for x in range(3)]\nprint(y, np.pi, f())\n%time t = y"]
    # np inside f is fine (f runs after the import), np in cell 1's comprehension is not, missing is never defined
    assert undefined_names(cells) == [(0, ["subprocess", "sys"]), (1, ["missing"]), (1, ["np"])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_runs_in_order_outside_colab(path):
    nb = nbformat.read(path, as_version=4)
    setup = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(SETUP_MARKER)]
    assert len(setup) == 1
    code = [c.source for c in nb.cells if c.cell_type == "code" and c not in setup]
    assert undefined_names(code) == []
