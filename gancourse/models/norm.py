"""Normalisation layers by name, so 'batch norm on/off' is one switch everywhere."""
from __future__ import annotations

from torch import nn

NORMS = ("batch", "layer", "none")


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is one of ``NORMS``, else raise ``ValueError`` listing the choices.

    Example:
        >>> check_norm("layer")
        'layer'
        >>> check_norm("group")
        Traceback (most recent call last):
        ...
        ValueError: unknown norm 'group'; valid choices: batch, layer, none
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; valid choices: {', '.join(NORMS)}")
    return norm


def norm_1d(norm: str, features: int) -> nn.Module:
    """Normalisation for (N, features) activations.

    Example:
        >>> [type(norm_1d(norm, 8)).__name__ for norm in NORMS]
        ['BatchNorm1d', 'LayerNorm', 'Identity']
    """
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm1d(features)
    if norm == "layer":
        return nn.LayerNorm(features)
    return nn.Identity()


def norm_2d(norm: str, channels: int, size: int) -> nn.Module:
    """Normalisation for (N, C, H, W) activations. Layer norm normalises each sample over (C, H, W),
    as the WGAN-GP paper recommends for critics (Gulrajani et al. 2017, Sec. 4).

    Example:
        >>> import torch
        >>> layer = norm_2d("layer", 4, 8)
        >>> y = layer(torch.randn(2, 4, 8, 8) * 5 + 3)  # each sample: mean 0, std 1 over (C, H, W)
        >>> y[0].mean().abs().item() < 1e-5, round(y[1].std(unbiased=False).item(), 3)
        (True, 1.0)
    """
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)  # one group = per-sample norm over C, H, W
    return nn.Identity()


class CriticNormWarning(UserWarning):
    """Batch norm was asked for in the critic of a Wasserstein loss (``wgan``, ``wgan-gp``).

    Example:
        >>> issubclass(CriticNormWarning, UserWarning)
        True
    """
