"""Image-quality numbers from a small classifier trained on the real data.

A GAN on digits is "getting better" when its samples (1) look like *some* digit to a classifier
trained on real digits (high confidence), (2) cover all classes evenly (a low KL divergence of the
predicted class histogram from uniform, the Stacked-MNIST protocol of VEEGAN and PacGAN), and
(3) have the statistics of real images in the classifier's feature space: the Frechet distance
between Gaussians fitted to real and generated penultimate-layer features (Heusel et al. 2017's
FID, with our classifier in place of Inception, so the numbers are comparable only to each other).

The classifier is trained once per dataset and cached in the data folder as
``classifier_{dataset}_v{CLASSIFIER_VERSION}.pt`` (atomic write, ``weights_only`` load).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import CHECKPOINT_FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from ..device import pick_device
from ..paths import data_dir

__all__ = [
    "CLASSIFIER_VERSION", "DigitClassifier", "train_classifier", "load_classifier", "classifier_path",
    "classifier_accuracy", "predict_proba", "extract_features", "features_and_probabilities", "class_histogram",
    "class_coverage", "kl_from_uniform", "mean_confidence", "feature_statistics", "frechet_distance",
    "frechet_distance_from_features", "ImageQuality", "evaluate_images", "image_quality_callback",
    "CONFIDENT",
]

# Bump when the architecture or the training recipe changes, so stale caches are never reused.
CLASSIFIER_VERSION = 1
DEFAULT_STEPS = 600
CONFIDENT = 0.9
"""A sample is *confident* when the classifier's top class probability is at least this."""

_CHUNK = 1024  # images per forward pass when scoring: bounds memory on any device


