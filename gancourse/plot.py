"""Pictures of a GAN at work: sample grids, real-vs-fake scatter over D's output, training curves.

Every function returns a matplotlib ``Figure`` (and draws into ``ax`` when one is given), so the
notebooks, the dashboard and the CLI share one implementation.

One look for the whole course: importing this module applies ``COURSE_STYLE`` (``use_course_style``):
figures at 100 dpi, titles, labels and legends at 9-12 pt, a line palette without green or purple, and
``REAL_COLOR`` (green) / ``FAKE_COLOR`` (purple) for real data and generated samples in every lesson.
The style is also handed to the notebook's inline backend, so a backend that brings its own rc
(``%matplotlib inline`` re-applies ``InlineBackend.rc``) cannot shrink the figures again.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = ["image_grid", "plot_samples", "plot_scatter", "plot_history", "critic_heatmap", "use_course_style",
           "REAL_COLOR", "FAKE_COLOR", "LINE_COLORS", "COURSE_STYLE", "NOTEBOOK_WIDTH", "panel_figsize"]

REAL_COLOR = "#1a9850"
"""Colour of real data in every figure of the course (green)."""
FAKE_COLOR = "#7b3294"
"""Colour of generated samples in every figure of the course (purple)."""
LINE_COLORS = ("#2166ac", "#e66101", "#b2182b", "#4393c3", "#b8860b", "#4d4d4d")
"""Line colours for everything that is neither real nor generated (loss curves, settings compared):
blue, orange, red, light blue, ochre, grey; no green or purple, so no curve reads as real or fake."""

NOTEBOOK_WIDTH = 11.0
"""The widest figure, in inches, that JupyterLab and Colab show without shrinking it (and its text):
1,100 px at the course's 100 dpi. A wider figure is scaled down to the notebook's width, so a 17-inch
row of panels shows its 11 pt titles at about 7 pt."""

COURSE_STYLE: dict[str, object] = {
    # 100 dpi: a 4.5-inch panel is 450 px, shown 1:1 in JupyterLab and Colab (matplotlib's own default,
    # restated because inline backends before matplotlib-inline 0.1.4 set 72).
    "figure.dpi": 100,
    "savefig.dpi": 120,          # files (the CLI's samples.png) a little sharper than the screen
    "figure.figsize": (6.4, 4.4),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "figure.titlesize": 12,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.framealpha": 0.85,
    "axes.prop_cycle": matplotlib.cycler(color=list(LINE_COLORS)),
}
"""The course's matplotlib rcParams, applied by ``use_course_style`` when this module is imported."""


def panel_figsize(ncols: int, nrows: int = 1, panel: tuple[float, float] = (2.6, 2.6),
                  extra_height: float = 0.0) -> tuple[float, float]:
    """``figsize`` for ``nrows`` x ``ncols`` panels of ``panel`` inches (width, height), scaled down as a
    whole when the row would be wider than ``NOTEBOOK_WIDTH``, so the notebook shows it at full size and
    its text stays readable; ``extra_height`` (inches, not scaled) leaves room for a suptitle.

    Example:
        >>> panel_figsize(3), panel_figsize(8, 2, (2.75, 3.0), extra_height=0.4)
        ((7.8, 2.6), (11.0, 3.4))
    """
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1 \
            or isinstance(nrows, bool) or not isinstance(nrows, int) or nrows < 1:
        raise ValueError(f"need whole numbers ncols >= 1 and nrows >= 1, got ncols={ncols!r}, nrows={nrows!r}")
    width, height = panel
    if not (width > 0 and height > 0):
        raise ValueError(f"panel sizes must be positive inches, got panel={panel!r}")
    scale = min(1.0, NOTEBOOK_WIDTH / (ncols * width))
    return round(ncols * width * scale, 3), round(nrows * height * scale + extra_height, 3)


def use_course_style() -> None:
    """Apply ``COURSE_STYLE`` to matplotlib (done once when ``gancourse.plot`` is imported).

    In IPython the style is also merged into the inline backend's own rc (``InlineBackend.rc``), which
    the backend re-applies when it is activated, at the first figure or at ``%matplotlib inline``: so
    the course's dpi and font sizes hold in every notebook, whatever that rc held before.

    Example:
        >>> import matplotlib
        >>> matplotlib.rcParams["figure.dpi"] = 72   # what an old inline backend used to set
        >>> use_course_style()
        >>> matplotlib.rcParams["figure.dpi"], matplotlib.rcParams["legend.fontsize"]
        (100.0, 9.0)
    """
    matplotlib.rcParams.update(COURSE_STYLE)
    _hand_style_to_inline_backend()


