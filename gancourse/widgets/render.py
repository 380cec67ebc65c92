"""Live pictures of a run, drawn without pyplot so they can be made from a training thread.

``pyplot`` keeps global state and is not thread-safe; a bare ``Figure`` with an Agg canvas is.
The dashboard calls these from its training thread and puts the PNG bytes into an ``Image`` widget,
which works the same in JupyterLab, classic Notebook, Colab and headless nbval.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plot import image_grid, plot_history, plot_scatter

__all__ = ["Snapshot", "snapshot", "draw_snapshot", "figure_png", "live_figure"]


@dataclass
class Snapshot:
    """What a run looks like at one step, detached from the networks (so finished runs can be redrawn).

    For 2-D data: ``real`` and ``fake`` points and D's output on a grid (``heat`` over ``extent``);
    for images: ``fake`` images in [-1, 1]. ``ema``: the fakes come from the moving average of G's
    weights (``Trainer.sample(ema=True)``), not from G itself.

    Example:
        >>> snap = Snapshot(step=10, fake=torch.zeros(4, 1, 8, 8))  # an image run: no real points, no heatmap
        >>> snap.real is None, snap.heat is None, snap.ema
        (True, True, False)
    """

    step: int
    fake: torch.Tensor
    real: torch.Tensor | None = None
    heat: torch.Tensor | None = None
    extent: tuple[float, float, float, float] | None = None
    logits: bool = False
    ema: bool = False


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render a Figure to PNG bytes (Agg, no display needed), by default at the figure's own dpi.

    The figure's dpi is the course style's (``gancourse.plot.COURSE_STYLE``, 100) unless it was made
    with another, so a dashboard frame has the same pixels per inch, and its text the same size on
    screen, as the notebook's inline figures.

    Example:
        >>> png = figure_png(Figure(figsize=(2, 1)))
        >>> png[:4], int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # width, height
        (b'\\x89PNG', 200, 100)
    """
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi)
    return buffer.getvalue()


@torch.no_grad()
def snapshot(trainer, real: torch.Tensor | None = None, z: torch.Tensor | None = None,
             extent: tuple[float, float, float, float] | None = None, ema: bool = False) -> Snapshot:
    """Capture generated samples (and for 2-D data D's heatmap) of ``trainer`` now.

    ``real`` is a fixed set of real points (2-D data) so successive frames are comparable. ``ema=True``
    draws the samples from the average of G's weights (the trainer needs ``cfg.ema_half_life > 0``);
    the heatmap is always the one D, which is trained against G, not against the average.

    Example:
        >>> from gancourse import TrainConfig
        >>> from gancourse.train import Trainer
        >>> trainer = Trainer.from_names("ring", "mlp", TrainConfig(steps=1, z_dim=4, device="cpu"), width=16)
        >>> snap = snapshot(trainer, real=torch.randn(100, 2))
        >>> snap.step, tuple(snap.fake.shape), tuple(snap.heat.shape)
        (0, (1000, 2), (80, 80))
        >>> averaged = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu", ema_half_life=10), width=16)
        >>> snapshot(averaged, real=torch.randn(100, 2), ema=True).ema
        True
    """
    from ..losses import game_loss
    from ..plot import critic_heatmap

    # critic_heatmap's logits=True means "draw D's raw score": the critics' and the hinge loss's D (no sigmoid)
    logits = not game_loss(trainer.cfg.loss).logits
    if real is None or real.dim() != 2:
        fake = trainer.sample(min(len(trainer.fixed_z), 64) if z is None else len(z), z=z, ema=ema)
        return Snapshot(trainer.step, fake, logits=logits, ema=ema)
    fake = trainer.sample(len(z) if z is not None else 1000, z=z, ema=ema)
    if extent is None:
        lo, hi = real.min(0).values, real.max(0).values
        pad = 0.5 * float((hi - lo).max()) + 0.2
        extent = (float(lo[0]) - pad, float(hi[0]) + pad, float(lo[1]) - pad, float(hi[1]) + pad)
    heat = critic_heatmap(trainer.D, extent, resolution=80, logits=logits)
    return Snapshot(trainer.step, fake, real.cpu(), heat, extent, logits, ema)


def draw_snapshot(snap: Snapshot, ax, title: str | None = None) -> None:
    """Draw a snapshot into ``ax``: scatter over the heatmap (2-D) or a sample grid (images).

    The default title is the step, and says "EMA of G" when the samples come from the average of G.

    Example:
        >>> ax = Figure().subplots()
        >>> draw_snapshot(Snapshot(step=7, fake=torch.zeros(4, 1, 8, 8)), ax)
        >>> ax.get_title(), ax.get_images()[0].get_array().shape  # a 2 x 2 grid of 8 x 8 images, 2 px padding
        ('step 7', (22, 22, 3))
        >>> draw_snapshot(Snapshot(step=7, fake=torch.zeros(4, 1, 8, 8), ema=True), ax); ax.get_title()
        'step 7, EMA of G'
    """
    if snap.real is None:
        ax.imshow(image_grid(snap.fake).numpy(), interpolation="nearest")
        ax.set_axis_off()
    else:
        plot_scatter(snap.real, snap.fake.clamp(-1e3, 1e3), extent=snap.extent, ax=ax, heat=snap.heat,
                     logits=snap.logits, colorbar=False)
    ax.set_title(title or f"step {snap.step}" + (", EMA of G" if snap.ema else ""))


def live_figure(snap: Snapshot | None, history, title: str = "") -> Figure:
    """Three panels: samples (or scatter over D), losses, and D(x) vs D(G(z)).

    Example:
        >>> from gancourse.train import History
        >>> history = History({"step": [1, 2], "loss_d": [1.4, 1.3], "loss_g": [0.7, 0.8],
        ...                    "d_real": [0.5, 0.6], "d_fake": [0.5, 0.4]})
        >>> fig = live_figure(None, history, title="demo")
        >>> len(fig.axes), [len(ax.lines) for ax in fig.axes]
        (3, [0, 2, 2])
    """
    # 9.6 x 3.2 in at the course's 100 dpi: 960 px, the dashboard's widest, so it is shown 1:1.
    fig = Figure(figsize=(9.6, 3.2))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
    if snap is not None:
        draw_snapshot(snap, axes[0])
    else:
        axes[0].set_axis_off()
    if len(history):
        plot_history(history, keys=[["loss_d", "loss_g"], ["d_real", "d_fake"]], axes=axes[1:],
                     smooth=max(1, min(10, len(history) // 20)))
    else:
        for ax in axes[1:]:
            ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
