import math

import pytest
import torch

from gancourse.data import MixtureSampler, grid_of_gaussians, make_mixture, ring_of_gaussians, spiral, two_moons


def test_ring_centres_are_eight_distinct_points_on_unit_circle():
    ring = ring_of_gaussians()
    assert ring.num_modes == 8 and ring.std == 0.01
    assert torch.allclose(ring.centres.norm(dim=1), torch.ones(8), atol=1e-6)
    # Distinct: the linspace(0, 2*pi, 8) bug would repeat (1, 0).
    pairwise = torch.cdist(ring.centres, ring.centres) + torch.eye(8) * 10
    assert pairwise.min().item() == pytest.approx(2 * math.sin(math.pi / 8), rel=1e-5)
    assert torch.allclose(ring.centres[1], torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)


def test_grid_centres():
    grid = grid_of_gaussians()
    assert grid.std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(int(round(v)) for v in c) for c in grid.centres.tolist()} == expected


@pytest.mark.parametrize("mixture", [ring_of_gaussians(), grid_of_gaussians()])
def test_samples_concentrate_on_centres_with_documented_std(mixture):
    g = torch.Generator().manual_seed(0)
    x = mixture.sample(20000, generator=g)
    dist = torch.cdist(x, mixture.centres)
    nearest = dist.argmin(1)
    offsets = x - mixture.centres[nearest]
    assert offsets.std(0).tolist() == pytest.approx([mixture.std, mixture.std], rel=0.03)
    assert offsets.mean(0).abs().max().item() < 3 * mixture.std / math.sqrt(20000) * 3
    counts = torch.bincount(nearest, minlength=mixture.num_modes).float()
    assert counts.min() > 0.8 * counts.mean()  # equal weights


def test_curves_sample_near_their_curve():
    for mixture in (spiral(), two_moons()):
        x = mixture.sample(5000, generator=torch.Generator().manual_seed(1))
        dist = torch.cdist(x, mixture.centres).min(1).values
        assert dist.median().item() < 2 * mixture.std


def test_moons_have_no_bridge_between_them():
    moons = two_moons(std=1e-4)
    x = moons.sample(20000, generator=torch.Generator().manual_seed(0))
    end_upper, start_lower = moons.centres[99], moons.centres[100]
    midpoint = (end_upper + start_lower) / 2
    assert (x - midpoint).norm(dim=1).min().item() > 0.1


def test_sampler_is_deterministic_and_resumable():
    a = MixtureSampler(grid_of_gaussians(), 32, seed=3)
    b = MixtureSampler(grid_of_gaussians(), 32, seed=3)
    a.sample()
    state = a.state_dict()
    first = a.sample()
    b.load_state_dict(state)
    assert torch.equal(first, b.sample())


def test_unknown_and_bad_parameters():
    with pytest.raises(ValueError, match="'rings'.*ring, grid"):
        make_mixture("rings")
    with pytest.raises(ValueError, match="std=0"):
        ring_of_gaussians(std=0)
    with pytest.raises(ValueError, match="n=0"):
        ring_of_gaussians().sample(0)
