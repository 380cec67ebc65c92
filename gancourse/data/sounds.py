"""Short sound clips for lesson 8, synthesised from a seed in milliseconds (no download, no cache).

- **tones**: a sine at one of the eight ``PITCHES`` with a random amplitude, phase and envelope (a linear attack of 2-10 ms,
  then an exponential decay with a time constant of 40-160 ms), like a plucked or struck note.
- **chirps**: a sine whose frequency sweeps linearly from f0 to f1 (each log-uniform in 200-1,600 Hz) over the
  clip, with the same kind of envelope.

Clips are ``CLIP_LENGTH`` = 1,024 samples at ``SAMPLE_RATE`` = 8 kHz (128 ms), in [-1, 1]. The pitches lie halfway
between multiples of 125 Hz (187.5, 312.5, ..., 1062.5 Hz), where a generator that grows 1,024 samples from 16 by
three stride-4 layers leaves its artefacts (periods 4, 16 and 64 samples: multiples of 125 Hz, ``models.wave``),
so that energy found there is the generator's, not the data's. No published
audio GAN trains on pure tones; WaveGAN (Donahue et al. 2019) trains on spoken digits and instruments, RCGAN
(Esteban et al. 2017) and TimeGAN (Yoon et al. 2019) on short sines. The pitch measures are the course's own.
"""
from __future__ import annotations

import math

import torch

__all__ = ["SAMPLE_RATE", "CLIP_LENGTH", "PITCHES", "CLIP_KINDS", "envelopes", "tones", "chirps", "make_clips"]

SAMPLE_RATE = 8000
CLIP_LENGTH = 1024
PITCHES = tuple(125.0 * (k + 1.5) for k in range(8))
"""187.5, 312.5, 437.5, 562.5, 687.5, 812.5, 937.5 and 1062.5 Hz: each 62.5 Hz from the nearest multiple of 125 Hz."""
CLIP_KINDS = ("tones", "chirps")


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got n={n!r}")


def envelopes(n: int, generator: torch.Generator, length: int = CLIP_LENGTH,
              sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """``n`` amplitude envelopes (n, length): amplitude A in [0.4, 0.9], a linear rise over 2-10 ms, then
    exp(-t / tau) with tau in [40, 160] ms.

    Example:
        >>> e = envelopes(3, torch.Generator().manual_seed(0))
        >>> e.shape, bool(e.min() >= 0), bool(e.max() <= 0.9)
        (torch.Size([3, 1024]), True, True)
    """
    t = torch.arange(length) / sample_rate
    rand = torch.rand(n, 3, generator=generator)
    amplitude = 0.4 + 0.5 * rand[:, :1]
    attack = 0.002 + 0.008 * rand[:, 1:2]
    tau = 0.040 + 0.120 * rand[:, 2:3]
    rise = (t / attack).clamp(max=1.0)
    decay = torch.exp(-(t - attack).clamp(min=0.0) / tau)
    return amplitude * rise * decay


def tones(n: int, seed: int, pitches: tuple[float, ...] = PITCHES, length: int = CLIP_LENGTH,
          sample_rate: int = SAMPLE_RATE) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` tone clips (n, length) and the index of each clip's pitch (n,), pitches drawn uniformly.

    Example:
        >>> x, k = tones(4, seed=0)
        >>> x.shape, k.tolist() == tones(4, seed=0)[1].tolist(), bool(x.abs().max() <= 1)
        (torch.Size([4, 1024]), True, True)
    """
    _check_n(n)
    if not pitches or any(not 0 < f < sample_rate / 2 for f in pitches):
        raise ValueError(f"pitches must lie strictly between 0 and the Nyquist frequency {sample_rate / 2} Hz, "
                         f"got {pitches}")
    generator = torch.Generator().manual_seed(seed)
    index = torch.randint(len(pitches), (n,), generator=generator)
    phase = 2 * math.pi * torch.rand(n, 1, generator=generator)
    t = torch.arange(length) / sample_rate
    f = torch.tensor(pitches)[index][:, None]
    return envelopes(n, generator, length, sample_rate) * torch.sin(2 * math.pi * f * t + phase), index


def chirps(n: int, seed: int, low: float = 200.0, high: float = 1600.0, length: int = CLIP_LENGTH,
           sample_rate: int = SAMPLE_RATE) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` linear chirps (n, length) and their (start, end) frequencies (n, 2): the phase is
    2 pi (f0 t + (f1 - f0) t^2 / (2 T)) + phi, so the frequency moves from f0 at t = 0 to f1 at t = T.

    Example:
        >>> x, f = chirps(2, seed=0)
        >>> x.shape, bool((f >= 200).all() and (f <= 1600).all())
        (torch.Size([2, 1024]), True)
    """
    _check_n(n)
    if not 0 < low < high < sample_rate / 2:
        raise ValueError(f"need 0 < low < high < {sample_rate / 2} Hz (Nyquist), got low={low}, high={high}")
    generator = torch.Generator().manual_seed(seed)
    ends = low * (high / low) ** torch.rand(n, 2, generator=generator)
    phase = 2 * math.pi * torch.rand(n, 1, generator=generator)
    t = torch.arange(length) / sample_rate
    duration = length / sample_rate
    f0, f1 = ends[:, :1], ends[:, 1:]
    clip = torch.sin(2 * math.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * duration)) + phase)
    return envelopes(n, generator, length, sample_rate) * clip, ends


def make_clips(kind: str, n: int, seed: int) -> torch.Tensor:
    """``n`` clips of ``kind`` ("tones" or "chirps"), (n, ``CLIP_LENGTH``).

    Example:
        >>> make_clips("chirps", 2, seed=1).shape
        torch.Size([2, 1024])
    """
    if kind == "tones":
        return tones(n, seed)[0]
    if kind == "chirps":
        return chirps(n, seed)[0]
    raise ValueError(f"unknown kind of clip {kind!r}; valid choices: {', '.join(CLIP_KINDS)}")