class DigitClassifier(nn.Module):
    """A small CNN: two conv-ReLU-maxpool blocks, a ``feature_dim`` hidden layer, ``num_classes`` logits.

    ``features(x)`` returns the penultimate (hidden) layer, the space where the Frechet distance
    is measured. Inputs are images in [-1, 1], the range of the generators and samplers.

    Example:
        >>> net = DigitClassifier()
        >>> net(torch.zeros(2, 1, 28, 28)).shape, net.features(torch.zeros(2, 1, 28, 28)).shape
        (torch.Size([2, 10]), torch.Size([2, 128]))
    """

    def __init__(self, in_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10,
                 width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        channels, height, width_px = in_shape
        if height % 4 or width_px % 4:
            raise ValueError(f"image height and width must be multiples of 4, got in_shape={tuple(in_shape)}")
        self.in_shape, self.num_classes = tuple(in_shape), num_classes
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * (height // 4) * (width_px // 4), feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations, (N, feature_dim)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _resolve_dataset(dataset: str) -> str:
    from ..data import IMAGE_DATASETS, is_folder_name, is_image_dataset

    if not is_image_dataset(dataset):
        raise ValueError(f"{dataset!r} is not an image dataset; image choices: {', '.join(IMAGE_DATASETS)}")
    if is_folder_name(dataset):
        # a folder's sub-folders need not be classes at all: there is no classifier to train for it
        raise ValueError(f"no classifier for {dataset!r}: classifiers exist for {', '.join(IMAGE_DATASETS)}; score "
                         "your own images with one of those (lesson 3, 'your own images', uses digits)")
    if dataset == "auto":  # MNIST when it can be had, else digits
        from ..data import resolve_auto

        return resolve_auto()
    return dataset


def classifier_path(dataset: str = "digits", steps: int = DEFAULT_STEPS) -> Path:
    """Where the cached classifier for ``dataset`` lives (non-default ``steps`` get their own file,
    so a quick-mode classifier is never mistaken for the full one).

    Example:
        >>> classifier_path("digits").name, classifier_path("digits", steps=100).name
        ('classifier_digits_v1.pt', 'classifier_digits_v1_steps100.pt')
    """
    suffix = "" if steps == DEFAULT_STEPS else f"_steps{steps}"
    return data_dir() / f"classifier_{_resolve_dataset(dataset)}_v{CLASSIFIER_VERSION}{suffix}.pt"


@torch.no_grad()
def _batched(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device: torch.device) -> torch.Tensor:
    outs = []
    for chunk in images.split(_CHUNK):
        if chunk.dtype == torch.uint8:
            chunk = chunk.to(device).float().div_(127.5).sub_(1.0)
        outs.append(fn(chunk.to(device).float()))
    return torch.cat(outs)


def _check_images(images: torch.Tensor, classifier: nn.Module, name: str = "images") -> None:
    # One message for every scoring entry point, before a conv layer raises its own cryptic one.
    expected = getattr(classifier, "in_shape", None)
    wanted = "(N, C, H, W)" if expected is None else f"(N, C, H, W) = (N, {', '.join(map(str, expected))})"
    if images.dim() != 4:
        raise ValueError(f"{name} must be a batch of images {wanted}, got shape {tuple(images.shape)}")
    if expected is not None and tuple(images.shape[1:]) != tuple(expected):
        raise ValueError(f"{name} of shape {tuple(images.shape)}: images of shape {tuple(images.shape[1:])} do not "
                         f"fit a classifier for {tuple(expected)}; pass a batch {wanted}")


def predict_proba(classifier: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Class probabilities (N, K) for images in [-1, 1] (float) or 0..255 (uint8), on the classifier's device.

    Example:
        >>> predict_proba(DigitClassifier(), torch.zeros(3, 1, 28, 28)).sum(1).round().tolist()
        [1.0, 1.0, 1.0]
    """
    _check_images(images, classifier)
    classifier.eval()
    return _batched(lambda x: classifier(x).float().softmax(1), images, _device_of(classifier))


def extract_features(classifier: DigitClassifier, images: torch.Tensor) -> torch.Tensor:
    """Penultimate-layer features (N, d) of ``images`` (float in [-1, 1] or uint8).

    Example:
        >>> extract_features(DigitClassifier(feature_dim=16), torch.zeros(5, 1, 28, 28)).shape
        torch.Size([5, 16])
    """
    _check_images(images, classifier)
    classifier.eval()
    return _batched(lambda x: classifier.features(x).float(), images, _device_of(classifier))


def features_and_probabilities(classifier: DigitClassifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(penultimate features (N, d), class probabilities (N, K)) of ``images`` from one pass of the classifier:
    the probabilities are its head applied to the features, as ``predict_proba`` computes them.

    Example:
        >>> feats, probs = features_and_probabilities(DigitClassifier(feature_dim=16), torch.zeros(5, 1, 28, 28))
        >>> feats.shape, probs.shape, torch.allclose(probs.sum(1), torch.ones(5))
        (torch.Size([5, 16]), torch.Size([5, 10]), True)
    """
    features = extract_features(classifier, images)
    with torch.no_grad():
        return features, classifier.head(features).float().softmax(1)


def classifier_accuracy(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` whose top class is the label.

    Example:
        >>> images, labels = torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)
        >>> classifier_accuracy(DigitClassifier(), images, labels) in (0.0, 1.0)  # same image: all right or all wrong
        True
    """
    pred = predict_proba(classifier, images).argmax(1)
    return float((pred == labels.to(pred.device)).float().mean())


def train_classifier(images: torch.Tensor, labels: torch.Tensor, *, steps: int = DEFAULT_STEPS, batch_size: int = 128,
                     lr: float = 2e-3, seed: int = 0, device: str | torch.device = "auto",
                     num_classes: int | None = None) -> DigitClassifier:
    """Train a ``DigitClassifier`` on uint8 ``images`` (N, C, H, W) with int ``labels``.

    Adam with a cosine-decayed learning rate, plain cross-entropy; small random shifts (up to 2 px)
    keep it from over-trusting exact pixel positions, which generated images never match.
    600 steps of 128 (1.3 epochs of the 60k ``digits``) take about 30 s on one CPU core and reach
    99.9% test accuracy on ``digits``.

    Example:
        >>> x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8); y = torch.arange(64) % 10
        >>> train_classifier(x, y, steps=2, batch_size=16, device="cpu").num_classes
        10
    """
    if images.dim() != 4 or images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got steps={steps}, batch_size={batch_size}")
    device = pick_device(str(device))
    num_classes = num_classes or int(labels.max()) + 1
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitClassifier(tuple(images.shape[1:]), num_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    data, targets = images.to(device), labels.to(device)
    batch_size = min(batch_size, len(images))
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(data), (batch_size,), generator=gen).to(device)
        x = data[idx].float().div_(127.5).sub_(1.0)
        dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()  # one shift per batch: cheap, enough
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
        loss = F.cross_entropy(model(x), targets[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    return model


def load_classifier(dataset: str = "digits", *, device: str | torch.device = "auto", retrain: bool = False,
                    steps: int = DEFAULT_STEPS, verbose: bool = True) -> DigitClassifier:
    """The cached classifier for ``dataset``, trained (and cached) first if there is none.

    The returned model carries ``dataset`` and ``test_accuracy`` (on the real test split) as
    attributes. ``retrain=True`` ignores the cache. A cache that cannot be read, or that lacks a
    key or holds weights of the wrong shapes, is reported, retrained and replaced, never used.
    ``steps`` other than the default are cached under their own name (``classifier_path``).

    Example:
        >>> clf = load_classifier("digits")  # doctest: +SKIP
        >>> round(clf.test_accuracy, 2)  # doctest: +SKIP
        0.99
    """
    from ..data import load_images

    name = _resolve_dataset(dataset)
    path = classifier_path(name, steps)
    device = pick_device(str(device))
    model = None
    if path.exists() and not retrain:
        try:
            model = _classifier_from_state(load_checkpoint(path), path)
        except CheckpointError as err:
            if verbose:
                print(f"classifier cache unusable ({err}); retraining")
    if model is None:
        images, labels = load_images(name, train=True)
        test_images, test_labels = load_images(name, train=False)
        start = time.perf_counter()
        model = train_classifier(images, labels, steps=steps, device=device)
        seconds = time.perf_counter() - start
        accuracy = classifier_accuracy(model, test_images, test_labels)
        state = {"format": CHECKPOINT_FORMAT, "kind": "classifier", "version": CLASSIFIER_VERSION,
                 "dataset": name, "in_shape": list(model.in_shape), "num_classes": model.num_classes,
                 "test_accuracy": accuracy, "train_seconds": seconds,
                 "model": {k: v.cpu() for k, v in model.state_dict().items()}}
        save_checkpoint(state, path)
        if verbose:
            print(f"trained a {name} classifier in {seconds:.0f}s: test accuracy {100 * accuracy:.2f}% "
                  f"(cached in {path})")
        model = _classifier_from_state(state, path)
    return model.to(device).eval()


def _classifier_from_state(state: dict, path: Path) -> DigitClassifier:
    # A cache of the right kind and version can still lack a key or hold weights of other shapes
    # (hand-edited, or written by a broken build): that is a corrupt cache, never a crash.
    if state.get("kind") != "classifier" or state.get("version") != CLASSIFIER_VERSION:
        raise CheckpointError(f"{path} is not a version-{CLASSIFIER_VERSION} classifier")
    try:
        model = DigitClassifier(tuple(state["in_shape"]), state["num_classes"])
        model.load_state_dict(state["model"])
        model.dataset, model.test_accuracy = str(state["dataset"]), float(state["test_accuracy"])
    except (KeyError, RuntimeError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path} holds a damaged classifier ({type(err).__name__}: {err})") from err
    return model


def class_histogram(probs: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """Counts of the predicted (arg-max) class, (K,) int64.

    Example:
        >>> class_histogram(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])).tolist()
        [2, 1]
    """
    if probs.dim() != 2:
        raise ValueError(f"probs must be (N, K) class probabilities (predict_proba's output), "
                         f"got shape {tuple(probs.shape)}")
    num_classes = num_classes or probs.shape[1]
    return torch.bincount(probs.argmax(1).cpu(), minlength=num_classes)


def class_coverage(probs: torch.Tensor, threshold: float = CONFIDENT) -> int:
    """Number of classes that are the confident prediction (top probability >= ``threshold``) of
    at least one sample: the image analogue of "modes captured" on mixtures.

    Example:
        >>> class_coverage(torch.tensor([[0.95, 0.05], [0.6, 0.4]]))
        1
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got threshold={threshold}")
    top, pred = probs.max(1)
    return int(torch.unique(pred[top >= threshold]).numel())


def kl_from_uniform(counts: torch.Tensor) -> float:
    """KL(q || uniform) = sum_k q_k log(K q_k) of the class histogram q = counts / sum(counts).

    0 for perfectly balanced classes, log K when every sample is one class (the Stacked-MNIST
    protocol of Srivastava et al. 2017 and Lin et al. 2018). Empty classes contribute 0 (0 log 0).

    Example:
        >>> round(kl_from_uniform(torch.tensor([5, 0])), 4)  # log 2
        0.6931
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.sum() <= 0:
        raise ValueError("counts must contain at least one sample")
    q = counts / counts.sum()
    nz = q > 0
    return float((q[nz] * (q[nz] * len(q)).log()).sum())


def mean_confidence(probs: torch.Tensor) -> float:
    """Mean top-class probability: near 1 when samples look unambiguously like some class.

    Example:
        >>> round(mean_confidence(torch.tensor([[0.9, 0.1], [0.5, 0.5]])), 6)
        0.7
    """
    return float(probs.max(1).values.cpu().double().mean())  # float64 on the CPU: mps has none


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) covariance of features (N, d), in float64 on the CPU (Apple's mps has no float64).

    Example:
        >>> mu, sigma = feature_statistics(torch.tensor([[0.0, 0.0], [2.0, 2.0]]))
        >>> mu.tolist(), sigma.tolist()
        ([1.0, 1.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    if features.dim() != 2 or len(features) < 2:
        raise ValueError(f"features must be (N, d) with N >= 2, got {tuple(features.shape)}")
    x = features.detach().cpu().double()
    return x.mean(0), torch.cov(x.T).reshape(x.shape[1], x.shape[1])


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    # Symmetric eigen-decomposition: real, stable, and negative round-off eigenvalues clamp to 0.
    vals, vecs = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Frechet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2):

        d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1^1/2 sigma2 sigma1^1/2)^1/2)

    (Dowson & Landau 1982; the FID of Heusel et al. 2017.) The usual Tr((sigma1 sigma2)^1/2) is
    the same number, since sigma1 sigma2 and sigma1^1/2 sigma2 sigma1^1/2 are similar matrices;
    the symmetric form lets both square roots be eigen-decompositions of PSD matrices, in float64
    on the CPU (d x d is small, and Apple's mps has no float64).

    Example:
        >>> frechet_distance(torch.zeros(2), torch.eye(2), torch.tensor([3.0, 4.0]), torch.eye(2))
        25.0
    """
    mu1, mu2 = (m.detach().cpu().double().flatten() for m in (mu1, mu2))
    sigma1, sigma2 = (s.detach().cpu().double() for s in (sigma1, sigma2))
    d = mu1.numel()
    if mu2.numel() != d or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"shapes do not match: mu1 {tuple(mu1.shape)}, sigma1 {tuple(sigma1.shape)}, "
                         f"mu2 {tuple(mu2.shape)}, sigma2 {tuple(sigma2.shape)}")
    root1 = _sqrt_psd(sigma1)
    cross = _sqrt_psd(root1 @ sigma2 @ root1)
    value = (mu1 - mu2).pow(2).sum() + torch.trace(sigma1) + torch.trace(sigma2) - 2 * torch.trace(cross)
    return max(float(value), 0.0)


def frechet_distance_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """``frechet_distance`` between Gaussians fitted to two feature sets (N1, d) and (N2, d).

    Example:
        >>> x = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
        >>> round(frechet_distance_from_features(x, x), 9)
        0.0
    """
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sets must be (N, d) with the same d, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake.to(real.device)))


@dataclass
class ImageQuality:
    """What ``evaluate_images`` measures; ``str()`` is a one-line summary.

    ``recognisable`` is lesson 3's bar: at least 80% of samples confident (top class >= 0.9) and
    every class covered.

    Example:
        >>> q = ImageQuality(n=10, num_classes=2, class_counts=[6, 4], classes_covered=2, kl_uniform=0.02,
        ...                  mean_confidence=0.93, confident_fraction=0.9, frechet=1.5)
        >>> q.recognisable
        True
        >>> print(q)
        classes 2/2, KL(classes || uniform) 0.020, confidence 0.930 (90% >= 0.9), Frechet distance 1.50
    """

    n: int
    num_classes: int
    class_counts: list[int]
    classes_covered: int
    kl_uniform: float
    mean_confidence: float
    confident_fraction: float
    frechet: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def recognisable(self) -> bool:
        return self.confident_fraction >= 0.8 and self.classes_covered == self.num_classes

    def __str__(self) -> str:
        fd = "n/a" if self.frechet is None else f"{self.frechet:.2f}"
        return (f"classes {self.classes_covered}/{self.num_classes}, KL(classes || uniform) {self.kl_uniform:.3f}, "
                f"confidence {self.mean_confidence:.3f} ({100 * self.confident_fraction:.0f}% >= {CONFIDENT}), "
                f"Frechet distance {fd}")


def _real_features(classifier: DigitClassifier, n: int) -> torch.Tensor:
    # Memoised on the classifier: the real statistics never change for a given classifier.
    cache = getattr(classifier, "_real_features_cache", None)
    if cache is None or len(cache) < n:
        from ..data import load_images

        dataset = getattr(classifier, "dataset", None)
        if dataset is None:
            raise ValueError("this classifier has no .dataset; pass real_features= (extract_features of real images)")
        images, _ = load_images(dataset, train=False)
        cache = extract_features(classifier, images[:max(n, 1)])
        classifier._real_features_cache = cache
    return cache[:n]


def evaluate_images(fake_images: torch.Tensor, classifier: DigitClassifier,
                    real_features: torch.Tensor | None = None, threshold: float = CONFIDENT) -> ImageQuality:
    """Score generated images (N, C, H, W) in [-1, 1] (or uint8) with a classifier trained on real data.

    Returns class counts, classes covered (``class_coverage``), KL of the class histogram from
    uniform, mean confidence, the fraction of confident samples and the Frechet distance between
    real and generated penultimate features. ``real_features`` defaults to the features of the
    first N real test images of ``classifier.dataset`` (the same N as the fakes: the Frechet
    distance is biased upwards for small N, so compare numbers at equal N only).

    Example:
        >>> q = evaluate_images(torch.zeros(20, 1, 28, 28), DigitClassifier(), real_features=torch.randn(20, 128))
        >>> q.n, q.num_classes
        (20, 10)
    """
    _check_images(fake_images, classifier, "fake_images")
    if len(fake_images) < 2:
        raise ValueError("need at least 2 images to fit a covariance")
    fake_features, probs = features_and_probabilities(classifier, fake_images)
    if real_features is None:
        real_features = _real_features(classifier, len(fake_images))
    counts = class_histogram(probs)
    top = probs.max(1).values
    return ImageQuality(
        n=len(fake_images), num_classes=probs.shape[1], class_counts=counts.tolist(),
        classes_covered=class_coverage(probs, threshold), kl_uniform=kl_from_uniform(counts),
        mean_confidence=mean_confidence(probs), confident_fraction=float((top >= threshold).float().mean()),
        frechet=frechet_distance_from_features(real_features.to(fake_features.device), fake_features))


def image_quality_callback(classifier: DigitClassifier, every: int = 100, n: int = 1000, verbose: bool = True,
                           real_features: torch.Tensor | None = None) -> Callable:
    """A ``Trainer`` callback that scores ``n`` samples every ``every`` generator steps.

    The samples come from the same latent points each time (``trainer.sample(n)``, drawn the way
    the lessons draw them), so the numbers follow one set of images through training. Results
    accumulate in ``callback.results`` as ``(step, ImageQuality)``; ``callback.table()`` returns them
    as a dict of lists for plotting.

    Example:
        >>> from gancourse import TrainConfig
        >>> from gancourse.data import TensorSampler
        >>> from gancourse.models import build_models
        >>> from gancourse.train import Trainer
        >>> G, D = build_models("mlp", (1, 28, 28), z_dim=8, width=16)
        >>> real = TensorSampler(torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8), 16)
        >>> cb = image_quality_callback(DigitClassifier(), every=2, n=20, verbose=False,
        ...                             real_features=torch.randn(20, 128))
        >>> trainer = Trainer(G, D, real, TrainConfig(steps=4, z_dim=8, device="cpu"), callbacks=[cb], callback_every=1)
        >>> _ = trainer.train(progress=False)
        >>> cb.table()["step"], cb.results[-1][1].n
        ([2, 4], 20)
    """
    if every < 1 or n < 2:
        raise ValueError(f"every must be >= 1 and n >= 2, got every={every}, n={n}")

    def callback(trainer) -> None:
        if trainer.step % every and trainer.step != trainer.cfg.steps:
            return None
        if callback.results and callback.results[-1][0] == trainer.step:
            return None  # already scored this step (e.g. train() called again with no new steps)
        quality = evaluate_images(trainer.sample(n), classifier, real_features)
        callback.results.append((trainer.step, quality))
        if verbose:
            print(f"step {trainer.step:>6}: {quality}")
        return None

    def table() -> dict[str, list]:
        keys = ("classes_covered", "kl_uniform", "mean_confidence", "confident_fraction", "frechet")
        out = {"step": [s for s, _ in callback.results]}
        out.update({k: [getattr(q, k) for _, q in callback.results] for k in keys})
        return out

    callback.results = []
    callback.table = table
    return callback
