"""The course's figure style (gancourse.plot.COURSE_STYLE) and its colours, as a learner receives them.

The style is checked in a fresh interpreter whose matplotlibrc sets what an old inline backend or a
user's own settings would (72 dpi, tiny fonts, another palette), so the checks fail unless importing
``gancourse.plot`` really applies the style (matplotlib's own defaults would not pass them either:
its legends are 10 pt, its titles 12 pt).
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from matplotlib.colors import to_hex
from matplotlib.text import Text

from gancourse.plot import COURSE_STYLE, FAKE_COLOR, LINE_COLORS, REAL_COLOR, plot_history, plot_scatter

HOSTILE_RC = """\
figure.dpi: 72
legend.fontsize: 5
axes.titlesize: 6
xtick.labelsize: 5
axes.prop_cycle: cycler('color', ['1f77b4', 'ff7f0e'])
"""

PROBE = textwrap.dedent("""
    import json, io
    import torch
    from gancourse.plot import plot_scatter, plot_history
    from gancourse.widgets import figure_png, live_figure
    from gancourse.train import History

    scatter = plot_scatter(torch.randn(50, 2), torch.randn(50, 2), title="t")
    ax = scatter.axes[0]
    history = plot_history({"step": [1, 2], "loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8]}, title="h")
    png = figure_png(live_figure(None, History({"step": [1, 2], "loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8],
                                                "d_real": [0.6, 0.5], "d_fake": [0.4, 0.5]}), title="run"))
    print(json.dumps({
        "scatter_dpi": scatter.dpi, "history_dpi": history.dpi,
        "legend_sizes": [t.get_fontsize() for t in ax.get_legend().get_texts()],
        "title_size": ax.title.get_fontsize(),
        "tick_size": ax.get_xticklabels()[0].get_fontsize(),
        "history_legend_sizes": [t.get_fontsize() for t in history.axes[0].get_legend().get_texts()],
        "suptitle_size": history._suptitle.get_fontsize(),
        "dashboard_png": [int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")],
    }))
""")


def test_importing_gancourse_plot_applies_the_course_style_over_other_settings(tmp_path):
    rc = tmp_path / "matplotlibrc"
    rc.write_text(HOSTILE_RC)
    env = {**os.environ, "MATPLOTLIBRC": str(rc), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    # The hostile rc is read (a figure made without gancourse is at 72 dpi), so the check below can fail.
    plain = subprocess.run([sys.executable, "-c", "import matplotlib.pyplot as plt; print(plt.figure().dpi)"],
                           env=env, capture_output=True, text=True, check=True)
    assert float(plain.stdout) == 72
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["scatter_dpi"] == got["history_dpi"] == COURSE_STYLE["figure.dpi"] >= 100
    assert got["legend_sizes"] == [COURSE_STYLE["legend.fontsize"]] * 2 == [9, 9]
    assert got["history_legend_sizes"] == [9, 9]
    assert got["title_size"] == COURSE_STYLE["axes.titlesize"] == 11
    assert got["suptitle_size"] == COURSE_STYLE["figure.titlesize"] == 12
    assert got["tick_size"] == 9
    # The dashboard frame: 9.6 x 3.2 inches at the figure's 100 dpi is 960 x 320 px, the widget's widest,
    # so it is shown 1:1 rather than scaled down.
    assert got["dashboard_png"] == [960, 320]


def test_every_text_of_the_package_figures_is_at_least_8_points():
    scatter = plot_scatter(torch.randn(50, 2), torch.randn(50, 2), torch.nn.Linear(2, 1), title="t",
                           centres=torch.zeros(1, 2))
    history = plot_history({"step": [1, 2], "loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8], "d_real": [0.6, 0.5],
                            "d_fake": [0.4, 0.5], "grad_norm_d": [1, 2], "grad_norm_g": [1, 1]}, title="h")
    for fig in (scatter, history):
        fig.canvas.draw()
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
        assert len(sizes) >= 10 and min(sizes) >= 8, sorted(sizes)[:5]


def test_real_is_green_and_generated_purple_in_the_scatter_and_the_curves():
    fig = plot_scatter(torch.zeros(10, 2), torch.ones(10, 2))
    real_points, fake_points = fig.axes[0].collections[:2]
    assert to_hex(real_points.get_facecolor()[0]) == REAL_COLOR == "#1a9850"
    assert to_hex(fake_points.get_facecolor()[0]) == FAKE_COLOR == "#7b3294"
    history = {"step": [1, 2], "loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8], "d_real": [0.6, 0.5],
               "d_fake": [0.4, 0.5], "grad_norm_d": [1.0, 2.0], "grad_norm_g": [1.0, 1.0]}
    fig = plot_history(history)
    colours = [[(line.get_label(), to_hex(line.get_color())) for line in ax.lines] for ax in fig.axes]
    assert colours == [[("D loss", LINE_COLORS[0]), ("G loss", LINE_COLORS[1])],
                       [("D(x)", REAL_COLOR), ("D(G(z))", FAKE_COLOR)],
                       [("|grad D|", LINE_COLORS[0]), ("|grad G|", LINE_COLORS[1])]]


def test_line_palette_keeps_clear_of_the_real_and_fake_colours():
    # A curve drawn in green or purple would read as "real" or "generated"; the palette's colours
    # must be far from both (distance in RGB, 0..sqrt(3)) and from each other.
    def rgb(hex_colour):
        return torch.tensor([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])

    cycle = [to_hex(c) for c in COURSE_STYLE["axes.prop_cycle"].by_key()["color"]]
    assert cycle == list(LINE_COLORS)
    for colour in cycle:
        for reserved in (REAL_COLOR, FAKE_COLOR):
            assert float((rgb(colour) - rgb(reserved)).norm()) > 0.25, (colour, reserved)
    distances = [float((rgb(a) - rgb(b)).norm()) for i, a in enumerate(cycle) for b in cycle[i + 1:]]
    assert min(distances) > 0.2


def test_panel_figsize_scales_wide_rows_down_to_the_notebook_width():
    from gancourse.plot import NOTEBOOK_WIDTH, panel_figsize

    assert panel_figsize(4, 1, (2.5, 2.0)) == (10.0, 2.0)           # fits: unchanged
    width, height = panel_figsize(6, 2, (2.75, 3.0), extra_height=0.5)
    assert width == NOTEBOOK_WIDTH                                   # 16.5 in scaled by 11 / 16.5
    assert height == pytest.approx(2 * 3.0 * NOTEBOOK_WIDTH / 16.5 + 0.5)
    for bad in (dict(ncols=0), dict(ncols=2.5), dict(ncols=True), dict(ncols=2, nrows=0), dict(ncols=2, panel=(0, 1))):
        with pytest.raises(ValueError):
            panel_figsize(**bad)


def test_notebook_check_flags_figures_wider_than_the_notebook(tmp_path):
    import json

    from gancourse.notebook_check import figure_width_problems, notebook_problems

    assert figure_width_problems("fig = plt.figure(figsize=(11, 4))") == []
    assert figure_width_problems("plt.subplots(1, 2, figsize = panel_figsize(n, 1, (3, 3)))") == []
    assert len(figure_width_problems("a = plt.subplots(figsize=(11.5, 2)); b = plt.subplots(figsize=(3 * k, 2))")) == 2
    cell = {"cell_type": "code", "source": ["fig, axes = plt.subplots(1, 5, figsize=(17, 3.1))\n"],
            "outputs": [], "execution_count": None, "metadata": {}}
    path = tmp_path / "wide.ipynb"
    meta = {"kernelspec": {"name": "python3"}, "accelerator": "GPU"}
    path.write_text(json.dumps({"cells": [cell], "metadata": meta}))
    assert notebook_problems(path) == [f"{path}: cell 0: figsize=(17, ...) is wider than 11.0 in: the notebook "
                                       "would shrink it and its text"]


def test_notebook_check_flags_cells_without_an_id(tmp_path):
    import json

    from gancourse.notebook_check import notebook_problems

    meta = {"kernelspec": {"name": "python3"}, "accelerator": "GPU"}
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# hi"], "id": "a1"},
             {"cell_type": "markdown", "metadata": {}, "source": ["no id"]}]
    path = tmp_path / "ids.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}))
    assert [p.split(": ", 1)[1] for p in notebook_problems(path)] == [
        "cell 1 has no id (nbformat 4.5 requires one; nbformat.validator.normalize adds it)"]
