"""Lipschitz diagnostics: gradient norms, slopes and per-layer gradients on critics we can compute by hand."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.lipschitz import (
    critic_weights,
    gradient_norms_on_interpolates,
    input_gradient_norms,
    interpolates,
    layer_gradient_norms,
    lipschitz_estimate,
    pair_slopes,
)
from gancourse.losses import clip_weights_, gradient_penalty


class Linear1(nn.Module):
    """f(x) = w . x: gradient norm ||w|| everywhere, Lipschitz constant exactly ||w||."""

    def __init__(self, w):
        super().__init__()
        self.lin = nn.Linear(len(w), 1, bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([w]))

    def forward(self, x):
        return self.lin(x).squeeze(1)


def test_interpolates_lie_on_the_segments():
    real, fake = torch.randn(50, 3), torch.randn(50, 3)
    x_hat = interpolates(real, fake, generator=torch.Generator().manual_seed(0))
    # x_hat - fake is parallel to real - fake with a factor eps in [0, 1]
    eps = ((x_hat - fake) * (real - fake)).sum(1) / (real - fake).pow(2).sum(1)
    assert torch.allclose(x_hat, fake + eps[:, None] * (real - fake), atol=1e-5)
    assert bool(((eps >= 0) & (eps <= 1)).all()) and eps.std() > 0.1  # one random eps per pair
    with pytest.raises(ValueError, match="same shape"):
        interpolates(torch.zeros(2, 3), torch.zeros(3, 3))


def test_gradient_norms_of_a_quadratic_are_the_point_norms():
    def f(x):
        return 0.5 * x.pow(2).sum(1)  # grad = x

    x = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    assert input_gradient_norms(f, x).tolist() == pytest.approx([5.0, 1.0])
    # on interpolates between 0 and (6, 8): eps * 10 with eps ~ U[0, 1]
    norms = gradient_norms_on_interpolates(f, torch.tensor([[6.0, 8.0]] * 200), torch.zeros(200, 2),
                                           generator=torch.Generator().manual_seed(0))
    assert 0 <= float(norms.min()) and float(norms.max()) <= 10 and float(norms.mean()) == pytest.approx(5, abs=0.6)


def test_gradient_norms_agree_with_the_penalty_in_losses():
    # losses.gradient_penalty = lambda * mean((||grad|| - 1)^2) on the same interpolates
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    real, fake = torch.randn(64, 2), torch.randn(64, 2) + 2
    eps = torch.rand(64, 1)
    norms = input_gradient_norms(critic, interpolates(real, fake, eps=eps))
    assert float(gradient_penalty(critic, real, fake, 10.0, eps=eps).detach()) == pytest.approx(
        float(10 * (norms - 1).pow(2).mean()), rel=1e-5)


def test_slopes_and_lipschitz_estimate_of_a_linear_critic():
    critic = Linear1([3.0, 4.0])
    x, y = torch.randn(500, 2, generator=torch.Generator().manual_seed(0)), torch.randn(500, 2)
    slopes = pair_slopes(critic, x, y)
    assert bool((slopes <= 5.0 + 1e-5).all())                   # never above the true constant
    assert lipschitz_estimate(critic, x, y) == pytest.approx(5.0, rel=0.02)  # and close to it with many pairs
    # a pair along w has slope exactly ||w||; a pair orthogonal to it has slope 0
    slopes = pair_slopes(critic, torch.tensor([[0.0, 0.0], [0.0, 0.0]]), torch.tensor([[0.6, 0.8], [-0.8, 0.6]]))
    assert slopes.tolist() == pytest.approx([5.0, 0.0], abs=1e-6)
    with pytest.raises(ValueError, match="no pair"):
        lipschitz_estimate(critic, torch.zeros(3, 2), torch.zeros(3, 2))


def _deep_critic(depth=8, width=32, seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(depth):
        layers += [nn.Linear(2 if i == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 1), nn.Flatten(0))


def test_layer_gradient_norms_match_autograd_on_a_two_layer_net():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Flatten(0))
    real, fake = torch.randn(5, 2), torch.randn(5, 2)
    by_weight = layer_gradient_norms(net, real, fake, wrt="weights")
    loss = net(fake).mean() - net(real).mean()
    grads = torch.autograd.grad(loss, [net[0].weight, net[2].weight])
    assert by_weight == pytest.approx([float(g.norm()) for g in grads], rel=1e-6)
    # activations of the last layer: dL/df = +1/N for fakes and -1/N for reals -> norm sqrt(2N)/N
    by_activation = layer_gradient_norms(net, real, fake)
    assert by_activation[-1] == pytest.approx(math.sqrt(10) / 5, rel=1e-6)
    assert all(p.grad is None for p in net.parameters())  # leaves no gradients behind


def test_clipping_makes_gradients_vanish_through_depth_and_large_c_makes_them_grow():
    # Gulrajani et al. 2017, Fig. 1b: the backward signal is multiplied at every layer by a
    # factor that scales with c, so its norm shrinks (small c) or grows (large c) geometrically.
    real, fake = torch.randn(256, 2), torch.randn(256, 2) + 1
    small, large = _deep_critic(), _deep_critic()
    clip_weights_(small, 0.01)
    with torch.no_grad():
        for p in large.parameters():
            p.copy_(torch.sign(p) * 0.5)  # every weight at +-c with c = 0.5: a saturated clipped critic
    vanish, explode = layer_gradient_norms(small, real, fake), layer_gradient_norms(large, real, fake)
    assert vanish[0] < 1e-6 * vanish[-1]      # input-side layers get almost nothing back
    # per layer the signal is multiplied by about c * sqrt(width / 2) = 2: 2^8 = 256 over 8 layers
    assert explode[0] > 100 * explode[-1]


def test_critic_weights_collects_weights_not_biases():
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    clip_weights_(net, 0.01)
    w = critic_weights(net)
    assert w.numel() == 2 * 4 + 4 * 1 and float(w.abs().max()) <= 0.01
    with pytest.raises(ValueError, match="activations, weights"):
        layer_gradient_norms(net, torch.zeros(2, 2), torch.zeros(2, 2), wrt="inputs")