def _hand_style_to_inline_backend() -> None:
    # Only inside a running IPython (never imported otherwise), and with the same singleton call
    # that matplotlib_inline's configure_inline_support makes, so the user's InlineBackend config
    # (figure formats, close_figures) is loaded exactly as it would be without us.
    if "IPython" not in sys.modules:
        return
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    config = InlineBackend.instance(parent=shell)
    config.rc = {**config.rc, **COURSE_STYLE}


def image_grid(images: torch.Tensor, nrow: int | None = None) -> torch.Tensor:
    """Tile images in [-1, 1], (N, C, H, W), into one (H', W', C) float image in [0, 1].

    Example:
        >>> image_grid(torch.zeros(4, 1, 28, 28)).shape
        torch.Size([62, 62, 3])
    """
    from torchvision.utils import make_grid

    if images.dim() != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1),
                     pad_value=1.0)
    return grid.permute(1, 2, 0)


def plot_samples(images: torch.Tensor, title: str | None = None, nrow: int | None = None,
                 ax: plt.Axes | None = None) -> Figure:
    """Show a grid of generated (or real) images.

    Example:
        >>> fig = plot_samples(torch.rand(16, 1, 28, 28) * 2 - 1, title="noise")
    """
    fig, ax = _figure(ax, (4, 4))
    ax.imshow(image_grid(images, nrow).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


@torch.no_grad()
def critic_heatmap(D: nn.Module, extent: Sequence[float], resolution: int = 150, logits: bool = False) -> torch.Tensor:
    """D evaluated on a ``resolution^2`` grid over ``extent = (xmin, xmax, ymin, ymax)``.

    Returns sigmoid(D) (a probability) unless ``logits`` is True (use that for WGAN critics).
    Row 0 is ``ymin`` so it plots with ``origin="lower"``.

    Example:
        >>> D = nn.Linear(2, 1)  # f(x, y) = y
        >>> with torch.no_grad():
        ...     _ = D.weight.copy_(torch.tensor([[0.0, 1.0]])), D.bias.zero_()
        >>> critic_heatmap(D, (-1, 1, -2, 2), resolution=3, logits=True).tolist()
        [[-2.0, -2.0, -2.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]
        >>> critic_heatmap(D, (-1, 1, -2, 2), resolution=3)[1].tolist()  # sigmoid(0)
        [0.5, 0.5, 0.5]
    """
    xmin, xmax, ymin, ymax = extent
    xs = torch.linspace(xmin, xmax, resolution)
    ys = torch.linspace(ymin, ymax, resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    device = next(D.parameters()).device
    was_training = D.training
    D.eval()
    out = D(points.to(device)).float().cpu()
    D.train(was_training)
    out = out if logits else torch.sigmoid(out)
    return out.view(resolution, resolution)


def plot_scatter(real: torch.Tensor, fake: torch.Tensor, D: nn.Module | None = None, *, logits: bool = False,
                 extent: Sequence[float] | None = None, title: str | None = None, ax: plt.Axes | None = None,
                 centres: torch.Tensor | None = None, heat: torch.Tensor | None = None,
                 colorbar: bool = True) -> Figure:
    """Real (green) and generated (purple) 2-D points over D's output as a background heatmap.

    For a GAN discriminator the colour is D(x) in [0, 1] (0.5 everywhere at the game's optimum);
    with ``logits=True`` it is the raw critic value f(x) (WGAN). ``heat`` is a precomputed
    ``critic_heatmap`` over ``extent`` (used instead of evaluating ``D``).

    Example:
        >>> fig = plot_scatter(torch.randn(100, 2), torch.randn(100, 2))
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['real', 'generated']
        >>> fig = plot_scatter(torch.randn(100, 2), torch.empty(0, 2))  # real data only
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['real']
    """
    fig, ax = _figure(ax, (4.5, 4.5))
    real, fake = real.detach().float().cpu(), fake.detach().float().cpu()
    if extent is None:
        both = torch.cat([real, fake]) if torch.isfinite(fake).all() else real
        lo, hi = both.min(0).values, both.max(0).values
        pad = 0.15 * (hi - lo).max().item() + 0.1
        extent = (lo[0].item() - pad, hi[0].item() + pad, lo[1].item() - pad, hi[1].item() + pad)
    if heat is None and D is not None:
        heat = critic_heatmap(D, extent, logits=logits)
    if heat is not None:
        kwargs = {} if logits else {"vmin": 0.0, "vmax": 1.0}
        im = ax.imshow(heat.numpy(), origin="lower", extent=extent, cmap="RdBu_r", alpha=0.6, aspect="auto", **kwargs)
        if colorbar:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="f(x)" if logits else "D(x)")
    ax.scatter(real[:, 0], real[:, 1], s=3, c=REAL_COLOR, alpha=0.6, label="real")
    if len(fake):  # no "generated" legend entry over a critic shown with real data only
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c=FAKE_COLOR, alpha=0.5, label="generated")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="x", c="k", s=20, label="mode centres")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper right", markerscale=3)
    if title:
        ax.set_title(title)
    return fig


