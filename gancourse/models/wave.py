"""WaveGAN in miniature (Donahue, McAuley & Puckette 2019): DCGAN made one-dimensional for raw audio.

G maps z ~ U(-1, 1)^z_dim through a linear layer to ``channels`` x 16 and then through transposed 1-D convolutions
of kernel 25 and stride 4, each multiplying the length by 4 (WaveGAN: five such layers
make 16,384 samples; ``WaveGenerator`` has ``layers`` of them: 3 make 1,024). D mirrors it with strided 1-D
convolutions, LeakyReLU(0.2) and, after every layer but the last, **phase shuffle**: each example's
activations shifted in time by a random integer in [-n, n], the gap filled by reflection.

Why phase shuffle: a transposed convolution of stride s builds its output from s interleaved filters, so G's
clips carry a faint pattern of period s samples (energy at multiples of the layer's sampling rate / s, the
"checkerboard" of images in audio). D can learn to spot that pattern instead of the sound; shifting its input
by a few samples makes the pattern's phase useless to it.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["phase_shuffle", "PhaseShuffle", "WaveGenerator", "WaveDiscriminator", "KERNEL", "STRIDE"]

KERNEL = 25
STRIDE = 4
_PAD = 11  # (KERNEL - STRIDE) // 2 rounded: with output_padding 1, each layer gives exactly 4x the length


def phase_shuffle(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each example of ``x`` (batch, channels, time) right by its integer ``shifts[i]`` (may be negative),
    filling the gap by reflection: out[i, :, t] = x[i, :, t - k_i], with x[t] for t < 0 read as x[-t] and for
    t >= T as x[2(T - 1) - t] (WaveGAN's phase shuffle, Donahue et al. 2019, reflect padding).

    Example:
        >>> x = torch.arange(5.0).view(1, 1, 5)
        >>> phase_shuffle(x, torch.tensor([2])).tolist(), phase_shuffle(x, torch.tensor([-1])).tolist()
        ([[[2.0, 1.0, 0.0, 1.0, 2.0]]], [[[1.0, 2.0, 3.0, 4.0, 3.0]]])
    """
    if x.dim() != 3 or shifts.shape != (x.shape[0],):
        raise ValueError(f"expected x of shape (batch, channels, time) and one shift per example, got x "
                         f"{tuple(x.shape)} and shifts {tuple(shifts.shape)}")
    n = int(shifts.abs().max()) if len(shifts) else 0
    if n == 0:
        return x
    if n >= x.shape[-1]:
        raise ValueError(f"a shift of {n} needs more than {n} time steps, got {x.shape[-1]}")
    padded = nn.functional.pad(x, (n, n), mode="reflect")
    index = torch.arange(x.shape[-1], device=x.device) + n - shifts.to(x.device)[:, None]
    return padded.gather(-1, index[:, None, :].expand(-1, x.shape[1], -1))


class PhaseShuffle(nn.Module):
    """Phase shuffle as a layer: while training, each example shifted by a random k in [-n, n]; identity in eval
    mode and for n = 0 (the ablation).

    Example:
        >>> layer = PhaseShuffle(2).eval()
        >>> torch.equal(layer(torch.ones(3, 2, 8)), torch.ones(3, 2, 8))
        True
    """

    def __init__(self, n: int):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"phase shuffle's n must be an integer >= 0, got n={n!r}")
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.n == 0:
            return x
        shifts = torch.randint(-self.n, self.n + 1, (x.shape[0],), device=x.device)
        return phase_shuffle(x, shifts)


class WaveGenerator(nn.Module):
    """z (batch, z_dim) -> clips (batch, 16 * 4**layers) in [-1, 1]: linear, then ``layers`` transposed convolutions
    of kernel 25, stride 4, halving the channels each time, ReLU between, tanh at the end (as WaveGAN's G).

    Example:
        >>> WaveGenerator(z_dim=8, channels=16, layers=3)(torch.rand(2, 8) * 2 - 1).shape
        torch.Size([2, 1024])
    """

    def __init__(self, z_dim: int = 32, channels: int = 64, layers: int = 3):
        super().__init__()
        if channels < 2 ** layers:
            raise ValueError(f"channels={channels} cannot be halved {layers} times; give channels >= {2 ** layers}")
        self.z_dim, self.channels = z_dim, channels
        self.length = 16 * STRIDE ** layers
        self.project = nn.Linear(z_dim, 16 * channels)
        blocks, c = [], channels
        for i in range(layers):
            out = 1 if i == layers - 1 else c // 2
            blocks.append(nn.ConvTranspose1d(c, out, KERNEL, STRIDE, padding=_PAD, output_padding=1))
            blocks.append(nn.Tanh() if i == layers - 1 else nn.ReLU())
            c = out
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.project(z)).view(len(z), self.channels, 16)
        return self.net(h)[:, 0]


class WaveDiscriminator(nn.Module):
    """clips (batch, length) -> one logit each: strided convolutions (kernel 25, stride 4) doubling the channels
    up to ``channels``, LeakyReLU(0.2), phase shuffle of ``shuffle`` samples after each but the last layer
    (WaveGAN's n = 2; 0 turns it off), a linear layer on the flattened features.

    Example:
        >>> d = WaveDiscriminator(length=1024, channels=16, layers=3, shuffle=2)
        >>> d(torch.randn(4, 1024)).shape
        torch.Size([4])
    """

    def __init__(self, length: int = 1024, channels: int = 64, layers: int = 3, shuffle: int = 2):
        super().__init__()
        if length % STRIDE ** layers:
            raise ValueError(f"length={length} must be a multiple of {STRIDE ** layers} (stride 4, {layers} layers)")
        blocks, c = [], 1
        for i in range(layers):
            out = channels // 2 ** (layers - 1 - i)
            blocks += [nn.Conv1d(c, out, KERNEL, STRIDE, padding=_PAD), nn.LeakyReLU(0.2)]
            if i < layers - 1:
                blocks.append(PhaseShuffle(shuffle))
            c = out
        self.net = nn.Sequential(*blocks)
        self.head = nn.Linear(channels * length // STRIDE ** layers, 1)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(clips[:, None]).flatten(1))[:, 0]
