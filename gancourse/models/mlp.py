"""Fully connected generator and discriminator (the original GAN's architecture family)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .norm import norm_1d

__all__ = ["MLPGenerator", "MLPDiscriminator"]

_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


def _activation(name: str) -> nn.Module:
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid choices: {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


def _hidden_stack(in_features: int, hidden: int, depth: int, activation: str, norm: str) -> list[nn.Module]:
    if hidden < 1 or depth < 1:
        raise ValueError(f"hidden and depth must be >= 1, got hidden={hidden}, depth={depth}")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_features if i == 0 else hidden, hidden), norm_1d(norm, hidden), _activation(activation)]
    return layers


class MLPGenerator(nn.Module):
    """z (N, z_dim) -> sample of shape ``out_shape``: ``depth`` hidden layers of ``hidden`` units.

    For images (``out_shape`` with 3 dims) the output goes through Tanh, matching data in [-1, 1];
    for 2-D points the output is linear (the data is not bounded).

    Example:
        >>> MLPGenerator(z_dim=8)(torch.randn(5, 8)).shape
        torch.Size([5, 2])
    """

    def __init__(self, z_dim: int = 64, out_shape: tuple[int, ...] = (2,), hidden: int = 128, depth: int = 2,
                 activation: str = "relu", norm: str = "none") -> None:
        super().__init__()
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        out_features = math.prod(self.out_shape)
        layers = _hidden_stack(z_dim, hidden, depth, activation, norm) + [nn.Linear(hidden, out_features)]
        if len(self.out_shape) == 3:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.out_shape)


class MLPDiscriminator(nn.Module):
    """sample -> one logit per sample (N,). No Sigmoid: losses take logits (numerically stable).

    Example:
        >>> MLPDiscriminator()(torch.randn(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, in_shape: tuple[int, ...] = (2,), hidden: int = 128, depth: int = 2,
                 activation: str = "leaky_relu", norm: str = "none") -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        in_features = math.prod(self.in_shape)
        self.net = nn.Sequential(nn.Flatten(), *_hidden_stack(in_features, hidden, depth, activation, norm),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
