"""Lesson 7, anomaly detection: does a GAN trained on normal images find the ones it never saw better than a
plain baseline?

Protocol (GANomaly's, Akcay et al. 2018): one digit is the anomaly, the other nine are normal. The GAN (lesson
6's small DCGAN, ``stabilisers.IMAGE_SETUP``, through the one ``Trainer``) trains on the normal training images
only; every test image is scored, and each score's AUROC (torchmetrics) says how well it ranks the held-out
digit above the rest. The stopping step is ``setup.steps``, fixed before any test score is looked at (GANomaly's
released code reports the best epoch on the test set).

Scores, higher = more anomalous:

    D output        -D_logit(x): the trained D's "fake" vote on a real image it never saw
    f-AnoGAN        ||x - G(E(x))||^2 / n + kappa ||f(x) - f(G(E(x)))||^2 / n_f (Schlegl et al. 2019, izi_f),
                    with an encoder E trained *after* G on the same loss, G and D frozen; f is D's last hidden
                    layer, n and n_f the numbers of pixels and features, kappa = 1
    PCA             the squared error of x's reconstruction from the top ``components`` principal components of
                    normal training images (a linear autoencoder)
    k-NN            the mean Euclidean distance from x's classifier features to its k nearest normal training
                    images' features

PCA and k-NN both use the same ``knn_reference`` normal training images (a random subset drawn by the run's
seed: 10,000 of the 54,000 are plenty for 32 components and keep the SVD and the distances cheap).

Caveat on k-NN: the course classifier (``metrics.load_classifier``) was trained on all ten digits, the anomaly
included, so its features know the held-out digit as a class of its own; that is what a practitioner's
off-the-shelf feature extractor also brings, and the lesson says so beside the number.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ..data import TensorSampler, load_images
from ..history import TrainingDiverged
from ..metrics.images import extract_features, load_classifier
from ..models import DCGANDiscriminator, DCGANGenerator
from ..train import Trainer
from .core import Setup, known, summarise
from .semisupervised import to_unit_range_float
from .stabilisers import IMAGE_SETUP
from .workers import map_jobs

__all__ = ["SCORES", "TUNING_SEEDS", "AnomalySetup", "ANOMALY_SETUP", "auroc", "normal_split", "Encoder",
           "train_gan_on_normal", "d_features", "train_encoder", "fanogan_score", "d_output_score", "pca_score",
           "knn_score", "AnomalyResult", "run_anomaly", "run_anomalies", "anomaly_summary"]

SCORES = ("D output", "f-AnoGAN", "PCA", "k-NN")
"""The four anomaly scores: two from the GAN, two baselines."""
TUNING_SEEDS = (0, 1)
"""The seeds the settings were tuned on; tables that report a result use other seeds."""


@dataclass(frozen=True)
class AnomalySetup(Setup):
    """A ``Setup`` for the anomaly runs: lesson 6's DCGAN config (``config``, ``width``), plus the encoder's
    ``encoder_steps`` and learning rate, ``kappa``, the PCA's ``components``, the k of k-NN and how many normal
    training images the PCA is fitted on and the k-NN searches (``knn_reference``).

    Example:
        >>> ANOMALY_SETUP.replace(steps=5).steps, ANOMALY_SETUP.kappa
        (5, 1.0)
    """

    encoder_steps: int = 300
    encoder_lr: float = 1e-3
    kappa: float = 1.0
    components: int = 32
    k: int = 5
    knn_reference: int = 10000


ANOMALY_SETUP = AnomalySetup(IMAGE_SETUP.config.replace(ema_half_life=0.0), model="dcgan", width=IMAGE_SETUP.width,
                             data="digits", samples=IMAGE_SETUP.samples)
"""Lesson 6's NS-GAN on digits (a DCGAN of width 16, Adam (0, 0.9) at 1e-3, batches of 64, 300 steps), no average
of G; an encoder of the same width trained 300 steps; kappa = 1; 32 principal components; k = 5 among 10,000
normal training images."""


def auroc(scores: torch.Tensor, is_anomaly: torch.Tensor) -> float:
    """The area under the ROC curve of ``scores`` (higher = more anomalous) for the 0/1 labels ``is_anomaly``,
    from torchmetrics: the probability that a random anomaly scores above a random normal image (ties count 1/2).

    Example:
        >>> auroc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))  # 3 of 4 pairs ordered
        0.75
    """
    from torchmetrics.functional.classification import binary_auroc

    if scores.shape != is_anomaly.shape or scores.dim() != 1:
        raise ValueError(f"scores and is_anomaly must be 1-D of one length, got {tuple(scores.shape)} and "
                         f"{tuple(is_anomaly.shape)}")
    labels = is_anomaly.long()
    if not 0 < int(labels.sum()) < len(labels) or int(labels.max()) > 1 or int(labels.min()) < 0:
        raise ValueError("is_anomaly must hold 0s and 1s, with at least one of each")
    if not torch.isfinite(scores).all():
        raise ValueError("scores hold NaN or infinite values")
    return float(binary_auroc(scores.double(), labels))


def normal_split(labels: torch.Tensor, anomaly: int) -> torch.Tensor:
    """Indices of the normal images: every label but ``anomaly``.

    Example:
        >>> normal_split(torch.tensor([0, 3, 1, 3, 2]), anomaly=3).tolist()
        [0, 2, 4]
        >>> normal_split(torch.tensor([0, 1]), anomaly=7)
        Traceback (most recent call last):
        ValueError: anomaly=7 is not a class of the data; valid choices: 0, 1
    """
    classes = sorted(set(labels.tolist()))
    if anomaly not in classes:
        raise ValueError(f"anomaly={anomaly!r} is not a class of the data; valid choices: "
                         f"{', '.join(map(str, classes))}")
    return torch.nonzero(labels != anomaly).flatten()


class Encoder(nn.Module):
    """f-AnoGAN's encoder E: image (N, C, 28, 28) in [-1, 1] -> z (N, z_dim), two stride-2 convolutions with
    LeakyReLU (DCGAN's D, ending in a linear map to z instead of a logit).

    Example:
        >>> Encoder(z_dim=8, width=4)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 8])
    """

    def __init__(self, z_dim: int, width: int = 16, channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * (image_size // 4) ** 2, z_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_gan_on_normal(normal_images: torch.Tensor, setup: AnomalySetup = ANOMALY_SETUP, seed: int = 0) -> Trainer:
    """The trained ``Trainer`` of lesson 6's DCGAN on uint8 ``normal_images`` (the one training loop, so a NaN
    raises ``TrainingDiverged``).

    Example:
        >>> x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
        >>> t = train_gan_on_normal(x, ANOMALY_SETUP.replace(steps=2, width=4, batch_size=16))
        >>> t.step, t.G(torch.zeros(1, t.cfg.z_dim)).shape
        (2, torch.Size([1, 1, 28, 28]))
    """
    cfg = setup.config.replace(seed=seed, device="cpu")
    torch.manual_seed(seed)
    shape = tuple(normal_images.shape[1:])
    G = DCGANGenerator(cfg.z_dim, shape[0], shape[-1], setup.width)
    D = DCGANDiscriminator(shape[0], shape[-1], setup.width)
    trainer = Trainer(G, D, TensorSampler(normal_images, cfg.batch_size, seed=seed), cfg)
    trainer.train(progress=False)
    return trainer


def d_features(D: DCGANDiscriminator, x: torch.Tensor) -> torch.Tensor:
    """f(x): the DCGAN D's last hidden layer (before its final convolution), flattened, (N, n_f).

    Example:
        >>> d_features(DCGANDiscriminator(width=4), torch.zeros(3, 1, 28, 28)).shape  # 2 x 4 channels at 7 x 7
        torch.Size([3, 392])
    """
    return D.net[:-1](x).flatten(1)


def _check(step: int, name: str, value: torch.Tensor) -> None:
    if not torch.isfinite(value):
        raise TrainingDiverged(step, name, float(value.detach()))


def fanogan_score(x: torch.Tensor, G: nn.Module, D: DCGANDiscriminator, E: nn.Module,
                  kappa: float = 1.0) -> torch.Tensor:
    """f-AnoGAN's izi_f score per image (Schlegl et al. 2019): with x' = G(E(x)),

        A(x) = ||x - x'||^2 / n + kappa ||f(x) - f(x')||^2 / n_f,

    n the pixels of an image, n_f the features of D's last hidden layer. Differentiable (the encoder's loss is its
    mean); call it under ``torch.no_grad()`` to score.

    Example:
        >>> G, D, E = DCGANGenerator(z_dim=4, width=4).eval(), DCGANDiscriminator(width=4).eval(), Encoder(4, 4)
        >>> fanogan_score(torch.zeros(2, 1, 28, 28), G, D, E).shape
        torch.Size([2])
    """
    rebuilt = G(E(x))
    pixels = (x - rebuilt).pow(2).flatten(1).mean(1)
    features = (d_features(D, x) - d_features(D, rebuilt)).pow(2).mean(1)
    return pixels + kappa * features


def train_encoder(G: nn.Module, D: DCGANDiscriminator, normal: torch.Tensor, setup: AnomalySetup = ANOMALY_SETUP,
                  seed: int = 0) -> Encoder:
    """f-AnoGAN's encoder, trained after G with G and D frozen (eval mode): ``setup.encoder_steps`` Adam steps on
    the mean izi_f score (``fanogan_score``) of batches of the float ``normal`` images.

    Example:
        >>> G, D = DCGANGenerator(z_dim=4, width=4), DCGANDiscriminator(width=4)
        >>> E = train_encoder(G, D, torch.zeros(8, 1, 28, 28), ANOMALY_SETUP.replace(encoder_steps=2, batch_size=4))
        >>> E(torch.zeros(1, 1, 28, 28)).shape
        torch.Size([1, 4])
    """
    G.eval().requires_grad_(False)
    D.eval().requires_grad_(False)
    torch.manual_seed(seed)
    E = Encoder(G.z_dim, setup.width or 16, normal.shape[1], normal.shape[-1])
    opt = torch.optim.Adam(E.parameters(), lr=setup.encoder_lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(1, setup.encoder_steps + 1):
        x = normal[torch.randint(len(normal), (setup.batch_size,), generator=gen)]
        loss = fanogan_score(x, G, D, E, setup.kappa).mean()
        _check(step, "loss_e", loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return E.eval()


@torch.no_grad()
def d_output_score(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """-D_logit(x) in eval mode: the more D votes "fake" on a real image, the more anomalous.

    Example:
        >>> d_output_score(DCGANDiscriminator(width=4), torch.zeros(3, 1, 28, 28)).shape
        torch.Size([3])
    """
    D.eval()
    return torch.cat([-D(chunk) for chunk in x.split(1000)])


def pca_score(normal: torch.Tensor, x: torch.Tensor, components: int = 32) -> torch.Tensor:
    """Squared reconstruction error of each image of ``x`` from the top ``components`` principal directions of
    the ``normal`` images (mean-centred; ``torch.linalg.svd``): ||(x - m) - V V^T (x - m)||^2.

    Example:
        >>> normal = torch.zeros(10, 1, 2, 2); normal[:, 0, 0, 0] = torch.arange(10.0)  # one direction of spread
        >>> x = torch.zeros(2, 1, 2, 2); x[0, 0, 0, 0] = 3.0; x[1, 0, 1, 1] = 3.0
        >>> pca_score(normal, x, components=1).tolist()  # along it: 0; across it: 3^2
        [0.0, 9.0]
    """
    flat = normal.flatten(1).double()
    if not 1 <= components <= min(flat.shape):
        raise ValueError(f"components must be between 1 and {min(flat.shape)}, got {components}")
    mean = flat.mean(0)
    _, _, vh = torch.linalg.svd(flat - mean, full_matrices=False)
    basis = vh[:components]
    centred = x.flatten(1).double() - mean
    residual = centred - (centred @ basis.T) @ basis
    return residual.pow(2).sum(1).float()


def knn_score(reference: torch.Tensor, queries: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Mean Euclidean distance from each row of ``queries`` to its ``k`` nearest rows of ``reference``.

    Example:
        >>> ref = torch.tensor([[0.0], [1.0], [10.0]])
        >>> knn_score(ref, torch.tensor([[0.0], [12.0]]), k=2).tolist()  # (0 + 1) / 2, (2 + 11) / 2
        [0.5, 6.5]
    """
    if not 1 <= k <= len(reference):
        raise ValueError(f"k must be between 1 and {len(reference)} (the reference rows), got {k}")
    out = [torch.cdist(chunk, reference).topk(k, dim=1, largest=False).values.mean(1) for chunk in queries.split(1000)]
    return torch.cat(out)


