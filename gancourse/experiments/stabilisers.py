"""Lesson 6's comparison: the stabilisers modern GANs use, trained with the same networks, budget and seeds.

Four games, each with and without an average of G's weights:

    NS-GAN        non-saturating loss (Goodfellow et al. 2014, Sec. 3)
    WGAN-GP       critic + gradient penalty, 5 critic steps per G step (Gulrajani et al. 2017, Algorithm 1)
    hinge + SN    hinge loss, spectral normalisation in D (Miyato et al. 2018, Eq. 16-17 and Sec. 2.1)
    NS-GAN + R1   non-saturating loss + R1 on real data (Mescheder, Geiger & Nowozin 2018, Eq. 9)

"With EMA" costs no second run: the average of G (``gancourse.ema``) follows the live G and never feeds
back into training, so one run gives both rows, scored on the same latent codes.

On the 2-D mixtures the runs are lesson 2's benchmark (``experiments.mixtures``: MLPs, Adam (0, 0.9), the
mode-coverage score) with *constant* learning rates, ``MIXTURE_SETUP``: lesson 2 decays them in the last
half, and that decay already does what an average does (it damps the circling iterates). On images the
runs are a small DCGAN on digits (``IMAGE_SETUP``), scored on the lesson-3 classifier's features: Frechet
distance, improved precision and recall, density and coverage (``metrics.manifold``) and the classes covered,
at the end of the run and, when asked (``checkpoints``), at chosen steps along it.

The truncation trick (Brock et al. 2019, Sec. 3.1) is here too: ``truncated_normal`` draws z with every
coordinate resampled until it lies in [-psi, psi].
"""
from __future__ import annotations

import math
import operator
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..config import TrainConfig
from ..device import pick_device
from ..losses import GAME_LOSSES
from ..metrics.images import (
    class_coverage,
    extract_features,
    features_and_probabilities,
    frechet_distance_from_features,
)
from ..metrics.manifold import manifold_metrics
from ..models import DCGANGenerator
from ..train import Trainer
from .core import Result, Setup, fixed_codes, known, summarise, timed_train
from .mixtures import Method, MixtureResult, MixtureSetup, run_benchmark
from .workers import check_workers, map_jobs

__all__ = ["EMA_HALF_LIFE", "STABILISERS", "MIXTURE_SETUP", "IMAGE_SETUP", "ImageScore", "StabiliserImageResult",
           "run_mixtures", "build_image_trainer", "score_images", "run_stabiliser_image", "run_stabiliser_images",
           "mixture_summary", "image_summary", "image_generator", "truncated_normal"]

EMA_HALF_LIFE = 200.0
"""Half-life in generator steps of the average of G on the mixtures (decay 0.5 ** (1/200) = 0.9965), chosen
on tuning seeds 0 and 1 (lesson 2's reporting seeds are 6, 7, 8)."""

STABILISERS: dict[str, Method] = {m.name: m for m in (
    Method("NS-GAN", ema_half_life=EMA_HALF_LIFE),
    Method("WGAN-GP", loss="wgan-gp", n_critic=5, gp_lambda=0.1, ema_half_life=EMA_HALF_LIFE),
    Method("hinge + SN", loss="hinge", spectral_norm=True, ema_half_life=EMA_HALF_LIFE),
    Method("NS-GAN + R1", r1_gamma=1.0, ema_half_life=EMA_HALF_LIFE),
)}
"""The four games, as ``mixtures.Method`` entries. WGAN-GP has lesson 2's toy-data lambda = 0.1
(the authors' code for 2-D data) and the paper's n_critic = 5; R1's gamma = 1 was chosen on the tuning seeds."""

MIXTURE_SETUP = MixtureSetup().replace(steps=2000, decay_to=1.0)
"""Lesson 2's modern networks and optimiser, 2,000 steps, learning rates held constant (``decay_to=1``)."""


def run_mixtures(datasets: Sequence[str], seeds: Sequence[int], setup: MixtureSetup = MIXTURE_SETUP, *,
                 methods: Sequence[str] = tuple(STABILISERS), workers: int = 2, device: str = "auto",
                 progress: bool = False) -> list[MixtureResult]:
    """Every stabiliser on every mixture and seed (``mixtures.run_benchmark``); each result has
    the live G's score (``coverage``) and the average's (``ema_coverage``).

    Example:
        >>> res = run_mixtures(["ring"], [0], MIXTURE_SETUP.replace(steps=3, samples=50), methods=["NS-GAN"],
        ...                    workers=1, device="cpu")
        >>> res[0].method, res[0].ema_coverage.num_modes
        ('NS-GAN', 8)
    """
    chosen = [STABILISERS[m] for m in known(methods, STABILISERS, "stabiliser")]
    return run_benchmark(datasets, chosen, seeds, setup, device=device, workers=workers, progress=progress)


