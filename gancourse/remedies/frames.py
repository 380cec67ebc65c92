"""Frames of one training run on a 2-D mixture: generated points and their mode coverage every few
steps, for the strip of pictures that shows a generator hopping from mode to mode."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import TrainConfig
from ..data import MixtureSampler, make_mixture
from ..device import pick_device
from ..metrics.mixtures import ModeCoverage, mode_coverage
from ..models import build_models
from ..train import Trainer
from ..workers import one_cpu_thread

__all__ = ["Frame", "training_frames"]


@dataclass
class Frame:
    """Generated points (CPU) at one generator step, with their ``mode_coverage``.

    Example:
        >>> ring = make_mixture("ring")
        >>> points = ring.centres[:3]  # three modes hit exactly
        >>> Frame(100, points, mode_coverage(points, ring.centres, ring.std)).coverage.modes_captured
        3
    """

    step: int
    points: torch.Tensor
    coverage: ModeCoverage


def training_frames(data: str, cfg: TrainConfig, frames: int = 6, points: int = 2500, *,
                    activation: str = "tanh", width: int = 128) -> tuple[Trainer, list[Frame]]:
    """Train MLPs (``width`` units, 2 hidden layers, ``activation``) on ``data`` with ``cfg`` and keep
    ``frames`` evenly spaced frames of ``points`` samples from the same latent codes.

    With ``preset("mixture-benchmark")`` and tanh this is the setting of VEEGAN and Metz et al.
    (2 x FC128 tanh, z in R^256, Adam beta1 0.5, lr 1e-4 for D and 1e-3 for G, batch 512).

    Example:
        >>> cfg = TrainConfig(steps=20, z_dim=4, batch_size=32, device="cpu")
        >>> trainer, kept = training_frames("ring", cfg, frames=2, points=100)
        >>> [f.step for f in kept], kept[-1].coverage.num_modes
        ([10, 20], 8)
    """
    if frames < 1 or frames > cfg.steps:
        raise ValueError(f"frames must be between 1 and steps={cfg.steps}, got frames={frames}")
    mixture = make_mixture(data)
    every = cfg.steps // frames
    z = torch.randn(points, cfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 1000))
    kept: list[Frame] = []

    def keep(trainer: Trainer) -> None:
        if trainer.step % every == 0 and len(kept) < frames:
            fake = trainer.sample(z=z)
            kept.append(Frame(trainer.step, fake, mode_coverage(fake, mixture.centres, mixture.std)))

    torch.manual_seed(cfg.seed)
    G, D = build_models("mlp", (2,), z_dim=cfg.z_dim, width=width, activation=activation)
    device = pick_device(cfg.device)
    trainer = Trainer(G, D, MixtureSampler(mixture, cfg.batch_size, device=device, seed=cfg.seed),
                      cfg.replace(device=str(device)), callbacks=[keep], callback_every=every)
    with one_cpu_thread(device):
        trainer.train(progress=False)
    return trainer, kept