@dataclass
class AnomalyResult:
    """One run: the held-out digit (``anomaly``), the seed, the AUROC of each score (``SCORES``) and the seconds of
    the GAN's and the encoder's training.

    Example:
        >>> AnomalyResult(3, 2, {"PCA": 0.8}, 1.0).aurocs["PCA"]
        0.8
    """

    anomaly: int
    seed: int
    aurocs: dict[str, float] = field(default_factory=dict)
    seconds: float = math.nan


def run_anomaly(job: tuple[int, int, AnomalySetup]) -> AnomalyResult:
    """One run (a job ``(anomaly digit, seed, setup)``): train the GAN and the encoder on the normal training
    images, score every test image with the four scores, and take each score's AUROC. Module-level, so that
    ``map_jobs`` can run it in a worker process.

    Example:
        >>> r = run_anomaly((3, 2, ANOMALY_SETUP.replace(steps=2, encoder_steps=2)))  # doctest: +SKIP
        >>> sorted(r.aurocs) == sorted(SCORES)  # doctest: +SKIP
        True
    """
    anomaly, seed, setup = job
    images, labels = load_images(setup.data, train=True)
    test_images, test_labels = load_images(setup.data, train=False)
    normal_uint8 = images[normal_split(labels, anomaly)]
    start = time.perf_counter()
    trainer = train_gan_on_normal(normal_uint8, setup, seed)
    normal, x = to_unit_range_float(normal_uint8), to_unit_range_float(test_images)
    E = train_encoder(trainer.G, trainer.D, normal, setup, seed)
    seconds = time.perf_counter() - start
    is_anomaly = (test_labels == anomaly).long()
    with torch.no_grad():
        fanogan = torch.cat([fanogan_score(chunk, trainer.G, trainer.D, E, setup.kappa) for chunk in x.split(1000)])
    classifier = load_classifier(setup.data, device="cpu", verbose=False)
    pick = torch.randperm(len(normal), generator=torch.Generator().manual_seed(seed))[:setup.knn_reference]
    scores = {"D output": d_output_score(trainer.D, x), "f-AnoGAN": fanogan,
              "PCA": pca_score(normal[pick], x, setup.components),
              "k-NN": knn_score(extract_features(classifier, normal[pick]), extract_features(classifier, x), setup.k)}
    return AnomalyResult(anomaly, seed, {name: auroc(s, is_anomaly) for name, s in scores.items()}, seconds)


