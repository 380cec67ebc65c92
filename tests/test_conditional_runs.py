"""Lesson 5's runner (gancourse.experiments.conditional): the setups are what the notebook says they are, the verdicts
follow the two-standard-error rule, the label blend is CBN with interpolated rows, and the AC-GAN bias run shows
the published sign."""
from __future__ import annotations

import math

import pytest
import torch

from gancourse.experiments.collapse import COLLAPSE_METHODS, COLLAPSE_SETUP
from gancourse.experiments.conditional import (
    CONDITIONAL_IMAGE_SETUP,
    GRID_SETUP,
    OVERLAP_SETUP,
    ConditionalImageResult,
    conditional_generator,
    mix_labels,
    run_grid,
    run_overlap_one,
    score_conditional_images,
)
from gancourse.experiments.core import summarise, verdict
from gancourse.experiments.mixtures import build_mixture_trainer
from gancourse.metrics import DigitClassifier, extract_features
from gancourse.models.conditional import ConditionalBatchNorm2d, ConditionalDCGANGenerator


def test_the_unconditional_grid_run_is_lesson_2s_collapse_setting_step_for_step():
    ours = GRID_SETUP.replace(steps=3).trainer(seed=4, device="cpu", condition="none")
    theirs = build_mixture_trainer("grid", COLLAPSE_METHODS["GAN"], COLLAPSE_SETUP.replace(steps=3), seed=4,
                                   device="cpu")
    for field in ("loss", "lr_g", "lr_d", "beta1", "beta2", "batch_size", "z_dim"):
        assert getattr(ours.cfg, field) == getattr(theirs.cfg, field), field
    ours.train(progress=False), theirs.train(progress=False)
    assert ours.history["loss_d"] == theirs.history["loss_d"]
    for a, b in zip(ours.G.state_dict().values(), theirs.G.state_dict().values()):
        assert torch.equal(a, b)


def test_conditional_grid_run_gets_labelled_networks_and_scores_the_requested_mode():
    (result,) = run_grid(["concat"], [0], GRID_SETUP.replace(steps=2, samples=50), workers=1, device="cpu")
    assert result.method == "concat" and result.labels.tolist() == [i % 25 for i in range(50)]
    grid = GRID_SETUP.replace(steps=1).trainer(device="cpu", condition="concat").sampler.mixture
    nearest = torch.cdist(result.samples, grid.centres).argmin(1)
    assert result.on_requested_mode == pytest.approx((nearest == result.labels).double().mean().item())
    (plain,) = run_grid(["none"], [0], GRID_SETUP.replace(steps=2, samples=50), workers=1, device="cpu")
    assert plain.on_requested_mode is None and plain.labels is None


def test_verdict_is_better_only_beyond_two_standard_errors_of_the_difference():
    se = 1.0 / math.sqrt(2)  # sqrt(se^2 + se^2) = 1: the threshold is a difference of 2
    assert verdict((2.01, se), (0.0, se)) == "better"
    assert verdict((1.99, se), (0.0, se)) == "on par"
    assert verdict((0.0, se), (2.01, se)) == "worse"
    assert verdict((0.0, se), (2.01, se), higher_is_better=False) == "better"
    assert verdict((1.0, float("nan")), (0.0, 0.1)) == "undecided (one run)"
    assert verdict((1.0, 0.1), (0.0, float("nan"))) == "undecided (one run)"  # one seed on the other side


def test_summarise_is_mean_and_standard_error_per_condition():
    runs = [ConditionalImageResult(c, "digits", s, 1.0, acc, {}, {}) for c, s, acc in
            (("acgan", 0, 0.2), ("acgan", 1, 0.4), ("acgan", 2, 0.6), ("projection", 0, 0.9), ("projection", 1, 0.9))]
    table = summarise(runs, {"acc": lambda r: r.label_accuracy})
    assert list(table) == ["acgan", "projection"]
    mean, se = table["acgan"]["acc"]
    assert mean == pytest.approx(0.4) and se == pytest.approx(0.2 / math.sqrt(3))
    assert table["projection"]["acc"] == (pytest.approx(0.9), 0.0)


def test_mix_labels_interpolates_the_batch_norm_rows_and_hits_both_labels_at_the_ends():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(8, width=4, num_classes=10)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.gamma.weight.normal_(1.0, 0.5), m.beta.weight.normal_()
    G.eval()
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.allclose(mix_labels(G, z, 2, 6, 0.0), G(z, torch.full((3,), 2)), atol=1e-6)
        assert torch.allclose(mix_labels(G, z, 2, 6, 1.0), G(z, torch.full((3,), 6)), atol=1e-6)
        # Midway = a G whose class-2 rows hold the average of classes 2 and 6.
        mid = mix_labels(G, z, 2, 6, 0.5)
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.gamma.weight[2] = (m.gamma.weight[2] + m.gamma.weight[6]) / 2
                m.beta.weight[2] = (m.beta.weight[2] + m.beta.weight[6]) / 2
        assert torch.allclose(mid, G(z, torch.full((3,), 2)), atol=1e-6)
        per_row = mix_labels(G, z, 2, 2, torch.tensor([0.0, 0.5, 1.0]))
    assert per_row.shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="one per latent vector"):
        mix_labels(G, z, 0, 1, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels in 0\.\.9"):
        mix_labels(G, z, 0, 10, 0.5)


def test_image_trainer_and_generator_round_trip():
    setup = CONDITIONAL_IMAGE_SETUP.replace(steps=1, width=4, z_dim=8)
    trainer = setup.trainer(device="cpu", condition="acgan")
    assert trainer.cfg.beta1 == 0.0 and trainer.cfg.lr_d == trainer.cfg.lr_g == 1e-3
    assert type(trainer.D).__name__ == "ACGANDiscriminator"
    trainer.train(progress=False)
    G = conditional_generator(ConditionalImageResult("acgan", "digits", 0, 1.0, 0.0, {}, {}, trainer.G.state_dict()),
                              setup)
    z, y = torch.randn(4, 8), torch.tensor([0, 3, 5, 9])
    assert torch.equal(G(z, y), trainer.sample(z=z, y=y))


def test_scores_of_real_images_against_themselves():
    torch.manual_seed(1)
    clf = DigitClassifier()
    images, y = torch.rand(60, 1, 28, 28) * 2 - 1, torch.arange(60) % 10
    acc, fid, div = score_conditional_images(images, y, clf, extract_features(clf, images), y)
    assert fid.mean == pytest.approx(0.0, abs=1e-6) and len(div) == 10 and div.mean > 0
    assert acc == pytest.approx((clf(images).argmax(1) == y).double().mean().item())


def test_acgan_bias_has_the_published_sign_in_the_notebooks_setting():
    # Tuning seed 0 (the notebook reports 6, 7, 8). Measured: AC-GAN class-0 std 0.66 and W1 0.34 / 0.85 per
    # class; projection std 1.02 and W1 0.05 / 0.17.
    acgan = run_overlap_one("acgan", OVERLAP_SETUP, seed=0, device="cpu")
    projection = run_overlap_one("projection", OVERLAP_SETUP, seed=0, device="cpu")
    assert acgan.std[0] < 0.85 and 0.9 < projection.std[0] < 1.1
    assert acgan.w1[0] > 2 * projection.w1[0] and acgan.w1[1] > 2 * projection.w1[1]
    inside = (acgan.samples[acgan.labels == 1].norm(dim=1) < 1.5).double().mean().item()
    assert inside < 0.5 * (1 - math.exp(-1.5 ** 2 / 18))