# --- images -------------------------------------------------------------------------------------------------


IMAGE_SETUP = Setup(TrainConfig(lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.9, batch_size=64, z_dim=64, steps=300,
                                 ema_half_life=20.0), model="dcgan", width=16, data="digits", samples=1000)
"""What every image run shares: a DCGAN of base width 16 on digits, Adam with WGAN-GP's and SNGAN's betas (0, 0.9)
at one learning rate for all four games, 300 generator steps, constant rates, an average of G with a half-life
of 20 generator steps, and 1,000 samples scored against as many real test images. Each game keeps its paper's
penalty weight on images (WGAN-GP's lambda = 10, R1's gamma = 1).

D's normalisation follows each game's paper: batch norm for the NS-GAN (DCGAN), none under spectral
normalisation (SNGAN), layer norm where a penalty takes per-sample gradients of D (WGAN-GP, R1: batch
norm would make each sample's gradient depend on the rest of its batch, Gulrajani et al. 2017, Sec. 4)."""

IMAGE_GP_LAMBDA = 10.0
"""The gradient penalty's weight on images: the paper's lambda (the mixtures keep the toy-data 0.1)."""


def _d_norm(method: Method) -> str:
    if method.spectral_norm:
        return "none"
    if GAME_LOSSES[method.loss].penalty is not None or method.r1_gamma > 0:
        return "layer"
    return "batch"


def build_image_trainer(method: Method | str, setup: Setup = IMAGE_SETUP, seed: int = 0, *,
                        device: str | torch.device = "auto", callbacks=()) -> Trainer:
    """A ``Trainer`` for one stabiliser on ``setup.data``, built by ``setup.trainer`` (``Trainer.from_names``);
    ``callbacks`` go to the trainer (called every ``setup.log_every`` steps and at the last).

    Example:
        >>> t = build_image_trainer("hinge + SN", IMAGE_SETUP.replace(steps=1, width=4), device="cpu")
        >>> hasattr(t.D.net[0], "parametrizations"), t.cfg.loss
        (True, 'hinge')
    """
    method = _method(method)
    penalised = GAME_LOSSES[method.loss].penalty is not None
    trainer = setup.trainer(seed, str(pick_device(str(device))), loss=method.loss, n_critic=method.n_critic,
                            gp_lambda=IMAGE_GP_LAMBDA if penalised else method.gp_lambda, r1_gamma=method.r1_gamma,
                            d_norm=_d_norm(method), spectral_norm=method.spectral_norm, callbacks=callbacks)
    trainer.setup.update(stabiliser=method.name, image_setup=setup.settings())
    return trainer


def _method(method: Method | str) -> Method:
    return method if isinstance(method, Method) else STABILISERS[known([method], STABILISERS, "stabiliser")[0]]


@dataclass(frozen=True)
class ImageScore:
    """One set of generated images against real ones, on the classifier's features: Frechet distance,
    improved precision and recall (k = 3), the classes with at least one confident sample, and density and
    coverage (k = 5; NaN when not measured).

    Example:
        >>> ImageScore(12.0, 0.8, 0.5, 10).recall, ImageScore(12.0, 0.8, 0.5, 10, 0.9, 0.7).coverage
        (0.5, 0.7)
    """

    frechet: float
    precision: float
    recall: float
    classes: int
    density: float = math.nan
    coverage: float = math.nan


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
    m = manifold_metrics(real_features, fake, k=3, k_dc=5)
    return ImageScore(frechet_distance_from_features(real_features, fake), m.precision, m.recall,
                      class_coverage(probs), m.density, m.coverage)


@dataclass
class StabiliserImageResult(Result):
    """One image run (``core.Result``: stabiliser, data, seed, training seconds), the live G's and the average's
    scores, both generators' weights (CPU) for pictures and the truncation curve, and ``curve``: (step, live
    score, average's score) at each checkpoint the run was asked to score along the way.

    Example:
        >>> r = StabiliserImageResult("NS-GAN", "digits", 0, 2.0, ImageScore(1, 1, 1, 10), ImageScore(1, 1, 1, 10))
        >>> r.seconds
        2.0
    """

    score: ImageScore
    ema_score: ImageScore
    G: dict | None = None
    G_ema: dict | None = None
    curve: list[tuple[int, ImageScore, ImageScore]] = field(default_factory=list)


