"""k-NN precision / recall (Kynkaanniemi et al. 2019) and density / coverage (Naeem et al. 2020), issue 18."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gancourse.metrics as metrics
from gancourse.metrics import manifold
from gancourse.metrics.manifold import density_coverage, knn_radii, manifold_metrics, precision_recall

CENTRES = torch.tensor([[10.0 * i, 10.0 * j, 0.0, 0.0] for i in range(4) for j in range(4)])  # 16 clusters in 4-D


def _clusters(n, seed, keep=None, noise=0.5):
    g = torch.Generator().manual_seed(seed)
    centres = CENTRES if keep is None else CENTRES[keep]
    labels = torch.randint(0, len(centres), (n,), generator=g)
    return centres[labels] + noise * torch.randn(n, CENTRES.shape[1], generator=g)


def _reference(real, fake, k):
    """Brute force in numpy, from the papers' definitions (independent of the package's blocks)."""
    x, y = real.double().numpy(), fake.double().numpy()
    dxx = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    dyy = np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))
    dyx = np.sqrt(((y[:, None] - x[None]) ** 2).sum(-1))
    rx, ry = np.sort(dxx, 1)[:, k], np.sort(dyy, 1)[:, k]
    precision = np.mean([(dyx[j] <= rx).any() for j in range(len(y))])
    recall = np.mean([(dyx[:, i] <= ry).any() for i in range(len(x))])
    density = (dyx <= rx[None]).sum() / (k * len(y))
    coverage = np.mean([(dyx[:, i] <= rx[i]).any() for i in range(len(x))])
    return precision, recall, density, coverage


def test_a_tiny_case_computed_by_hand():
    real = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    fake = torch.tensor([[0.5, 0.0], [0.0, 3.5], [5.0, 5.0]])
    # Real 1-NN radii: |(0,0)-(1,0)| = 1, 1, |(0,2)-(0,0)| = 2.
    assert knn_radii(real, k=1).tolist() == [1.0, 1.0, 2.0]
    # Fake (0.5, 0) is in balls 0 and 1; (0, 3.5) is 1.5 from (0, 2): in ball 2; (5, 5) in none.
    p, _ = precision_recall(real, fake, k=1)
    d, c = density_coverage(real, fake, k=1)
    assert p == pytest.approx(2 / 3)
    assert d == pytest.approx((2 + 1 + 0) / (1 * 3))
    assert c == pytest.approx(1.0)  # nearest fakes: 0.5, 0.5, 1.5, each within its real's radius
    # Fake 1-NN radii: |(0.5,0)-(0,3.5)| = sqrt(12.5) ~ 3.54 twice, |(0,3.5)-(5,5)| ~ 5.22: every real is covered.
    assert precision_recall(real, fake, k=1)[1] == 1.0


def test_matches_a_brute_force_reference_and_does_not_depend_on_the_block_size(monkeypatch):
    real, fake = _clusters(300, 0), _clusters(200, 1, noise=1.5)
    expected = _reference(real, fake, 3)
    got = manifold_metrics(real, fake, k=3, k_dc=3)
    assert (got.precision, got.recall, got.density, got.coverage) == pytest.approx(expected, abs=1e-12)
    monkeypatch.setattr(manifold, "_BLOCK_ELEMENTS", 1000)  # blocks of 3-5 rows
    small = manifold_metrics(real, fake, k=3, k_dc=3)
    assert small == got


def test_real_against_real_is_near_one():
    m = manifold_metrics(_clusters(2000, 0), _clusters(2000, 1))
    assert m.precision > 0.9 and m.recall > 0.9 and m.coverage > 0.9  # k = 3 balls miss a few points
    assert 0.85 < m.density < 1.15


def test_a_generator_that_drops_half_the_clusters_loses_recall_and_coverage_not_precision():
    real = _clusters(2000, 0)
    fake = _clusters(2000, 1, keep=list(range(8)))
    m = manifold_metrics(real, fake)
    assert m.precision > 0.9 and m.density > 0.85
    assert 0.4 < m.recall < 0.6 and 0.4 < m.coverage < 0.6


def test_a_generator_that_blurs_loses_precision_and_density():
    real = _clusters(2000, 0)
    blurred = _clusters(2000, 1, noise=4.0)
    m, base = manifold_metrics(real, blurred), manifold_metrics(real, _clusters(2000, 1))
    assert m.precision < 0.5 * base.precision and m.density < 0.3 * base.density


def test_ten_thousand_points_fit_in_blocks():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(10_000, 8, generator=g), torch.randn(10_000, 8, generator=g)
    assert manifold._BLOCK_ELEMENTS * 8 <= 256 * 2**20  # one block of float64 distances: at most 256 MB
    m = manifold_metrics(x, y)
    assert m.precision > 0.8 and m.recall > 0.8


@pytest.mark.parametrize("call, match", [
    (lambda: precision_recall(torch.zeros(5), torch.zeros(5, 1)), r"real must be .*\(N, F\)"),
    (lambda: precision_recall(torch.zeros(5, 2), torch.zeros(5, 3)), "differ in width: 2 vs 3"),
    (lambda: precision_recall(torch.zeros(3, 2), torch.zeros(9, 2), k=3), "k=3 needs more than k points in real"),
    (lambda: density_coverage(torch.zeros(9, 2), torch.zeros(9, 2), k=0), "k=0"),
    (lambda: knn_radii(torch.tensor([[float("nan")], [0.0]]), k=1), "NaN"),
    (lambda: knn_radii([[0.0]], k=1), "list"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_exported_from_gancourse_metrics():
    assert metrics.manifold_metrics is manifold_metrics and "precision_recall" in metrics.__all__
