"""Lesson 8's sound comparison: a miniature WaveGAN (``models.wave``) on tones, with and without phase shuffle.

Scores, all from the magnitude spectrum |FFT(w * x)| of each clip (w a Hann window, zero-padded to
``FFT_SIZE`` points, so that a peak is read to 8000 / 4096 = 2 Hz):

- ``peak_frequencies``: each clip's pitch, the frequency of its spectral peak;
- ``pitch_coverage``: a clip is *on pitch* when its peak lies within half a semitone (2.9%) of a data pitch; a
  pitch is *covered* when at least a quarter of its fair share 1 / (4 K) of the clips sit on it. Lesson 2's
  mode coverage, in sound: modes are pitches, "high quality" is "on pitch";
- ``spectral_distance``: the mean absolute difference in dB between the average power spectra of real and
  generated clips (a log-spectral distance);
- ``artefact_share``: the share of a clip's energy within 10 Hz of multiples of ``sample_rate / 64`` (125 Hz):
  the periodic pattern of three stride-4 layers grown from 16 samples (periods 4, 16 and 64 samples, all dividing
  64). The data's pitches lie halfway between these frequencies (``data.sounds``), so the data's own share is a
  floor; white noise, with its energy spread evenly, scores 20 / 125 = 16%.

The runs (``run_sound``): G and D as in WaveGAN (z ~ U(-1, 1), kernel 25, stride 4), scaled to 1,024 samples and
32 channels, trained with the non-saturating loss (WaveGAN itself trains with WGAN-GP, whose five critic steps
per G step and double back-propagation this CPU budget cannot pay for).
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..config import TrainConfig
from ..data.sounds import PITCHES, SAMPLE_RATE, make_clips
from ..history import TrainingDiverged
from ..losses import (
    critic_loss_wasserstein,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_wasserstein,
    gradient_penalty,
)
from ..models.wave import WaveDiscriminator, WaveGenerator
from .core import EVALUATION_SEED, Result, Setup, summarise
from .workers import map_jobs

__all__ = ["FFT_SIZE", "power_spectrum", "peak_frequencies", "PitchCoverage", "pitch_coverage",
           "spectral_distance", "artefact_frequencies", "artefact_share", "spectrogram", "SoundSetup",
           "SOUND_SETUP", "SHUFFLES", "SoundResult", "train_wavegan", "score_sound", "run_sound", "run_sounds",
           "sound_summary", "uniform_codes"]

FFT_SIZE = 4096
SHUFFLES = {"phase shuffle n=2": 2, "no phase shuffle": 0}
"""The ablation: D with WaveGAN's phase shuffle (n = 2) and without it."""


def power_spectrum(clips: torch.Tensor, fft_size: int = FFT_SIZE) -> torch.Tensor:
    """|rfft(hann * clip, fft_size)|^2 of each clip, (n, fft_size // 2 + 1); bin k is k * sample_rate / fft_size Hz.

    Example:
        >>> t = torch.arange(1024) / 8000
        >>> int(power_spectrum(torch.sin(2 * math.pi * 1000 * t)[None]).argmax())  # 1000 Hz = bin 512
        512
    """
    window = torch.hann_window(clips.shape[-1], periodic=False, dtype=clips.dtype, device=clips.device)
    return torch.fft.rfft(clips * window, n=fft_size).abs() ** 2


def peak_frequencies(clips: torch.Tensor, sample_rate: int = SAMPLE_RATE, fft_size: int = FFT_SIZE) -> torch.Tensor:
    """Each clip's pitch estimate in Hz: the frequency of its largest spectral peak (DC excluded).

    Example:
        >>> t = torch.arange(1024) / 8000
        >>> peak_frequencies(torch.sin(2 * math.pi * 440 * t)[None]).round().tolist()
        [439.0]
    """
    spectrum = power_spectrum(clips, fft_size)
    spectrum[:, 0] = 0
    return spectrum.argmax(-1).float() * sample_rate / fft_size


