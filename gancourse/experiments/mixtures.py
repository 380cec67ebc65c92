"""2-D mixture runs, lessons 2 and 6: every method trained with the same networks, budget and seeds, then scored
with the VEEGAN / PacGAN protocol (``gancourse.metrics.mixtures``).

A ``Method`` says what a remedy or a stabiliser changes (pack size, minibatch-std layer, unrolling, loss,
penalties, the average of G); a ``MixtureSetup`` (``core.Setup``) holds what all methods share (a ``TrainConfig``,
the networks, the learning-rate schedule, the scored samples). Both are small frozen dataclasses, so a table row
is reproducible from its printed settings. ``METHODS`` is the registry of the remedies by name; lesson 2 chooses
among them in ``experiments.collapse``, lesson 6 adds its own in ``experiments.stabilisers``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..config import TrainConfig
from ..data import MixtureSampler, make_mixture
from ..data.mixtures import Mixture
from ..device import pick_device
from ..metrics.mixtures import ModeCoverage, mode_coverage, mode_shares
from ..models import build_models
from ..models.spectral import with_spectral_norm
from ..remedies import MixtureLatent, PackedDiscriminator, with_minibatch_std
from ..train import Trainer
from .core import Result, Setup, fixed_codes, known
from .workers import check_workers, map_jobs

__all__ = ["Method", "MixtureSetup", "METHODS", "LATENT_COMPONENTS", "UNROLLED_ADAM", "MixtureResult", "Rescale",
           "build_mixture_trainer", "evaluate", "run_method", "run_benchmark", "lr_decay_callback",
           "generated_points", "seconds_per_run", "check_mixture"]


@dataclass(frozen=True)
class Method:
    """What one remedy changes in the shared setup.

    ``pack``: PacGAN's m (1 = no packing). ``minibatch_std``: add the minibatch-std layer, with
    groups of ``group_size`` samples (None: the whole batch). ``unroll_steps``: K of the unrolled
    GAN (0 = none). ``latent_components``: K of DeLiGAN's mixture latent (``MixtureLatent``; 0 = the
    plain Gaussian). ``loss`` / ``n_critic`` / ``gp_lambda``: as in ``TrainConfig``. WGAN-GP runs
    with the paper's n_critic = 5 and the lambda = 0.1 of the authors' code for toy data ("faster for
    toy tasks"); with the paper's lambda = 10 it covered far fewer modes in this budget.
    ``lr_g`` / ``lr_d`` / ``beta1`` / ``beta2``: this method's own Adam settings (None: the setup's).
    The unrolled GAN keeps Metz et al.'s beta1 = 0.5 (with beta2 = 0.999 and equal rates): it unrolls
    D's own Adam steps, and with the shared beta1 = 0 it collapsed to 1 to 6 modes in this budget.
    Lesson 6's stabilisers (``gancourse.stabilisers``): ``spectral_norm`` wraps D's layers
    (``models.spectral.with_spectral_norm``), ``r1_gamma`` and ``ema_half_life`` are ``TrainConfig``'s; with
    an average of G, ``run_method`` scores it too (``MixtureResult.ema_coverage``).

    Example:
        >>> METHODS["PacGAN4"].pack
        4
    """

    name: str
    pack: int = 1
    minibatch_std: bool = False
    group_size: int | None = None
    unroll_steps: int = 0
    latent_components: int = 0
    loss: str = "nsgan"
    n_critic: int = 1
    gp_lambda: float = 10.0
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    spectral_norm: bool = False
    r1_gamma: float = 0.0
    ema_half_life: float = 0.0

    def adam(self, setup: MixtureSetup) -> dict[str, float]:
        """Adam's settings for this method under ``setup``: its own where given, else the setup's.

        Example:
            >>> METHODS["unrolled GAN (5 steps)"].adam(MixtureSetup())
            {'lr_g': 0.002, 'lr_d': 0.002, 'beta1': 0.5, 'beta2': 0.999}
        """
        return {name: getattr(setup, name) if getattr(self, name) is None else getattr(self, name)
                for name in ("lr_g", "lr_d", "beta1", "beta2")}


UNROLLED_ADAM = {"lr_g": 2e-3, "lr_d": 2e-3, "beta1": 0.5, "beta2": 0.999}
"""The unrolled GAN's own Adam settings (Metz et al. 2017 use beta1 = 0.5), overriding the shared ones."""

LATENT_COMPONENTS = 96
"""K of the mixture-latent rows, the same for the ring and the grid (chosen among 64, 96, 128 and 256)."""

