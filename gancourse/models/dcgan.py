"""DCGAN (Radford, Metz, Chintala 2015) for square images: 28x28, and every power of two from 16 to 256.

Guidelines from Sec. 3 of the paper, each visible below: strided (transposed) convolutions
instead of pooling; batch norm in G and D except G's output and D's input layers; no fully
connected hidden layers; ReLU in G with a Tanh output; LeakyReLU(0.2) in D; weights ~ N(0, 0.02).
"""
from __future__ import annotations

import operator

import torch
from torch import nn

from .norm import norm_2d

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_init_", "dcgan_plan", "describe_plan", "DCGAN_SIZES"]

# Spatial plan per image size: G grows 1x1 -> first x first, then doubles with (k4, s2, p1) transposed
# convolutions up to the image size; D mirrors it with strided convolutions.
#   28: 1 -(k7,s1)-> 7 -(k4,s2)-> 14 -(k4,s2)-> 28     (2 upsampling stages, widths 2w, w)
#   32: 1 -(k4,s1)-> 4 -(k4,s2)-> 8 -(k4,s2)-> 16 -(k4,s2)-> 32   (widths 4w, 2w, w)
#   2^n: as 32, with n - 2 stages after 4x4 (64: 8w, 4w, 2w, w: the DCGAN paper's and PyTorch tutorial's G)
# 28 is not a power of two: 7x7 is the only start that doubles to it, hence its 7x7 projection.
DCGAN_SIZES = (16, 28, 32, 64, 128, 256)
"""The square image sizes the DCGAN builders can lay out."""
# Channels double per stage towards the 4x4 end but stop at 8 x width: the paper's widest layer is
# 1024 = 8 x 128 channels, and without the cap a 256x256 G at width 64 would start with 2048 channels
# (some 50M parameters in its first two layers) for no gain a course can show.
_MAX_MULT = 8


def dcgan_plan(image_size: int) -> tuple[int, list[int]]:
    """``(first, mults)`` for ``image_size``: G projects z to ``first x first``, then each entry of
    ``mults`` is one stage's width in units of ``width`` (the last stage upsamples to the image).

    Example:
        >>> dcgan_plan(28), dcgan_plan(32), dcgan_plan(64), dcgan_plan(256)
        ((7, [2, 1]), (4, [4, 2, 1]), (4, [8, 4, 2, 1]), (4, [8, 8, 8, 4, 2, 1]))
        >>> dcgan_plan(48)
        Traceback (most recent call last):
        ...
        ValueError: DCGAN cannot build image_size=48; valid sizes: 16, 28, 32, 64, 128, 256
    """
    try:  # numpy and torch integers are sizes too; floats and bools are not
        size = None if isinstance(image_size, bool) else operator.index(image_size)
    except TypeError:
        size = None
    if size not in DCGAN_SIZES:
        raise ValueError(f"DCGAN cannot build image_size={image_size!r}; "
                         f"valid sizes: {', '.join(map(str, DCGAN_SIZES))}")
    image_size = size
    first = 7 if image_size == 28 else 4
    stages = (image_size // first).bit_length() - 1  # doublings from first to image_size
    return first, [min(2 ** i, _MAX_MULT) for i in reversed(range(stages))]


def describe_plan(image_size: int, width: int = 64) -> str:
    """G's plan for ``image_size`` in one line: spatial sizes and channels, from z to the image.

    Example:
        >>> describe_plan(64, width=64)
        'z -(k4,s1)-> 512@4x4 -(k4,s2)-> 256@8x8 -(k4,s2)-> 128@16x16 -(k4,s2)-> 64@32x32 -(k4,s2)-> C@64x64'
    """
    first, mults = dcgan_plan(image_size)
    parts = [f"z -(k{first},s1)-> {mults[0] * width}@{first}x{first}"]
    for i, m in enumerate(mults[1:], start=1):
        size = first * 2 ** i
        parts.append(f"-(k4,s2)-> {m * width}@{size}x{size}")
    parts.append(f"-(k4,s2)-> C@{image_size}x{image_size}")
    return " ".join(parts)


class DCGANGenerator(nn.Module):
    """z (N, z_dim) -> image (N, channels, size, size) in [-1, 1].

    Example:
        >>> DCGANGenerator(z_dim=16, width=8)(torch.randn(2, 16)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, z_dim: int = 100, channels: int = 1, image_size: int = 28, width: int = 64,
                 norm: str = "batch") -> None:
        super().__init__()
        self.z_dim = z_dim
        first, mults = dcgan_plan(image_size)
        layers: list[nn.Module] = []
        in_ch = z_dim
        for i, m in enumerate(mults):
            out_ch = m * width
            if i == 0:  # "project and reshape": a transposed conv from 1x1 to first x first
                layers.append(nn.ConvTranspose2d(in_ch, out_ch, first, 1, 0, bias=False))
            else:
                layers.append(nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False))
            size = first * 2 ** i
            layers += [norm_2d(norm, out_ch, size), nn.ReLU(inplace=True)]
            in_ch = out_ch
        layers += [nn.ConvTranspose2d(in_ch, channels, 4, 2, 1), nn.Tanh()]  # no norm on the output
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """image -> one logit per image (N,). ``norm="none"`` or ``"layer"`` gives a WGAN-GP critic:
    the gradient penalty is per sample, and batch norm mixes samples (Gulrajani et al. 2017, Sec. 4).

    Example:
        >>> DCGANDiscriminator(width=8)(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2])
    """

    def __init__(self, channels: int = 1, image_size: int = 28, width: int = 64, norm: str = "batch") -> None:
        super().__init__()
        first, mults = dcgan_plan(image_size)
        layers: list[nn.Module] = []
        in_ch, size = channels, image_size
        for i, m in enumerate(reversed(mults)):
            out_ch = m * width
            size //= 2
            layers.append(nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=(i == 0 or norm == "none")))
            if i > 0:  # no norm on the input layer
                layers.append(norm_2d(norm, out_ch, size))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, first, 1, 0))  # first x first -> 1x1 logit
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


@torch.no_grad()
def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation: conv weights ~ N(0, 0.02); norm scales ~ N(1, 0.02), shifts 0.

    Example:
        >>> round(dcgan_init_(nn.Conv2d(64, 64, 4)).weight.std().item(), 2)
        0.02
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module
