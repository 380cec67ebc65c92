import math

import pytest
import torch

from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.metrics import mode_coverage
from gancourse.metrics.mixtures import PERFECT_HQ_2D


def test_perfect_sampler_scores_all_modes_and_chi2_hq_fraction():
    grid = grid_of_gaussians()
    x = grid.sample(100_000, generator=torch.Generator().manual_seed(0))
    cov = mode_coverage(x, grid.centres, grid.std)
    assert cov.modes_captured == 25
    assert PERFECT_HQ_2D == pytest.approx(0.98889, abs=1e-5)
    assert cov.hq_fraction == pytest.approx(PERFECT_HQ_2D, abs=0.002)  # not the 1-D 99.7%
    assert cov.reverse_kl < 0.001


def test_single_mode_sampler():
    ring = ring_of_gaussians()
    x = ring.centres[3] + ring.std * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    cov = mode_coverage(x, ring.centres, ring.std)
    assert cov.modes_captured == 1
    assert cov.counts[3] == sum(cov.counts)
    assert cov.reverse_kl == pytest.approx(math.log(8), rel=1e-9)  # KL(delta || uniform over 8)


def test_uniform_noise_is_rarely_high_quality():
    grid = grid_of_gaussians()
    x = torch.rand(2500, 2, generator=torch.Generator().manual_seed(0)) * 12 - 6
    cov = mode_coverage(x, grid.centres, grid.std)
    # Area of 25 discs of radius 0.15 over a 12x12 square: 25*pi*0.0225/144 = 1.23%.
    assert cov.hq_fraction == pytest.approx(25 * math.pi * 0.15 ** 2 / 144, abs=0.007)


def test_hand_checked_counts_and_reverse_kl():
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    # three HQ at mode 0, one HQ at mode 1, one junk sample far from both
    x = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, -0.2], [10.0, 0.25], [5.0, 5.0]])
    cov = mode_coverage(x, centres, std=0.1)
    assert cov.counts == [3, 1]
    assert cov.modes_captured == 2  # one HQ sample is enough to capture a mode
    assert cov.hq_fraction == pytest.approx(4 / 5)
    q = torch.tensor([0.75, 0.25])
    assert cov.reverse_kl == pytest.approx(float((q * (q / 0.5).log()).sum()))


def test_no_hq_sample_gives_infinite_kl_and_zero_modes():
    cov = mode_coverage(torch.full((5, 2), 100.0), ring_of_gaussians().centres, 0.01)
    assert cov.modes_captured == 0 and math.isinf(cov.reverse_kl)