@dataclass
class PitchCoverage:
    """``pitch_coverage``'s answer: pitches covered of all, the share of clips on pitch, each pitch's count.

    Example:
        >>> print(PitchCoverage(6, 8, 0.9, [10] * 6 + [0, 0]))
        pitches 6/8, on pitch 90.0%
    """

    covered: int
    num_pitches: int
    on_pitch: float
    counts: list[int]

    def __str__(self) -> str:
        return f"pitches {self.covered}/{self.num_pitches}, on pitch {100 * self.on_pitch:.1f}%"


def pitch_coverage(frequencies: torch.Tensor, pitches: Sequence[float] = PITCHES,
                   tolerance: float = 2 ** (1 / 24) - 1) -> PitchCoverage:
    """Lesson 2's mode coverage for pitches: a frequency is on pitch when within ``tolerance`` (relative; half a
    semitone) of its nearest pitch; a pitch is covered when it holds at least n / (4 K) of the n clips.

    Example:
        >>> print(pitch_coverage(torch.tensor([220.0, 221.0, 440.0, 300.0]), pitches=(220.0, 440.0)))
        pitches 2/2, on pitch 75.0%
    """
    centres = torch.tensor(pitches)
    ratio = (frequencies[:, None] / centres).log().abs()
    distance, nearest = ratio.min(1)
    on = distance <= math.log1p(tolerance)
    counts = torch.bincount(nearest[on], minlength=len(centres))
    threshold = len(frequencies) / (4 * len(centres))
    return PitchCoverage(int((counts >= threshold).sum()), len(centres), float(on.float().mean()), counts.tolist())


def spectral_distance(real: torch.Tensor, fake: torch.Tensor, fft_size: int = FFT_SIZE) -> float:
    """mean_k |10 log10 P_real(k) - 10 log10 P_fake(k)| in dB, P the average power spectrum over clips (floored
    at 1e-8 of the real spectrum's peak, so silent bins do not dominate).

    Example:
        >>> x = torch.randn(8, 256)
        >>> spectral_distance(x, x), round(spectral_distance(x, 10 * x), 3)  # 10x louder: 20 dB everywhere
        (0.0, 20.0)
    """
    p_real, p_fake = power_spectrum(real, fft_size).mean(0), power_spectrum(fake, fft_size).mean(0)
    floor = 1e-8 * float(p_real.max())
    return float((10 * (p_real.clamp(min=floor).log10() - p_fake.clamp(min=floor).log10())).abs().mean())


def artefact_frequencies(sample_rate: int = SAMPLE_RATE, period: int = 64) -> list[float]:
    """The multiples of ``sample_rate / period`` up to the Nyquist frequency: where a stack of stride-4 transposed
    convolutions puts its periodic pattern (period 4 for the last layer, 16 for the last two, 64 for three).

    Example:
        >>> artefact_frequencies(period=16)
        [500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 3500.0, 4000.0]
        >>> len(artefact_frequencies()), artefact_frequencies()[:3]
        (32, [125.0, 250.0, 375.0])
    """
    step = sample_rate / period
    return [k * step for k in range(1, int(sample_rate / 2 / step) + 1)]


def artefact_share(clips: torch.Tensor, width: float = 10.0, sample_rate: int = SAMPLE_RATE,
                   fft_size: int = FFT_SIZE) -> float:
    """The share of the clips' total energy within ``width`` Hz of the ``artefact_frequencies``.

    Example:
        >>> t = torch.arange(1024) / 8000
        >>> clips = torch.stack([torch.sin(2 * math.pi * 500 * t), torch.sin(2 * math.pi * 687.5 * t)])
        >>> round(artefact_share(clips), 2)  # one of two clips sits on 500 Hz = 4 x 125 (the window leaks 1% of it)
        0.49
    """
    spectrum = power_spectrum(clips, fft_size).sum(0)
    freqs = torch.arange(len(spectrum)) * sample_rate / fft_size
    near = torch.zeros_like(freqs, dtype=torch.bool)
    for f in artefact_frequencies(sample_rate):
        near |= (freqs - f).abs() <= width
    return float(spectrum[near].sum() / spectrum.sum())


