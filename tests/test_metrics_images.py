"""Image metrics: Frechet distance against scipy and closed forms, class statistics by hand, the
classifier cache, and the evaluator inside a training run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

import gancourse.data
from gancourse.config import TrainConfig
from gancourse.data import TensorSampler
from gancourse.data.digits import render_digits
from gancourse.metrics import (
    DigitClassifier,
    class_coverage,
    class_histogram,
    classifier_accuracy,
    evaluate_images,
    extract_features,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
    image_quality_callback,
    kl_from_uniform,
    load_classifier,
    mean_confidence,
    predict_proba,
    train_classifier,
)
from gancourse.metrics import images as im
from gancourse.models import build_models
from gancourse.train import Trainer


def _random_psd(d: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(d, rank))
    return a @ a.T


def _scipy_frechet(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


# --- Frechet distance -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_frechet_matches_scipy_sqrtm_on_random_gaussians(seed):
    rng = np.random.default_rng(seed)
    d = 3 + seed
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_psd(d, d + 2, rng), _random_psd(d, d + 2, rng)
    ours = frechet_distance(*(torch.from_numpy(a) for a in (mu1, s1, mu2, s2)))
    assert ours == pytest.approx(_scipy_frechet(mu1, s1, mu2, s2), rel=1e-7, abs=1e-9)


def test_frechet_from_features_matches_scipy_on_random_features():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(300, 6)) * 2 + 1
    ref = _scipy_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    ours = frechet_distance_from_features(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert ours == pytest.approx(ref, rel=1e-5)
    # symmetric in its arguments
    swapped = frechet_distance_from_features(torch.from_numpy(b).float(), torch.from_numpy(a).float())
    assert swapped == pytest.approx(ours, rel=1e-6)


def test_frechet_identical_gaussians_is_zero_even_when_singular():
    rng = np.random.default_rng(1)
    s = torch.from_numpy(_random_psd(8, 3, rng))  # rank 3 of 8: sqrt of a singular matrix
    mu = torch.randn(8, dtype=torch.float64)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-6)


def test_frechet_shifted_mean_same_covariance_is_squared_distance():
    s = torch.from_numpy(_random_psd(4, 6, np.random.default_rng(2)))
    mu1, mu2 = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.0, 3.0, 1.0])
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(4.0 + 9.0, rel=1e-9)


def test_frechet_diagonal_covariances_closed_form():
    # For diagonal covariances: sum_i (sqrt(a_i) - sqrt(b_i))^2 + ||mu1 - mu2||^2
    a, b = torch.tensor([1.0, 4.0, 9.0, 0.25]), torch.tensor([4.0, 1.0, 9.0, 1.0])
    mu1, mu2 = torch.zeros(4), torch.tensor([0.0, 0.0, 1.0, 0.0])
    expected = float((a.sqrt() - b.sqrt()).pow(2).sum()) + 1.0  # 1 + 1 + 0 + 0.25 + 1
    assert frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b)) == pytest.approx(expected)
    assert expected == pytest.approx(3.25)


def test_frechet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="same d"):
        frechet_distance_from_features(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(torch.zeros(1, 3))


def test_feature_statistics_is_mean_and_unbiased_covariance():
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 1.0]])
    mu, sigma = feature_statistics(x)
    assert mu.tolist() == pytest.approx([3.0, 1.0])
    assert sigma.numpy() == pytest.approx(np.cov(x.numpy(), rowvar=False))
    assert sigma.dtype == torch.float64


# --- class statistics --------------------------------------------------------------------------------
def test_kl_from_uniform_by_hand():
    assert kl_from_uniform(torch.tensor([10, 10, 10, 10])) == pytest.approx(0.0)
    assert kl_from_uniform(torch.tensor([7, 0, 0, 0, 0])) == pytest.approx(math.log(5))
    # q = (3/4, 1/4), K = 2: 3/4 log(3/2) + 1/4 log(1/2)
    assert kl_from_uniform(torch.tensor([3, 1])) == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    with pytest.raises(ValueError):
        kl_from_uniform(torch.tensor([0, 0]))


def test_histogram_coverage_and_confidence_by_hand():
    probs = torch.tensor([[0.95, 0.05, 0.0], [0.10, 0.85, 0.05], [0.92, 0.04, 0.04], [0.2, 0.2, 0.6]])
    assert class_histogram(probs).tolist() == [2, 1, 1]
    assert class_coverage(probs) == 1            # only class 0 is ever predicted with p >= 0.9
    assert class_coverage(probs, threshold=0.5) == 3
    assert mean_confidence(probs) == pytest.approx((0.95 + 0.85 + 0.92 + 0.6) / 4)
    with pytest.raises(ValueError, match="threshold"):
        class_coverage(probs, threshold=0.0)


# --- the classifier ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_digits():
    x, y = render_digits(700, seed=11)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def test_a_few_hundred_steps_learn_the_digits(small_digits):
    torch.set_num_threads(1)
    x, y = small_digits
    model = train_classifier(x[:500], y[:500], steps=80, batch_size=64, device="cpu")
    accuracy = classifier_accuracy(model, x[500:], y[500:])
    assert accuracy > 0.6, accuracy  # chance is 0.1
    # uint8 and [-1, 1] float inputs are the same images to the classifier
    p_uint8 = predict_proba(model, x[500:520])
    p_float = predict_proba(model, x[500:520].float() / 127.5 - 1)
    assert torch.allclose(p_uint8, p_float, atol=1e-5)


def test_train_classifier_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        train_classifier(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long), device="cpu")
    with pytest.raises(ValueError, match="labels"):
        train_classifier(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), torch.zeros(3, dtype=torch.long), device="cpu")


def test_classifier_shapes_for_colour_images():
    net = DigitClassifier((3, 32, 32), num_classes=10, feature_dim=32)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert net.features(torch.zeros(2, 3, 32, 32)).shape == (2, 32)
    with pytest.raises(ValueError, match="multiples of 4"):
        DigitClassifier((1, 30, 30))


def test_load_classifier_trains_once_then_loads_the_cache(small_digits, monkeypatch, capsys):
    x, y = small_digits

    def fake_load_images(name, train=True, root=None):
        assert name == "digits"
        return (x[:500], y[:500]) if train else (x[500:], y[500:])

    monkeypatch.setattr(gancourse.data, "load_images", fake_load_images)
    first = load_classifier("digits", device="cpu", steps=5)
    path = im.classifier_path("digits", steps=5)
    assert path.is_file() and path.name == f"classifier_digits_v{im.CLASSIFIER_VERSION}_steps5.pt"
    assert not im.classifier_path("digits").exists()  # the full classifier's cache is a different file
    assert first.dataset == "digits" and 0.0 <= first.test_accuracy <= 1.0
    assert "test accuracy" in capsys.readouterr().out

    def boom(*args, **kwargs):
        raise AssertionError("trained again although a cache exists")

    real_train = im.train_classifier
    monkeypatch.setattr(im, "train_classifier", boom)
    second = load_classifier("digits", device="cpu", steps=5)
    probe = x[600:610]
    assert torch.equal(predict_proba(first, probe), predict_proba(second, probe))
    assert second.test_accuracy == first.test_accuracy

    # A corrupt cache is reported and rebuilt, never used.
    path.write_bytes(b"not a checkpoint")
    monkeypatch.setattr(im, "train_classifier", real_train)
    third = load_classifier("digits", device="cpu", steps=5)
    assert "retraining" in capsys.readouterr().out
    assert third.dataset == "digits"


def test_load_classifier_rejects_2d_datasets():
    with pytest.raises(ValueError, match="not an image dataset"):
        load_classifier("ring")


# --- the evaluator ---------------------------------------------------------------------------------------
def test_evaluate_images_on_real_images_against_their_own_features(small_digits):
    torch.manual_seed(0)
    x, _ = small_digits
    clf = DigitClassifier(feature_dim=16)
    images = x[:200].float() / 127.5 - 1
    quality = evaluate_images(images, clf, real_features=extract_features(clf, images))
    assert quality.frechet == pytest.approx(0.0, abs=1e-6)  # identical sets
    probs = predict_proba(clf, images)
    assert quality.n == 200 and sum(quality.class_counts) == 200
    assert quality.class_counts == class_histogram(probs).tolist()
    assert quality.kl_uniform == pytest.approx(kl_from_uniform(torch.tensor(quality.class_counts)))
    assert quality.mean_confidence == pytest.approx(mean_confidence(probs), rel=1e-6)
    assert f"{quality.kl_uniform:.3f}" in str(quality) and "\n" not in str(quality)
    # uint8 pixels are the same images as their [-1, 1] floats
    from_uint8 = evaluate_images(x[:200], clf, real_features=extract_features(clf, images))
    assert from_uint8.class_counts == quality.class_counts and from_uint8.frechet == pytest.approx(0.0, abs=1e-6)
    # a different set of images is farther away than the same set
    noise = torch.rand(200, 1, 28, 28) * 2 - 1
    assert evaluate_images(noise, clf, real_features=extract_features(clf, images)).frechet > 0.01


def test_recognisable_needs_confidence_and_all_classes():
    base = dict(n=100, num_classes=10, class_counts=[10] * 10, kl_uniform=0.0, mean_confidence=0.95)
    assert im.ImageQuality(classes_covered=10, confident_fraction=0.85, **base).recognisable
    assert not im.ImageQuality(classes_covered=9, confident_fraction=0.85, **base).recognisable
    assert not im.ImageQuality(classes_covered=10, confident_fraction=0.75, **base).recognisable


def test_evaluate_images_rejects_wrong_shapes():
    clf = DigitClassifier()
    with pytest.raises(ValueError, match="do not fit"):
        evaluate_images(torch.zeros(4, 3, 32, 32), clf, real_features=torch.zeros(4, 128))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        evaluate_images(torch.zeros(4, 784), clf)


def test_callback_scores_every_k_steps_during_training(small_digits):
    torch.manual_seed(0)
    x, _ = small_digits
    clf = DigitClassifier(feature_dim=8)
    real = extract_features(clf, x[:64])
    cfg = TrainConfig(steps=6, batch_size=16, z_dim=8, device="cpu", log_every=1)
    G, D = build_models("mlp", (1, 28, 28), z_dim=8, width=32)
    callback = image_quality_callback(clf, every=2, n=64, verbose=False, real_features=real)
    Trainer(G, D, TensorSampler(x, 16), cfg, callbacks=[callback]).train(progress=False)
    assert [step for step, _ in callback.results] == [2, 4, 6]
    table = callback.table()
    assert table["step"] == [2, 4, 6] and len(table["frechet"]) == 3
    assert all(q.n == 64 for _, q in callback.results)
    with pytest.raises(ValueError, match="every"):
        image_quality_callback(clf, every=0)


def test_no_classifier_for_a_folder_of_ones_own_images(tmp_path):
    with pytest.raises(ValueError, match=r"no classifier for 'folder:.*classifiers exist for .*digits"):
        load_classifier(f"folder:{tmp_path}", device="cpu")
    with pytest.raises(ValueError, match="no classifier for"):
        im.classifier_path(f"folder:{tmp_path}")
