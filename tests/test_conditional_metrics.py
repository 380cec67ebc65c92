"""Lesson 5's measures of conditional generators, checked against numbers worked out by hand."""
from __future__ import annotations

import math

import pytest
import torch

from gancourse import metrics
from gancourse.metrics import (
    PerClass,
    intra_class_diversity,
    intra_class_frechet,
    label_accuracy,
    per_class_wasserstein_1d,
    wasserstein_1d,
)
from gancourse.wasserstein import wasserstein_1d as cdf_wasserstein


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- label accuracy ---------------------------------------------------------------------------------------

def test_label_accuracy_counts_the_requested_label_as_top_class():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    asked = torch.tensor([0, 2, 0, 2, 1])
    # right: 0 (0.7), 2 (0.8), 1 (1.0); wrong: 0.4 goes to class 1, a 0.5 / 0.5 tie goes to the lower class 0
    assert label_accuracy(probs, asked) == pytest.approx(3 / 5)


def test_label_accuracy_is_the_same_on_logits_and_on_their_softmax():
    logits = torch.randn(200, 10, generator=_gen(1))
    labels = torch.randint(0, 10, (200,), generator=_gen(2))
    labels[:100] = logits[:100].argmax(1)  # at least half right
    acc = label_accuracy(logits, labels)
    assert acc == label_accuracy(logits.softmax(1), labels) >= 0.5
    assert acc == pytest.approx(float((logits.argmax(1) == labels).float().mean()))


def test_label_accuracy_with_the_lesson3_classifier_probabilities():
    clf = metrics.DigitClassifier()
    images = torch.rand(6, 1, 28, 28, generator=_gen(3)) * 2 - 1
    probs = metrics.predict_proba(clf, images)
    top = probs.argmax(1)
    assert label_accuracy(probs, top) == 1.0
    assert label_accuracy(probs, (top + 1) % 10) == 0.0
    assert label_accuracy(probs, top) == metrics.classifier_accuracy(clf, images, top)


@pytest.mark.parametrize("probs, labels, message", [
    (torch.rand(4, 3), torch.tensor([0, 1, 3, 0]), "label 3, but the classifier has 3 classes .*0..2"),
    (torch.rand(4, 3), torch.tensor([0, 1, -1, 0]), "negative label -1"),
    (torch.rand(4, 3), torch.tensor([0, 1, 2]), "one label per sample \\(4\\)"),
    (torch.rand(4, 3), torch.tensor([0.0, 1.0, 2.0, 0.0]), "integer class labels"),
    (torch.rand(4), torch.tensor([0, 1, 2, 0]), "\\(N, K\\)"),
    (torch.randint(0, 3, (4, 3)), torch.tensor([0, 1, 2, 0]), "floating-point"),
])
def test_label_accuracy_bad_input_is_a_clear_error(probs, labels, message):
    with pytest.raises(ValueError, match=message):
        label_accuracy(probs, labels)


# --- intra-class Frechet distance --------------------------------------------------------------------------

def test_intra_class_frechet_by_hand():
    # class 0: real {0, 2} vs fake {1, 3} in 1-D: same variance (2), means 1 vs 2 -> d^2 = 1
    # class 1: real {0, 2} vs fake {0, 4}: means 1 vs 2, variances 2 vs 8: 1 + 2 + 8 - 2 sqrt(16) = 3
    real = torch.tensor([[0.0], [2.0], [0.0], [2.0]])
    real_y = torch.tensor([0, 0, 1, 1])
    fake = torch.tensor([[1.0], [0.0], [3.0], [4.0]])
    fake_y = torch.tensor([0, 1, 0, 1])
    d = intra_class_frechet(real, real_y, fake, fake_y)
    assert isinstance(d, PerClass) and sorted(d) == [0, 1]
    assert d[0] == pytest.approx(1.0) and d[1] == pytest.approx(3.0) and d.mean == pytest.approx(2.0)


