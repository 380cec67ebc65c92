"""Spectral normalisation, the written-out power iteration and the Lipschitz bound (issue 18)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, ring_of_gaussians
from gancourse.lipschitz import lipschitz_estimate
from gancourse.models import build_models
from gancourse.models.spectral import (
    layer_lipschitz_constants,
    lipschitz_upper_bound,
    power_iteration,
    with_spectral_norm,
)
from gancourse.train import Trainer


@pytest.mark.parametrize("shape", [(5, 3), (3, 7), (16, 16), (8, 4, 3, 3)])
def test_power_iteration_finds_the_largest_singular_value(shape):
    W = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=torch.float64)
    exact = torch.linalg.matrix_norm(W.reshape(shape[0], -1), ord=2).item()
    estimates = [power_iteration(W, steps, generator=torch.Generator().manual_seed(1)).item() for steps in (1, 5, 200)]
    assert estimates[-1] == pytest.approx(exact, rel=1e-6)
    assert all(e <= exact * (1 + 1e-9) for e in estimates)  # u^T W v never overshoots
    assert abs(estimates[1] - exact) <= abs(estimates[0] - exact) + 1e-12


def test_power_iteration_refuses_bad_input():
    with pytest.raises(ValueError, match="steps=0"):
        power_iteration(torch.eye(2), 0)
    with pytest.raises(ValueError, match=r">= 2 dimensions"):
        power_iteration(torch.ones(3), 5)


def _mlp_critic(seed=0, width=16):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, 1), nn.Flatten(0))


def test_with_spectral_norm_parametrises_every_weighted_layer_of_a_copy_with_torchs_own_code():
    _, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4, d_norm="none")
    before = {k: v.clone() for k, v in D.state_dict().items()}
    S = with_spectral_norm(D)
    weighted = [m for m in S.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert weighted and all(parametrize.is_parametrized(m, "weight") for m in weighted)
    assert all(type(m.parametrizations.weight[0]).__module__ == "torch.nn.utils.parametrizations" for m in weighted)
    assert not any(parametrize.is_parametrized(m) for m in D.modules())  # the original is untouched
    assert all(torch.equal(v, D.state_dict()[k]) for k, v in before.items())
    for _ in range(30):  # power iteration runs in train-mode forward passes
        S(torch.randn(2, 1, 28, 28))
    S.eval()
    for m in weighted:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=1e-3)


def test_with_spectral_norm_refuses_what_it_cannot_normalise():
    with pytest.raises(ValueError, match="no Linear or Conv"):
        with_spectral_norm(nn.ReLU())
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        with_spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_lipschitz_bound_of_a_hand_built_critic():
    D = nn.Sequential(nn.Linear(2, 2, bias=False), nn.LeakyReLU(0.2), nn.Linear(2, 1, bias=True), nn.Sigmoid())
    with torch.no_grad():
        D[0].weight.copy_(torch.tensor([[0.0, 3.0], [-2.0, 0.0]]))  # singular values 3, 2
        D[2].weight.copy_(torch.tensor([[0.6, 0.8]]))  # norm 1
    assert [c for _, c in layer_lipschitz_constants(D)] == pytest.approx([3.0, 1.0, 1.0, 0.25])
    assert lipschitz_upper_bound(D) == pytest.approx(0.75)


def test_the_bound_holds_for_convolutions_and_needs_the_overlap_factor():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 4, stride=2, padding=1)
    x = torch.zeros(1, 2, 8, 8)
    # The conv's exact operator norm on 8 x 8 inputs, from its Jacobian (bias does not enter).
    J = torch.autograd.functional.jacobian(lambda v: conv(v.view(1, 2, 8, 8)).flatten(), x.flatten())
    exact = torch.linalg.matrix_norm(J, ord=2).item()
    reshaped = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()
    (_, bound), = layer_lipschitz_constants(conv)
    assert bound == pytest.approx(reshaped * 2)  # 4 x 4 kernel, stride 2: each pixel feeds 2 x 2 outputs
    assert exact <= bound * (1 + 1e-6)


@pytest.mark.parametrize("spectral", [False, True], ids=["plain", "spectral-norm"])
def test_the_bound_is_above_the_empirical_slopes(spectral):
    D = _mlp_critic()
    if spectral:
        D = with_spectral_norm(D)
        for _ in range(50):
            D(torch.randn(8, 2))
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(2000, 2, generator=g) * 3, torch.randn(2000, 2, generator=g) * 3
    state = {k: v.clone() for k, v in D.state_dict().items()}
    bound = lipschitz_upper_bound(D)
    assert all(torch.equal(v, D.state_dict()[k]) for k, v in state.items())  # reading the bound changes nothing
    D.eval()
    assert lipschitz_estimate(D, x, y) <= bound
    if spectral:
        assert bound == pytest.approx(1.0, abs=1e-2)


def test_normalisation_layers_have_no_bound():
    _, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4)  # batch norm
    with pytest.raises(ValueError, match="BatchNorm2d.*norm 'none'"):
        lipschitz_upper_bound(D)


def test_a_spectrally_normalised_critic_trains_and_resumes_bit_for_bit(split_and_resume):
    def make():
        torch.manual_seed(0)
        G, D = build_models("mlp", (2,), z_dim=4, width=16)
        cfg = TrainConfig(loss="hinge", z_dim=4, batch_size=32, device="cpu", steps=8, log_every=3)
        return Trainer(G, with_spectral_norm(D), MixtureSampler(ring_of_gaussians(), 32, seed=0), cfg)
    full, resumed = split_and_resume(make, 3)
    resumed.train(progress=False)
    assert any("_u" in k for k in full.D.state_dict())  # the power iteration's state is in the checkpoint
    for a, b in zip(full.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)
    assert full.history == resumed.history
    assert math.isfinite(lipschitz_upper_bound(full.D))
