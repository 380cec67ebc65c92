"""Lesson 6's comparison: the stabilisers modern GANs use, trained with the same networks, budget and seeds.

Four games, each with and without an average of G's weights:

    NS-GAN        non-saturating loss (Goodfellow et al. 2014, Sec. 3)
    WGAN-GP       critic + gradient penalty, 5 critic steps per G step (Gulrajani et al. 2017, Algorithm 1)
    hinge + SN    hinge loss, spectral normalisation in D (Miyato et al. 2018, Eq. 16-17 and Sec. 2.1)
    NS-GAN + R1   non-saturating loss + R1 on real data (Mescheder, Geiger & Nowozin 2018, Eq. 9)

"With EMA" costs no second run: the average of G (``gancourse.ema``) follows the live G and never feeds
back into training, so one run gives both rows, scored on the same latent codes.

On the 2-D mixtures the runs are lesson 2's benchmark (``remedies.benchmark``: MLPs, Adam (0, 0.9), the
mode-coverage score) with *constant* learning rates, ``MIXTURE_SETUP``: lesson 2 decays them in the last
half, and that decay already does what an average does (it damps the circling iterates). On images the
runs are a small DCGAN on digits (``ImageSetup``), scored on the lesson-3 classifier's features: Frechet
distance, improved precision and recall (``metrics.manifold``) and the classes covered.

The truncation trick (Brock et al. 2019, Sec. 3.1) is here too: ``truncated_normal`` draws z with every
coordinate resampled until it lies in [-psi, psi].
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from .config import TrainConfig
from .device import pick_device
from .metrics.images import class_coverage, extract_features, features_and_probabilities, frechet_distance_from_features
from .metrics.manifold import precision_recall
from .metrics.mixtures import mean_and_standard_error
from .remedies.benchmark import Method, RunResult, Setup, fixed_codes, run_benchmark
from .train import Trainer
from .workers import check_workers, map_jobs

__all__ = ["EMA_HALF_LIFE", "STABILISERS", "MIXTURE_SETUP", "ImageSetup", "ImageScore", "ImageResult",
           "run_mixtures", "build_image_trainer", "score_images", "run_image_method", "run_images",
           "mixture_summary", "image_summary", "truncated_normal"]

EMA_HALF_LIFE = 200.0
"""Half-life in generator steps of the average of G on the mixtures (decay 0.5 ** (1/200) = 0.9965), chosen
on tuning seeds 0 and 1 (lesson 2's reporting seeds are 6, 7, 8)."""

STABILISERS: dict[str, Method] = {m.name: m for m in (
    Method("NS-GAN", ema_half_life=EMA_HALF_LIFE),
    Method("WGAN-GP", loss="wgan-gp", n_critic=5, gp_lambda=0.1, ema_half_life=EMA_HALF_LIFE),
    Method("hinge + SN", loss="hinge", spectral_norm=True, ema_half_life=EMA_HALF_LIFE),
    Method("NS-GAN + R1", r1_gamma=1.0, ema_half_life=EMA_HALF_LIFE),
)}
"""The four games, as ``remedies.benchmark.Method`` entries. WGAN-GP has lesson 2's toy-data lambda = 0.1
(the authors' code for 2-D data) and the paper's n_critic = 5; R1's gamma = 1 was chosen on the tuning seeds."""

MIXTURE_SETUP = Setup(steps=2000, decay_to=1.0)
"""Lesson 2's modern networks and optimiser, 2,000 steps, learning rates held constant (``decay_to=1``)."""


def run_mixtures(datasets: Sequence[str], seeds: Sequence[int], setup: Setup = MIXTURE_SETUP, *,
                 methods: Sequence[str] = tuple(STABILISERS), workers: int = 2, device: str = "auto",
                 progress: bool = False) -> list[RunResult]:
    """Every stabiliser on every mixture and seed (``remedies.benchmark.run_benchmark``); each result has
    the live G's score (``coverage``) and the average's (``ema_coverage``).

    Example:
        >>> res = run_mixtures(["ring"], [0], MIXTURE_SETUP.replace(steps=3, samples=50), methods=["NS-GAN"],
        ...                    workers=1, device="cpu")
        >>> res[0].method, res[0].ema_coverage.num_modes
        ('NS-GAN', 8)
    """
    unknown = [m for m in methods if m not in STABILISERS]
    if unknown:
        raise ValueError(f"unknown stabiliser(s) {unknown}; valid choices: {', '.join(STABILISERS)}")
    return run_benchmark(datasets, [STABILISERS[m] for m in methods], seeds, setup, device=device,
                         workers=workers, progress=progress)


# --- images -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSetup:
    """What every image run shares: a DCGAN of base width ``width`` on ``data``, Adam with WGAN-GP's and
    SNGAN's betas (0, 0.9) at one learning rate for all four games, ``steps`` generator steps, constant
    rates, and ``samples`` images scored against as many real test images. ``ema_half_life`` is the
    average's half-life in generator steps.

    D's normalisation follows each game's paper: batch norm for the NS-GAN (DCGAN), none under spectral
    normalisation (SNGAN), layer norm where a penalty takes per-sample gradients of D (WGAN-GP, R1: batch
    norm would make each sample's gradient depend on the rest of its batch, Gulrajani et al. 2017, Sec. 4).

    Example:
        >>> ImageSetup().replace(steps=10).steps
        10
    """

    data: str = "digits"
    steps: int = 300
    batch_size: int = 64
    z_dim: int = 64
    width: int = 16
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.9
    r1_gamma: float = 1.0
    ema_half_life: float = 20.0
    samples: int = 1000

    def replace(self, **changes) -> ImageSetup:
        return replace(self, **changes)


def _d_norm(method: Method) -> str:
    if method.spectral_norm:
        return "none"
    if method.loss == "wgan-gp" or method.r1_gamma > 0:
        return "layer"
    return "batch"


def build_image_trainer(method: Method | str, setup: ImageSetup = ImageSetup(), seed: int = 0, *,
                        device: str | torch.device = "auto") -> Trainer:
    """A ``Trainer`` for one stabiliser on ``setup.data`` (a DCGAN; ``setup.r1_gamma`` for the R1 game).

    Example:
        >>> t = build_image_trainer("hinge + SN", ImageSetup(steps=1, width=4), device="cpu")
        >>> hasattr(t.D.net[0], "parametrizations"), t.cfg.loss
        (True, 'hinge')
    """
    method = _method(method)
    device = pick_device(str(device))
    cfg = TrainConfig(loss=method.loss, lr_g=setup.lr, lr_d=setup.lr, beta1=setup.beta1, beta2=setup.beta2,
                      n_critic=method.n_critic, gp_lambda=10.0 if method.loss == "wgan-gp" else method.gp_lambda,
                      r1_gamma=setup.r1_gamma if method.r1_gamma > 0 else 0.0, ema_half_life=setup.ema_half_life,
                      batch_size=setup.batch_size, steps=setup.steps, z_dim=setup.z_dim, seed=seed,
                      device=str(device))
    trainer = Trainer.from_names(setup.data, "dcgan", cfg, width=setup.width, d_norm=_d_norm(method),
                                 spectral_norm=method.spectral_norm)
    trainer.setup.update(stabiliser=method.name, image_setup=setup.__dict__.copy())
    return trainer


def _method(method: Method | str) -> Method:
    if isinstance(method, Method):
        return method
    if method not in STABILISERS:
        raise ValueError(f"unknown stabiliser {method!r}; valid choices: {', '.join(STABILISERS)}")
    return STABILISERS[method]


@dataclass(frozen=True)
class ImageScore:
    """One set of generated images against real ones, on the classifier's features: Frechet distance,
    improved precision and recall (k = 3), and the classes with at least one confident sample.

    Example:
        >>> ImageScore(12.0, 0.8, 0.5, 10).recall
        0.5
    """

    frechet: float
    precision: float
    recall: float
    classes: int


def score_images(images: torch.Tensor, classifier, real_features: torch.Tensor) -> ImageScore:
    """Score ``images`` (N, C, H, W) in [-1, 1] against ``real_features`` (the classifier's features of N
    real images: the Frechet distance is biased by N, so compare equal N only).

    Example:
        >>> from gancourse.metrics import DigitClassifier
        >>> clf = DigitClassifier()
        >>> real = extract_features(clf, torch.rand(40, 1, 28, 28) * 2 - 1)
        >>> s = score_images(torch.rand(40, 1, 28, 28) * 2 - 1, clf, real); 0 <= s.precision <= 1
        True
    """
    fake, probs = features_and_probabilities(classifier, images)
    precision, recall = precision_recall(real_features, fake, k=3)
    return ImageScore(frechet_distance_from_features(real_features, fake), precision, recall,
                      class_coverage(probs))


@dataclass
class ImageResult:
    """One image run: its stabiliser and seed, the live G's and the average's scores, its training
    seconds, and both generators' weights (CPU) for pictures and the truncation curve.

    Example:
        >>> ImageResult("NS-GAN", 0, ImageScore(1, 1, 1, 10), ImageScore(1, 1, 1, 10), 2.0).seconds
        2.0
    """

    method: str
    seed: int
    score: ImageScore
    ema_score: ImageScore
    seconds: float
    G: dict | None = None
    G_ema: dict | None = None



def run_image_method(method: Method | str, setup: ImageSetup = ImageSetup(), seed: int = 0, *, classifier,
                     real_features: torch.Tensor, device: str | torch.device = "auto") -> ImageResult:
    """Train one stabiliser on images for one seed; score the live G and its average on the same
    ``setup.samples`` fixed latent codes.

    Example:
        >>> from gancourse.metrics import DigitClassifier
        >>> clf = DigitClassifier(); real = extract_features(clf, torch.rand(30, 1, 28, 28) * 2 - 1)
        >>> r = run_image_method("NS-GAN", ImageSetup(steps=2, width=4, samples=30), classifier=clf,
        ...                      real_features=real, device="cpu")
        >>> r.method, r.score.classes <= 10
        ('NS-GAN', True)
    """
    method = _method(method)
    trainer = build_image_trainer(method, setup, seed, device=device)
    start = time.perf_counter()
    trainer.train(progress=False)
    seconds = time.perf_counter() - start
    z = fixed_codes(setup.samples, setup.z_dim)
    score = score_images(trainer.sample(z=z), classifier, real_features)
    ema_score = score_images(trainer.sample(z=z, ema=True), classifier, real_features)
    return ImageResult(method.name, seed, score, ema_score, seconds,
                       {k: v.cpu() for k, v in trainer.G.state_dict().items()},
                       {k: v.cpu() for k, v in trainer.ema.module.state_dict().items()})


def _run_image_job(job: tuple) -> ImageResult:
    method, setup, seed, dataset, steps, real_n, device = job
    from .metrics.images import load_classifier

    classifier = load_classifier(dataset, device=device, steps=steps, verbose=False)
    real_features = _real_test_features(classifier, dataset, real_n)
    return run_image_method(method, setup, seed, classifier=classifier, real_features=real_features, device=device)


def _real_test_features(classifier, dataset: str, n: int) -> torch.Tensor:
    from .data import load_images

    images, _ = load_images(dataset, train=False)
    return extract_features(classifier, images[:n])


def run_images(methods: Sequence[str], seeds: Sequence[int], setup: ImageSetup = ImageSetup(), *,
               classifier_steps: int = 600, workers: int = 2, device: str = "auto",
               progress: bool = False) -> list[ImageResult]:
    """Every stabiliser on ``setup.data`` for every seed, ``workers`` runs at once on a CPU (separate
    processes, one thread each). The classifier (``metrics.load_classifier(setup.data,
    steps=classifier_steps)``) is trained and cached first, so the workers only read it.

    Example:
        >>> res = run_images(["NS-GAN"], [0], ImageSetup(steps=1, width=4, samples=20), classifier_steps=2,
        ...                  workers=1, device="cpu")  # doctest: +SKIP
    """
    from .metrics.images import load_classifier

    unknown = [m for m in methods if m not in STABILISERS]
    if unknown:
        raise ValueError(f"unknown stabiliser(s) {unknown}; valid choices: {', '.join(STABILISERS)}")
    check_workers(workers)
    device = pick_device(str(device))
    load_classifier(setup.data, device=device, steps=classifier_steps, verbose=progress)  # cached for the workers
    jobs = [(m, setup, seed, setup.data, classifier_steps, setup.samples, str(device))
            for m in methods for seed in seeds]

    def report(result: ImageResult) -> ImageResult:
        if progress:
            print(f"{result.method:12s} | seed {result.seed} | Frechet {result.score.frechet:7.1f} (EMA "
                  f"{result.ema_score.frechet:7.1f}) | {result.seconds:.0f}s", flush=True)
        return result

    return map_jobs(_run_image_job, jobs, workers=workers, device=device, report=report)


# --- tables -------------------------------------------------------------------------------------------------


def mixture_summary(results: Sequence[RunResult]) -> dict[tuple[str, str, bool], dict[str, tuple[float, float]]]:
    """``{(data, method, ema): {"modes": (mean, se), "hq": (mean, se), "seconds": (mean, se)}}`` over seeds,
    in run order; ``hq`` is in percent, ``ema`` False for the live G and True for its average.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> cov = lambda m, hq: ModeCoverage(m, 8, hq, 0.0, [1] * 8)
        >>> runs = [RunResult("ring", "NS-GAN", s, cov(m, 0.5), 2.0, ema_coverage=cov(8, 0.9))
        ...         for s, m in ((0, 6), (1, 8))]
        >>> table = mixture_summary(runs)
        >>> table["ring", "NS-GAN", False]["modes"], table["ring", "NS-GAN", True]["hq"]
        ((7.0, 1.0), (90.0, 0.0))
    """
    groups: dict[tuple[str, str, bool], dict[str, list[float]]] = {}
    for r in results:
        for ema, cov in ((False, r.coverage), (True, r.ema_coverage)):
            if cov is None:
                continue
            row = groups.setdefault((r.data, r.method, ema), {"modes": [], "hq": [], "seconds": []})
            row["modes"].append(cov.modes_captured)
            row["hq"].append(100 * cov.hq_fraction)
            row["seconds"].append(r.seconds)
    return {key: {name: mean_and_standard_error(values) for name, values in row.items()}
            for key, row in groups.items()}


def image_summary(results: Sequence[ImageResult]) -> dict[tuple[str, bool], dict[str, tuple[float, float]]]:
    """``{(method, ema): {"frechet", "precision", "recall", "classes", "seconds": (mean, se)}}`` over seeds.

    Example:
        >>> runs = [ImageResult("NS-GAN", s, ImageScore(f, 0.5, 0.5, 10), ImageScore(f - 1, 0.6, 0.4, 10), 3.0)
        ...         for s, f in ((0, 10.0), (1, 12.0))]
        >>> image_summary(runs)["NS-GAN", True]["frechet"]
        (10.0, 1.0)
    """
    groups: dict[tuple[str, bool], dict[str, list[float]]] = {}
    for r in results:
        for ema, score in ((False, r.score), (True, r.ema_score)):
            row = groups.setdefault((r.method, ema), {k: [] for k in ("frechet", "precision", "recall", "classes",
                                                                      "seconds")})
            for name in ("frechet", "precision", "recall", "classes"):
                row[name].append(float(getattr(score, name)))
            row["seconds"].append(r.seconds)
    return {key: {name: mean_and_standard_error(values) for name, values in row.items()}
            for key, row in groups.items()}


# --- the truncation trick -----------------------------------------------------------------------------------


def truncated_normal(n: int, dim: int, threshold: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, dim) draws from N(0, 1) truncated to [-threshold, threshold] in every coordinate, by resampling
    each coordinate that falls outside (BigGAN's truncation trick, Brock et al. 2019, Sec. 3.1).
    ``threshold = inf`` is the plain normal. Smaller thresholds keep G near the centre of its latent space,
    where it was trained most: samples get more typical (precision up) and less varied (recall down).

    Each coordinate then has mean 0 and variance 1 - 2 t phi(t) / (2 Phi(t) - 1) (t the threshold, phi and
    Phi the standard normal density and distribution function): the truncated normal's.

    Example:
        >>> z = truncated_normal(1000, 4, 0.5, torch.Generator().manual_seed(0))
        >>> z.shape, bool(z.abs().max() <= 0.5)
        (torch.Size([1000, 4]), True)
    """
    if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and threshold > 0):
        raise ValueError(f"threshold must be a positive number (or math.inf for no truncation), got {threshold!r}")
    z = torch.randn(n, dim, generator=generator)
    if math.isinf(threshold):
        return z
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    return z
