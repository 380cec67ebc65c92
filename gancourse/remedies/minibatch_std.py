"""Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", Sec. 3).

Near the end of D, one extra feature is appended to every sample: the standard deviation of the
features across the minibatch (within groups of ``group_size`` samples), averaged over features
and positions. A collapsed generator produces batches with a much smaller spread than real data,
so D can tell them apart from this one number, and G is pushed to produce varied batches.
Karras et al. use groups of 4 and insert the layer before D's last layer; so does this module.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["MinibatchStd", "minibatch_std", "with_minibatch_std"]


def minibatch_std(x: torch.Tensor, group_size: int | None = 4) -> torch.Tensor:
    """One spread statistic per sample, shape (B,), computed within groups of ``group_size``.

    Karras et al. 2018, Sec. 3: for a group of samples x_1..x_G,

        s = mean over features f of sqrt( (1/G) * sum_i (x_i[f] - mean_j x_j[f])^2 + 1e-8 )

    As in the authors' code, sample b belongs to group b mod (B / G), and every sample of a group
    receives the group's s. ``group_size=None`` uses the whole batch as one group.

    Example:
        >>> minibatch_std(torch.tensor([[0.0], [2.0], [0.0], [2.0]]), group_size=2).tolist()  # doctest: +ELLIPSIS
        [0.0001..., 0.0001..., 0.0001..., 0.0001...]
        >>> round(minibatch_std(torch.tensor([[0.0], [0.0], [2.0], [2.0]]), group_size=2)[0].item(), 4)
        1.0
    """
    if group_size is not None and (isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1):
        raise ValueError(f"group_size must be None (whole batch) or an integer >= 1, got group_size={group_size!r}")
    batch = x.shape[0]
    group = batch if group_size is None else min(group_size, batch)
    if batch % group:
        raise ValueError(f"batch of {batch} samples cannot be split into groups of {group}; "
                         f"use a batch size divisible by group_size={group_size}")
    y = x.float().reshape(group, batch // group, -1)
    std = (y.var(dim=0, correction=0) + 1e-8).sqrt()  # (B/G, features)
    return std.mean(dim=1).repeat(group).to(x.dtype)


class MinibatchStd(nn.Module):
    """Appends ``minibatch_std`` as one more feature: (B, F) -> (B, F+1), (B, C, H, W) -> (B, C+1, H, W).

    Example:
        >>> MinibatchStd(group_size=2)(torch.randn(4, 3, 5, 5)).shape
        torch.Size([4, 4, 5, 5])
    """

    def __init__(self, group_size: int | None = 4) -> None:
        super().__init__()
        minibatch_std(torch.zeros(1, 1), group_size)  # validates the group size early
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = minibatch_std(x, self.group_size)
        extra = s.view(-1, 1, *([1] * (x.dim() - 2))).expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, extra], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


def with_minibatch_std(D: nn.Module, group_size: int | None = 4) -> nn.Module:
    """A copy of ``D`` with a ``MinibatchStd`` layer inserted before its last layer.

    ``D`` must keep its layers in ``D.net`` (an ``nn.Sequential``) ending in a ``Linear`` or
    ``Conv2d``, as the course's MLP and DCGAN discriminators do. That last layer gets one more
    input feature / channel; its existing weights are kept and the new ones start at zero, so the
    copy computes exactly what ``D`` computed until training gives the statistic a weight.

    Example:
        >>> from gancourse.models.mlp import MLPDiscriminator
        >>> D = MLPDiscriminator(); x = torch.randn(8, 2)
        >>> torch.allclose(with_minibatch_std(D)(x), D(x))
        True
    """
    net = getattr(D, "net", None)
    if not isinstance(net, nn.Sequential) or not isinstance(net[-1], (nn.Linear, nn.Conv2d)):
        raise ValueError(f"with_minibatch_std needs a discriminator whose layers are in .net (nn.Sequential) "
                         f"ending in Linear or Conv2d; got {type(D).__name__}")
    D = copy.deepcopy(D)
    last = D.net[-1]
    if isinstance(last, nn.Linear):
        new = nn.Linear(last.in_features + 1, last.out_features, bias=last.bias is not None)
    else:
        new = nn.Conv2d(last.in_channels + 1, last.out_channels, last.kernel_size, last.stride, last.padding,
                        bias=last.bias is not None)
    new = new.to(device=last.weight.device, dtype=last.weight.dtype)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, :-1].copy_(last.weight)
        if last.bias is not None:
            new.bias.copy_(last.bias)
    D.net = nn.Sequential(*D.net[:-1], MinibatchStd(group_size), new)
    return D