METHODS: dict[str, Method] = {m.name: m for m in (
    Method("GAN"),
    Method("PacGAN2", pack=2),
    Method("PacGAN4", pack=4),
    Method("minibatch std", minibatch_std=True),
    Method("unrolled GAN (5 steps)", unroll_steps=5, **UNROLLED_ADAM),
    Method("WGAN-GP", loss="wgan-gp", n_critic=5, gp_lambda=0.1),
    Method("mixture latent", latent_components=LATENT_COMPONENTS),
    Method("minibatch std + mixture latent", minibatch_std=True, latent_components=LATENT_COMPONENTS),
)}


@dataclass(frozen=True)
class MixtureSetup(Setup):
    """What every method shares on a 2-D mixture: a ``TrainConfig`` (Adam, rates, batch, z, steps), the MLPs
    (``width`` units, ``g_depth`` / ``d_depth`` hidden layers, their activations and G's norm), the
    learning-rate schedule and ``samples`` scored points; the comparison varies the method, the data and the seed.

    The learning rates stay at ``lr_g`` / ``lr_d`` for the first ``decay_start`` fraction of the steps, then
    fall geometrically to ``decay_to`` times their value at the last step; the final low-learning-rate phase is
    what makes samples precise enough for the 3-standard-deviation test. ``rescale`` lets the networks work in
    units of the data's extent (the grid spans +-4, the ring +-1): G's output is multiplied and D's
    input divided by the largest centre coordinate, so both datasets look alike to them.
    ``latent_scale`` multiplies the codes z on their way into G. A continuous G maps the connected
    Gaussian onto separate modes, so some samples land between modes; their share shrinks only as G
    gets steeper, and Adam moves each weight by about one learning rate per step. Scaled codes start
    G steeper (measured here: grid HQ about 75% -> 84% for minibatch std at batch 256).
    Adam's betas are WGAN-GP's (Gulrajani et al. 2017, Algorithm 1: beta1 = 0, beta2 = 0.9) and G's
    learning rate is twice D's: against betas (0.5, 0.999) and equal rates of 2e-3 this raised
    minibatch std's mean grid HQ from 64% to 76% and ring HQ from 89% to 91% (3 seeds, 3,000 steps,
    ``benchmarks/mixture_precision.py``), at no extra cost per step.

    Example:
        >>> MixtureSetup().replace(steps=100, lr_g=1e-3).config.lr_g
        0.001
    """

    config: TrainConfig = field(default_factory=lambda: TrainConfig(
        optimizer="adam", lr_g=4e-3, lr_d=2e-3, beta1=0.0, beta2=0.9, batch_size=128, steps=4000, z_dim=16))
    width: int = 128
    samples: int = 2500
    g_depth: int = 2
    g_activation: str = "tanh"
    g_norm: str = "none"
    d_depth: int = 2
    d_activation: str = "leaky_relu"
    decay_start: float = 0.5
    decay_to: float = 0.01
    rescale: bool = True
    latent_scale: float = 4.0