def run_stabiliser_image(method: Method | str, setup: Setup = IMAGE_SETUP, seed: int = 0, *, classifier,
                         real_features: torch.Tensor, device: str | torch.device = "auto",
                         checkpoints: Sequence[int] = ()) -> StabiliserImageResult:
    """Train one stabiliser on images for one seed; score the live G and its average on the same
    ``setup.samples`` fixed latent codes, at the end and at each step in ``checkpoints`` (``result.curve``).

    Scoring along the way changes nothing in the run (sampling is in eval mode and draws no random numbers),
    so the curve's point at step s is the score of a run of s steps, and ``seconds`` counts training only.
    A checkpoint must be a multiple of ``setup.log_every`` (where the trainer calls back) or the last step.

    Example:
        >>> from gancourse.metrics import DigitClassifier
        >>> clf = DigitClassifier(); real = extract_features(clf, torch.rand(30, 1, 28, 28) * 2 - 1)
        >>> r = run_stabiliser_image("NS-GAN", IMAGE_SETUP.replace(steps=2, width=4, samples=30), classifier=clf,
        ...                          real_features=real, device="cpu", checkpoints=[2])
        >>> r.method, r.score.classes <= 10, [step for step, _, _ in r.curve]
        ('NS-GAN', True, [2])
    """
    method = _method(method)
    along = _checked_checkpoints(checkpoints, setup)
    z = fixed_codes(setup.samples, setup.z_dim)

    def both(trainer: Trainer) -> tuple[ImageScore, ImageScore]:
        return (score_images(trainer.sample(z=z), classifier, real_features),
                score_images(trainer.sample(z=z, ema=True), classifier, real_features))

    curve, scoring = [], [0.0]

    def score_along(trainer: Trainer) -> None:
        if trainer.step in along and trainer.step < setup.steps:
            start = time.perf_counter()
            curve.append((trainer.step, *both(trainer)))
            scoring[0] += time.perf_counter() - start

    trainer = build_image_trainer(method, setup, seed, device=device, callbacks=[score_along] if along else ())
    seconds = timed_train(trainer) - scoring[0]
    score, ema_score = both(trainer)
    if setup.steps in along:
        curve.append((setup.steps, score, ema_score))
    return StabiliserImageResult(method.name, setup.data, seed, seconds, score, ema_score,
                                 {k: v.cpu() for k, v in trainer.G.state_dict().items()},
                                 {k: v.cpu() for k, v in trainer.ema.module.state_dict().items()}, curve)


def _checked_checkpoints(checkpoints: Sequence[int], setup: Setup) -> set[int]:
    bad = [c for c in checkpoints if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= setup.steps
           or (c % setup.log_every and c != setup.steps)]
    if bad:
        raise ValueError(f"checkpoints {bad} are not steps the run can be scored at; valid choices: multiples of "
                         f"log_every={setup.log_every} up to steps={setup.steps}, and {setup.steps} itself")
    return set(checkpoints)


def _run_image_job(job: tuple) -> StabiliserImageResult:
    method, setup, seed, classifier_steps, device, checkpoints = job
    from ..metrics.images import load_classifier

    classifier = load_classifier(setup.data, device=device, steps=classifier_steps, verbose=False)
    real_features = _real_test_features(classifier, setup.data, setup.samples)
    return run_stabiliser_image(method, setup, seed, classifier=classifier, real_features=real_features,
                                device=device, checkpoints=checkpoints)


def _real_test_features(classifier, dataset: str, n: int) -> torch.Tensor:
    from ..data import load_images

    images, _ = load_images(dataset, train=False)
    return extract_features(classifier, images[:n])


def run_stabiliser_images(methods: Sequence[str], seeds: Sequence[int], setup: Setup = IMAGE_SETUP, *,
                          classifier_steps: int = 600, workers: int = 2, device: str = "auto",
                          progress: bool = False, checkpoints: Sequence[int] = ()) -> list[StabiliserImageResult]:
    """Every stabiliser on ``setup.data`` for every seed, ``workers`` runs at once on a CPU (separate
    processes, one thread each). The classifier (``metrics.load_classifier(setup.data,
    steps=classifier_steps)``) is trained and cached first, so the workers only read it. Each run is
    also scored at ``checkpoints`` (``run_stabiliser_image``).

    Example:
        >>> res = run_stabiliser_images(["NS-GAN"], [0], IMAGE_SETUP.replace(steps=1, width=4, samples=20),
        ...                             classifier_steps=2, workers=1, device="cpu")  # doctest: +SKIP
    """
    from ..metrics.images import load_classifier

    known(methods, STABILISERS, "stabiliser")
    check_workers(workers)
    _checked_checkpoints(checkpoints, setup)
    device = pick_device(str(device))
    load_classifier(setup.data, device=device, steps=classifier_steps, verbose=progress)  # cached for the workers
    jobs = [(m, setup, seed, classifier_steps, str(device), tuple(checkpoints)) for m in methods for seed in seeds]

    def report(result: StabiliserImageResult) -> StabiliserImageResult:
        if progress:
            print(f"{result.method:12s} | seed {result.seed} | Frechet {result.score.frechet:7.1f} (EMA "
                  f"{result.ema_score.frechet:7.1f}) | {result.seconds:.0f}s", flush=True)
        return result

    return map_jobs(_run_image_job, jobs, workers=workers, device=device, report=report)


