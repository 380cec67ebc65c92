"""Is the critic Lipschitz? Gradient norms, slopes between sample pairs, and per-layer gradients.

WGAN's critic must be K-Lipschitz, |f(x) - f(y)| <= K ||x - y||, for its loss to estimate W_1
(Arjovsky et al. 2017, Eq. 2). WGAN-GP's optimal critic has gradient norm exactly 1 on lines
between real and generated points (Gulrajani et al. 2017, Proposition 1). The functions here
measure both properties on a trained critic, and show how weight clipping distorts the
gradients flowing through a deep critic (Gulrajani et al. 2017, Fig. 1b).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["interpolates", "input_gradient_norms", "gradient_norms_on_interpolates", "pair_slopes",
           "lipschitz_estimate", "layer_gradient_norms", "critic_weights"]

Critic = Callable[[torch.Tensor], torch.Tensor]


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None,
                 eps: torch.Tensor | None = None) -> torch.Tensor:
    """Random points on the segments between paired real and fake samples (Gulrajani et al. 2017, Alg. 1):

        x_hat = eps * x + (1 - eps) * x_fake,   eps ~ U[0, 1], one per pair.

    Example:
        >>> interpolates(torch.zeros(3, 2), torch.ones(3, 2), eps=torch.full((3, 1), 0.25)).tolist()[0]
        [0.75, 0.75]
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if eps is None:
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    return eps * real + (1 - eps) * fake


def input_gradient_norms(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """||grad_x f(x)||_2 for every sample, (N,). The critic is used as it is (train or eval mode).

    Example:
        >>> lin = nn.Linear(2, 1, bias=False); _ = lin.weight.data.copy_(torch.tensor([[3.0, 4.0]]))
        >>> input_gradient_norms(lambda x: lin(x).squeeze(1), torch.randn(4, 2)).tolist()
        [5.0, 5.0, 5.0, 5.0]
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(critic(x).sum(), x)
    return grad.flatten(1).norm(dim=1).detach()


def gradient_norms_on_interpolates(critic: Critic, real: torch.Tensor, fake: torch.Tensor,
                                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Gradient norms where WGAN-GP's penalty looks: at ``interpolates(real, fake)``. Near 1 for a
    well-trained WGAN-GP critic; near 0 where a clipped critic underuses its capacity.

    Example:
        >>> f = lambda x: 2 * x.sum(1)  # slope 2 along (1, 1): gradient norm 2 sqrt(2)
        >>> round(float(gradient_norms_on_interpolates(f, torch.zeros(2, 2), torch.ones(2, 2))[0]), 4)
        2.8284
    """
    return input_gradient_norms(critic, interpolates(real.detach(), fake.detach(), generator))


@torch.no_grad()
def pair_slopes(critic: Critic, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """|f(x_i) - f(y_i)| / ||x_i - y_i|| for each pair (i), (N,) float64 on the CPU. Pairs closer than
    1e-12 are dropped.

    Example:
        >>> round(float(pair_slopes(lambda x: 3 * x[:, 0], torch.zeros(1, 2), torch.ones(1, 2))), 4)  # 3 / sqrt(2)
        2.1213
    """
    if x.shape != y.shape:
        raise ValueError(f"x and y must be paired (same shape), got {tuple(x.shape)} and {tuple(y.shape)}")
    dist = (x - y).flatten(1).norm(dim=1)
    keep = dist > 1e-12
    diff = (critic(x).float() - critic(y).float()).abs()
    return (diff[keep] / dist[keep]).cpu().double()  # float64 on the CPU: Apple's mps has none


def lipschitz_estimate(critic: Critic, x: torch.Tensor, y: torch.Tensor) -> float:
    """max_i |f(x_i) - f(y_i)| / ||x_i - y_i||: a LOWER bound on the critic's Lipschitz constant K,
    from the sample pairs given (real-real, real-fake, fake-fake pairs are all informative).

    Example:
        >>> lipschitz_estimate(lambda x: 3 * x[:, 0], torch.randn(100, 2), torch.randn(100, 2)) <= 3.0 + 1e-6
        True
    """
    slopes = pair_slopes(critic, x, y)
    if slopes.numel() == 0:
        raise ValueError("no pair of distinct points to measure a slope on")
    return float(slopes.max())


def _layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in module.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def layer_gradient_norms(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                         wrt: str = "activations") -> list[float]:
    """Norm of the gradient of the critic loss L = E[f(fake)] - E[f(real)] at every linear or
    convolutional layer, input side first: with respect to the layer's output activations
    (``wrt="activations"``) or its weights (``wrt="weights"``).

    Gulrajani et al. 2017 (Fig. 1b) draw this for deep clipped critics: with c too small the
    norms shrink geometrically from the last layer back to the first (vanishing gradients);
    with c too large they grow (exploding); with a gradient penalty they stay level.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Flatten(0))
        >>> len(layer_gradient_norms(net, torch.randn(8, 2), torch.randn(8, 2)))
        2
    """
    if wrt not in ("activations", "weights"):
        raise ValueError(f"unknown wrt {wrt!r}; valid choices: activations, weights")
    layers = _layers(critic)
    if not layers:
        raise ValueError("the critic has no nn.Linear or nn.Conv2d layer")
    outputs: list[torch.Tensor] = []

    def keep(module, inputs, output):
        output.retain_grad()
        outputs.append(output)

    hooks = [m.register_forward_hook(keep) for _, m in layers] if wrt == "activations" else []
    try:
        critic.zero_grad(set_to_none=True)
        with torch.enable_grad():
            outputs.clear()
            loss_fake = critic(fake.detach()).mean()
            fake_outputs = list(outputs)
            outputs.clear()
            loss = loss_fake - critic(real.detach()).mean()
            loss.backward()
    finally:
        for h in hooks:
            h.remove()
    if wrt == "weights":
        norms = [float(m.weight.grad.norm()) for _, m in layers]
        critic.zero_grad(set_to_none=True)
        return norms
    critic.zero_grad(set_to_none=True)
    # One loss, two forward passes: add the per-layer activation gradients of both passes.
    return [float(torch.cat([a.grad.flatten(), b.grad.flatten()]).norm())
            for a, b in zip(fake_outputs, outputs, strict=True)]


@torch.no_grad()
def critic_weights(critic: nn.Module) -> torch.Tensor:
    """All weights (not biases) of the critic's linear and convolutional layers, flattened: the
    histogram Gulrajani et al. 2017 (Fig. 1b) show piling up at +-c under clipping.

    Example:
        >>> critic_weights(nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))).shape
        torch.Size([9])
    """
    return torch.cat([m.weight.detach().flatten().cpu() for _, m in _layers(critic)])
