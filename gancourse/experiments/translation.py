"""Lesson 7, image-to-image translation: what the adversarial term adds to an L1 loss (pix2pix, Isola et al. 2017;
SRGAN, Ledig et al. 2017).

Two tasks on digits, each a pair (input x, target y) made from a real image y:

    super-resolution   x4: y average-pooled to 7 x 7, then upsampled back to 28 x 28 by bicubic interpolation
                       before G (as SRCNN feeds its network), so that one U-Net serves both tasks and the
                       non-GAN floor, bicubic upsampling, is exactly G's input
    inpainting         a HOLE x HOLE square at a random place set to 0 (mid-grey, a value strokes and
                       background avoid, so G can tell where the hole is); the floor is the masked input

and the three arms of pix2pix's Table 1, with G a U-Net and D a patch D of the pair (``models.unet``):

    L1           G minimises E ||y - G(x)||_1 alone (no D)
    L1 + cGAN    G minimises L_cGAN + lambda E ||y - G(x)||_1, lambda = 100 (pix2pix, Sec. 3.1)
    cGAN         G minimises L_cGAN alone

with L_cGAN the non-saturating GAN loss on D's patch logits of (x, G(x)), D trained to tell (x, y) from
(x, G(x)) (``losses.discriminator_loss``). The papers' direction: L1 wins PSNR and is blurry; adding the
adversarial term lowers PSNR and raises realism (SRGAN's BSD100: SRResNet 27.58 dB, SRGAN 25.16 dB, mean
opinion score 2.29 against 3.56; numbers marked (check) in REFERENCES.md).

Scores on ``samples`` test images (the same inputs for every arm and seed): PSNR and SSIM from torchmetrics
(images mapped to [0, 1], PSNR per image then averaged, SSIM with its 11 x 11 Gaussian window), whether the
output keeps the digit (the lesson-3 classifier's accuracy against the target's label) and realism (Frechet
distance in the classifier's features to as many *other* real test images, so that the truth itself scores
the two-sample noise floor, not 0). Seeds 0 and 1 are the tuning seeds; report on others.
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..data import load_images
from ..history import TrainingDiverged
from ..losses import discriminator_loss, generator_loss_nonsaturating
from ..metrics.conditional import label_accuracy
from ..metrics.images import extract_features, frechet_distance_from_features, load_classifier, predict_proba
from ..models.unet import PatchDiscriminator, UNetGenerator
from .core import EVALUATION_SEED, Result, Setup, known, mean_and_standard_error, summarise
from .semisupervised import to_unit_range_float
from .workers import map_jobs

__all__ = ["TASKS", "ARMS", "FLOORS", "TUNING_SEEDS", "SCALE", "HOLE", "downsample", "bicubic_upsample",
           "mask_square", "make_inputs", "TranslationSetup", "TRANSLATION_SETUP", "train_translation",
           "translate", "image_scores", "TranslationResult", "evaluation_pairs", "score_outputs",
           "run_translation", "run_translations", "reference_rows", "translation_summary", "side_by_side",
           "paired_difference"]

TASKS = ("super-resolution", "inpainting")
ARMS = ("L1", "L1 + cGAN", "cGAN")
"""pix2pix's Table 1 arms: (uses L1, uses the cGAN loss) = (yes, no), (yes, yes), (no, yes)."""
_USES = {"L1": (True, False), "L1 + cGAN": (True, True), "cGAN": (False, True)}
FLOORS = {"super-resolution": "bicubic", "inpainting": "masked input"}
"""The non-GAN floor of each task: what one gets without learning anything."""
TUNING_SEEDS = (0, 1)
"""The seeds the settings were tuned on; tables that report a result use other seeds."""
SCALE = 4
"""The super-resolution factor: 28 x 28 -> 7 x 7 -> 28 x 28."""
HOLE = 12
"""The side of the inpainting square, in pixels of 28."""


def downsample(images: torch.Tensor, factor: int = SCALE) -> torch.Tensor:
    """Each ``factor`` x ``factor`` block averaged (area downsampling), (N, C, H / factor, W / factor).

    Example:
        >>> downsample(torch.arange(16.0).view(1, 1, 4, 4), 2).flatten().tolist()
        [2.5, 4.5, 10.5, 12.5]
    """
    if images.dim() != 4 or images.shape[-1] % factor or images.shape[-2] % factor:
        raise ValueError(f"images must be (N, C, H, W) with H, W multiples of factor={factor}, got "
                         f"{tuple(images.shape)}")
    return F.avg_pool2d(images, factor)


