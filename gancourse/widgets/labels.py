"""Lesson 5's label picker: choose a class and move along a path in z (or between two classes) for a trained
class-conditional-batch-norm generator. Core ipywidgets only; constructing it needs no display (headless runs
build it and show nothing).

Example (in a notebook)::

    from gancourse.widgets.labels import LabelPicker
    LabelPicker(G, z_dim=64)
"""
from __future__ import annotations

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from ..experiments.conditional import mix_labels
from .render import figure_png

__all__ = ["LabelPicker"]


class LabelPicker:
    """A label dropdown, a second label to blend towards, and a slider t along z1 -> z2 (``z_path``) or along the
    blend of the two classes' batch-norm scales and shifts (``label_path``). ``image(label, other, t, mode)`` is
    what the widget shows, as a tensor (C, H, W) in [-1, 1].

    Example:
        >>> from gancourse.models.conditional import ConditionalDCGANGenerator
        >>> picker = LabelPicker(ConditionalDCGANGenerator(8, width=4).eval(), z_dim=8)
        >>> picker.image(3, 5, 0.5, "z_path").shape, picker.widget is not None
        (torch.Size([1, 28, 28]), True)
    """

    def __init__(self, G, z_dim: int, num_classes: int = 10, seed: int = 0) -> None:
        self.G, self.num_classes = G.eval(), num_classes
        gen = torch.Generator().manual_seed(seed)
        self.z1, self.z2 = torch.randn(1, z_dim, generator=gen), torch.randn(1, z_dim, generator=gen)
        self.label = W.Dropdown(options=list(range(num_classes)), value=0, description="label")
        self.other = W.Dropdown(options=list(range(num_classes)), value=1, description="blend to")
        self.mode = W.ToggleButtons(options=[("move along z (label fixed)", "z_path"),
                                             ("blend the two labels (z fixed)", "label_path")], value="z_path")
        self.t = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="t")
        self.picture = W.Image(format="png")
        for control in (self.label, self.other, self.mode, self.t):
            control.observe(lambda change: self.draw(), names="value")
        self.widget = W.VBox([W.HBox([self.label, self.other]), self.mode, self.t, self.picture])
        self.draw()

    def image(self, label: int, other: int, t: float, mode: str) -> torch.Tensor:
        if mode == "z_path":
            z = (1 - t) * self.z1 + t * self.z2
            return mix_labels(self.G, z, label, label, 0.0)[0]
        return mix_labels(self.G, self.z1, label, other, t)[0]

    def draw(self) -> None:
        x = self.image(self.label.value, self.other.value, self.t.value, self.mode.value)
        fig = Figure(figsize=(2.2, 2.2))
        ax = fig.add_subplot()
        picture = ((x + 1) / 2).clamp(0, 1).permute(1, 2, 0).numpy()
        ax.imshow(picture.squeeze(2) if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        self.picture.value = figure_png(fig)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
