"""Lesson 5's runs: conditional GANs measured with the same networks, budget and seeds.

Three experiments, each a frozen setup, a ``run_*`` function (``workers`` single-threaded processes on a CPU,
``gancourse.workers.map_jobs``) and results summarised as mean ± standard error:

- ``GridSetup`` / ``run_grid``: lesson 2's collapse setting (``remedies.benchmark.COLLAPSE_SETUP``: Adam
  (0.5, 0.999), lr 1e-3 for G and 1e-4 for D, batches of 256, z in R^16, ReLU / LeakyReLU MLPs, 2,000
  steps) on the 5 x 5 grid, unconditional against conditional with the label = the mode index
  (Mirza & Osindero 2014). Scored by mode coverage and the share of samples on the mode they were asked for.
- ``OverlapSetup`` / ``run_overlap``: AC-GAN's bias (Shu et al. 2017; Gong et al. 2019, TAC-GAN, Sec. 3) on
  ``overlapping_classes`` (class 0 = N(0, I), class 1 = N(0, 9 I)): per-class exact 1-D Wasserstein
  distances between generated and true class-conditionals, each coordinate on its own.
- ``ImageSetup`` / ``run_images``: the three ways of conditioning D (concat, AC-GAN, projection) with the
  same class-conditional-batch-norm DCGAN G on digits, scored on the lesson-3 classifier: label accuracy,
  intra-class Frechet distance and intra-class diversity (``metrics.conditional``).

``compare`` is the course's verdict: "better" / "worse" only beyond two standard errors of the difference,
else "on par". ``mix_labels`` draws from a class-conditional-batch-norm G with the per-class scale and shift
interpolated between two classes (the only continuous path between labels such a G has).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch

from .config import TrainConfig
from .data import grid_of_gaussians, overlapping_classes
from .device import pick_device
from .metrics.conditional import (
    intra_class_diversity,
    intra_class_frechet,
    label_accuracy,
    per_class_wasserstein_1d,
)
from .metrics.mixtures import ModeCoverage, mean_and_standard_error, mode_coverage
from .models.conditional import ConditionalBatchNorm2d, ConditionalDCGANGenerator
from .remedies.benchmark import COLLAPSE_SETUP, fixed_codes
from .remedies.report import verdict
from .train import Trainer
from .workers import check_workers, map_jobs

__all__ = ["GridSetup", "GridResult", "grid_trainer", "run_grid_one", "run_grid", "OverlapSetup", "OverlapResult",
           "overlap_trainer", "run_overlap_one", "run_overlap", "ImageSetup", "ImageResult", "image_trainer",
           "score_conditional_images", "run_image_one", "run_images", "real_reference", "untrained_reference",
           "summarise", "compare", "mix_labels", "generator_from_state"]



# --- 1. the grid: conditioning on the mode index --------------------------------------------------------------

@dataclass(frozen=True)
class GridSetup:
    """Lesson 2's collapse setting (``remedies.benchmark.COLLAPSE_SETUP``) through ``Trainer.from_names``:
    the same MLPs (2 hidden layers of 128, ReLU in G, LeakyReLU(0.2) in D), Adam (0.5, 0.999) at lr 1e-3
    for G and 1e-4 for D, constant, batches of 256, z in R^16, 2,000 steps; ``samples`` scored points.

    Example:
        >>> GridSetup().replace(steps=5).steps
        5
    """

    steps: int = COLLAPSE_SETUP.steps
    batch_size: int = COLLAPSE_SETUP.batch_size
    z_dim: int = COLLAPSE_SETUP.z_dim
    lr_g: float = COLLAPSE_SETUP.lr_g
    lr_d: float = COLLAPSE_SETUP.lr_d
    beta1: float = COLLAPSE_SETUP.beta1
    beta2: float = COLLAPSE_SETUP.beta2
    width: int = COLLAPSE_SETUP.g_width
    samples: int = COLLAPSE_SETUP.samples

    def replace(self, **changes) -> GridSetup:
        return replace(self, **changes)


@dataclass
class GridResult:
    """One grid run: its conditioning ("none" or a way of conditioning D), seed, mode coverage, the share of
    samples nearest the mode they were asked for (None when unconditional), seconds, and the scored points
    with the labels they were asked for.

    Example:
        >>> GridResult("none", 0, ModeCoverage(3, 25, 0.5, 1.0, [1] * 3), None, 1.0).coverage.modes_captured
        3
    """

    condition: str
    seed: int
    coverage: ModeCoverage
    on_requested_mode: float | None
    seconds: float
    samples: torch.Tensor | None = None
    labels: torch.Tensor | None = None


def grid_trainer(condition: str, setup: GridSetup = GridSetup(), seed: int = 0, *,
                 device: str | torch.device = "auto") -> Trainer:
    """A ``Trainer`` on the grid in ``setup``, unconditional (``condition="none"``) or conditional.

    Example:
        >>> t = grid_trainer("concat", GridSetup(steps=1), device="cpu")
        >>> t.num_classes, t.cfg.lr_d, type(t.G).__name__
        (25, 0.0001, 'ConditionalMLPGenerator')
    """
    cfg = TrainConfig(loss="nsgan", optimizer="adam", lr_g=setup.lr_g, lr_d=setup.lr_d, beta1=setup.beta1,
                      beta2=setup.beta2, batch_size=setup.batch_size, z_dim=setup.z_dim, steps=setup.steps,
                      seed=seed, device=str(pick_device(str(device))), condition=condition,
                      log_every=max(1, min(100, setup.steps)))
    return Trainer.from_names("grid", "mlp", cfg, width=setup.width)


def run_grid_one(condition: str, setup: GridSetup = GridSetup(), seed: int = 0, *,
                 device: str | torch.device = "auto") -> GridResult:
    """Train one grid run and score ``setup.samples`` points from fixed codes (labels 0..24 in turn).

    Example:
        >>> r = run_grid_one("concat", GridSetup(steps=2, samples=50), device="cpu")
        >>> r.coverage.num_modes, 0.0 <= r.on_requested_mode <= 1.0
        (25, True)
    """
    trainer = grid_trainer(condition, setup, seed, device=device)
    start = time.perf_counter()
    trainer.train(progress=False)
    seconds = time.perf_counter() - start
    mixture = grid_of_gaussians()
    z = fixed_codes(setup.samples, setup.z_dim)
    y = None if condition == "none" else torch.arange(setup.samples) % mixture.num_modes
    x = trainer.sample(z=z, y=y)
    hit = None if y is None else float((torch.cdist(x, mixture.centres).argmin(1) == y).double().mean())
    return GridResult(condition, seed, mode_coverage(x, mixture.centres, mixture.std), hit, seconds, x, y)


def _grid_job(job: tuple) -> GridResult:
    condition, setup, seed, device = job
    torch.set_num_threads(1)
    return run_grid_one(condition, setup, seed, device=device)


def run_grid(conditions: Sequence[str], seeds: Sequence[int], setup: GridSetup = GridSetup(), *,
             workers: int = 2, device: str = "auto") -> list[GridResult]:
    """Every conditioning on every seed, ``workers`` runs at once on a CPU.

    Example:
        >>> [r.condition for r in run_grid(["none"], [0], GridSetup(steps=1, samples=30), workers=1, device="cpu")]
        ['none']
    """
    device = pick_device(str(device))
    jobs = [(c, setup, s, str(device)) for c in conditions for s in seeds]
    return map_jobs(_grid_job, jobs, workers=check_workers(workers), device=device)


# --- 3. overlapping classes: AC-GAN's bias ----------------------------------------------------------------------

@dataclass(frozen=True)
class OverlapSetup:
    """The AC-GAN bias experiment: ``overlapping_classes()`` (class 0 = N(0, I), class 1 = N(0, 9 I)), MLPs of
    width 64, Adam (0.5, 0.999) at lr 1e-3 for both players, batches of 256, z in R^8, ``steps`` steps;
    ``samples`` generated points (half per class) against as many fresh real ones.

    Example:
        >>> OverlapSetup().lr_d
        0.001
    """

    steps: int = 800
    batch_size: int = 256
    z_dim: int = 8
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    width: int = 64
    samples: int = 4000

    def replace(self, **changes) -> OverlapSetup:
        return replace(self, **changes)


@dataclass
class OverlapResult:
    """One overlap run: per-class W_1 (``w1[c]``: the mean over the two coordinates of the exact 1-D W_1 between
    the generated and the true class-c coordinate), per-class std of the generated points (mean over the
    coordinates; the truth is 1 and 3), the points and their labels.

    Example:
        >>> OverlapResult("acgan", 0, {0: 0.3, 1: 0.8}, {0: 0.7, 1: 2.6}, 1.0).w1[1]
        0.8
    """

    condition: str
    seed: int
    w1: dict[int, float]
    std: dict[int, float]
    seconds: float
    samples: torch.Tensor | None = None
    labels: torch.Tensor | None = None


def overlap_trainer(condition: str, setup: OverlapSetup = OverlapSetup(), seed: int = 0, *,
                    device: str | torch.device = "auto") -> Trainer:
    """A conditional ``Trainer`` on ``overlapping_classes``.

    Example:
        >>> overlap_trainer("acgan", OverlapSetup(steps=1), device="cpu").num_classes
        2
    """
    cfg = TrainConfig(z_dim=setup.z_dim, batch_size=setup.batch_size, steps=setup.steps, lr_g=setup.lr_g,
                      lr_d=setup.lr_d, seed=seed, device=str(pick_device(str(device))), condition=condition,
                      log_every=max(1, min(100, setup.steps)))
    return Trainer.from_names("overlapping_classes", "mlp", cfg, width=setup.width)


def run_overlap_one(condition: str, setup: OverlapSetup = OverlapSetup(), seed: int = 0, *,
                    device: str | torch.device = "auto") -> OverlapResult:
    """Train one run on the overlapping classes and measure each class against its true distribution.

    Example:
        >>> r = run_overlap_one("projection", OverlapSetup(steps=2, samples=40), device="cpu")
        >>> sorted(r.w1), r.samples.shape
        ([0, 1], torch.Size([40, 2]))
    """
    trainer = overlap_trainer(condition, setup, seed, device=device)
    start = time.perf_counter()
    trainer.train(progress=False)
    seconds = time.perf_counter() - start
    y = torch.arange(setup.samples) % 2
    x = trainer.sample(z=fixed_codes(setup.samples, setup.z_dim, seed=1), y=y)
    real, real_y = overlapping_classes().sample_labelled(setup.samples, torch.Generator().manual_seed(999))
    per_coordinate = [per_class_wasserstein_1d(real[:, i], real_y, x[:, i], y) for i in range(2)]
    w1 = {c: sum(d[c] for d in per_coordinate) / 2 for c in (0, 1)}
    std = {c: float(x[y == c].std(0).mean()) for c in (0, 1)}
    return OverlapResult(condition, seed, w1, std, seconds, x, y)


def _overlap_job(job: tuple) -> OverlapResult:
    condition, setup, seed, device = job
    torch.set_num_threads(1)
    return run_overlap_one(condition, setup, seed, device=device)


def run_overlap(conditions: Sequence[str], seeds: Sequence[int], setup: OverlapSetup = OverlapSetup(), *,
                workers: int = 2, device: str = "auto") -> list[OverlapResult]:
    """Every conditioning on every seed on the overlapping classes.

    Example:
        >>> res = run_overlap(["acgan"], [0], OverlapSetup(steps=1, samples=20), workers=1, device="cpu")
        >>> res[0].condition
        'acgan'
    """
    device = pick_device(str(device))
    jobs = [(c, setup, s, str(device)) for c in conditions for s in seeds]
    return map_jobs(_overlap_job, jobs, workers=check_workers(workers), device=device)


# --- 2. images: three ways to condition D -----------------------------------------------------------------------

@dataclass(frozen=True)
class ImageSetup:
    """A DCGAN of base width ``width`` on ``data`` with class-conditional batch norm in G (the same G for every
    way of conditioning D), lesson 6's optimiser (Adam (0, 0.9), one rate for both players), ``steps``
    generator steps, and ``per_class`` generated images of each class scored against the real test images.

    Example:
        >>> ImageSetup().replace(steps=10).steps
        10
    """

    data: str = "digits"
    steps: int = 800
    batch_size: int = 64
    z_dim: int = 64
    width: int = 16
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.9
    per_class: int = 100

    def replace(self, **changes) -> ImageSetup:
        return replace(self, **changes)


@dataclass
class ImageResult:
    """One image run: conditioning, seed, label accuracy, the per-class Frechet distance and diversity
    (``metrics.conditional.PerClass``: ``.mean`` over the classes), seconds, G's weights (CPU) and, for
    AC-GAN, the share of the same images that D's own class head assigns to the requested label (D in training
    mode, on shuffled batches of ``batch_size`` fakes, as it sees them during training).

    Example:
        >>> ImageResult("projection", 0, 0.9, {}, {}, 2.0).label_accuracy
        0.9
    """

    condition: str
    seed: int
    label_accuracy: float
    frechet: dict
    diversity: dict
    seconds: float
    G: dict | None = field(default=None, repr=False)
    d_label_accuracy: float | None = None


def image_trainer(condition: str, setup: ImageSetup = ImageSetup(), seed: int = 0, *,
                  device: str | torch.device = "auto") -> Trainer:
    """A conditional DCGAN ``Trainer`` on ``setup.data``.

    Example:
        >>> t = image_trainer("projection", ImageSetup(steps=1, width=4), device="cpu")
        >>> type(t.G).__name__, type(t.D).__name__
        ('ConditionalDCGANGenerator', 'ProjectionDiscriminator')
    """
    cfg = TrainConfig(lr_g=setup.lr, lr_d=setup.lr, beta1=setup.beta1, beta2=setup.beta2,
                      batch_size=setup.batch_size, z_dim=setup.z_dim, steps=setup.steps, seed=seed,
                      device=str(pick_device(str(device))), condition=condition,
                      log_every=max(1, min(50, setup.steps)))
    return Trainer.from_names(setup.data, "dcgan", cfg, width=setup.width)


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
    from .metrics.images import features_and_probabilities

    features, probs = features_and_probabilities(classifier, images)
    return (label_accuracy(probs, labels), intra_class_frechet(real_features, real_labels, features, labels),
            intra_class_diversity(features, labels))


def run_image_one(condition: str, setup: ImageSetup = ImageSetup(), seed: int = 0, *, classifier,
                  real_features: torch.Tensor, real_labels: torch.Tensor,
                  device: str | torch.device = "auto") -> ImageResult:
    """Train one conditional DCGAN and score ``setup.per_class`` images of every class (fixed codes).

    Example:
        >>> from gancourse.metrics import DigitClassifier, extract_features
        >>> clf = DigitClassifier(); y = torch.arange(40) % 10
        >>> real = extract_features(clf, torch.rand(40, 1, 28, 28) * 2 - 1)
        >>> r = run_image_one("concat", ImageSetup(steps=1, width=4, per_class=4), classifier=clf,
        ...                   real_features=real, real_labels=y, device="cpu")
        >>> r.condition, len(r.frechet)
        ('concat', 10)
    """
    trainer = image_trainer(condition, setup, seed, device=device)
    start = time.perf_counter()
    trainer.train(progress=False)
    seconds = time.perf_counter() - start
    K = trainer.num_classes
    n = setup.per_class * K
    y = torch.arange(n) % K
    images = trainer.sample(z=fixed_codes(n, setup.z_dim), y=y)
    acc, frechet, diversity = score_conditional_images(images, y, classifier, real_features, real_labels)
    own = None
    if condition == "acgan":  # D as it sees fakes in training: train mode, batches of batch_size fakes
        order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            logits = torch.cat([trainer.D(chunk.to(trainer.device))[1].float().cpu()
                                for chunk in images[order].split(setup.batch_size)])
        own = label_accuracy(logits, y[order])
    return ImageResult(condition, seed, acc, frechet, diversity, seconds,
                       {k: v.cpu() for k, v in trainer.G.state_dict().items()}, own)


def _real_test(classifier, dataset: str, per_class: int, train: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of the first ``per_class`` images of each class of a split."""
    from .data import load_images
    from .metrics.images import extract_features

    images, labels = load_images(dataset, train=train)
    keep = _first_per_class(labels, per_class)
    return extract_features(classifier, images[keep]), labels[keep]