class Rescale(nn.Module):
    """Multiplies its input by a fixed ``factor`` (no parameters): ``nn.Sequential(G, Rescale(4))``.

    Example:
        >>> Rescale(4.0)(torch.ones(2)).tolist()
        [4.0, 4.0]
    """

    def __init__(self, factor: float) -> None:
        super().__init__()
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be a positive finite number, got factor={factor!r}")
        self.factor = float(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


def lr_decay_callback(steps: int, start: float, final: float) -> Callable[[Trainer], None]:
    """A ``Trainer`` callback holding both learning rates at their initial values until step
    ``start * steps``, then decaying them geometrically to ``final`` times those values at ``steps``:

        lr(t) = lr_0 * final ** max(0, (t / steps - start) / (1 - start))

    Example:
        >>> cb = lr_decay_callback(100, 0.5, 0.01)   # lr_0 * 0.1 at step 75, lr_0 * 0.01 at step 100
    """
    if not 0 <= start < 1 or not 0 < final <= 1:
        raise ValueError(f"need 0 <= start < 1 and 0 < final <= 1, got start={start}, final={final}")
    initial: dict[int, float] = {}

    def callback(trainer: Trainer) -> None:
        frac = max(0.0, (trainer.step / steps - start) / (1 - start))
        factor = final ** min(frac, 1.0)
        for opt in (trainer.opt_g, trainer.opt_d):
            for group in opt.param_groups:
                base = initial.setdefault(id(group), group["lr"])
                group["lr"] = base * factor

    return callback


def check_mixture(data: str) -> Mixture:
    """The Gaussian mixture named ``data`` ("ring" or "grid"), else ``ValueError``: mode coverage needs modes.

    Example:
        >>> check_mixture("grid").num_modes
        25
    """
    mixture = make_mixture(data)
    if mixture.kind != "gaussian_mixture":
        raise ValueError(f"the mode-coverage benchmark needs a Gaussian mixture: 'ring' or 'grid', got {data!r}")
    return mixture


def _method(method: Method | str) -> Method:
    return method if isinstance(method, Method) else METHODS[known([method], METHODS, "method")[0]]


def build_mixture_trainer(data: str, method: Method | str, setup: MixtureSetup = MixtureSetup(), seed: int = 0, *,
                          device: str | torch.device = "auto", callbacks: Iterable = (),
                          callback_every: int = 10) -> Trainer:
    """A ``Trainer`` for ``method`` on ``data`` ("ring" or "grid") with the shared ``setup``: the networks from
    the one factory (``models.build_models``), then the method's pieces around them.

    The seed fixes the initial weights (``torch.manual_seed(seed)`` right before building them), the
    data stream and the noise, so two methods with the same seed start from the same generator.

    Example:
        >>> t = build_mixture_trainer("ring", "PacGAN2", MixtureSetup().replace(steps=5), device="cpu")
        >>> t.D.pack, t.train(progress=False)["step"][-1]
        (2, 5)
    """
    method = _method(method)
    mixture = check_mixture(data)
    device = pick_device(str(device))
    cfg = setup.config.replace(loss=method.loss, **method.adam(setup), n_critic=method.n_critic,
                               gp_lambda=method.gp_lambda, r1_gamma=method.r1_gamma,
                               ema_half_life=method.ema_half_life, seed=seed, device=str(device),
                               unroll_steps=method.unroll_steps)
    torch.manual_seed(seed)
    latent = MixtureLatent(setup.z_dim, method.latent_components) if method.latent_components else None
    # DeLiGAN: G's network sees mu_i + sigma_i * eps, one entry fewer than the code z
    G, D = build_models("mlp", (2,), z_dim=setup.z_dim - 1 if latent is not None else setup.z_dim, width=setup.width,
                        depth=setup.g_depth, g_norm=setup.g_norm, activation=setup.g_activation,
                        d_activation=setup.d_activation, pack=method.pack)
    if method.minibatch_std:
        D = with_minibatch_std(D, method.group_size)
    if method.spectral_norm:
        D = with_spectral_norm(D)
    if setup.latent_scale != 1.0:
        G = nn.Sequential(Rescale(setup.latent_scale), G)
    if latent is not None:
        G = nn.Sequential(latent, G)
    if setup.rescale:
        extent = float(mixture.centres.abs().max())
        G, D = nn.Sequential(G, Rescale(extent)), nn.Sequential(Rescale(1 / extent), D)
    if method.pack > 1:
        D = PackedDiscriminator(D, method.pack)
    sampler = MixtureSampler(mixture, setup.batch_size, device=device, seed=seed)
    schedule = lr_decay_callback(setup.steps, setup.decay_start, setup.decay_to)
    trainer = Trainer(G, D, sampler, cfg, callbacks=[schedule, *callbacks], callback_every=callback_every)
    trainer.setup = {"data": data, "method": asdict(method), "benchmark_setup": setup.settings()}
    return trainer


def evaluate(trainer: Trainer, data: str, samples: int = 2500) -> ModeCoverage:
    """Score ``samples`` generated points from the fixed evaluation codes with ``mode_coverage``.

    Example:
        >>> trainer = build_mixture_trainer("ring", "GAN", MixtureSetup().replace(steps=1), device="cpu")
        >>> evaluate(trainer, "ring").num_modes
        8
    """
    mixture = check_mixture(data)
    return mode_coverage(generated_points(trainer, samples), mixture.centres, mixture.std)


def generated_points(trainer: Trainer, samples: int = 2500, *, ema: bool = False) -> torch.Tensor:
    """``samples`` generated points (CPU) from the fixed evaluation codes (``core.fixed_codes``): the same codes
    for every method, so their pictures and scores are comparable. ``ema=True``: from the average of G.

    Example:
        >>> trainer = build_mixture_trainer("ring", "GAN", MixtureSetup().replace(steps=1), device="cpu")
        >>> generated_points(trainer, 5).shape
        torch.Size([5, 2])
    """
    return trainer.sample(z=fixed_codes(samples, trainer.cfg.z_dim), ema=ema)


@dataclass
class MixtureResult(Result):
    """One trained run on a mixture (``core.Result``: method, data, seed, training seconds without the time
    spent scoring a trace, so traced and untraced runs compare), its final score and the scored points
    (``samples``, CPU) for pictures. With ``trace_every``, ``trace`` holds (step, modes captured, HQ
    fraction, share of the most popular mode) along the way, scored on the same ``setup.samples``
    fixed latent codes as the final score, and ``frames`` the generated points at those steps. A run with
    an average of G's weights (``Method.ema_half_life``) also has that average's score and points
    (``ema_coverage``, ``ema_samples``), from the same latent codes.

    Example:
        >>> result = run_method("grid", "GAN", MixtureSetup().replace(steps=2, samples=100), device="cpu")
        >>> result.method, result.coverage.num_modes, tuple(result.samples.shape)
        ('GAN', 25, (100, 2))
    """

    coverage: ModeCoverage
    trace: list[tuple[int, int, float, float]] = field(default_factory=list)
    samples: torch.Tensor | None = None
    frames: list[torch.Tensor] = field(default_factory=list)
    ema_coverage: ModeCoverage | None = None
    ema_samples: torch.Tensor | None = None


def run_method(data: str, method: Method | str, setup: MixtureSetup = MixtureSetup(), seed: int = 0, *,
               device: str | torch.device = "auto", trace_every: int = 0, progress: bool = False) -> MixtureResult:
    """Train one method on one dataset for one seed and score it (``trace_every`` > 0 also records,
    every that many steps, the score of ``setup.samples`` points and the points themselves).

    Example:
        >>> run_method("ring", "GAN", MixtureSetup().replace(steps=20), device="cpu").coverage.num_modes
        8
        >>> setup = MixtureSetup().replace(steps=20)
        >>> [step for step, *_ in run_method("ring", "GAN", setup, device="cpu", trace_every=10).trace]
        [10, 20]
    """
    method = _method(method)
    mixture = check_mixture(data)
    trace: list[tuple[int, int, float, float]] = []
    frames: list[torch.Tensor] = []
    scoring = [0.0]   # seconds spent scoring the trace, left out of the run's time
    callbacks = []
    if trace_every:
        def record(trainer: Trainer) -> None:
            if trainer.step % trace_every == 0:
                began = time.perf_counter()
                points = generated_points(trainer, setup.samples)
                cov = mode_coverage(points, mixture.centres, mixture.std)
                top = float(mode_shares(points, mixture.centres).max())
                trace.append((trainer.step, cov.modes_captured, cov.hq_fraction, top))
                frames.append(points)
                scoring[0] += time.perf_counter() - began
        callbacks.append(record)
    trainer = build_mixture_trainer(data, method, setup, seed, device=device, callbacks=callbacks,
                                    callback_every=math.gcd(10, trace_every) if trace_every else 10)
    start = time.perf_counter()
    trainer.train(progress=progress)
    seconds = time.perf_counter() - start - scoring[0]
    points = generated_points(trainer, setup.samples)
    result = MixtureResult(method.name, data, seed, seconds, mode_coverage(points, mixture.centres, mixture.std),
                           trace, points, frames)
    if trainer.ema is not None:
        result.ema_samples = generated_points(trainer, setup.samples, ema=True)
        result.ema_coverage = mode_coverage(result.ema_samples, mixture.centres, mixture.std)
    return result


def _run_job(job: tuple) -> MixtureResult:
    data, method, setup, seed, device, trace_every = job
    return run_method(data, method, setup, seed, device=device, trace_every=trace_every)


def run_benchmark(datasets: Sequence[str], methods: Sequence[Method | str], seeds: Sequence[int],
                  setup: MixtureSetup = MixtureSetup(), *, device: str | torch.device = "auto", workers: int = 1,
                  progress: bool = True, trace_every: int = 0) -> list[MixtureResult]:
    """Every (dataset, method, seed) combination with the same ``setup``; one line per run when
    ``progress``. Results come back in that order; ``trace_every`` as in ``run_method``.

    ``workers > 1`` trains that many runs at once in separate processes (CPU only: the runs are
    small, so on a laptop two single-threaded processes finish about twice as fast as one process
    using two threads). Each run is seeded on its own, so the results do not depend on ``workers``.

    Example:
        >>> setup = MixtureSetup().replace(steps=5)
        >>> [r.seed for r in run_benchmark(["ring"], ["GAN"], [0, 1], setup, device="cpu", progress=False)]
        [0, 1]
    """
    methods = [_method(m) for m in methods]
    for data in datasets:
        check_mixture(data)
    check_workers(workers)
    device = pick_device(str(device))
    jobs = [(data, method, setup, seed, str(device), trace_every)
            for data in datasets for method in methods for seed in seeds]

    def report(result: MixtureResult) -> MixtureResult:
        if progress:
            print(f"{result.data:4s} | {result.method:24s} | seed {result.seed} | {result.coverage} | "
                  f"{result.seconds:.1f}s", flush=True)
        return result

    return map_jobs(_run_job, jobs, workers=workers, device=device, report=report)


def seconds_per_run(results: Sequence[Result]) -> dict[str, float]:
    """Mean training time in seconds of one run of each method (over datasets and seeds), in run order.

    Example:
        >>> from gancourse.experiments.core import Result
        >>> seconds_per_run([Result("GAN", "ring", 0, 2.0), Result("GAN", "grid", 0, 4.0)])
        {'GAN': 3.0}
    """
    times: dict[str, list[float]] = {}
    for r in results:
        times.setdefault(r.method, []).append(r.seconds)
    return {method: sum(t) / len(t) for method, t in times.items()}
