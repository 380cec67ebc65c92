"""Normalisation layers by name, so 'batch norm on/off' is one switch everywhere."""
from __future__ import annotations

from torch import nn

NORMS = ("batch", "layer", "none")


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; valid choices: {', '.join(NORMS)}")
    return norm


def norm_1d(norm: str, features: int) -> nn.Module:
    """Normalisation for (N, features) activations."""
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm1d(features)
    if norm == "layer":
        return nn.LayerNorm(features)
    return nn.Identity()


def norm_2d(norm: str, channels: int, size: int) -> nn.Module:
    """Normalisation for (N, C, H, W) activations. Layer norm normalises each sample over (C, H, W),
    as the WGAN-GP paper recommends for critics (Gulrajani et al. 2017, Sec. 4)."""
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)  # one group = per-sample norm over C, H, W
    return nn.Identity()