def image_generator(result: StabiliserImageResult, setup: Setup = IMAGE_SETUP, ema: bool = False, channels: int = 1,
                    image_size: int = 28) -> DCGANGenerator:
    """The trained G of ``result`` (its average with ``ema=True``) rebuilt for ``setup``, in eval mode.

    Example:
        >>> G = DCGANGenerator(8, width=4)
        >>> r = StabiliserImageResult("NS-GAN", "digits", 0, 1.0, None, None, G.state_dict(), G.state_dict())
        >>> type(image_generator(r, IMAGE_SETUP.replace(z_dim=8, width=4), ema=True)).__name__
        'DCGANGenerator'
    """
    G = DCGANGenerator(setup.z_dim, channels, image_size, setup.width)
    G.load_state_dict(result.G_ema if ema else result.G)
    return G.eval()


# --- tables -------------------------------------------------------------------------------------------------


def mixture_summary(results: Sequence[MixtureResult]) -> dict[tuple[str, str, bool], dict[str, tuple[float, float]]]:
    """``{(data, method, ema): {"modes": (mean, se), "hq": (mean, se), "seconds": (mean, se)}}`` over seeds,
    in run order; ``hq`` is in percent, ``ema`` False for the live G and True for its average.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> cov = lambda m, hq: ModeCoverage(m, 8, hq, 0.0, [1] * 8)
        >>> runs = [MixtureResult("NS-GAN", "ring", s, 2.0, cov(m, 0.5), ema_coverage=cov(8, 0.9))
        ...         for s, m in ((0, 6), (1, 8))]
        >>> table = mixture_summary(runs)
        >>> table["ring", "NS-GAN", False]["modes"], table["ring", "NS-GAN", True]["hq"]
        ((7.0, 1.0), (90.0, 0.0))
    """
    table = {}
    for ema, attribute in ((False, "coverage"), (True, "ema_coverage")):
        rows = [r for r in results if getattr(r, attribute) is not None]
        by_run = summarise(rows, _coverage_measures(attribute), key=lambda r: (r.data, r.method))
        table.update({(data, method, ema): row for (data, method), row in by_run.items()})
    order = list(dict.fromkeys((r.data, r.method) for r in results))
    return {(d, m, e): table[d, m, e] for d, m in order for e in (False, True) if (d, m, e) in table}


def _coverage_measures(attribute: str) -> dict:
    coverage = operator.attrgetter(attribute)
    return {"modes": lambda r: coverage(r).modes_captured, "hq": lambda r: 100 * coverage(r).hq_fraction,
            "seconds": lambda r: r.seconds}


def _score_measures(attribute: str) -> dict:
    names = ("frechet", "precision", "recall", "classes", "density", "coverage")
    return {**{name: operator.attrgetter(f"{attribute}.{name}") for name in names}, "seconds": lambda r: r.seconds}


def image_summary(results: Sequence[StabiliserImageResult]) -> dict[tuple[str, bool], dict[str, tuple[float, float]]]:
    """``{(method, ema): {"frechet", "precision", "recall", "classes", "density", "coverage", "seconds": (mean, se)}}``
    over seeds (density and coverage NaN where the scores lack them).

    Example:
        >>> runs = [StabiliserImageResult("NS-GAN", "digits", s, 3.0, ImageScore(f, 0.5, 0.5, 10),
        ...                               ImageScore(f - 1, 0.6, 0.4, 10)) for s, f in ((0, 10.0), (1, 12.0))]
        >>> image_summary(runs)["NS-GAN", True]["frechet"]
        (10.0, 1.0)
    """
    table = {}
    for ema, attribute in ((False, "score"), (True, "ema_score")):
        by_method = summarise(results, _score_measures(attribute))
        table.update({(method, ema): row for method, row in by_method.items()})
    order = list(dict.fromkeys(r.method for r in results))
    return {(m, e): table[m, e] for m in order for e in (False, True)}


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