def plot_history(history: Mapping[str, Sequence[float]], keys: Sequence[Sequence[str]] | None = None,
                 title: str | None = None, smooth: int = 1, axes: Sequence[plt.Axes] | None = None) -> Figure:
    """Training curves: one panel per group of keys (default: losses; D(x) and D(G(z)); grad norms).

    D(x) is drawn in ``REAL_COLOR`` and D(G(z)) in ``FAKE_COLOR``, D's curves in the first line colour
    and G's in the second, in every panel. ``smooth`` > 1 applies a running mean over that many steps.
    ``axes`` (one per group) draws into an existing figure instead of a new one.

    Example:
        >>> history = {"step": [1, 2, 3], "loss_d": [1.0, 2.0, 4.0], "loss_g": [0.5, 0.25, 0.0]}
        >>> fig = plot_history(history, keys=[["loss_d", "loss_g"]], smooth=2)
        >>> [(line.get_xdata().tolist(), line.get_ydata().tolist()) for line in fig.axes[0].lines]  # means of 2
        [([2, 3], [1.5, 3.0]), ([2, 3], [0.375, 0.125])]
    """
    keys = keys or [["loss_d", "loss_g"], ["d_real", "d_fake"], ["grad_norm_d", "grad_norm_g"]]
    labels = {"loss_d": "D loss", "loss_g": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))",
              "grad_norm_d": "|grad D|", "grad_norm_g": "|grad G|", "gp": "gradient penalty",
              "w_estimate": "W estimate"}
    colors = {"d_real": REAL_COLOR, "d_fake": FAKE_COLOR, "loss_d": LINE_COLORS[0], "grad_norm_d": LINE_COLORS[0],
              "loss_g": LINE_COLORS[1], "grad_norm_g": LINE_COLORS[1]}
    if axes is None:
        # 3.6 in a panel: three panels are 1080 px at 100 dpi, about a notebook's width, so they are not
        # scaled down (and their text with them) on screen.
        fig, grid = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False)
        axes, own = list(grid[0]), True
    else:
        if len(axes) != len(keys):
            raise ValueError(f"got {len(axes)} axes for {len(keys)} groups of keys")
        fig, own = axes[0].figure, False
    steps = list(history.get("step", []))
    for ax, group in zip(axes, keys):
        for key in group:
            values = torch.tensor(list(history.get(key, [])), dtype=torch.float64)
            if len(values) == 0:
                continue
            if smooth > 1 and len(values) >= smooth:
                kernel = torch.ones(smooth, dtype=torch.float64) / smooth
                values = torch.nn.functional.conv1d(values.view(1, 1, -1), kernel.view(1, 1, -1)).view(-1)
            x = steps[len(steps) - len(values):] if steps else list(range(len(values)))
            ax.plot(x, values.numpy(), label=labels.get(key, key), lw=1, color=colors.get(key))
        ax.set_xlabel("generator step")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    if own:
        fig.tight_layout()
    return fig


def _figure(ax: plt.Axes | None, size: tuple[float, float]) -> tuple[Figure, plt.Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax


use_course_style()