def test_intra_class_frechet_is_per_class_not_pooled():
    # fakes with the labels swapped: pooled over classes the two sets are identical (Frechet 0),
    # but each class is compared with the other class's real features
    real = torch.cat([torch.randn(300, 3, generator=_gen(4)), torch.randn(300, 3, generator=_gen(5)) + 4.0])
    labels = torch.cat([torch.zeros(300, dtype=torch.long), torch.ones(300, dtype=torch.long)])
    assert metrics.frechet_distance_from_features(real, real) == pytest.approx(0.0, abs=1e-9)
    same = intra_class_frechet(real, labels, real, labels)
    assert same.mean == pytest.approx(0.0, abs=1e-9)
    swapped = intra_class_frechet(real, labels, real, 1 - labels)
    assert swapped[0] > 40 and swapped[1] > 40  # ||(4, 4, 4)||^2 = 48, up to sampling noise in the means


def test_intra_class_frechet_classes_selects_and_too_few_samples_is_a_clear_error():
    real = torch.randn(10, 2, generator=_gen(6))
    real_y = torch.tensor([0] * 5 + [1] * 4 + [2])
    fake_y = torch.tensor([0] * 5 + [1] * 5)
    with pytest.raises(ValueError, match="class 2 has 1 real sample.*at least 2 per class"):
        intra_class_frechet(real, real_y, real, fake_y)
    d = intra_class_frechet(real, real_y, real, fake_y, classes=[0, 1])
    assert sorted(d) == [0, 1] and d[0] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="class 7 has 0 real"):
        intra_class_frechet(real, real_y, real, fake_y, classes=[7])
    with pytest.raises(ValueError, match="same dimension"):
        intra_class_frechet(real, real_y, torch.randn(10, 3), fake_y)


# --- intra-class diversity ---------------------------------------------------------------------------------

def test_intra_class_diversity_is_zero_for_identical_copies():
    one = torch.randn(1, 8, generator=_gen(7))
    feats = torch.cat([one.expand(20, 8), torch.randn(20, 8, generator=_gen(8))])
    labels = torch.tensor([3] * 20 + [5] * 20)
    div = intra_class_diversity(feats, labels)
    assert sorted(div) == [3, 5]
    assert div[3] == 0.0  # the class collapsed to one drawing
    assert div[5] > 1.0


def test_intra_class_diversity_two_clusters_by_hand():
    # class 0: (0, 0), (3, 4): one pair, 5 apart. class 1: (0, 0), (1, 0), (0, 1): pairs 1, 1, sqrt 2
    feats = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0], [11.0, 10.0], [10.0, 11.0]])
    labels = torch.tensor([0, 0, 1, 1, 1])
    div = intra_class_diversity(feats, labels)
    assert div[0] == pytest.approx(5.0)
    assert div[1] == pytest.approx((2 + math.sqrt(2)) / 3)
    assert div.mean == pytest.approx((5.0 + (2 + math.sqrt(2)) / 3) / 2)


def test_intra_class_diversity_blocks_agree_with_the_full_matrix(monkeypatch):
    from gancourse.metrics import conditional

    x = torch.randn(50, 4, generator=_gen(9), dtype=torch.float64)
    labels = torch.zeros(50, dtype=torch.long)
    pairs = torch.pdist(x)  # each pair once
    full = intra_class_diversity(x, labels)[0]
    monkeypatch.setattr(conditional, "_BLOCK_ROWS", 7)  # 50 rows in 8 blocks, the last one short
    assert intra_class_diversity(x, labels)[0] == pytest.approx(full) == pytest.approx(float(pairs.mean()))


def test_intra_class_diversity_needs_two_samples_per_class():
    with pytest.raises(ValueError, match="class 1 has 1 sample\\(s\\); .* at least 2"):
        intra_class_diversity(torch.randn(3, 2), torch.tensor([0, 0, 1]))


# --- 1-D Wasserstein --------------------------------------------------------------------------------------

def test_wasserstein_1d_equal_sizes_by_hand():
    # sorted a = (0, 1, 5), sorted b = (1, 2, 2): (1 + 1 + 3) / 3
    assert wasserstein_1d(torch.tensor([5.0, 0.0, 1.0]), torch.tensor([2.0, 1.0, 2.0])) == pytest.approx(5 / 3)
    assert wasserstein_1d(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])) == 0.0  # a permutation


