"""DCGAN (Radford, Metz, Chintala 2015), sized for 28x28 grey and 32x32 colour images.

Guidelines from Sec. 3 of the paper, each visible below: strided (transposed) convolutions
instead of pooling; batch norm in G and D except G's output and D's input layers; no fully
connected hidden layers; ReLU in G with a Tanh output; LeakyReLU(0.2) in D; weights ~ N(0, 0.02).
"""
from __future__ import annotations

import torch
from torch import nn

from .norm import norm_2d

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_init_"]

# Spatial plan per image size: G grows 1x1 -> ... -> size; D mirrors it.
#   28: 1 -(k7,s1)-> 7 -(k4,s2)-> 14 -(k4,s2)-> 28     (2 upsampling stages, widths 2w, w)
#   32: 1 -(k4,s1)-> 4 -(k4,s2)-> 8 -(k4,s2)-> 16 -(k4,s2)-> 32   (widths 4w, 2w, w)
_PLANS = {28: (7, [2, 1]), 32: (4, [4, 2, 1])}


def _check_size(image_size: int) -> None:
    if image_size not in _PLANS:
        raise ValueError(f"DCGAN supports image_size 28 or 32, got image_size={image_size}")


class DCGANGenerator(nn.Module):
    """z (N, z_dim) -> image (N, channels, size, size) in [-1, 1].

    Example:
        >>> DCGANGenerator(z_dim=16, width=8)(torch.randn(2, 16)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, z_dim: int = 100, channels: int = 1, image_size: int = 28, width: int = 64,
                 norm: str = "batch") -> None:
        super().__init__()
        _check_size(image_size)
        self.z_dim = z_dim
        first, mults = _PLANS[image_size]
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
        _check_size(image_size)
        first, mults = _PLANS[image_size]
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
