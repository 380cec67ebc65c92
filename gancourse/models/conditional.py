"""Class-conditional generators and discriminators (lesson 5): the label y enters G and D.

G, the same for every way of conditioning D:

- MLP: a learned embedding e(y) concatenated to z, G(z, y) = MLP([z, e(y)]) (Mirza & Osindero 2014, with
  an embedding in place of the one-hot code).
- DCGAN: class-conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018, Sec. 4.1): every batch
  norm of G normalises without its own affine map, then scales and shifts with per-class parameters,

      CBN(h, y) = gamma_y * (h - mu_B) / sqrt(var_B + eps) + beta_y,   gamma_y, beta_y rows of an embedding

  initialised at gamma = 1, beta = 0, so an untrained conditional G is the plain DCGAN G.

D, three ways (``gancourse.conditioning`` is the registry the training loop looks up):

- ``ConcatDiscriminator`` (Mirza & Osindero 2014): the one-hot y joins D's input, as extra features of an
  MLP or as K constant planes (extra input channels) of a DCGAN D.
- ``ACGANDiscriminator`` (Odena et al. 2017, Sec. 3): one trunk phi(x), two heads: a source logit
  psi(phi(x)) (real or fake) and K class logits; y is not an input, it is what the class head predicts.
- ``ProjectionDiscriminator`` (Miyato & Koyama 2018, Eq. 3 and Fig. 14): D(x, y) = psi(phi(x)) +
  <embed(y), phi(x)>, the inner product of a class embedding with the features.

phi is the unconditional D's network up to its last layer, flattened (``discriminator_trunk``); psi is that
last layer as a Linear map (DCGAN's last convolution covers its whole input, so it is one).
Labels are int64 class indices of shape (N,) in 0..K-1 on the batch's device; ``_checks.check_labels`` says what
is wrong with any other (a ``ValueError`` before anything is computed).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_labels
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator

__all__ = ["ConditionalBatchNorm2d", "ConditionalMLPGenerator", "ConditionalDCGANGenerator",
           "discriminator_trunk", "ConcatDiscriminator", "ACGANDiscriminator", "ProjectionDiscriminator",
           "D_CONDITIONINGS", "conditional_discriminator"]


def _check(y: object, x: torch.Tensor, num_classes: int) -> torch.Tensor:
    # The range check reads y back: free on the CPU, a stall of the whole GPU queue elsewhere.
    values = x.device.type == "cpu" and not torch.compiler.is_compiling()
    return check_labels(y, x.shape[0], num_classes, x.device, values=values)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm without its own affine map, then a per-class one: gamma[y] * BN(h) + beta[y]
    (de Vries et al. 2017; Miyato & Koyama 2018). gamma starts at 1 and beta at 0 for every class.

    Example:
        >>> cbn = ConditionalBatchNorm2d(3, num_classes=4)
        >>> cbn(torch.randn(8, 3, 5, 5), torch.arange(8) % 4).shape, cbn.gamma.weight.unique().tolist()
        (torch.Size([8, 3, 5, 5]), [1.0])
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gamma = nn.Embedding(num_classes, num_features)
        self.beta = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = _check(y, h, self.num_classes)
        out = self.bn(h)
        return self.gamma(y)[:, :, None, None].to(out.dtype) * out + self.beta(y)[:, :, None, None].to(out.dtype)


class ConditionalMLPGenerator(nn.Module):
    """G(z, y) = MLPGenerator([z, e(y)]): a learned label embedding e (``embed_dim`` numbers per class,
    default K) concatenated to z, then the MLP generator of ``gancourse.models.mlp``.

    Example:
        >>> G = ConditionalMLPGenerator(z_dim=4, num_classes=3)
        >>> G(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])).shape
        torch.Size([5, 2])
    """

    def __init__(self, z_dim: int = 64, out_shape: tuple[int, ...] = (2,), num_classes: int = 10,
                 hidden: int = 128, depth: int = 2, activation: str = "relu", norm: str = "none",
                 embed_dim: int | None = None) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.out_shape = z_dim, num_classes, tuple(out_shape)
        embed_dim = num_classes if embed_dim is None else embed_dim
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.body = MLPGenerator(z_dim + embed_dim, out_shape, hidden, depth, activation, norm)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = _check(y, z, self.num_classes)
        return self.body(torch.cat([z, self.embed(y).to(z.dtype)], dim=1))


class ConditionalDCGANGenerator(nn.Module):
    """The DCGAN generator with every batch norm replaced by ``ConditionalBatchNorm2d``: G(z, y).

    Built from ``DCGANGenerator`` (same layers, same initialisation), then each BatchNorm2d swapped.

    Example:
        >>> G = ConditionalDCGANGenerator(z_dim=8, width=4, num_classes=10)
        >>> G(torch.randn(3, 8), torch.tensor([0, 5, 9])).shape
        torch.Size([3, 1, 28, 28])
    """

    def __init__(self, z_dim: int = 100, channels: int = 1, image_size: int = 28, width: int = 64,
                 num_classes: int = 10) -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        plain = DCGANGenerator(z_dim, channels, image_size, width, norm="batch")
        layers = [ConditionalBatchNorm2d(m.num_features, num_classes) if isinstance(m, nn.BatchNorm2d) else m
                  for m in plain.net]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = _check(y, z, self.num_classes)
        h = z.view(z.shape[0], -1, 1, 1)
        for layer in self.net:
            h = layer(h, y) if isinstance(layer, ConditionalBatchNorm2d) else layer(h)
        return h


def discriminator_trunk(D: nn.Module) -> tuple[nn.Sequential, nn.Linear]:
    """Split an unconditional MLP or DCGAN discriminator into (phi, psi): the trunk phi(x) -> (N, F)
    features and the last layer psi as ``nn.Linear(F, 1)``, so that D(x) = psi(phi(x)).squeeze(1).

    The modules are D's own (not copies). DCGAN's last convolution has a kernel as large as its input
    (first x first, no padding): it is the Linear map with the same weights on the flattened features.

    Example:
        >>> D = MLPDiscriminator(hidden=8)
        >>> phi, psi = discriminator_trunk(D)
        >>> x = torch.randn(4, 2)
        >>> torch.allclose(psi(phi(x)).squeeze(1), D(x)), psi.in_features
        (True, 8)
    """
    if isinstance(D, MLPDiscriminator):
        *body, head = D.net
        return nn.Sequential(*body), head
    if isinstance(D, DCGANDiscriminator):
        *body, conv = D.net
        head = nn.Linear(conv.in_channels * math.prod(conv.kernel_size), 1)
        with torch.no_grad():
            head.weight.copy_(conv.weight.reshape(1, -1))
            head.bias.copy_(conv.bias)
        return nn.Sequential(*body, nn.Flatten()), head
    raise ValueError(f"discriminator_trunk needs an MLPDiscriminator or DCGANDiscriminator, got {type(D).__name__}")


class ConcatDiscriminator(nn.Module):
    """D(x, y) = D_base([x, onehot(y)]) (Mirza & Osindero 2014): the one-hot label as K extra input
    features of an MLP (``base`` built for prod(x.shape[1:]) + K features) or as K constant input planes
    of a DCGAN D (``base`` built for C + K channels).

    Example:
        >>> D = ConcatDiscriminator(MLPDiscriminator((2 + 3,), hidden=8), num_classes=3)
        >>> D(torch.randn(4, 2), torch.tensor([0, 1, 2, 1])).shape
        torch.Size([4])
    """

    condition = "concat"

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.base, self.num_classes = base, num_classes
        self.planes = isinstance(base, DCGANDiscriminator)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = _check(y, x, self.num_classes)
        onehot = F.one_hot(y, self.num_classes).to(x.dtype)
        if self.planes:
            planes = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            return self.base(torch.cat([x, planes], dim=1))
        return self.base(torch.cat([x.flatten(1), onehot], dim=1))


class ACGANDiscriminator(nn.Module):
    """AC-GAN's D (Odena et al. 2017): x -> (source logit psi(phi(x)) (N,), class logits W phi(x) + b (N, K)).

    It takes no label: the class head predicts it, and the training loop adds the cross-entropy of those
    logits (``gancourse.conditioning``). ``y`` is accepted and ignored, so every conditional D is called alike.

    Example:
        >>> D = ACGANDiscriminator(*discriminator_trunk(MLPDiscriminator(hidden=8)), num_classes=3)
        >>> source, logits = D(torch.randn(4, 2))
        >>> source.shape, logits.shape
        (torch.Size([4]), torch.Size([4, 3]))
    """

    condition = "acgan"

    def __init__(self, trunk: nn.Module, head: nn.Linear, num_classes: int) -> None:
        super().__init__()
        self.trunk, self.head, self.num_classes = trunk, head, num_classes
        self.classifier = nn.Linear(head.in_features, num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.head(h).squeeze(1), self.classifier(h)


class ProjectionDiscriminator(nn.Module):
    """The projection discriminator (Miyato & Koyama 2018, Eq. 3, Fig. 14):

        D(x, y) = psi(phi(x)) + <embed(y), phi(x)>

    the log-density ratio of Eq. 2 with p(y | x) log-linear in phi(x). The embedding starts Glorot-uniform
    (as in the authors' code), so its term starts small next to psi.

    Example:
        >>> D = ProjectionDiscriminator(*discriminator_trunk(MLPDiscriminator(hidden=8)), num_classes=3)
        >>> D(torch.randn(4, 2), torch.tensor([0, 1, 2, 0])).shape
        torch.Size([4])
    """

    condition = "projection"

    def __init__(self, trunk: nn.Module, head: nn.Linear, num_classes: int) -> None:
        super().__init__()
        self.trunk, self.head, self.num_classes = trunk, head, num_classes
        self.embed = nn.Embedding(num_classes, head.in_features)
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = _check(y, x, self.num_classes)
        h = self.trunk(x)
        return self.head(h).squeeze(1) + (self.embed(y).to(h.dtype) * h).sum(dim=1)


D_CONDITIONINGS = ("concat", "acgan", "projection")
"""The ways of giving D the label; ``gancourse.conditioning.CONDITIONS`` adds "none" (unconditional)."""


def conditional_discriminator(D: nn.Module, condition: str, num_classes: int) -> nn.Module:
    """Wrap an unconditional MLP or DCGAN ``D`` for ``condition`` in ``D_CONDITIONINGS``. For "concat",
    ``D`` must already be built for the K extra input features or channels (``build_models`` does it).

    Example:
        >>> type(conditional_discriminator(MLPDiscriminator(hidden=8), "projection", 4)).__name__
        'ProjectionDiscriminator'
    """
    if condition == "concat":
        return ConcatDiscriminator(D, num_classes)
    if condition == "acgan":
        return ACGANDiscriminator(*discriminator_trunk(D), num_classes)
    if condition == "projection":
        return ProjectionDiscriminator(*discriminator_trunk(D), num_classes)
    raise ValueError(f"unknown D conditioning {condition!r}; valid choices: {', '.join(D_CONDITIONINGS)}")