def spectrogram(clip: torch.Tensor, n_fft: int = 128, hop: int = 16) -> torch.Tensor:
    """The power of a clip's short-time Fourier transform in dB, (n_fft // 2 + 1 frequencies, frames), Hann window.

    Example:
        >>> spectrogram(torch.randn(1024)).shape
        torch.Size([65, 65])
    """
    stft = torch.stft(clip, n_fft, hop, window=torch.hann_window(n_fft, dtype=clip.dtype), return_complex=True)
    return 10 * (stft.abs() ** 2 + 1e-10).log10()


@dataclass(frozen=True)
class SoundSetup(Setup):
    """A ``Setup`` for clips: the config's learning rates, betas, batch, ``z_dim`` and ``steps``, plus the networks'
    ``width`` (channels of G's first and D's last layer), ``layers`` (stride-4 layers), the number of training
    clips and of scored samples.

    Example:
        >>> SOUND_SETUP.replace(steps=3).steps, SOUND_SETUP.layers
        (3, 3)
    """

    layers: int = 3
    n_train: int = 4096


SOUND_SETUP = SoundSetup(TrainConfig(lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.9, batch_size=32, z_dim=32,
                                     steps=1000), model="wavegan", width=32, data="tones", samples=1000)
"""A WaveGAN of 32 channels, 3 stride-4 layers (1,024 samples), z in U(-1, 1)^32, Adam (0.5, 0.9) as in WaveGAN,
learning rate 1e-3, batch 32, 1,000 steps, on 4,096 tones; 1,000 samples scored. Chosen on seeds 0 and 1 among
learning rates 2e-4 and 1e-3, 600 to 2,000 steps, batches of 32 and 64, WGAN-GP with one critic step (nothing on
pitch after 600 steps) and a minibatch standard deviation in D (lesson 2's remedy; it did not help, so it is not
used): every run with phase shuffle put its clips on one pitch."""