def _first_per_class(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices (sorted) of the first ``per_class`` examples of each class."""
    return torch.cat([torch.nonzero(labels == c)[:per_class, 0] for c in range(int(labels.max()) + 1)]).sort().values


def _image_job(job: tuple) -> ImageResult:
    condition, setup, seed, classifier_steps, device = job
    torch.set_num_threads(1)
    from .metrics.images import load_classifier

    classifier = load_classifier(setup.data, device=device, steps=classifier_steps, verbose=False)
    real_features, real_labels = _real_test(classifier, setup.data, setup.per_class)
    return run_image_one(condition, setup, seed, classifier=classifier, real_features=real_features,
                         real_labels=real_labels, device=device)


def run_images(conditions: Sequence[str], seeds: Sequence[int], setup: ImageSetup = ImageSetup(), *,
               classifier_steps: int = 600, workers: int = 2, device: str = "auto") -> list[ImageResult]:
    """Every way of conditioning D on ``setup.data`` for every seed, ``workers`` runs at once on a CPU. The
    classifier (``metrics.load_classifier(setup.data, steps=classifier_steps)``) is trained and cached first.

    Example:
        >>> res = run_images(["acgan"], [0], ImageSetup(steps=1, width=4, per_class=3), classifier_steps=2,
        ...                  workers=1, device="cpu")  # doctest: +SKIP
    """
    from .metrics.images import load_classifier

    device = pick_device(str(device))
    load_classifier(setup.data, device=device, steps=classifier_steps, verbose=False)  # cached for the workers
    jobs = [(c, setup, s, classifier_steps, str(device)) for c in conditions for s in seeds]
    return map_jobs(_image_job, jobs, workers=check_workers(workers), device=device)


def untrained_reference(classifier, setup: ImageSetup = ImageSetup(), seed: int = 0, *,
                        device: str | torch.device = "auto") -> tuple[float, dict, dict]:
    """The table's floor: the scores of an untrained conditional G (built as ``image_trainer`` builds it for
    ``seed``), on the same fixed codes and real test images as the trained ones.

    Example:
        >>> untrained_reference  # doctest: +ELLIPSIS
        <function untrained_reference at ...>
    """
    trainer = image_trainer("projection", setup, seed, device=device)  # G is the same for every conditioning
    n = setup.per_class * trainer.num_classes
    y = torch.arange(n) % trainer.num_classes
    real_features, real_labels = _real_test(classifier, setup.data, setup.per_class)
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
    from .data import load_images

    images, labels = load_images(dataset, train=True)
    keep = _first_per_class(labels, per_class)
    test_features, test_labels = _real_test(classifier, dataset, per_class)
    return score_conditional_images(images[keep], labels[keep], classifier, test_features, test_labels)


# --- tables and verdicts ----------------------------------------------------------------------------------------

def summarise(results: Sequence, measures: dict[str, Callable]) -> dict[str, dict[str, tuple[float, float]]]:
    """``{condition: {measure: (mean, standard error)}}`` over seeds, in run order; ``measures`` maps a name to
    a function of one result.

    Example:
        >>> runs = [ImageResult("concat", s, a, {}, {}, 1.0) for s, a in ((0, 0.5), (1, 0.7))]
        >>> summarise(runs, {"acc": lambda r: r.label_accuracy})["concat"]["acc"]
        (0.6, 0.09999999999999998)
    """
    groups: dict[str, dict[str, list[float]]] = {}
    for r in results:
        row = groups.setdefault(r.condition, {name: [] for name in measures})
        for name, fn in measures.items():
            row[name].append(float(fn(r)))
    return {c: {name: mean_and_standard_error(v) for name, v in row.items()} for c, row in groups.items()}


def compare(a: tuple[float, float], b: tuple[float, float], higher_is_better: bool = True, k: float = 2.0) -> str:
    """"better" / "worse" when mean ``a`` differs from mean ``b`` by more than ``k`` standard errors of the
    difference, sqrt(se_a^2 + se_b^2); "on par" within that (``remedies.report.verdict`` with ``b`` as the
    reference); "undecided" when either side lacks a mean or a standard error.

    Example:
        >>> compare((0.9, 0.01), (0.5, 0.02)), compare((0.9, 0.2), (0.5, 0.2)), compare((1.0, 0.1), (2.0, 0.1), False)
        ('better', 'on par', 'better')
    """
    if any(math.isnan(v) for v in (*a, *b)):
        return "undecided"
    return verdict(a, b[0], b[1], higher_is_better, k)


# --- controllable generation ------------------------------------------------------------------------------------

def generator_from_state(state: dict, setup: ImageSetup = ImageSetup(), num_classes: int = 10,
                         channels: int = 1, image_size: int = 28) -> ConditionalDCGANGenerator:
    """Rebuild a trained ``ImageResult.G`` (eval mode).

    Example:
        >>> G = ConditionalDCGANGenerator(8, width=4)
        >>> type(generator_from_state(G.state_dict(), ImageSetup(z_dim=8, width=4))).__name__
        'ConditionalDCGANGenerator'
    """
    G = ConditionalDCGANGenerator(setup.z_dim, channels, image_size, setup.width, num_classes)
    G.load_state_dict(state)
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
