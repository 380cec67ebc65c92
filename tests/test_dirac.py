"""The Dirac-GAN of Mescheder, Geiger & Nowozin 2018: vector fields, Jacobians, trajectories (issue 18)."""
from __future__ import annotations

import math

import pytest
import torch

from gancourse import dirac
from gancourse.dirac import (
    closed_form_eigenvalues,
    jacobian_at_equilibrium,
    numerical_eigenvalues,
    trajectory,
    vector_field,
)

FP0 = 0.5  # f'(0) for f(t) = -log(1 + exp(-t)): 1 / (1 + e^0)


def test_vector_field_by_hand():
    # gan: v = (-psi f'(psi theta), theta f'(psi theta)); f'(t) = sigmoid(-t)
    theta, psi = 0.7, -1.3
    fp = 1 / (1 + math.exp(psi * theta))
    assert vector_field("gan", theta, psi).tolist() == pytest.approx([-psi * fp, theta * fp])
    assert vector_field("wgan", theta, psi).tolist() == pytest.approx([-psi, theta])
    # R1 and R2 both penalise (gamma/2) psi^2 here: D's slope is psi everywhere.
    for method in ("r1", "r2"):
        expected = [-psi * fp, theta * fp - 2.0 * psi]
        assert vector_field(method, theta, psi, gamma=2.0).tolist() == pytest.approx(expected)
    # wgan-gp: (gamma/2)(|psi| - g0)^2 gives d/dpsi = gamma (|psi| - g0) sign(psi)
    assert vector_field("wgan-gp", theta, psi, gamma=1.0, g0=1.0).tolist() == pytest.approx(
        [-psi, theta - (abs(psi) - 1.0) * -1.0])


def test_instance_noise_field_is_the_noisy_expectation():
    # E over eps ~ N(0, sigma^2) by Monte Carlo agrees with the quadrature.
    theta, psi, sigma = 0.4, 0.9, 0.8
    eps = torch.randn(400_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * sigma
    sig = torch.sigmoid
    v_theta = -(psi * sig(-psi * (theta + eps))).mean()
    v_psi = ((theta + eps) * sig(-psi * (theta + eps))).mean() + (-eps * sig(psi * eps)).mean()
    got = vector_field("instance-noise", theta, psi, sigma=sigma)
    assert got.tolist() == pytest.approx([v_theta.item(), v_psi.item()], abs=3e-3)


def test_field_on_a_grid_for_a_quiver_plot():
    thetas, psis = torch.linspace(-2, 2, 5), torch.linspace(-1, 1, 3)
    v = vector_field("r1", thetas[None, :], psis[:, None], gamma=0.5)
    assert v.shape == (2, 3, 5) and not v.requires_grad
    assert v[:, 1, 2].tolist() == [0.0, 0.0]  # the equilibrium (0, 0) is still


def _assert_same(a, b, tol=1e-9):
    assert torch.allclose(a, b, atol=tol), (a, b)


def test_unregularised_gan_and_wgan_have_purely_imaginary_eigenvalues():
    _assert_same(jacobian_at_equilibrium("gan"), torch.tensor([[0.0, -FP0], [FP0, 0.0]], dtype=torch.float64))
    for method, modulus in (("gan", FP0), ("wgan", 1.0)):
        ev = numerical_eigenvalues(method)
        assert ev.real.abs().max() < 1e-12
        _assert_same(ev, closed_form_eigenvalues(method))
        assert ev.imag.tolist() == pytest.approx([-modulus, modulus])


@pytest.mark.parametrize("method", ["r1", "r2"])
@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0, 3.0])
def test_gradient_penalties_have_real_part_minus_gamma_over_two(method, gamma):
    ev = numerical_eigenvalues(method, gamma=gamma)
    _assert_same(ev, closed_form_eigenvalues(method, gamma=gamma))
    assert (ev.real < 0).all()
    if gamma < 2 * FP0:  # underdamped: a spiral in, real part exactly -gamma / 2
        assert ev.real.tolist() == pytest.approx([-gamma / 2] * 2)
    else:  # overdamped at gamma >= 2 f'(0): two real eigenvalues
        assert ev.imag.abs().max() < 1e-12


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
def test_instance_noise_eigenvalues_match_the_closed_form(sigma):
    ev = numerical_eigenvalues("instance-noise", sigma=sigma)
    _assert_same(ev, closed_form_eigenvalues("instance-noise", sigma=sigma), tol=1e-8)
    assert (ev.real < 0).all()


def test_wgan_gp_has_no_jacobian_at_the_equilibrium():
    with pytest.raises(ValueError, match="not differentiable"):
        jacobian_at_equilibrium("wgan-gp")
    with pytest.raises(ValueError, match="not differentiable"):
        closed_form_eigenvalues("wgan-gp")


def _radius(path):
    return path.norm(dim=1)


def test_unregularised_gradient_descent_does_not_converge():
    sim = trajectory("gan", steps=1000, lr=0.1)
    alt = trajectory("gan", steps=1000, lr=0.1, alternating=True)
    assert _radius(sim)[-1] > 1.5 * _radius(sim)[0]  # simultaneous GD spirals outwards
    assert _radius(alt)[-200:].min() > 0.9 * _radius(alt)[0]  # alternating GD circles, never settles


@pytest.mark.parametrize("alternating", [False, True])
@pytest.mark.parametrize("method, params", [("r1", {"gamma": 1.0}), ("r2", {"gamma": 0.3}),
                                            ("instance-noise", {"sigma": 1.0})])
def test_regularised_gradient_descent_converges_to_the_equilibrium(method, params, alternating):
    path = trajectory(method, steps=1000, lr=0.1, alternating=alternating, **params)
    assert _radius(path)[-1] < 1e-3


@pytest.mark.parametrize("alternating", [False, True])
def test_wgan_with_clipping_and_wgan_gp_do_not_converge(alternating):
    clipped = trajectory("wgan", steps=1000, lr=0.1, alternating=alternating, clip=0.5)
    assert clipped[1:, 1].abs().max() <= 0.5 and _radius(clipped)[-200:].min() > 0.3
    gp = trajectory("wgan-gp", steps=1000, lr=0.1, alternating=alternating, gamma=1.0)
    assert _radius(gp)[-200:].min() > 0.5


def test_alternating_steps_use_the_updated_discriminator():
    lr, theta, psi = 0.1, 1.0, 1.0
    psi_new = psi + lr * theta  # wgan: v_psi = theta
    theta_new = theta - lr * psi_new  # v_theta = -psi, with the new psi
    assert trajectory("wgan", (theta, psi), steps=1, lr=lr, alternating=True)[1].tolist() == pytest.approx(
        [theta_new, psi_new])
    assert trajectory("wgan", (theta, psi), steps=1, lr=lr)[1].tolist() == pytest.approx([theta - lr * psi, psi + lr])


@pytest.mark.parametrize("call, match", [
    (lambda: vector_field("lsgan", 0.0, 0.0), "'lsgan'.*" + ", ".join(dirac.METHODS)),
    (lambda: vector_field("r1", 0.0, 0.0, gamma=-1.0), "gamma=-1.0"),
    (lambda: trajectory("gan", steps=-1), "steps=-1"),
    (lambda: trajectory("gan", lr=0.0), "lr=0.0"),
    (lambda: trajectory("wgan", clip=0.0), "clip=0.0"),
])
def test_bad_values_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
