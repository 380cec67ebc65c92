"""Mode coverage on 2-D Gaussian mixtures: the VEEGAN / PacGAN protocol.

Srivastava et al. 2017 (VEEGAN, Sec. 5.1) and Lin et al. 2018 (PacGAN, Sec. 5): draw 2,500
samples; a sample is *high quality* (HQ) when it lies within 3 standard deviations of its nearest
mode centre; a mode is *captured* when it is the nearest mode of at least one HQ sample. PacGAN also
reports the reverse KL divergence KL(q || p) between the generated mode histogram q and the uniform
mode distribution p.

For a perfect sampler in 2-D the squared distance to the centre divided by std^2 is chi-square
with 2 degrees of freedom, so P(r <= 3 std) = 1 - exp(-9/2) ~ 0.989, not the 1-D 99.7%.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["ModeCoverage", "mode_coverage", "nearest_mode_distance", "mode_shares", "PERFECT_HQ_2D"]

PERFECT_HQ_2D = 1 - math.exp(-4.5)


@dataclass
class ModeCoverage:
    """Result of ``mode_coverage``: modes captured, HQ fraction, reverse KL, per-mode HQ counts.

    Example:
        >>> print(ModeCoverage(7, 8, 0.95, 0.1234, [10] * 7 + [0]))
        modes 7/8, high quality 95.0%, reverse KL 0.123
    """

    modes_captured: int
    num_modes: int
    hq_fraction: float
    reverse_kl: float
    counts: list[int]

    def __str__(self) -> str:
        return (f"modes {self.modes_captured}/{self.num_modes}, high quality {100 * self.hq_fraction:.1f}%, "
                f"reverse KL {self.reverse_kl:.3f}")


def nearest_mode_distance(samples: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance from each sample to its nearest centre, and that centre's index.

    Example:
        >>> d, i = nearest_mode_distance(torch.tensor([[0.9, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        >>> round(float(d), 3), int(i)
        (0.1, 1)
    """
    dist = torch.cdist(samples.float(), centres.to(samples.device).float())
    return dist.min(dim=1)


def mode_shares(samples: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """The share of ``samples`` whose nearest centre is each mode, shape (K,), summing to 1.

    Unlike the HQ counts of ``mode_coverage`` it counts every sample, near a mode or not: its maximum
    is the share of the most popular mode, 1/K for samples spread evenly over K modes and 1 when they
    all sit nearer one mode than any other (a pile, which need not be precise).

    Example:
        >>> centres = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
        >>> mode_shares(torch.tensor([[0.1, 0.0], [1.0, 3.0], [3.0, 0.0], [5.0, 1.0]]), centres).tolist()
        [0.5, 0.5]
    """
    if len(samples) == 0:
        raise ValueError(f"need at least one sample (N >= 1), got samples of shape {tuple(samples.shape)}")
    _, idx = nearest_mode_distance(samples, centres)
    return torch.bincount(idx.cpu(), minlength=centres.shape[0]).float() / len(samples)


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, hq_stds: float = 3.0) -> ModeCoverage:
    """Score 2-D samples against a Gaussian mixture (protocol in the module docstring).

    The reverse KL is sum_k q_k log(q_k / p_k) with q the histogram of HQ samples over modes and
    p uniform; it is +inf when no sample is HQ.

    Example:
        >>> centres = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
        >>> mode_coverage(torch.zeros(10, 2), centres, std=0.1).modes_captured
        1
    """
    if centres.dim() != 2 or len(centres) == 0:
        raise ValueError(f"centres must have shape (K, d) with K >= 1 modes, e.g. (8, 2) for the ring; "
                         f"got centres of shape {tuple(centres.shape)}")
    if samples.dim() != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples must have shape (N, {centres.shape[1]}) to match centres of shape "
                         f"{tuple(centres.shape)}, got samples of shape {tuple(samples.shape)}")
    if len(samples) == 0:  # the HQ fraction 0/0 would be NaN
        raise ValueError(f"need at least one sample (N >= 1), got samples of shape {tuple(samples.shape)}")
    if not (std > 0 and hq_stds > 0):  # also rejects NaN, which compares False both ways
        raise ValueError(f"std and hq_stds must be positive, got std={std}, hq_stds={hq_stds}")
    dist, idx = nearest_mode_distance(samples, centres)
    hq = dist <= hq_stds * std
    k = centres.shape[0]
    counts = torch.bincount(idx[hq].cpu(), minlength=k)
    n_hq = int(counts.sum())
    if n_hq == 0:
        reverse_kl = math.inf
    else:
        q = counts.double() / n_hq
        nz = q > 0
        reverse_kl = float((q[nz] * (q[nz] * k).log()).sum())
    return ModeCoverage(int((counts > 0).sum()), k, float(hq.float().mean()), reverse_kl, counts.tolist())
