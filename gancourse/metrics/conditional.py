"""Measures for conditional generators (lesson 5): does G draw the class it was asked for, and how well?

All are pure functions of tensors (no training, no networks inside), so a notebook computes the
classifier's probabilities and features once (``metrics.predict_proba``, ``metrics.extract_features``)
and reads every number off them:

- ``label_accuracy``: the share of generated images the classifier assigns to the requested label;
- ``intra_class_frechet``: the Frechet distance computed class by class on classifier features, the
  "intra-class FID" of Miyato & Koyama 2018 (Sec. 5.1), averaged over classes;
- ``intra_class_diversity``: the mean pairwise distance between the feature vectors of one class, which
  falls to 0 when a class collapses to one drawing;
- ``wasserstein_1d`` and ``per_class_wasserstein_1d``: the exact 1-D Wasserstein distance between a
  generated and a true class-conditional, for the AC-GAN bias demo (Shu et al. 2017; Gong et al. 2019).

The per-class functions return a ``PerClass``: a ``dict`` {class: value} whose ``mean`` is the average
over its classes (each class counts once, whatever its number of samples).
"""
from __future__ import annotations

import torch

from .images import frechet_distance_from_features

__all__ = ["PerClass", "label_accuracy", "intra_class_frechet", "intra_class_diversity", "wasserstein_1d",
           "per_class_wasserstein_1d", "MIN_PER_CLASS"]

MIN_PER_CLASS = 2
"""Fewest samples of one class the per-class measures accept: a covariance, a pairwise distance and a
distance between two samples of one class each need at least two points (``wasserstein_1d`` needs one)."""

_BLOCK_ROWS = 1024  # rows of a pairwise distance block: 1024 x N float64


class PerClass(dict):
    """{class label: value}, with ``mean``: the unweighted average over the classes present.

    Example:
        >>> scores = PerClass({0: 1.0, 1: 3.0})
        >>> scores[1], scores.mean
        (3.0, 2.0)
    """

    @property
    def mean(self) -> float:
        if not self:
            raise ValueError("no classes: the mean of an empty PerClass is undefined")
        return sum(self.values()) / len(self)


