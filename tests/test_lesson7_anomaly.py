"""Lesson 7, anomaly detection: AUROC, the four scores and one run on toy data."""
from __future__ import annotations

import pytest
import torch

from gancourse.experiments import anomaly
from gancourse.experiments.anomaly import (
    ANOMALY_SETUP,
    SCORES,
    AnomalyResult,
    Encoder,
    anomaly_summary,
    auroc,
    d_features,
    d_output_score,
    fanogan_score,
    knn_score,
    normal_split,
    pca_score,
    run_anomaly,
    train_encoder,
)
from gancourse.history import TrainingDiverged
from gancourse.metrics import DigitClassifier
from gancourse.models import DCGANDiscriminator, DCGANGenerator


def _pairwise_auroc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    # the definition: P(score of a random anomaly > score of a random normal), ties 1/2
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())


def test_auroc_is_the_share_of_ordered_pairs():
    gen = torch.Generator().manual_seed(0)
    labels = (torch.rand(300, generator=gen) < 0.2).long()
    scores = torch.randn(300, generator=gen) + labels  # anomalies score higher on average
    scores[:20] = scores[20:40]  # and some ties
    assert auroc(scores, labels) == pytest.approx(_pairwise_auroc(scores, labels), abs=1e-6)  # float32 inside
    assert auroc(labels.float(), labels) == 1.0 and auroc(-labels.float(), labels) == 0.0
    with pytest.raises(ValueError, match="at least one of each"):
        auroc(scores, torch.zeros(300, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        auroc(torch.full((300,), float("nan")), labels)


def test_normal_split_leaves_out_exactly_the_anomaly():
    y = torch.arange(100) % 10
    idx = normal_split(y, 4)
    assert len(idx) == 90 and 4 not in y[idx].tolist()
    with pytest.raises(ValueError, match="valid choices: 0, 1, 2"):
        normal_split(y, 10)


def test_pca_score_is_the_distance_to_the_normal_subspace():
    gen = torch.Generator().manual_seed(1)
    basis = torch.linalg.qr(torch.randn(16, 3, generator=gen))[0]  # a 3-d subspace of R^16
    normal = (torch.randn(200, 3, generator=gen) @ basis.T + 2.0).view(200, 1, 4, 4)
    inside = (torch.randn(5, 3, generator=gen) @ basis.T + 2.0).view(5, 1, 4, 4)
    off = torch.randn(5, 16, generator=gen)
    off_part = off - (off @ basis) @ basis.T  # the part orthogonal to the subspace
    assert torch.allclose(pca_score(normal, inside, 3), torch.zeros(5), atol=1e-4)
    shifted = inside.flatten(1) + off_part
    assert torch.allclose(pca_score(normal, shifted.view(5, 1, 4, 4), 3), off_part.pow(2).sum(1), rtol=1e-4)
    with pytest.raises(ValueError, match="components must be between 1 and 16"):
        pca_score(normal, inside, 17)


def test_knn_score_against_brute_force():
    gen = torch.Generator().manual_seed(2)
    ref, q = torch.randn(50, 6, generator=gen), torch.randn(7, 6, generator=gen)
    brute = torch.stack([(ref - row).norm(dim=1).sort().values[:4].mean() for row in q])
    assert torch.allclose(knn_score(ref, q, k=4), brute, atol=1e-5)
    with pytest.raises(ValueError, match="k must be between 1 and 50"):
        knn_score(ref, q, k=51)


def test_fanogan_score_by_hand_and_d_output_is_minus_the_logit():
    torch.manual_seed(0)
    G, D, E = DCGANGenerator(z_dim=4, width=4).eval(), DCGANDiscriminator(width=4).eval(), Encoder(4, 4)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        rebuilt = G(E(x))
        pixels = ((x - rebuilt) ** 2).sum((1, 2, 3)) / 784
        f_x, f_r = d_features(D, x), d_features(D, rebuilt)
        features = ((f_x - f_r) ** 2).sum(1) / f_x.shape[1]
        assert torch.allclose(fanogan_score(x, G, D, E, kappa=0.0), pixels, rtol=1e-5)
        assert torch.allclose(fanogan_score(x, G, D, E, kappa=2.0), pixels + 2 * features, rtol=1e-5)
        assert torch.allclose(d_output_score(D, x), -D(x))


def test_the_encoder_learns_with_g_and_d_frozen():
    torch.manual_seed(0)
    G, D = DCGANGenerator(z_dim=4, width=4), DCGANDiscriminator(width=4)
    G(torch.randn(8, 4))  # one train-mode pass: batch norm's running statistics move off their start
    before = [p.clone() for p in (*G.parameters(), *D.parameters())]
    normal = torch.rand(64, 1, 28, 28) * 2 - 1
    setup = ANOMALY_SETUP.replace(encoder_steps=40, batch_size=16, width=4)
    with torch.no_grad():
        start = fanogan_score(normal, G.eval(), D.eval(), Encoder(4, 4)).mean()
    E = train_encoder(G, D, normal, setup)
    with torch.no_grad():
        assert fanogan_score(normal, G, D, E).mean() < start
    assert all(torch.equal(a, b) for a, b in zip(before, (*G.parameters(), *D.parameters())))
    with pytest.raises(TrainingDiverged, match="loss_e"):
        train_encoder(G, D, normal, setup.replace(encoder_lr=1e30, encoder_steps=5))


def _toy(n: int, seed: int):
    # nine "normal" classes of faint noise and an anomaly class of bright squares
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.randint(0, 30, (n, 1, 28, 28), generator=gen, dtype=torch.uint8)
    images[labels == 7, :, 8:20, 8:20] = 255
    return images, labels


def test_one_run_on_toy_data_scores_every_score(monkeypatch):
    monkeypatch.setattr(anomaly, "load_images", lambda name, train=True: _toy(400 if train else 200, int(train)))
    monkeypatch.setattr(anomaly, "load_classifier", lambda *a, **k: DigitClassifier().eval())
    setup = ANOMALY_SETUP.replace(steps=3, encoder_steps=3, batch_size=16, width=4, components=4, knn_reference=100)
    result = run_anomaly((7, 2, setup))
    assert sorted(result.aurocs) == sorted(SCORES) and (result.anomaly, result.seed) == (7, 2)
    assert all(0.0 <= a <= 1.0 for a in result.aurocs.values())
    assert result.aurocs["PCA"] == 1.0  # bright squares lie far off the noise's principal subspace


def test_summary_per_digit_and_pooled_over_digits_per_seed():
    rs = [AnomalyResult(3, 2, {"PCA": 0.6}), AnomalyResult(5, 2, {"PCA": 0.8}),
          AnomalyResult(3, 3, {"PCA": 0.8}), AnomalyResult(5, 3, {"PCA": 1.0})]
    table = anomaly_summary(rs, ["PCA"])
    assert table[3]["PCA"] == pytest.approx((0.7, 0.1)) and table[5]["PCA"] == pytest.approx((0.9, 0.1))
    assert table["all"]["PCA"] == pytest.approx((0.8, 0.1))  # seed means 0.7 and 0.9
    with pytest.raises(ValueError, match="valid choices: D output, f-AnoGAN, PCA, k-NN"):
        anomaly_summary(rs, ["AnoGAN"])