def bicubic_upsample(small: torch.Tensor, size: int) -> torch.Tensor:
    """Bicubic interpolation of (N, C, h, w) images to ``size`` x ``size``, clamped to [-1, 1] (bicubic
    overshoots at edges): the classic non-learned super-resolution, SRGAN's "bicubic" row.

    Example:
        >>> bicubic_upsample(torch.zeros(1, 1, 7, 7), 28).shape
        torch.Size([1, 1, 28, 28])
    """
    return F.interpolate(small, size=(size, size), mode="bicubic", align_corners=False).clamp(-1.0, 1.0)


def mask_square(images: torch.Tensor, side: int = HOLE, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of ``images`` with a ``side`` x ``side`` square per image set to 0, its corner drawn uniformly so
    that the square lies at least 2 pixels from the border.

    Example:
        >>> out = mask_square(-torch.ones(3, 1, 28, 28), 12, torch.Generator().manual_seed(0))
        >>> (out == 0).flatten(1).sum(1).tolist()
        [144, 144, 144]
    """
    n, _, h, w = images.shape
    if not 1 <= side <= min(h, w) - 4:
        raise ValueError(f"side must be between 1 and {min(h, w) - 4} for {h} x {w} images, got {side}")
    top = torch.randint(2, h - 2 - side + 1, (n,), generator=generator)
    left = torch.randint(2, w - 2 - side + 1, (n,), generator=generator)
    rows, cols = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    inside = ((rows >= top.view(n, 1, 1)) & (rows < top.view(n, 1, 1) + side)
              & (cols >= left.view(n, 1, 1)) & (cols < left.view(n, 1, 1) + side))
    return images.masked_fill(inside.unsqueeze(1), 0.0)


def make_inputs(task: str, targets: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """G's inputs for ``task`` made from target images in [-1, 1]: bicubic(downsample(y)) for super-resolution,
    the masked image for inpainting.

    Example:
        >>> make_inputs("super-resolution", torch.ones(2, 1, 28, 28)).unique().tolist()
        [1.0]
        >>> make_inputs("colourise", torch.ones(2, 1, 28, 28))
        Traceback (most recent call last):
        ValueError: unknown task(s) ['colourise']; valid choices: super-resolution, inpainting
    """
    task = known([task], dict.fromkeys(TASKS), "task")[0]
    if task == "super-resolution":
        return bicubic_upsample(downsample(targets, SCALE), targets.shape[-1])
    return mask_square(targets, HOLE, generator)


@dataclass(frozen=True)
class TranslationSetup(Setup):
    """A ``Setup`` for the translation runs: the config's learning rates, betas, batch and ``steps``; ``width`` of
    G and D; ``l1_weight`` (pix2pix's lambda); ``samples`` test images scored.

    Example:
        >>> TRANSLATION_SETUP.replace(steps=3).steps, TRANSLATION_SETUP.l1_weight
        (3, 100.0)
    """

    l1_weight: float = 100.0


TRANSLATION_SETUP = TranslationSetup(
    TrainConfig(lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=64, steps=600),
    model="unet", width=16, data="digits", samples=1000)
"""pix2pix's optimiser (Adam, learning rate 2e-4, betas (0.5, 0.999)) and lambda = 100, a U-Net and a patch D of
base width 16, batches of 64, 600 steps; 1,000 test images scored. Checked on tuning seed 0: every arm beats its
task's floor in PSNR and SSIM at 600 steps, and the six runs of one seed cost about 130 CPU seconds (the two tasks'
three arms: about 10 s for an L1 run, 20-30 s for a run with D), so three seeds fit about 3 minutes on 2 cores."""


def _check(step: int, name: str, value: torch.Tensor) -> None:
    if not torch.isfinite(value):
        raise TrainingDiverged(step, name, float(value.detach()))


def train_translation(arm: str, task: str, setup: TranslationSetup = TRANSLATION_SETUP, seed: int = 0, *,
                      images: torch.Tensor | None = None) -> tuple[UNetGenerator, PatchDiscriminator | None]:
    """(G, D or None) of one arm trained ``setup.steps`` steps on ``task``, pairs made on the fly from the
    uint8 ``images`` (default: the training split of ``setup.data``). Each step: D on (x, y) against
    (x, G(x)) (cGAN arms), then G on its arm's loss, lambda = ``setup.l1_weight``.

    Example:
        >>> x = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
        >>> G, D = train_translation("L1 + cGAN", "inpainting", TRANSLATION_SETUP.replace(steps=2, width=4,
        ...                          batch_size=8), images=x)
        >>> G(torch.zeros(1, 1, 28, 28)).shape, D is not None
        (torch.Size([1, 1, 28, 28]), True)
    """
    arm = known([arm], _USES, "arm")[0]
    task = known([task], dict.fromkeys(TASKS), "task")[0]
    if setup.steps < 1 or setup.batch_size < 1 or not setup.l1_weight >= 0:
        raise ValueError(f"need steps >= 1, batch_size >= 1 and l1_weight >= 0, got {setup.steps}, "
                         f"{setup.batch_size}, {setup.l1_weight}")
    if images is None:
        images = load_images(setup.data, train=True)[0]
    y_all = to_unit_range_float(images)
    channels = y_all.shape[1]
    uses_l1, uses_gan = _USES[arm]
    torch.manual_seed(seed)
    G = UNetGenerator(channels, channels, setup.width)
    D = PatchDiscriminator(channels, channels, setup.width) if uses_gan else None
    betas = (setup.beta1, setup.beta2)
    opt_g = torch.optim.Adam(G.parameters(), lr=setup.lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=setup.lr_d, betas=betas) if uses_gan else None
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(1, setup.steps + 1):
        y = y_all[torch.randint(len(y_all), (setup.batch_size,), generator=gen)]
        x = make_inputs(task, y, gen)
        out = G(x)
        loss_g = torch.zeros(())
        if uses_gan:
            loss_d = discriminator_loss(D(x, y), D(x, out.detach()))
            _check(step, "loss_d", loss_d)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_g = generator_loss_nonsaturating(D(x, out))
        if uses_l1:
            loss_g = loss_g + setup.l1_weight * (out - y).abs().mean()
        _check(step, "loss_g", loss_g)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return G.eval(), (D.eval() if D is not None else None)


@torch.no_grad()
def translate(G: torch.nn.Module, inputs: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """G's outputs for ``inputs`` in eval mode, ``chunk`` images at a time.

    Example:
        >>> translate(UNetGenerator(width=4), torch.zeros(3, 1, 28, 28)).shape
        torch.Size([3, 1, 28, 28])
    """
    G.eval()
    return torch.cat([G(x) for x in inputs.split(chunk)])


def image_scores(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """(PSNR in dB, SSIM) of ``outputs`` against ``targets`` (both in [-1, 1]), from torchmetrics on images mapped
    to [0, 1]: PSNR = 10 log10(1 / MSE) per image, averaged over images; SSIM with an 11 x 11 Gaussian window
    (sigma 1.5), averaged.

    Example:
        >>> y = torch.zeros(2, 1, 28, 28); x = y.clone(); x[:, :, :14] = 0.2  # half the pixels off by 0.1 of [0, 1]
        >>> psnr, ssim = image_scores(x, y); round(psnr, 2)  # 10 log10(1 / (0.5 * 0.1^2)) = 23.01 dB
        23.01
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    if outputs.shape != targets.shape or outputs.dim() != 4:
        raise ValueError(f"outputs and targets must be (N, C, H, W) of one shape, got {tuple(outputs.shape)} and "
                         f"{tuple(targets.shape)}")
    preds, truth = (outputs.float().clamp(-1, 1) + 1) / 2, (targets.float() + 1) / 2
    psnr = peak_signal_noise_ratio(preds, truth, data_range=1.0, dim=(1, 2, 3), reduction="none")
    ssim = structural_similarity_index_measure(preds, truth, data_range=1.0)
    return float(psnr.mean()), float(ssim)


@dataclass
class TranslationResult(Result):
    """One run's scores on a task: PSNR (dB), SSIM, the classifier's accuracy on the outputs against the targets'
    labels, and the Frechet distance of the outputs to other real images.

    Example:
        >>> TranslationResult("L1", "digits", 2, 9.0, task="inpainting", psnr=20.0).psnr
        20.0
    """

    task: str = ""
    psnr: float = math.nan
    ssim: float = math.nan
    accuracy: float = math.nan
    frechet: float = math.nan


def evaluation_pairs(task: str, setup: TranslationSetup = TRANSLATION_SETUP,
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs, targets, labels, reference) for scoring: the first ``setup.samples`` test images as targets with
    their labels and inputs (holes drawn with the evaluation seed, the same for every arm and seed), and the next
    ``setup.samples`` test images as the realism reference.

    Example:
        >>> x, y, labels, ref = evaluation_pairs("inpainting", TRANSLATION_SETUP.replace(samples=5))  # doctest: +SKIP
        >>> x.shape, len(ref)  # doctest: +SKIP
        (torch.Size([5, 1, 28, 28]), 5)
    """
    test_images, test_labels = load_images(setup.data, train=False)
    if len(test_images) < 2 * setup.samples:
        raise ValueError(f"samples={setup.samples} needs {2 * setup.samples} test images, {setup.data!r} has "
                         f"{len(test_images)}")
    targets = to_unit_range_float(test_images[:setup.samples])
    inputs = make_inputs(task, targets, torch.Generator().manual_seed(EVALUATION_SEED))
    reference = to_unit_range_float(test_images[setup.samples:2 * setup.samples])
    return inputs, targets, test_labels[:setup.samples], reference


def score_outputs(outputs: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor, reference: torch.Tensor,
                  classifier) -> dict[str, float]:
    """{"psnr", "ssim", "accuracy", "frechet"} of ``outputs``: ``image_scores`` against ``targets``, the
    classifier's label accuracy against ``labels`` and the Frechet distance of its features to ``reference``'s.

    Example:
        >>> from gancourse.metrics import DigitClassifier
        >>> y = torch.rand(8, 1, 28, 28) * 2 - 1
        >>> s = score_outputs(y, y, torch.zeros(8, dtype=torch.long), -y, DigitClassifier()); s["psnr"], s["ssim"]
        (inf, 1.0)
    """
    psnr, ssim = image_scores(outputs, targets)
    features = extract_features(classifier, outputs)
    return {"psnr": psnr, "ssim": ssim, "accuracy": label_accuracy(predict_proba(classifier, outputs), labels),
            "frechet": frechet_distance_from_features(extract_features(classifier, reference), features)}


def run_translation(job: tuple[str, str, int, TranslationSetup]) -> tuple[TranslationResult, UNetGenerator]:
    """One run (a job ``(arm, task, seed, setup)``): its result and its G. Module-level, so that ``map_jobs`` can
    run it in a worker process.

    Example:
        >>> r, G = run_translation(("L1", "inpainting", 2, TRANSLATION_SETUP.replace(steps=1)))  # doctest: +SKIP
        >>> r.method, r.task, r.seed  # doctest: +SKIP
        ('L1', 'inpainting', 2)
    """
    arm, task, seed, setup = job
    start = time.perf_counter()
    G, _ = train_translation(arm, task, setup, seed)
    seconds = time.perf_counter() - start
    inputs, targets, labels, reference = evaluation_pairs(task, setup)
    scores = score_outputs(translate(G, inputs), targets, labels, reference,
                           load_classifier(setup.data, device="cpu", verbose=False))
    return TranslationResult(arm, setup.data, seed, seconds, task=task, **scores), G


def run_translations(tasks: Sequence[str], seeds: Sequence[int], setup: TranslationSetup = TRANSLATION_SETUP,
                     arms: Sequence[str] = ARMS, *, workers: int = 2, device: str = "cpu",
                     ) -> list[tuple[TranslationResult, UNetGenerator]]:
    """``run_translation`` for every task, seed and arm (``workers`` single-threaded processes at a time), in
    (task, seed, arm) order.

    Example:
        >>> out = run_translations(["inpainting"], [2], TRANSLATION_SETUP.replace(steps=1), workers=1)  # doctest: +SKIP
        >>> [r.method for r, _ in out]  # doctest: +SKIP
        ['L1', 'L1 + cGAN', 'cGAN']
        >>> run_translations(["deblur"], [2])
        Traceback (most recent call last):
        ValueError: unknown task(s) ['deblur']; valid choices: super-resolution, inpainting
    """
    tasks = known(tasks, dict.fromkeys(TASKS), "task")
    arms = known(arms, _USES, "arm")
    jobs = [(arm, task, seed, setup) for task in tasks for seed in seeds for arm in arms]
    return map_jobs(run_translation, jobs, workers=workers, device=torch.device(device))


def reference_rows(task: str, setup: TranslationSetup = TRANSLATION_SETUP) -> list[TranslationResult]:
    """The rows every arm is read against, scored like a run (seed -1, no training): the task's non-GAN floor
    (``FLOORS``: the input itself) and "truth" (the targets: PSNR inf, SSIM 1, and the realism noise floor).

    Example:
        >>> rows = reference_rows("super-resolution", TRANSLATION_SETUP.replace(samples=50))  # doctest: +SKIP
        >>> [r.method for r in rows]  # doctest: +SKIP
        ['bicubic', 'truth']
    """
    inputs, targets, labels, reference = evaluation_pairs(task, setup)
    classifier = load_classifier(setup.data, device="cpu", verbose=False)
    return [TranslationResult(name, setup.data, -1, 0.0, task=task,
                              **score_outputs(images, targets, labels, reference, classifier))
            for name, images in ((FLOORS[task], inputs), ("truth", targets))]


def translation_summary(results: Sequence[TranslationResult]) -> dict:
    """``{(task, method): {"PSNR dB", "SSIM", "label accuracy %", "Frechet distance", "seconds": (mean, se)}}``.

    Example:
        >>> rs = [TranslationResult("L1", "digits", s, 1.0, task="inpainting", psnr=p) for s, p in ((2, 20), (3, 22))]
        >>> translation_summary(rs)[("inpainting", "L1")]["PSNR dB"]
        (21.0, 1.0)
    """
    return summarise(results, {"PSNR dB": lambda r: r.psnr, "SSIM": lambda r: r.ssim,
                               "label accuracy %": lambda r: 100 * r.accuracy,
                               "Frechet distance": lambda r: r.frechet, "seconds": lambda r: r.seconds},
                     key=lambda r: (r.task, r.method))


def side_by_side(task: str, generators: Mapping[str, torch.nn.Module], n: int = 8,
                 setup: TranslationSetup = TRANSLATION_SETUP) -> dict[str, torch.Tensor]:
    """The rows of the lesson's figure for ``task``: {"input": the first ``n`` evaluation inputs, one row per
    named generator (its outputs), "truth": the targets}, each (n, C, H, W) in [-1, 1].

    Example:
        >>> rows = side_by_side("inpainting", {"L1": UNetGenerator(width=4)}, n=3)  # doctest: +SKIP
        >>> list(rows), rows["L1"].shape  # doctest: +SKIP
        (['input', 'L1', 'truth'], torch.Size([3, 1, 28, 28]))
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    inputs, targets, _, _ = evaluation_pairs(task, setup.replace(samples=max(n, 1)))
    rows = {"input": inputs[:n]}
    rows.update({name: translate(G, inputs[:n]) for name, G in generators.items()})
    rows["truth"] = targets[:n]
    return rows


