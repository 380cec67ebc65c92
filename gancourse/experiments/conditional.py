"""Lesson 5's comparison: conditional GANs measured with the same networks, budget and seeds.

Three experiments, each a ``core.Setup`` (a ``TrainConfig`` plus the networks and the scored samples), a ``run_*``
function over conditionings and seeds (``workers`` single-threaded processes on a CPU, ``workers.map_jobs``) and a
``core.Result`` with the scores; ``core.summarise`` gives mean ± standard error and ``core.verdict`` the course's
two-standard-error verdict. The method of a run is its conditioning (``conditioning.CONDITIONS``).

- ``GRID_SETUP`` / ``run_grid``: lesson 2's collapse setting (``collapse.COLLAPSE_SETUP``: Adam (0.5, 0.999),
  lr 1e-3 for G and 1e-4 for D, batches of 256, z in R^16, ReLU / LeakyReLU MLPs, 2,000 steps) on the 5 x 5
  grid, unconditional against conditional with the label = the mode index (Mirza & Osindero 2014). Scored by
  mode coverage and the share of samples on the mode they were asked for.
- ``OVERLAP_SETUP`` / ``run_overlap``: AC-GAN's bias (Shu et al. 2017; Gong et al. 2019, TAC-GAN, Sec. 3) on
  ``overlapping_classes`` (class 0 = N(0, I), class 1 = N(0, 9 I)): per-class exact 1-D Wasserstein
  distances between generated and true class-conditionals, each coordinate on its own.
- ``CONDITIONAL_IMAGE_SETUP`` / ``run_conditional_images``: the three ways of conditioning D (concat, AC-GAN,
  projection) with the same class-conditional-batch-norm DCGAN G on digits, scored on the lesson-3 classifier:
  label accuracy, intra-class Frechet distance and intra-class diversity (``metrics.conditional``).

``mix_labels`` draws from a class-conditional-batch-norm G with the per-class scale and shift interpolated
between two classes (the only continuous path between labels such a G has).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..conditioning import condition_entry
from ..config import TrainConfig
from ..data import grid_of_gaussians, overlapping_classes
from ..device import pick_device
from ..metrics.conditional import (
    intra_class_diversity,
    intra_class_frechet,
    label_accuracy,
    per_class_wasserstein_1d,
)
from ..metrics.mixtures import ModeCoverage, mode_coverage
from ..models.conditional import ConditionalBatchNorm2d, ConditionalDCGANGenerator
from ..train import Trainer
from .collapse import COLLAPSE_SETUP
from .core import Result, Setup, fixed_codes, timed_train
from .workers import check_workers, map_jobs

__all__ = ["GRID_SETUP", "GridResult", "run_grid_one", "run_grid", "OVERLAP_SETUP", "OverlapResult",
           "run_overlap_one", "run_overlap", "CONDITIONAL_IMAGE_SETUP", "ConditionalImageResult",
           "score_conditional_images", "run_conditional_image", "run_conditional_images", "real_reference",
           "untrained_reference", "mix_labels", "conditional_generator"]


def _trainer(setup: Setup, condition: str, seed: int, device) -> Trainer:
    condition_entry(condition)  # an unknown name: ValueError listing the choices
    return setup.trainer(seed, str(pick_device(str(device))), condition=condition)


# --- 1. the grid: conditioning on the mode index --------------------------------------------------------------

GRID_SETUP = Setup(COLLAPSE_SETUP.config.replace(log_every=100), model="mlp", width=COLLAPSE_SETUP.width,
                   data="grid", samples=COLLAPSE_SETUP.samples)
"""Lesson 2's collapse setting (``collapse.COLLAPSE_SETUP``) through ``Trainer.from_names``: the same MLPs (2 hidden
layers of 128, ReLU in G, LeakyReLU(0.2) in D), Adam (0.5, 0.999) at lr 1e-3 for G and 1e-4 for D, constant,
batches of 256, z in R^16, 2,000 steps; 2,500 scored points."""


@dataclass
class GridResult(Result):
    """One grid run (``core.Result``: its conditioning as the method, "none" or a way of conditioning D, the data,
    seed and seconds): mode coverage, the share of samples nearest the mode they were asked for (None when
    unconditional), and the scored points with the labels they were asked for.

    Example:
        >>> r = GridResult("none", "grid", 0, 1.0, ModeCoverage(3, 25, 0.5, 1.0, [1] * 3), None)
        >>> r.coverage.modes_captured
        3
    """

    coverage: ModeCoverage
    on_requested_mode: float | None
    samples: torch.Tensor | None = None
    labels: torch.Tensor | None = None


def run_grid_one(condition: str, setup: Setup = GRID_SETUP, seed: int = 0, *,
                 device: str | torch.device = "auto") -> GridResult:
    """Train one grid run, unconditional (``condition="none"``) or conditional, and score ``setup.samples``
    points from fixed codes (labels 0..24 in turn).

    Example:
        >>> r = run_grid_one("concat", GRID_SETUP.replace(steps=2, samples=50), device="cpu")
        >>> r.coverage.num_modes, 0.0 <= r.on_requested_mode <= 1.0
        (25, True)
    """
    trainer = _trainer(setup, condition, seed, device)
    seconds = timed_train(trainer)
    mixture = grid_of_gaussians()
    z = fixed_codes(setup.samples, setup.z_dim)
    y = torch.arange(setup.samples) % mixture.num_modes if condition_entry(condition).labelled else None
    x = trainer.sample(z=z, y=y)
    hit = None if y is None else float((torch.cdist(x, mixture.centres).argmin(1) == y).double().mean())
    return GridResult(condition, setup.data, seed, seconds, mode_coverage(x, mixture.centres, mixture.std), hit, x, y)


def _grid_job(job: tuple) -> GridResult:
    condition, setup, seed, device = job
    torch.set_num_threads(1)
    return run_grid_one(condition, setup, seed, device=device)


def run_grid(conditions: Sequence[str], seeds: Sequence[int], setup: Setup = GRID_SETUP, *,
             workers: int = 2, device: str = "auto") -> list[GridResult]:
    """Every conditioning on every seed, ``workers`` runs at once on a CPU.

    Example:
        >>> setup = GRID_SETUP.replace(steps=1, samples=30)
        >>> [r.method for r in run_grid(["none"], [0], setup, workers=1, device="cpu")]
        ['none']
    """
    device = pick_device(str(device))
    jobs = [(c, setup, s, str(device)) for c in conditions for s in seeds]
    return map_jobs(_grid_job, jobs, workers=check_workers(workers), device=device)


# --- 3. overlapping classes: AC-GAN's bias ----------------------------------------------------------------------

OVERLAP_SETUP = Setup(TrainConfig(z_dim=8, batch_size=256, steps=800, lr_g=1e-3, lr_d=1e-3, log_every=100),
                      model="mlp", width=64, data="overlapping_classes", samples=4000)
"""The AC-GAN bias experiment: ``overlapping_classes()`` (class 0 = N(0, I), class 1 = N(0, 9 I)), MLPs of
width 64, Adam (0.5, 0.999) at lr 1e-3 for both players, batches of 256, z in R^8, 800 steps; 4,000 generated
points (half per class) against as many fresh real ones."""


@dataclass
class OverlapResult(Result):
    """One overlap run (``core.Result``: conditioning, data, seed, seconds): per-class W_1 (``w1[c]``: the mean
    over the two coordinates of the exact 1-D W_1 between the generated and the true class-c coordinate),
    per-class std of the generated points (mean over the coordinates; the truth is 1 and 3), the points and
    their labels.

    Example:
        >>> OverlapResult("acgan", "overlapping_classes", 0, 1.0, {0: 0.3, 1: 0.8}, {0: 0.7, 1: 2.6}).w1[1]
        0.8
    """

    w1: dict[int, float]
    std: dict[int, float]
    samples: torch.Tensor | None = None
    labels: torch.Tensor | None = None


def run_overlap_one(condition: str, setup: Setup = OVERLAP_SETUP, seed: int = 0, *,
                    device: str | torch.device = "auto") -> OverlapResult:
    """Train one run on the overlapping classes and measure each class against its true distribution.

    Example:
        >>> r = run_overlap_one("projection", OVERLAP_SETUP.replace(steps=2, samples=40), device="cpu")
        >>> sorted(r.w1), r.samples.shape
        ([0, 1], torch.Size([40, 2]))
    """
    trainer = _trainer(setup, condition, seed, device)
    seconds = timed_train(trainer)
    y = torch.arange(setup.samples) % 2
    x = trainer.sample(z=fixed_codes(setup.samples, setup.z_dim, seed=1), y=y)
    real, real_y = overlapping_classes().sample_labelled(setup.samples, torch.Generator().manual_seed(999))
    per_coordinate = [per_class_wasserstein_1d(real[:, i], real_y, x[:, i], y) for i in range(2)]
    w1 = {c: sum(d[c] for d in per_coordinate) / 2 for c in (0, 1)}
    std = {c: float(x[y == c].std(0).mean()) for c in (0, 1)}
    return OverlapResult(condition, setup.data, seed, seconds, w1, std, x, y)


def _overlap_job(job: tuple) -> OverlapResult:
    condition, setup, seed, device = job
    torch.set_num_threads(1)
    return run_overlap_one(condition, setup, seed, device=device)


def run_overlap(conditions: Sequence[str], seeds: Sequence[int], setup: Setup = OVERLAP_SETUP, *,
                workers: int = 2, device: str = "auto") -> list[OverlapResult]:
    """Every conditioning on every seed on the overlapping classes.

    Example:
        >>> res = run_overlap(["acgan"], [0], OVERLAP_SETUP.replace(steps=1, samples=20), workers=1, device="cpu")
        >>> res[0].method
        'acgan'
    """
    device = pick_device(str(device))
    jobs = [(c, setup, s, str(device)) for c in conditions for s in seeds]
    return map_jobs(_overlap_job, jobs, workers=check_workers(workers), device=device)


# --- 2. images: three ways to condition D -----------------------------------------------------------------------

CONDITIONAL_IMAGE_SETUP = Setup(TrainConfig(lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.9, batch_size=64, z_dim=64,
                                             steps=2000, log_every=50), model="dcgan", width=16, data="digits",
                                 samples=1000)
"""A DCGAN of base width 16 on digits with class-conditional batch norm in G (the same G for every way of
conditioning D), lesson 6's optimiser (Adam (0, 0.9), one rate for both players), 2,000 generator steps, and
``samples`` generated images, as many of each class, scored against as many real test images of each class.
The length was chosen by ``benchmarks/image_frontier.py`` on tuning seed 10 (``benchmarks/RESULTS.md``): with a
projection D the classifier read the asked-for digit on 60% of the images at 800 steps (the earlier budget),
90% at 1,400 and 93% at 2,000."""


def _per_class(setup: Setup, num_classes: int) -> int:
    return max(1, setup.samples // num_classes)


@dataclass
class ConditionalImageResult(Result):
    """One image run (``core.Result``: conditioning, data, seed, seconds): label accuracy, the per-class Frechet
    distance and diversity (``metrics.conditional.PerClass``: ``.mean`` over the classes), G's weights (CPU) and,
    for AC-GAN, the share of the same images that D's own class head assigns to the requested label (D in training
    mode, on shuffled batches of ``batch_size`` fakes, as it sees them during training).

    Example:
        >>> ConditionalImageResult("projection", "digits", 0, 2.0, 0.9, {}, {}).label_accuracy
        0.9
    """

    label_accuracy: float
    frechet: dict
    diversity: dict
    G: dict | None = field(default=None, repr=False)
    d_label_accuracy: float | None = None


def score_conditional_images(images: torch.Tensor, labels: torch.Tensor, classifier, real_features: torch.Tensor,
                             real_labels: torch.Tensor) -> tuple[float, dict, dict]:
    """(label accuracy, intra-class Frechet distances, intra-class diversities) of ``images`` generated for
    ``labels``, on the classifier's features, against the real features of ``real_labels``.

    Example:
        >>> from gancourse.metrics import DigitClassifier, extract_features
        >>> clf = DigitClassifier(); imgs = torch.rand(40, 1, 28, 28) * 2 - 1; y = torch.arange(40) % 10
        >>> acc, fid, div = score_conditional_images(imgs, y, clf, extract_features(clf, imgs), y)
        >>> 0 <= acc <= 1, round(fid.mean, 6), len(div)
        (True, 0.0, 10)
    """
    from ..metrics.images import features_and_probabilities

    features, probs = features_and_probabilities(classifier, images)
    return (label_accuracy(probs, labels), intra_class_frechet(real_features, real_labels, features, labels),
            intra_class_diversity(features, labels))


def run_conditional_image(condition: str, setup: Setup = CONDITIONAL_IMAGE_SETUP, seed: int = 0, *, classifier,
                          real_features: torch.Tensor, real_labels: torch.Tensor,
                          device: str | torch.device = "auto") -> ConditionalImageResult:
    """Train one conditional DCGAN and score ``setup.samples`` images, as many of every class (fixed codes).

    Example:
        >>> from gancourse.metrics import DigitClassifier, extract_features
        >>> clf = DigitClassifier(); y = torch.arange(40) % 10
        >>> real = extract_features(clf, torch.rand(40, 1, 28, 28) * 2 - 1)
        >>> setup = CONDITIONAL_IMAGE_SETUP.replace(steps=1, width=4, samples=40)
        >>> r = run_conditional_image("concat", setup, classifier=clf, real_features=real, real_labels=y, device="cpu")
        >>> r.method, len(r.frechet)
        ('concat', 10)
    """
    trainer = _trainer(setup, condition, seed, device)
    seconds = timed_train(trainer)
    K = trainer.num_classes
    n = _per_class(setup, K) * K
    y = torch.arange(n) % K
    images = trainer.sample(z=fixed_codes(n, setup.z_dim), y=y)
    acc, frechet, diversity = score_conditional_images(images, y, classifier, real_features, real_labels)
    own = None
    if condition_entry(condition).class_head:  # D as it sees fakes in training: train mode, batches of fakes
        order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            logits = torch.cat([trainer.D(chunk.to(trainer.device))[1].float().cpu()
                                for chunk in images[order].split(setup.batch_size)])
        own = label_accuracy(logits, y[order])
    return ConditionalImageResult(condition, setup.data, seed, seconds, acc, frechet, diversity,
                                  {k: v.cpu() for k, v in trainer.G.state_dict().items()}, own)


def _real_test(classifier, dataset: str, per_class: int, train: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of the first ``per_class`` images of each class of a split."""
    from ..data import load_images
    from ..metrics.images import extract_features

    images, labels = load_images(dataset, train=train)
    keep = _first_per_class(labels, per_class)
    return extract_features(classifier, images[keep]), labels[keep]


