"""Interactive pieces for the lessons: the training ``Dashboard`` and thread-safe live rendering."""
from __future__ import annotations

from .dashboard import CONTROLS, Dashboard, Run
from .render import Snapshot, draw_snapshot, figure_png, live_figure, snapshot

__all__ = ["Dashboard", "Run", "CONTROLS", "Snapshot", "snapshot", "draw_snapshot", "figure_png", "live_figure"]