def test_wasserstein_1d_unequal_sizes_by_hand():
    # a = {0, 2}, b = {1}: F_a - F_b is 1/2 on [0, 1) and -1/2 on [1, 2): integral 1/2 + 1/2 = 1
    assert wasserstein_1d(torch.tensor([0.0, 2.0]), torch.tensor([1.0])) == pytest.approx(1.0)
    # a = {0, 1, 2}, b = {0, 3}: |F_a - F_b| = 1/6 on [0, 1), 1/6 on [1, 2), 1/2 on [2, 3): integral 5/6
    assert wasserstein_1d(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.0, 3.0])) == pytest.approx(5 / 6)


@pytest.mark.parametrize("c", [0.0, 0.5, -3.0, 10.0])
def test_wasserstein_1d_of_a_shift_is_the_shift(c):
    x = torch.randn(500, generator=_gen(10), dtype=torch.float64)
    assert wasserstein_1d(x, x + c) == pytest.approx(abs(c), abs=1e-12)
    assert wasserstein_1d(x[:300], x[:300] + c) == pytest.approx(abs(c), abs=1e-12)
    assert wasserstein_1d(x[:300], torch.cat([x[:300], x[:300]]) + c) == pytest.approx(abs(c), abs=1e-9)


def test_wasserstein_1d_matches_the_cdf_formula_and_scipy():
    a = torch.randn(200, generator=_gen(11), dtype=torch.float64)
    b = 2 * torch.randn(200, generator=_gen(12), dtype=torch.float64) + 1
    assert wasserstein_1d(a, b) == pytest.approx(cdf_wasserstein(a, b), rel=1e-12)
    stats = pytest.importorskip("scipy.stats")
    for x, y in ((a, b), (a, b[:77]), (a[:1], b)):
        assert wasserstein_1d(x, y) == pytest.approx(stats.wasserstein_distance(x.numpy(), y.numpy()), rel=1e-10)


@pytest.mark.parametrize("a, message", [
    (torch.zeros(0), "non-empty 1-D"),
    (torch.zeros(3, 2), "non-empty 1-D.*projection"),
    (torch.tensor([0.0, float("nan")]), "finite"),
])
def test_wasserstein_1d_bad_input(a, message):
    with pytest.raises(ValueError, match=message):
        wasserstein_1d(a, torch.zeros(3))


def test_wasserstein_1d_accepts_a_column():
    assert wasserstein_1d(torch.tensor([[0.0], [1.0]]), torch.tensor([1.0, 2.0])) == pytest.approx(1.0)


# --- per-class 1-D Wasserstein (the AC-GAN bias demo) --------------------------------------------------------

def test_per_class_wasserstein_1d_by_hand():
    # class 0: real (-1, 0, 1), fakes (-2, -1, 0) pushed left by 1: W1 = 1 (equal sizes)
    real = torch.tensor([-1.0, 0.0, 1.0, 1.0, 2.0])
    real_y = torch.tensor([0, 0, 0, 1, 1])
    fake = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0, 1.0, 2.0])
    fake_y = torch.tensor([0, 0, 0, 1, 1, 1, 1])  # class 1's fakes {1, 2, 1, 2}: the same distribution as reals
    d = per_class_wasserstein_1d(real, real_y, fake, fake_y)
    assert d[0] == pytest.approx(1.0) and d[1] == pytest.approx(0.0) and d.mean == pytest.approx(0.5)


def test_per_class_wasserstein_sees_classes_pushed_apart_from_an_overlap():
    # two overlapping class-conditionals N(-1, 1) and N(1, 1); a biased G moves each class 0.5 away from 0
    z = torch.randn(2000, generator=_gen(13), dtype=torch.float64)
    labels = torch.arange(2000) % 2
    real = z + torch.where(labels == 0, -1.0, 1.0)
    biased = real + torch.where(labels == 0, -0.5, 0.5)
    d = per_class_wasserstein_1d(real, labels, biased, labels)
    assert d[0] == pytest.approx(0.5) and d[1] == pytest.approx(0.5)
    assert per_class_wasserstein_1d(real, labels, real, labels).mean == 0.0


def test_per_class_wasserstein_needs_fakes_of_every_real_class():
    with pytest.raises(ValueError, match="class 1 has 0 generated sample\\(s\\)"):
        per_class_wasserstein_1d(torch.zeros(4), torch.tensor([0, 0, 1, 1]), torch.zeros(2), torch.tensor([0, 0]))


def test_per_class_mean_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        PerClass().mean  # noqa: B018