def uniform_codes(n: int, z_dim: int, seed: int = EVALUATION_SEED) -> torch.Tensor:
    """WaveGAN's latent codes, z ~ U(-1, 1)^z_dim, fixed by ``seed`` (the evaluation codes by default).

    Example:
        >>> z = uniform_codes(1000, 4); bool(z.min() >= -1 and z.max() <= 1), torch.equal(z, uniform_codes(1000, 4))
        (True, True)
    """
    return torch.rand(n, z_dim, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def train_wavegan(setup: SoundSetup = SOUND_SETUP, shuffle: int = 2, seed: int = 0,
                  clips: torch.Tensor | None = None) -> tuple[WaveGenerator, WaveDiscriminator]:
    """G and D trained ``setup.steps`` steps (one D step, one G step each) with the non-saturating loss on
    ``clips`` (default: ``setup.n_train`` clips of ``setup.data``, data seed 1), D with phase shuffle ``shuffle``.

    Example:
        >>> G, D = train_wavegan(SOUND_SETUP.replace(steps=1, width=8, n_train=64, batch_size=8))
        >>> G(uniform_codes(2, G.z_dim)).shape
        torch.Size([2, 1024])
    """
    if setup.loss not in ("nsgan", "wgan-gp"):
        raise ValueError(f"unknown loss {setup.loss!r} for the WaveGAN runs; valid choices: nsgan, wgan-gp")
    if clips is None:
        clips = make_clips(setup.data, setup.n_train, seed=1)
    torch.manual_seed(seed)
    G = WaveGenerator(setup.z_dim, setup.width, setup.layers)
    D = WaveDiscriminator(G.length, setup.width, setup.layers, shuffle)
    if clips.shape[1] != G.length:
        raise ValueError(f"clips of length {clips.shape[1]} do not match G's length {G.length}")
    opt_g = torch.optim.Adam(G.parameters(), lr=setup.lr_g, betas=(setup.beta1, setup.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=setup.lr_d, betas=(setup.beta1, setup.beta2))
    order = torch.Generator().manual_seed(seed)
    wasserstein = setup.loss == "wgan-gp"
    for step in range(setup.steps):
        for _ in range(setup.n_critic):
            real = clips[torch.randint(len(clips), (setup.batch_size,), generator=order)]
            fake = G(torch.rand(setup.batch_size, setup.z_dim) * 2 - 1)
            if wasserstein:
                loss_d = critic_loss_wasserstein(D(real), D(fake.detach()))
                loss_d = loss_d + gradient_penalty(D, real, fake, setup.gp_lambda)
            else:
                loss_d = discriminator_loss(D(real), D(fake.detach()))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        scores = D(fake)
        loss_g = generator_loss_wasserstein(scores) if wasserstein else generator_loss_nonsaturating(scores)
        for name, value in (("loss_d", loss_d), ("loss_g", loss_g)):
            if not torch.isfinite(value):
                raise TrainingDiverged(step, name, float(value))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G, D


@dataclass
class SoundResult(Result):
    """One run's scores: pitch coverage, spectral distance (dB) and artefact share of its generated clips.

    Example:
        >>> SoundResult("no phase shuffle", "tones", 2, 30.0, covered=7, on_pitch=0.8, distance=3.0,
        ...             artefacts=0.01).covered
        7
    """

    covered: int = 0
    on_pitch: float = math.nan
    distance: float = math.nan
    artefacts: float = math.nan
    counts: list[int] = field(default_factory=list)


@torch.no_grad()
def score_sound(G: WaveGenerator, real: torch.Tensor, samples: int) -> dict[str, object]:
    """Pitch coverage, spectral distance to ``real`` and artefact share of ``samples`` clips of G on the fixed
    evaluation codes.

    Example:
        >>> score_sound(WaveGenerator(8, 8), make_clips("tones", 16, seed=0), 16)["covered"] <= 8
        True
    """
    fake = G.eval()(uniform_codes(samples, G.z_dim))
    coverage = pitch_coverage(peak_frequencies(fake))
    return {"covered": coverage.covered, "on_pitch": coverage.on_pitch, "counts": coverage.counts,
            "distance": spectral_distance(real, fake), "artefacts": artefact_share(fake)}


def run_sound(job: tuple[str, int, SoundSetup]) -> tuple[SoundResult, WaveGenerator]:
    """One run (a job ``(method, seed, setup)``, the method a key of ``SHUFFLES``): its result and its G, scored
    against ``setup.samples`` real clips of data seed 2. Module-level, so that ``map_jobs`` can run it.

    Example:
        >>> r, G = run_sound(("no phase shuffle", 0, SOUND_SETUP.replace(steps=1, width=8, n_train=64, samples=32)))
        >>> r.method, r.seed
        ('no phase shuffle', 0)
    """
    method, seed, setup = job
    if method not in SHUFFLES:
        raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(SHUFFLES)}")
    start = time.perf_counter()
    G, _ = train_wavegan(setup, SHUFFLES[method], seed)
    seconds = time.perf_counter() - start
    scores = score_sound(G, make_clips(setup.data, setup.samples, seed=2), setup.samples)
    return SoundResult(method, setup.data, seed, seconds, **scores), G


def run_sounds(seeds: Sequence[int], setup: SoundSetup = SOUND_SETUP, methods: Sequence[str] = tuple(SHUFFLES), *,
               workers: int = 2, device: str = "cpu") -> list[tuple[SoundResult, WaveGenerator]]:
    """``run_sound`` for every method and seed (``workers`` at a time on a CPU), in (seed, method) order.

    Example:
        >>> out = run_sounds([0], SOUND_SETUP.replace(steps=1, width=8, n_train=64, samples=32), workers=1)
        >>> [r.method for r, _ in out]
        ['phase shuffle n=2', 'no phase shuffle']
    """
    jobs = [(method, seed, setup) for seed in seeds for method in methods]
    return map_jobs(run_sound, jobs, workers=workers, device=torch.device(device))


def sound_summary(results: Sequence[SoundResult]) -> dict:
    """``{method: {"pitches covered", "on pitch", "spectral distance", "artefact share", "seconds": (mean, se)}}``.

    Example:
        >>> rs = [SoundResult("a", "tones", s, 1.0, covered=c) for s, c in ((0, 6), (1, 8))]
        >>> sound_summary(rs)["a"]["pitches covered"]
        (7.0, 1.0)
    """
    return summarise(results, {"pitches covered": lambda r: r.covered, "on pitch": lambda r: r.on_pitch,
                               "spectral distance": lambda r: r.distance, "artefact share": lambda r: r.artefacts,
                               "seconds": lambda r: r.seconds})
