"""Sample-quality metrics: mode coverage for 2-D mixtures (image metrics arrive with lesson 3)."""
from __future__ import annotations

from .mixtures import ModeCoverage, mode_coverage, nearest_mode_distance

__all__ = ["ModeCoverage", "mode_coverage", "nearest_mode_distance"]
