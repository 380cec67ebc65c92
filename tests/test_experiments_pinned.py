"""The lessons' runners print the same numbers on the same seeds: a few scores at tiny budgets, recorded with the
runners as they were before the experiments wing (issue 27) and pinned here to 1e-6.

The budgets are far too small for the scores to mean anything about the methods; what they pin is the whole path
(seeding, network construction, data stream, evaluation codes, scoring), so any change that moves a lesson's
printed number on its seeds fails here.
"""
import pytest
import torch

from gancourse.data import load_images
from gancourse.experiments.collapse import COLLAPSE_SETUP
from gancourse.experiments.conditional import (
    CONDITIONAL_IMAGE_SETUP,
    GRID_SETUP,
    OVERLAP_SETUP,
    run_conditional_image,
    run_grid_one,
    run_overlap_one,
)
from gancourse.experiments.mixtures import MixtureSetup, run_method
from gancourse.experiments.stabilisers import IMAGE_SETUP, MIXTURE_SETUP, STABILISERS, run_stabiliser_image
from gancourse.metrics import DigitClassifier, extract_features


def close(values, pinned):
    assert [float(v) for v in values] == pytest.approx(pinned, abs=1e-6)


def test_lesson2_benchmark_rows_are_pinned():
    r = run_method("ring", "GAN", COLLAPSE_SETUP.replace(steps=20, samples=500), seed=6, device="cpu")
    close((r.coverage.modes_captured, r.coverage.hq_fraction, r.coverage.reverse_kl),
          [1.0, 0.0020000000949949026, 2.0794415416798357])
    r = run_method("grid", "PacGAN4", MixtureSetup().replace(steps=20, samples=500), seed=6, device="cpu")
    close((r.coverage.modes_captured, r.coverage.hq_fraction, r.coverage.reverse_kl),
          [4.0, 0.012000000104308128, 1.9764224999742006])
    r = run_method("grid", "mixture latent", MixtureSetup().replace(steps=20, samples=500), seed=6, device="cpu")
    close((r.coverage.modes_captured, r.coverage.hq_fraction, r.coverage.reverse_kl),
          [7.0, 0.019999999552965164, 1.3321790402101221])


def test_lesson6_mixture_row_is_pinned():
    r = run_method("ring", STABILISERS["hinge + SN"], MIXTURE_SETUP.replace(steps=20, samples=500), seed=6,
                   device="cpu")
    close((r.coverage.modes_captured, r.coverage.hq_fraction, r.ema_coverage.modes_captured,
           r.ema_coverage.hq_fraction), [1.0, 0.0020000000949949026, 0.0, 0.0])


def test_lesson5_grid_and_overlap_runs_are_pinned():
    g = run_grid_one("concat", GRID_SETUP.replace(steps=20, samples=500), seed=6, device="cpu")
    close((g.coverage.modes_captured, g.coverage.hq_fraction, g.on_requested_mode), [1.0, 0.012000000104308128, 0.04])
    o = run_overlap_one("acgan", OVERLAP_SETUP.replace(steps=20, samples=400), seed=6, device="cpu")
    close((o.w1[0], o.w1[1], o.std[0], o.std[1]),
          [0.8890181076148578, 2.147864920219156, 0.20909571647644043, 0.207783043384552])


def test_lesson5_and_lesson6_image_runs_are_pinned():
    torch.manual_seed(0)
    classifier = DigitClassifier().eval()  # untrained but seeded: the scoring path, not the classifier, is pinned
    images, labels = load_images("digits", train=False)
    keep = torch.cat([torch.nonzero(labels == c)[:5, 0] for c in range(10)]).sort().values
    real_features, real_labels = extract_features(classifier, images[keep].float() / 127.5 - 1), labels[keep]
    c = run_conditional_image("acgan", CONDITIONAL_IMAGE_SETUP.replace(steps=3, width=4, samples=50), seed=6,
                              classifier=classifier, real_features=real_features, real_labels=real_labels,
                              device="cpu")
    close((c.label_accuracy, c.frechet.mean, c.diversity.mean, c.d_label_accuracy),
          [0.1, 1.8573730120474372, 0.0008756285986232766, 0.1])
    s = run_stabiliser_image("NS-GAN", IMAGE_SETUP.replace(steps=3, width=4, samples=50), seed=6,
                             classifier=classifier, real_features=real_features, device="cpu")
    close((s.score.frechet, s.score.precision, s.score.recall, s.score.classes, s.ema_score.frechet),
          [1.8371459038518847, 0.0, 0.0, 0.0, 1.8402074831343886])
