"""Build a (generator, discriminator) pair by name, for the CLI, the dashboard and the lessons."""
from __future__ import annotations

from torch import nn

from .._checks import positive_int
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .norm import NORMS, check_norm

__all__ = ["MODELS", "NORMS", "build_models"]

MODELS = ("mlp", "dcgan")


def build_models(model: str, data_shape: tuple[int, ...], *, z_dim: int = 64, width: int | None = None,
                 depth: int = 2, g_norm: str | None = None, d_norm: str | None = None,
                 activation: str | None = None) -> tuple[nn.Module, nn.Module]:
    """Return ``(G, D)`` for ``model`` in ``MODELS`` and one example's ``data_shape``.

    ``width`` is hidden units (MLP, default 128 for 2-D and 512 for images) or base channels
    (DCGAN, default 64); ``None`` means the default. ``z_dim``, ``width`` and ``depth`` (hidden
    layers of an MLP) must be integers >= 1. Norms default to none for MLPs and batch norm for
    DCGAN (its paper).

    Example:
        >>> import torch
        >>> G, D = build_models("mlp", (2,), z_dim=8)
        >>> G(torch.randn(3, 8)).shape, D(G(torch.randn(3, 8))).shape
        (torch.Size([3, 2]), torch.Size([3]))
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid choices: {', '.join(MODELS)}")
    z_dim = positive_int("z_dim", z_dim)
    depth = positive_int("depth", depth)
    if width is not None:  # 0 must not fall through to the default like None does
        width = positive_int("width", width, " (or None for the default)")
    data_shape = tuple(data_shape)
    is_image = len(data_shape) == 3
    if len(data_shape) not in (1, 3):
        raise ValueError(f"data_shape must be (features,) or (C, H, W), got {data_shape}")
    if model == "mlp":
        g_norm, d_norm = check_norm(g_norm or "none"), check_norm(d_norm or "none")
        width = width if width is not None else (512 if is_image else 128)
        G = MLPGenerator(z_dim, data_shape, width, depth, activation or "relu", g_norm)
        D = MLPDiscriminator(data_shape, width, depth, activation or "leaky_relu", d_norm)
        return G, D
    if not is_image or data_shape[1] != data_shape[2]:
        raise ValueError(f"model 'dcgan' needs square images (C, H, W), got data_shape={data_shape}; "
                         "use model='mlp' for 2-D data")
    g_norm, d_norm = check_norm(g_norm or "batch"), check_norm(d_norm or "batch")
    channels, size = data_shape[0], data_shape[1]
    width = width if width is not None else 64
    return (DCGANGenerator(z_dim, channels, size, width, g_norm),
            DCGANDiscriminator(channels, size, width, d_norm))