def _first_per_class(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices (sorted) of the first ``per_class`` examples of each class."""
    return torch.cat([torch.nonzero(labels == c)[:per_class, 0] for c in range(int(labels.max()) + 1)]).sort().values


def _image_job(job: tuple) -> ConditionalImageResult:
    condition, setup, seed, classifier_steps, device = job
    from ..metrics.images import load_classifier

    classifier = load_classifier(setup.data, device=device, steps=classifier_steps, verbose=False)
    real_features, real_labels = _real_test(classifier, setup.data, _per_class(setup, classifier.num_classes))
    return run_conditional_image(condition, setup, seed, classifier=classifier, real_features=real_features,
                                 real_labels=real_labels, device=device)


def run_conditional_images(conditions: Sequence[str], seeds: Sequence[int], setup: Setup = CONDITIONAL_IMAGE_SETUP,
                           *, classifier_steps: int = 600, workers: int = 2,
                           device: str = "auto") -> list[ConditionalImageResult]:
    """Every way of conditioning D on ``setup.data`` for every seed, ``workers`` runs at once on a CPU. The
    classifier (``metrics.load_classifier(setup.data, steps=classifier_steps)``) is trained and cached first.

    Example:
        >>> res = run_conditional_images(["acgan"], [0], CONDITIONAL_IMAGE_SETUP.replace(steps=1, width=4, samples=30),
        ...                              classifier_steps=2, workers=1, device="cpu")  # doctest: +SKIP
    """
    from ..metrics.images import load_classifier

    for condition in conditions:
        condition_entry(condition)
    device = pick_device(str(device))
    load_classifier(setup.data, device=device, steps=classifier_steps, verbose=False)  # cached for the workers
    jobs = [(c, setup, s, classifier_steps, str(device)) for c in conditions for s in seeds]
    return map_jobs(_image_job, jobs, workers=check_workers(workers), device=device)


def untrained_reference(classifier, setup: Setup = CONDITIONAL_IMAGE_SETUP, seed: int = 0, *,
                        device: str | torch.device = "auto") -> tuple[float, dict, dict]:
    """The table's floor: the scores of an untrained conditional G (built as ``run_conditional_image`` builds it
    for ``seed``), on the same fixed codes and real test images as the trained ones.

    Example:
        >>> untrained_reference  # doctest: +ELLIPSIS
        <function untrained_reference at ...>
    """
    trainer = _trainer(setup, "projection", seed, device)  # G is the same for every conditioning
    per_class = _per_class(setup, trainer.num_classes)
    n = per_class * trainer.num_classes
    y = torch.arange(n) % trainer.num_classes
    real_features, real_labels = _real_test(classifier, setup.data, per_class)
    return score_conditional_images(trainer.sample(z=fixed_codes(n, setup.z_dim), y=y), y, classifier, real_features,
                                    real_labels)


def real_reference(classifier, dataset: str = "digits", per_class: int = 100) -> tuple[float, dict, dict]:
    """The table's reference row: ``per_class`` real *training* images of each class scored exactly like the
    generated ones, against the same real test images (label accuracy = the classifier's accuracy on them,
    and the Frechet distance's floor at this sample size: it is not 0 between two finite samples).

    Example:
        >>> real_reference  # doctest: +ELLIPSIS
        <function real_reference at ...>
    """
    from ..data import load_images

    images, labels = load_images(dataset, train=True)
    keep = _first_per_class(labels, per_class)
    test_features, test_labels = _real_test(classifier, dataset, per_class)
    return score_conditional_images(images[keep], labels[keep], classifier, test_features, test_labels)


# --- controllable generation ------------------------------------------------------------------------------------

def conditional_generator(result: ConditionalImageResult, setup: Setup = CONDITIONAL_IMAGE_SETUP,
                          num_classes: int = 10, channels: int = 1, image_size: int = 28) -> ConditionalDCGANGenerator:
    """The trained G of ``result`` rebuilt for ``setup`` (eval mode).

    Example:
        >>> G = ConditionalDCGANGenerator(8, width=4)
        >>> r = ConditionalImageResult("concat", "digits", 0, 1.0, 0.5, {}, {}, G.state_dict())
        >>> type(conditional_generator(r, CONDITIONAL_IMAGE_SETUP.replace(z_dim=8, width=4))).__name__
        'ConditionalDCGANGenerator'
    """
    G = ConditionalDCGANGenerator(setup.z_dim, channels, image_size, setup.width, num_classes)
    G.load_state_dict(result.G)
    return G.eval()


@torch.no_grad()
def mix_labels(G: ConditionalDCGANGenerator, z: torch.Tensor, a: int, b: int, t: float | torch.Tensor) -> torch.Tensor:
    """G(z) with every class-conditional batch norm's scale and shift interpolated between classes a and b:
    gamma = (1 - t) gamma_a + t gamma_b, beta likewise (t = 0 is G(z, a), t = 1 is G(z, b)). ``t`` is one
    number or one per row of z. G is evaluated as it is (call ``G.eval()`` for the running statistics).

    Example:
        >>> G = ConditionalDCGANGenerator(8, width=4).eval(); z = torch.randn(2, 8)
        >>> torch.allclose(mix_labels(G, z, 3, 5, 0.0), G(z, torch.tensor([3, 3])), atol=1e-6)
        True
    """
    t = torch.as_tensor(t, dtype=z.dtype).reshape(-1)
    t = t.expand(len(z)) if len(t) == 1 else t
    if len(t) != len(z):
        raise ValueError(f"t must be one number or one per latent vector ({len(z)}), got {len(t)}")
    for c in (a, b):
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < G.num_classes:
            raise ValueError(f"classes a and b must be labels in 0..{G.num_classes - 1}, got {c!r}")
    w = t[:, None, None, None]
    h = z.view(len(z), -1, 1, 1)
    for layer in G.net:
        if isinstance(layer, ConditionalBatchNorm2d):
            gamma = layer.gamma.weight[[a]][:, :, None, None]
            gamma_b = layer.gamma.weight[[b]][:, :, None, None]
            beta = layer.beta.weight[[a]][:, :, None, None]
            beta_b = layer.beta.weight[[b]][:, :, None, None]
            h = ((1 - w) * gamma + w * gamma_b) * layer.bn(h) + ((1 - w) * beta + w * beta_b)
        else:
            h = layer(h)
    return h
