"""Wasserstein distances and divergences: closed forms, scipy, and primal = dual."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from gancourse.wasserstein import (
    discrete_divergences,
    earth_movers_distance,
    example1,
    example1_numerical,
    kantorovich_dual,
    shifted_gaussians,
    wasserstein_1d,
    wasserstein_samples,
)


# --- Example 1 ---------------------------------------------------------------------------------------
def test_example1_closed_form_matches_the_paper():
    out = example1(torch.tensor([-0.5, 0.0, 1e-6, 2.0]))
    assert out["W1"].tolist() == pytest.approx([0.5, 0.0, 1e-6, 2.0])
    assert out["JS"].tolist() == pytest.approx([math.log(2), 0.0, math.log(2), math.log(2)])
    assert out["KL"].tolist() == [math.inf, 0.0, math.inf, math.inf]
    assert out["TV"].tolist() == [1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("theta", [-0.7, 0.0, 0.05, 0.3, 1.5])
def test_example1_numerical_agrees_with_the_closed_form(theta):
    numeric = example1_numerical(theta, n=8)
    exact = {k: float(v) for k, v in example1(theta).items()}
    for key in ("W1", "JS", "TV"):
        assert numeric[key] == pytest.approx(exact[key], abs=1e-9), key
    assert numeric["KL"] == exact["KL"]


def test_discrete_divergences_by_hand():
    p, q = torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.25, 0.25, 0.5])
    out = discrete_divergences(p, q)
    assert out["KL"] == pytest.approx(math.log(2))             # 2 * 0.5 log(0.5 / 0.25)
    assert out["TV"] == pytest.approx(0.5)
    m = (p + q) / 2
    kl_p_m = 0.5 * math.log(0.5 / 0.375) * 2
    kl_q_m = 0.25 * math.log(0.25 / 0.375) * 2 + 0.5 * math.log(0.5 / 0.25)
    js = 0.5 * kl_p_m + 0.5 * kl_q_m
    assert float(m.sum()) == pytest.approx(1.0)
    assert out["JS"] == pytest.approx(js)
    assert discrete_divergences(q, p)["KL"] == math.inf        # q has mass where p has none
    with pytest.raises(ValueError, match="probability vector"):
        discrete_divergences(torch.tensor([0.5, 0.6]), torch.tensor([0.5, 0.5]))


def test_shifted_gaussians_quadrature_matches_closed_forms():
    sigma = 0.1
    theta = torch.tensor([0.0, 0.01, 0.05, 0.2, 0.5, 2.0])
    out = shifted_gaussians(theta, sigma)
    assert out["W1"].numpy() == pytest.approx(theta.numpy(), abs=1e-6)
    assert out["KL"].numpy() == pytest.approx((theta ** 2 / (2 * sigma ** 2)).numpy(), rel=1e-5, abs=1e-9)
    tv = torch.erf(theta.double() / (2 * math.sqrt(2) * sigma))
    assert out["TV"].numpy() == pytest.approx(tv.numpy(), abs=1e-6)
    # JS: theta^2 / (8 sigma^2) for small shifts, log 2 when far apart, increasing in between
    assert float(out["JS"][1]) == pytest.approx(0.01 ** 2 / (8 * sigma ** 2), rel=1e-2)
    assert float(out["JS"][-1]) == pytest.approx(math.log(2), abs=1e-6)
    assert bool((out["JS"].diff() > 0).all())


def test_shifted_gaussians_rejects_bad_sigma():
    with pytest.raises(ValueError, match="sigma"):
        shifted_gaussians(0.1, sigma=0.0)


# --- 1-D formula and the linear programs -------------------------------------------------------------
def test_wasserstein_1d_by_hand():
    assert wasserstein_1d([0.0, 1.0], [2.0]) == pytest.approx(1.5)
    assert wasserstein_1d([0.0, 0.0, 3.0], [1.0, 2.0, 3.0]) == pytest.approx((1 + 2 + 0) / 3)
    assert wasserstein_1d([5.0], [5.0]) == 0.0
    with pytest.raises(ValueError, match="at least one"):
        wasserstein_1d([], [1.0])


@pytest.mark.parametrize("seed", range(5))
def test_wasserstein_1d_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=7 + seed), rng.normal(1.0, 2.0, size=5)
    uw, vw = rng.random(len(u)), rng.random(len(v))
    assert wasserstein_1d(u, v) == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-12)
    assert wasserstein_1d(u, v, uw, vw) == pytest.approx(scipy.stats.wasserstein_distance(u, v, uw, vw), rel=1e-12)


def test_emd_by_hand_and_plan_marginals():
    # Move (0.5 at 0, 0.5 at 1) onto (0.25 at 0, 0.75 at 3) on a line.
    x, y = torch.tensor([0.0, 1.0]), torch.tensor([0.0, 3.0])
    a, b = torch.tensor([0.5, 0.5]), torch.tensor([0.25, 0.75])
    t = earth_movers_distance(a, b, (x[:, None] - y[None, :]).abs())
    # 0.25 stays at 0, 0.25 travels 0 -> 3, 0.5 travels 1 -> 3: 0.75 + 1.0
    assert t.distance == pytest.approx(1.75)
    assert t.plan.sum(1).tolist() == pytest.approx(a.tolist())
    assert t.plan.sum(0).tolist() == pytest.approx(b.tolist())
    assert t.plan[0, 0] == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(4))
def test_emd_linear_program_matches_the_1d_formula_and_scipy(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=6), rng.normal(0.5, 1.5, size=4)
    a, b = rng.random(6), rng.random(4)
    a, b = a / a.sum(), b / b.sum()
    lp = earth_movers_distance(a, b, np.abs(x[:, None] - y[None, :])).distance
    assert lp == pytest.approx(wasserstein_1d(x, y, a, b), rel=1e-8)
    assert lp == pytest.approx(scipy.stats.wasserstein_distance(x, y, a, b), rel=1e-8)


def test_emd_between_equal_size_point_clouds_is_the_best_matching():
    # Uniform weights: the optimum is a permutation (Birkhoff), so brute force over matchings agrees.
    import itertools

    rng = np.random.default_rng(3)
    p, q = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    cost = np.linalg.norm(p[:, None] - q[None], axis=-1)
    best = min(sum(cost[i, s[i]] for i in range(5)) for s in itertools.permutations(range(5))) / 5
    assert earth_movers_distance(np.full(5, 0.2), np.full(5, 0.2), cost).distance == pytest.approx(best, rel=1e-9)


def test_emd_rejects_bad_input():
    with pytest.raises(ValueError, match="probability vector"):
        earth_movers_distance([0.5, 0.6], [1.0], [[0.0], [1.0]])
    with pytest.raises(ValueError, match="cost must have shape"):
        earth_movers_distance([1.0], [1.0], [[0.0, 1.0]])


@pytest.mark.parametrize("seed", range(3))
def test_kantorovich_dual_equals_the_primal_and_is_1_lipschitz(seed):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(7, 2))
    a, b = rng.random(7), rng.random(7)
    a[:3] = 0  # P and Q only partly share their support
    a, b = a / a.sum(), b / b.sum()
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    primal = earth_movers_distance(a, b, dist).distance
    value, f = kantorovich_dual(points, a, b)
    assert value == pytest.approx(primal, rel=1e-7)
    f = f.numpy()
    assert value == pytest.approx(float((a - b) @ f), rel=1e-9)   # the value is E_P f - E_Q f
    assert (np.abs(f[:, None] - f[None]) <= dist + 1e-9).all()   # f is 1-Lipschitz
    assert f.min() == pytest.approx(0.0)


def test_kantorovich_dual_critic_in_1d_has_slope_one_where_mass_must_move():
    # P: all mass at 0; Q: all mass at 2; the optimal f decreases with slope 1 from 0 to 2.
    value, f = kantorovich_dual([0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    assert value == pytest.approx(2.0)
    assert f[0] - f[2] == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(3))
def test_wasserstein_samples_equals_the_transport_lp(seed):
    rng = np.random.default_rng(10 + seed)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(12, 2)) + [1.5, 0.0]
    cost = np.linalg.norm(x[:, None] - y[None], axis=-1)
    lp = earth_movers_distance(np.full(12, 1 / 12), np.full(12, 1 / 12), cost).distance
    assert wasserstein_samples(x, y) == pytest.approx(lp, rel=1e-9)


def test_wasserstein_samples_in_1d_is_the_sorted_matching_and_a_shift_costs_its_length():
    rng = np.random.default_rng(4)
    u, v = rng.normal(size=200), 2 * rng.normal(size=200) + 1
    assert wasserstein_samples(u, v) == pytest.approx(wasserstein_1d(u, v), rel=1e-9)
    x = rng.normal(size=(50, 3))
    shift = np.array([3.0, 4.0, 0.0])  # length 5: moving every point by it is optimal (W_1 >= |mean gap| = 5)
    assert wasserstein_samples(x, x + shift) == pytest.approx(5.0, rel=1e-9)
    assert wasserstein_samples(x, x[::-1]) == pytest.approx(0.0, abs=1e-6)  # cdist rounding only


def test_wasserstein_samples_rejects_unequal_samples():
    with pytest.raises(ValueError, match="same shape"):
        wasserstein_samples([[0.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="earth_movers_distance"):
        wasserstein_samples([[0.0, 1.0]], [[0.0, 1.0, 2.0]])
