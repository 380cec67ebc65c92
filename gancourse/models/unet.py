"""pix2pix's two networks (Isola et al. 2017, Sec. 3.2), scaled to 28 x 28 images: a U-Net generator and a
conditional patch discriminator that sees the input and the output side by side.

U-Net (Sec. 3.2.1): an encoder of stride-2 4 x 4 convolutions, a decoder of stride-2 4 x 4 transposed
convolutions, and skip connections that concatenate each encoder layer to the decoder layer of the same size,
so that what input and output share (a digit's position and strokes) need not squeeze through the bottleneck.
Here 28 -> 14 -> 7, a 3 x 3 bottleneck at 7 x 7, then 7 -> 14 -> 28:

    x (C_in@28) -e1-> w@14 -e2-> 2w@7 -b-> 2w@7 -d2([b, e2])-> w@14 -d1([d2, e1])-> C_out@28, tanh

Each layer is convolution - normalisation - (Leaky)ReLU as in pix2pix, with no normalisation on the first
encoder layer and the output; dropout in the bottleneck is pix2pix's only source of randomness (it found that
an input noise z is ignored), off by default here (``dropout=0``) since the lesson's tasks are measured, not
sampled. Normalisation is per image (``norm="layer"``: pix2pix's batch norm at batch size 1 is per-image).

Patch D (Sec. 3.2.2, "PatchGAN"): a fully convolutional D of the pair (x, y) concatenated along channels, one
logit per patch: 28 -(k4, s2)-> 14 -(k4, s2)-> 7 -(k3, s1)-> 7 x 7 logits, each seeing an 18 x 18 patch
(``receptive_field``) through its convolutions, as pix2pix's 70 x 70 D sees part of a 256 x 256 image (the
normalisation's statistics, like those of pix2pix's batch norm, are taken over the whole image).
"""
from __future__ import annotations

import torch
from torch import nn

from .norm import norm_2d

__all__ = ["UNetGenerator", "PatchDiscriminator", "receptive_field"]


def _check_size(x: torch.Tensor, what: str) -> None:
    if x.dim() != 4 or x.shape[-1] % 4 or x.shape[-2] % 4:
        raise ValueError(f"{what} must be (N, C, H, W) with H and W multiples of 4 (two halvings), "
                         f"got {tuple(x.shape)}")


class UNetGenerator(nn.Module):
    """image (N, in_channels, H, W) -> image (N, out_channels, H, W) in [-1, 1], H and W multiples of 4.

    Example:
        >>> UNetGenerator(width=8)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32, norm: str = "layer",
                 dropout: float = 0.0) -> None:
        super().__init__()
        if width < 1 or not 0 <= dropout < 1:
            raise ValueError(f"need width >= 1 and 0 <= dropout < 1, got width={width}, dropout={dropout}")
        w = width
        self.e1 = nn.Sequential(nn.Conv2d(in_channels, w, 4, 2, 1), nn.LeakyReLU(0.2))
        self.e2 = nn.Sequential(nn.Conv2d(w, 2 * w, 4, 2, 1), norm_2d(norm, 2 * w, 0), nn.LeakyReLU(0.2))
        self.bottleneck = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, 1, 1), norm_2d(norm, 2 * w, 0), nn.ReLU(),
                                        nn.Dropout(dropout))
        self.d2 = nn.Sequential(nn.ConvTranspose2d(4 * w, w, 4, 2, 1), norm_2d(norm, w, 0), nn.ReLU())
        self.d1 = nn.Sequential(nn.ConvTranspose2d(2 * w, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_size(x, "the input")
        e1 = self.e1(x)
        e2 = self.e2(e1)
        b = self.bottleneck(e2)
        d2 = self.d2(torch.cat([b, e2], 1))  # skip connection: e2 beside the bottleneck
        return self.d1(torch.cat([d2, e1], 1))  # skip connection: e1 beside the first decoder layer


class PatchDiscriminator(nn.Module):
    """(input x, output y) -> patch logits (N, H/4 * W/4): D of the concatenated pair, one logit per patch
    (Isola et al. 2017, Sec. 3.2.2). ``conditional=False`` gives the unconditional D of pix2pix's "GAN" rows,
    which sees y alone.

    Example:
        >>> D = PatchDiscriminator(width=8)
        >>> D(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 28, 28)).shape  # 7 x 7 patches each
        torch.Size([2, 49])
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32, norm: str = "layer",
                 conditional: bool = True) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        self.conditional = conditional
        channels = (in_channels if conditional else 0) + out_channels
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), norm_2d(norm, 2 * width, 0), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_size(y, "the output")
        if self.conditional:
            if x.shape[0] != y.shape[0] or x.shape[-2:] != y.shape[-2:]:
                raise ValueError(f"input {tuple(x.shape)} and output {tuple(y.shape)} must pair up: same N, H, W")
            y = torch.cat([x, y], 1)
        return self.net(y).flatten(1)


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """The side of the input patch one output unit sees through ``layers`` of (kernel, stride) convolutions,
    from the input on: r = 1, then backwards r <- (r - 1) * stride + kernel.

    Example:
        >>> receptive_field([(4, 2), (4, 2), (3, 1)])  # PatchDiscriminator
        18
        >>> receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)])  # pix2pix's 70 x 70 D
        70
    """
    r = 1
    for kernel, stride in reversed(layers):
        if kernel < 1 or stride < 1:
            raise ValueError(f"kernels and strides must be >= 1, got ({kernel}, {stride})")
        r = (r - 1) * stride + kernel
    return r