def run_anomalies(anomalies: Sequence[int], seeds: Sequence[int], setup: AnomalySetup = ANOMALY_SETUP, *,
                  workers: int = 2, device: str = "cpu") -> list[AnomalyResult]:
    """``run_anomaly`` for every held-out digit and seed (``workers`` single-threaded processes at a time), in
    (digit, seed) order.

    Example:
        >>> [r.anomaly for r in run_anomalies([3], [2], ANOMALY_SETUP.replace(steps=1), workers=1)]  # doctest: +SKIP
        [3]
    """
    jobs = [(int(a), seed, setup) for a in anomalies for seed in seeds]
    return map_jobs(run_anomaly, jobs, workers=workers, device=torch.device(device))


def anomaly_summary(results: Sequence[AnomalyResult], scores: Sequence[str] = SCORES) -> dict:
    """``{anomaly digit: {score: (mean AUROC, se)}}`` over seeds, plus ``"all"``: each score's AUROC averaged over
    the digits of one seed, then mean +- se over seeds.

    Example:
        >>> rs = [AnomalyResult(3, s, {"PCA": a}) for s, a in ((2, 0.5), (3, 1.0))]
        >>> anomaly_summary(rs, ["PCA"])[3]["PCA"], anomaly_summary(rs, ["PCA"])["all"]["PCA"]
        ((0.75, 0.25), (0.75, 0.25))
    """
    scores = known(scores, dict.fromkeys(SCORES), "score")
    measures = {name: (lambda r, name=name: r.aurocs.get(name)) for name in scores}
    table = summarise(results, measures, key=lambda r: r.anomaly)
    per_seed: dict[int, dict[str, list[float]]] = {}
    for r in results:
        for name in scores:
            if name in r.aurocs:
                per_seed.setdefault(r.seed, {}).setdefault(name, []).append(r.aurocs[name])
    pooled = [_SeedMean(seed, {n: sum(v) / len(v) for n, v in row.items()}) for seed, row in per_seed.items()]
    table["all"] = summarise(pooled, {n: (lambda r, n=n: r.aurocs.get(n)) for n in scores},
                             key=lambda r: "all").get("all", {})
    return table


@dataclass
class _SeedMean:
    seed: int
    aurocs: dict[str, float]

