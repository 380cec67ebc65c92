"""The notebooks' figures, as a learner sees them: drawn by the inline backend, at the course's dpi.

nbval runs every notebook with ``MPLBACKEND=Agg``, under which a figure never reaches the outputs, so a
notebook that draws nothing (or draws at 72 dpi) would still pass there. Here notebook 00 runs in quick
mode in a real kernel with the inline backend (``MPLBACKEND`` removed, as in JupyterLab), and the
figure cells must hold PNGs of the size the course style gives them.
"""
import base64
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gancourse.paths import data_dir
from gancourse.plot import COURSE_STYLE, NOTEBOOK_WIDTH

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DPI = COURSE_STYLE["figure.dpi"]
# Read at collection, before conftest.py points GANCOURSE_DATA at an empty folder for each test.
USER_DATA = data_dir()


def _kernel_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(GANCOURSE_QUICK="1", GANCOURSE_OFFLINE="1", GANCOURSE_DATA=str(data))
    return env


def _execute(nb: nbformat.NotebookNode, data: Path, timeout: int = 300) -> nbformat.NotebookNode:
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=_kernel_env(data))
    return nb


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A data folder of the test's own, holding a copy of the digits cache when there is one.

    The kernel never writes to the user's cache (see conftest.py); the copy spares it rebuilding the
    digits, which notebook 00 loads (without a cache, on a fresh checkout, it builds them here: about
    a minute more).
    """
    folder = tmp_path_factory.mktemp("notebook-data")
    for cache in sorted(USER_DATA.glob("digits_*.npz")):
        shutil.copy(cache, folder / cache.name)
    return folder


def _figures(cell) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """For each figure a cell displayed: (size matplotlib reports in px, size of the PNG in px)."""
    found = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" not in data:
            continue
        png = base64.b64decode(data["image/png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        png_size = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
        # The inline backend's text/plain is "<Figure size 450x450 with 2 Axes>": inches x dpi.
        match = re.search(r"Figure size (\d+)x(\d+)", data.get("text/plain", ""))
        assert match, data.get("text/plain")
        found.append(((int(match[1]), int(match[2])), png_size))
    return found


def _cell(nb, marker: str):
    cells = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{len(cells)} code cells contain {marker!r}"
    return cells[0]


def _check(figure, inches: tuple[float, float]) -> None:
    (width, height), (png_width, png_height) = figure
    assert (width, height) == (round(inches[0] * DPI), round(inches[1] * DPI))
    # The PNG is drawn at that size, save that bbox_inches="tight" trims the margins, adds a little for text
    # outside the axes, and shrinks one side of an axes with an equal aspect ratio.
    ratios = (png_width / width, png_height / height)
    assert 0.8 <= max(ratios) <= 1.2 and min(ratios) >= 0.4, (figure, inches)


@pytest.fixture(scope="module")
def start_here(data):
    nb = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, matplotlib\n"
        "print(json.dumps({k: matplotlib.rcParams[k] for k in ('figure.dpi', 'legend.fontsize', 'axes.titlesize')}"
        " | {'backend': matplotlib.get_backend()}))"))
    return _execute(nb, data)


def test_notebook_00_runs_with_the_inline_backend_and_keeps_the_course_style(start_here):
    errors = [o for c in start_here.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue")
    state = json.loads(start_here.cells[-1].outputs[0]["text"])
    assert state["backend"] == "module://matplotlib_inline.backend_inline"
    assert state["figure.dpi"] == DPI >= 100
    assert state["legend.fontsize"] == COURSE_STYLE["legend.fontsize"]
    assert state["axes.titlesize"] == COURSE_STYLE["axes.titlesize"]


def test_notebook_00_shows_its_figures(start_here):
    datasets = _figures(_cell(start_here, "zip(axes, MIXTURES)"))
    digits = _figures(_cell(start_here, "plot_samples(images"))
    first_gan = _figures(_cell(start_here, "plot_scatter(real, fake"))
    assert (len(datasets), len(digits), len(first_gan)) == (1, 1, 2)
    _check(datasets[0], (11, 3))               # the cell's own figsize
    _check(digits[0], (4, 4))                  # plot_samples
    _check(first_gan[0], (4.5, 4.5))           # plot_scatter
    _check(first_gan[1], (3 * 3.6, 3.0))       # plot_history, three panels
    every = [f for c in start_here.cells for f in _figures(c)]
    assert len(every) == 4
    # None is wider than a notebook shows 1:1, so none has its text shrunk on screen.
    assert max(width for (width, _), _ in every) <= NOTEBOOK_WIDTH * DPI


def test_the_style_survives_an_inline_backend_with_its_own_rc(tmp_path):
    # matplotlib-inline before 0.1.4 (and a user's InlineBackend.rc) set figure.dpi 72 when the backend
    # is activated: at the first figure, and again at every %matplotlib inline, after gancourse.plot was
    # imported. gancourse.plot hands its style to that rc, so both figures below are at the course's dpi.
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in [
        "from matplotlib_inline.config import InlineBackend\n"
        "InlineBackend.instance(parent=get_ipython()).rc = {'figure.dpi': 72, 'legend.fontsize': 5}",
        "import torch\nfrom gancourse.plot import plot_scatter\ntorch.manual_seed(0)",
        "fig = plot_scatter(torch.randn(50, 2), torch.randn(50, 2), title='first figure')",
        "%matplotlib inline\nfig = plot_scatter(torch.randn(50, 2), torch.randn(50, 2), title='after the magic')",
        "import matplotlib\nprint(matplotlib.rcParams['figure.dpi'], matplotlib.rcParams['legend.fontsize'])",
    ]]
    _execute(nb, tmp_path, timeout=120)
    assert nb.cells[-1].outputs[0]["text"].split() == [str(float(DPI)), str(float(COURSE_STYLE["legend.fontsize"]))]
    for cell in nb.cells[2:4]:
        (figure,) = _figures(cell)
        _check(figure, (4.5, 4.5))