def _labels(labels, n: int, name: str) -> torch.Tensor:
    """``labels`` as a 1-D int64 CPU tensor of length ``n`` with values >= 0 (a clear error otherwise)."""
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    if labels.dim() != 1 or len(labels) != n:
        raise ValueError(f"{name} must be a 1-D tensor with one label per sample ({n}), got shape "
                         f"{tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    labels = labels.detach().cpu().long()
    if n and int(labels.min()) < 0:
        raise ValueError(f"{name} holds the negative label {int(labels.min())}; class labels are 0..K-1")
    return labels


def _features(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a feature tensor of shape (N, d) with d >= 1, got {got}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return x.detach().cpu().double()


def _classes(classes, present: torch.Tensor) -> list[int]:
    if classes is None:
        return sorted(int(c) for c in present.unique())
    chosen = [classes] if isinstance(classes, int) else list(classes)
    bad = [c for c in chosen if isinstance(c, bool) or not isinstance(c, int) or c < 0]
    if bad:
        raise ValueError(f"classes must be class labels (integers >= 0), got {bad}")
    return sorted(set(chosen))


def _check_count(count: int, needed: int, cls: int, which: str, what: str, fix: str = "Generate more samples of it") \
        -> None:
    if count < needed:
        samples = f"{which} sample(s)" if which else "sample(s)"
        raise ValueError(f"class {cls} has {count} {samples}; {what} needs at least {needed} per class. {fix}")


# --- label accuracy -------------------------------------------------------------------------------------------

def label_accuracy(classifier_probs_or_logits: torch.Tensor, requested_labels) -> float:
    """Share of generated images whose top class (by the classifier) is the label G was asked for:

        acc = 1/N sum_i 1[argmax_k p(k | G(z_i, y_i)) = y_i]

    Takes class probabilities (``metrics.predict_proba``) or raw logits (N, K): the argmax is the same.
    A tie goes to the lower class, as ``torch.argmax`` decides. For an unconditional G the number is
    meaningless; a conditional G that ignores its label scores about 1/K.

    Example:
        >>> from gancourse.metrics import DigitClassifier, predict_proba
        >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
        >>> label_accuracy(probs, torch.tensor([0, 1, 1, 1]))  # the third asked for 1 but looks like 0
        0.75
        >>> p = predict_proba(DigitClassifier(), torch.zeros(4, 1, 28, 28))  # the usual way to get probs
        >>> label_accuracy(p, torch.arange(4)) in (0.0, 0.25)  # 4 equal images: at most one label can match
        True
    """
    probs = classifier_probs_or_logits
    if not isinstance(probs, torch.Tensor) or probs.dim() != 2 or len(probs) == 0 or probs.shape[1] < 2:
        got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
        raise ValueError(f"classifier_probs_or_logits must be (N, K) with N >= 1 and K >= 2 classes, got {got}")
    if probs.is_complex() or not probs.dtype.is_floating_point:
        raise ValueError(f"classifier_probs_or_logits must be floating-point, got dtype {probs.dtype}")
    if torch.isnan(probs).any():
        raise ValueError("classifier_probs_or_logits holds NaN")
    labels = _labels(requested_labels, len(probs), "requested_labels")
    k = probs.shape[1]
    if int(labels.max()) >= k:
        raise ValueError(f"requested_labels holds label {int(labels.max())}, but the classifier has {k} classes "
                         f"(valid labels: 0..{k - 1})")
    return float((probs.detach().cpu().argmax(1) == labels).double().mean())


# --- intra-class Frechet distance ------------------------------------------------------------------------------

def intra_class_frechet(real_features: torch.Tensor, real_labels, fake_features: torch.Tensor, fake_labels,
                        classes=None) -> PerClass:
    """The Frechet distance between real and generated features of each class (Miyato & Koyama 2018, Sec. 5.1):

        d_c^2 = ||mu_c - mu'_c||^2 + Tr(S_c + S'_c - 2 (S_c^1/2 S'_c S_c^1/2)^1/2)

    with mean and covariance (mu_c, S_c) of the real features of class c and (mu'_c, S'_c) of the fakes
    generated *for* class c (``fake_labels`` are the requested labels, not the classifier's guesses).
    ``.mean`` of the result is the paper's intra-class FID. On lesson 3's classifier's features, not
    Inception's, so the numbers compare models within this course, not with published FIDs. A class
    needs at least ``MIN_PER_CLASS`` samples on both sides; the distance is biased upwards for few samples
    (Chong & Forsyth 2020), so compare models at equal sample counts. ``classes``: which labels to
    measure (default: every label in ``real_labels``).

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> real = torch.randn(400, 2, generator=gen)
        >>> labels = torch.arange(400) % 2
        >>> fake = real + 3.0 * labels[:, None]  # class 0 reproduced exactly, class 1 shifted by (3, 3)
        >>> d = intra_class_frechet(real, labels, fake, labels)
        >>> round(d[0], 6), round(d[1], 6), round(d.mean, 6)  # 0, ||(3, 3)||^2 = 18, their average
        (0.0, 18.0, 9.0)
    """
    real = _features(real_features, "real_features")
    fake = _features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features must have the same dimension, got {real.shape[1]} and "
                         f"{fake.shape[1]}")
    real_y = _labels(real_labels, len(real), "real_labels")
    fake_y = _labels(fake_labels, len(fake), "fake_labels")
    result = PerClass()
    for c in _classes(classes, real_y):
        r, f = real[real_y == c], fake[fake_y == c]
        fix = "Use more samples of it, or leave it out with classes=[...]"
        _check_count(len(r), MIN_PER_CLASS, c, "real", "the intra-class Frechet distance (a covariance)", fix)
        _check_count(len(f), MIN_PER_CLASS, c, "generated", "the intra-class Frechet distance (a covariance)", fix)
        result[c] = frechet_distance_from_features(r, f)
    return result


# --- intra-class diversity ---------------------------------------------------------------------------------

def _mean_pairwise_distance(x: torch.Tensor) -> float:
    """2 / (n (n - 1)) * sum_{i < j} ||x_i - x_j||, in blocks of rows so memory stays O(block * n)."""
    n = len(x)
    total = 0.0
    for start in range(0, n, _BLOCK_ROWS):
        total += float(torch.cdist(x[start:start + _BLOCK_ROWS], x).sum())
    return total / (n * (n - 1))  # the full matrix counts each pair twice, and its diagonal is 0


def intra_class_diversity(features: torch.Tensor, labels) -> PerClass:
    """Mean Euclidean distance between two different samples of the same class, for each class:

        div_c = 2 / (n_c (n_c - 1)) * sum_{i < j, y_i = y_j = c} ||f_i - f_j||

    On classifier features of generated images (``metrics.extract_features``) it measures how varied the
    drawings of one digit are: it is 0 exactly when every sample of the class is the same point, i.e.
    the class has collapsed to one drawing, and it scales with the features (compare it with the same
    number on real images of the class). Every class in ``labels`` needs at least ``MIN_PER_CLASS``
    samples.

    Example:
        >>> feats = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [1.0, 1.0]])
        >>> div = intra_class_diversity(feats, torch.tensor([0, 0, 1, 1]))
        >>> div[0], div[1]  # one pair 5 apart; a collapsed class: 0
        (5.0, 0.0)
    """
    x = _features(features, "features")
    y = _labels(labels, len(x), "labels")
    result = PerClass()
    for c in _classes(None, y):
        members = x[y == c]
        _check_count(len(members), MIN_PER_CLASS, c, "", "the intra-class diversity (a pairwise distance)")
        result[c] = _mean_pairwise_distance(members)
    return result


# --- exact 1-D Wasserstein distance ---------------------------------------------------------------------------

def _samples_1d(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 1 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sample, shape (N,) or (N, 1), got {tuple(x.shape)}; "
                         "for 2-D data measure one coordinate or a projection at a time")
    if x.is_complex() or not torch.isfinite(x.double()).all():
        raise ValueError(f"{name} must hold finite real numbers")
    return x.detach().cpu().double()


def wasserstein_1d(a: torch.Tensor, b: torch.Tensor) -> float:
    """The exact W_1 between the empirical distributions of two 1-D samples.

    Equal sizes: the optimal transport plan in 1-D never crosses, so it matches the sorted samples,

        W_1 = 1/n sum_i |a_(i) - b_(i)|;

    any sizes: W_1 = integral |F_a(x) - F_b(x)| dx over the merged support, exact because both CDFs are step
    functions, and equal to the sorted matching when the sizes agree. This function checks its inputs (1-D,
    finite) and evaluates that integral with ``gancourse.wasserstein.wasserstein_1d`` (the formula behind
    ``scipy.stats.wasserstein_distance``). Shifting one sample by c gives |c|.

    Example:
        >>> wasserstein_1d(torch.tensor([0.0, 3.0]), torch.tensor([2.0, 1.0]))  # (|0 - 1| + |3 - 2|) / 2
        1.0
        >>> wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([2.0]))  # move 1/2 by 2 and 1/2 by 1
        1.5
    """
    from ..wasserstein import wasserstein_1d as cdf_formula

    return cdf_formula(_samples_1d(a, "a"), _samples_1d(b, "b"))


def per_class_wasserstein_1d(real: torch.Tensor, real_labels, fake: torch.Tensor, fake_labels) -> PerClass:
    """W_1 between the true and the generated 1-D class-conditionals p(x | y = c) and p_G(x | y = c), per class.

    The AC-GAN bias (Shu et al. 2017; Gong et al. 2019, Sec. 3): where class-conditionals overlap,
    AC-GAN's auxiliary classifier rewards G for samples that are easy to classify, so each class is
    pushed away from the overlap and its W_1 to the true conditional grows; a projection or
    concatenation discriminator has no such term. Every class in ``real_labels`` is measured and needs
    at least one generated sample (``fake_labels`` are the labels G was asked for).

    Example:
        >>> real = torch.tensor([0.0, 1.0, 4.0, 5.0]); labels = torch.tensor([0, 0, 1, 1])
        >>> fake = torch.tensor([0.0, 1.0, 6.0, 7.0])  # class 1 drawn 2 too far right
        >>> d = per_class_wasserstein_1d(real, labels, fake, labels)
        >>> d[0], d[1], d.mean
        (0.0, 2.0, 1.0)
    """
    real, fake = _samples_1d(real, "real"), _samples_1d(fake, "fake")
    real_y = _labels(real_labels, len(real), "real_labels")
    fake_y = _labels(fake_labels, len(fake), "fake_labels")
    result = PerClass()
    for c in _classes(None, real_y):
        f = fake[fake_y == c]
        _check_count(len(f), 1, c, "generated", "the per-class Wasserstein distance")
        result[c] = wasserstein_1d(real[real_y == c], f)
    return result
