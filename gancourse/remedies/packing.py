"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

A packed discriminator receives m samples of the same kind (all real or all generated) stacked
along the feature (or channel) axis and outputs one logit for the whole pack. Collapse becomes
visible to it: m generated samples from one mode look unlike m independent real samples, which
come from different modes. Sec. 3 of the paper shows packing turns the divergence the game
minimises into one that penalises missing mass much more heavily.

``PackedDiscriminator`` wraps any D whose input is m times wider, so the unchanged training loop
trains it: a batch of B samples becomes B/m packs, and the losses average over packs.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["PackedDiscriminator", "pack_samples"]


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """Stack groups of ``pack`` consecutive samples along axis 1: (B, F) -> (B/m, m*F), images
    (B, C, H, W) -> (B/m, m*C, H, W). Lin et al. 2018, Sec. 2: D(x_1, ..., x_m) sees the pack as one
    input, concatenated along the feature / channel dimension.

    Example:
        >>> pack_samples(torch.arange(8.0).view(4, 2), 2).tolist()
        [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    """
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise ValueError(f"pack must be an integer >= 1, got pack={pack!r}")
    if x.dim() < 2:
        raise ValueError(f"samples must have shape (B, features...) with a batch axis, got {tuple(x.shape)}")
    if x.shape[0] % pack:
        raise ValueError(f"batch of {x.shape[0]} samples cannot be split into packs of {pack}; "
                         f"use a batch size divisible by pack={pack}")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])


class PackedDiscriminator(nn.Module):
    """D applied to packs of ``pack`` samples: (B, ...) -> B/pack logits.

    ``inner`` must accept the packed shape, e.g. ``MLPDiscriminator(in_shape=(2 * pack,))`` for 2-D
    points or a conv D with ``pack * C`` input channels. Everything else in training stays as it
    is: the loss is the mean over packs of the usual per-sample loss (Lin et al. 2018, Eq. 2).

    Example:
        >>> from gancourse.models.mlp import MLPDiscriminator
        >>> D = PackedDiscriminator(MLPDiscriminator(in_shape=(8,)), pack=4)
        >>> D(torch.randn(12, 2)).shape
        torch.Size([3])
    """

    def __init__(self, inner: nn.Module, pack: int) -> None:
        super().__init__()
        pack_samples(torch.zeros(pack, 1), pack)  # validates pack with the same message
        self.inner, self.pack = inner, pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(pack_samples(x, self.pack))

    def extra_repr(self) -> str:
        return f"pack={self.pack}"
