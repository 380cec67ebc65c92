import math

import pytest
import torch
from torch import nn

from gancourse import losses


def test_discriminator_loss_matches_hand_computation():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5])
    def sig(t):
        return 1 / (1 + math.exp(-t))

    expected = -(math.log(sig(2.0)) + math.log(sig(-1.0))) / 2 - math.log(1 - sig(0.5))
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_hand_computation():
    fake = torch.tensor([-3.0, 1.0])
    d = torch.sigmoid(fake)
    assert losses.generator_loss_minimax(fake).item() == pytest.approx(torch.log(1 - d).mean().item(), rel=1e-6)
    assert losses.generator_loss_nonsaturating(fake).item() == pytest.approx(-torch.log(d).mean().item(), rel=1e-6)


def test_saturating_loss_gradient_vanishes_when_d_rejects_fakes():
    # d/dt log(1 - sigma(t)) = -sigma(t) -> 0 as D(G(z)) = sigma(t) -> 0, while
    # d/dt -log sigma(t) = sigma(t) - 1 -> -1: the non-saturating loss keeps a strong gradient.
    t = torch.tensor([-8.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.generator_loss_minimax(t), t)
    (g_ns,) = torch.autograd.grad(losses.generator_loss_nonsaturating(t), t)
    assert abs(g_sat.item()) == pytest.approx(torch.sigmoid(torch.tensor(-8.0)).item(), rel=1e-5)
    assert g_ns.item() == pytest.approx(torch.sigmoid(torch.tensor(-8.0)).item() - 1, rel=1e-5)
    assert abs(g_ns.item()) > 1000 * abs(g_sat.item())


def test_stable_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(losses.discriminator_loss(big, -big))
    assert torch.isfinite(losses.generator_loss_nonsaturating(big))


def test_wasserstein_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert losses.critic_loss_wasserstein(real, fake).item() == pytest.approx(-1.0 - 2.0)
    assert losses.generator_loss_wasserstein(fake).item() == pytest.approx(1.0)


@pytest.mark.parametrize("w, lam", [([3.0, 4.0], 10.0), ([0.6, 0.8], 10.0), ([0.3, 0.0, 0.4], 2.5)])
def test_gradient_penalty_of_linear_critic_is_exact(w, lam):
    w = torch.tensor(w)
    def critic(x):
        return x @ w

    real, fake = torch.randn(16, len(w)), torch.randn(16, len(w))
    gp = losses.gradient_penalty(critic, real, fake, lam)
    assert gp.item() == pytest.approx(lam * (w.norm().item() - 1) ** 2, rel=1e-5, abs=1e-7)


def test_gradient_penalty_is_differentiable_wrt_critic_weights():
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]]))
    gp = losses.gradient_penalty(lambda x: lin(x).squeeze(1), torch.randn(8, 2), torch.randn(8, 2), 10.0)
    gp.backward()
    # d/dw lambda (|w| - 1)^2 = 2 lambda (|w| - 1) w / |w| = 2*10*4*(0.6, 0.8)
    assert torch.allclose(lin.weight.grad, torch.tensor([[48.0, 64.0]]), rtol=1e-4)


def test_gradient_penalty_uses_interpolates_of_images():
    # Critic f(x) = sum(x^2)/2 has gradient x; with eps fixed the interpolate is known exactly.
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return 0.5 * x.pow(2).flatten(1).sum(1)

    real, fake = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    eps = torch.tensor([0.25, 0.5]).view(2, 1, 1, 1)
    gp = losses.gradient_penalty(critic, real, fake, 1.0, eps=eps)
    # x_hat = eps * real + (1 - eps) * fake = eps in each of the 9 pixels: |grad| = 3 eps, so
    # ((0.75 - 1)^2 + (1.5 - 1)^2) / 2. Swapping eps and 1 - eps would give ((2.25 - 1)^2 + (1.5 - 1)^2) / 2.
    assert torch.equal(seen[0], eps.expand(2, 1, 3, 3))
    assert gp.item() == pytest.approx((0.25 ** 2 + 0.5 ** 2) / 2)


def test_gradient_penalty_draws_one_uniform_eps_per_sample_from_its_generator():
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return x.flatten(1).sum(1)

    n = 4000
    real, fake = torch.ones(n, 1, 2, 2), torch.zeros(n, 1, 2, 2)
    state = torch.get_rng_state()
    losses.gradient_penalty(critic, real, fake, 1.0, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.get_rng_state(), state)  # the given generator, not the global one
    eps = seen[0]  # x_hat = eps here (real 1, fake 0)
    assert torch.equal(eps, eps[:, :1, :1, :1].expand_as(eps))  # one eps per sample, shared by its pixels
    eps = eps[:, 0, 0, 0]
    assert 0 <= eps.min() and eps.max() <= 1
    assert eps.mean().item() == pytest.approx(0.5, abs=0.02)  # U[0, 1]: mean 1/2, std 1/sqrt(12)
    assert eps.std().item() == pytest.approx(12 ** -0.5, abs=0.01)
    assert len(eps.unique()) > n - 5
    losses.gradient_penalty(critic, real, fake, 1.0, generator=torch.Generator().manual_seed(7))
    losses.gradient_penalty(critic, real, fake, 1.0, generator=torch.Generator().manual_seed(8))
    assert torch.equal(seen[1], seen[0]) and not torch.equal(seen[2], seen[0])


def test_weight_clipping_bounds_every_parameter():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(100)
    losses.clip_weights_(net, 0.01)
    assert all(p.abs().max().item() <= 0.01 for p in net.parameters())
    assert any((p.abs() == 0.01).any() for p in net.parameters())  # large weights sit on the bound


def test_negative_constraints_rejected():
    with pytest.raises(ValueError, match="c=-0.1"):
        losses.clip_weights_(nn.Linear(2, 2), -0.1)
    with pytest.raises(ValueError, match="-1"):
        losses.gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 2), torch.zeros(2, 2), -1.0)