def paired_difference(results: Sequence[TranslationResult], task: str, arm: str, baseline: str,
                      measure: str) -> tuple[float, float]:
    """(mean, standard error) over seeds of ``measure`` (a ``TranslationResult`` field: psnr, ssim, accuracy,
    frechet) of ``arm`` minus ``baseline`` on ``task``, paired by seed: the arms of one seed start from the same
    G weights and see the same batches (``train_translation`` seeds both), so the per-seed difference removes what
    the seeds share. ``core.verdict(difference, 0.0)`` then says whether it differs from 0 beyond two SE.

    Example:
        >>> rs = [TranslationResult(m, "digits", s, 1.0, task="inpainting", psnr=p)
        ...       for m, s, p in (("L1", 2, 20.0), ("L1 + cGAN", 2, 19.0), ("L1", 3, 24.0), ("L1 + cGAN", 3, 22.0))]
        >>> paired_difference(rs, "inpainting", "L1 + cGAN", "L1", "psnr")  # differences -1, -2
        (-1.5, 0.5)
    """
    if measure not in ("psnr", "ssim", "accuracy", "frechet"):
        raise ValueError(f"unknown measure {measure!r}; valid choices: psnr, ssim, accuracy, frechet")
    by_seed: dict[int, dict[str, float]] = {}
    for r in results:
        if r.task == task and r.method in (arm, baseline):
            by_seed.setdefault(r.seed, {})[r.method] = getattr(r, measure)
    diffs = [row[arm] - row[baseline] for _, row in sorted(by_seed.items()) if arm in row and baseline in row]
    if not diffs:
        raise ValueError(f"no seed has both {arm!r} and {baseline!r} on {task!r}")
    return mean_and_standard_error(diffs)
