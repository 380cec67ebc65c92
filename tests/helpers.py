"""Helpers the test files share, instead of each keeping its own copy (import with ``from helpers import ...``:
pytest puts this folder on ``sys.path``)."""
from __future__ import annotations

from pathlib import Path

import torch

from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, ring_of_gaussians
from gancourse.models import build_models
from gancourse.train import Trainer


def ring_trainer(*, width: int | None = 16, **fields) -> Trainer:
    """A ``Trainer`` for an MLP pair of ``width`` on the ring of eight Gaussians, on the CPU.

    ``fields`` are ``TrainConfig``'s (``device`` defaults to "cpu"). The global torch seed is set to
    ``cfg.seed`` before the networks are built and the sampler uses the same seed, so two calls with the
    same arguments give the same run.
    """
    cfg = TrainConfig(**{"device": "cpu", **fields})
    torch.manual_seed(cfg.seed)
    G, D = build_models("mlp", (2,), z_dim=cfg.z_dim, width=width, loss=cfg.loss)
    return Trainer(G, D, MixtureSampler(ring_of_gaussians(), cfg.batch_size, seed=cfg.seed), cfg)


def weights(trainer: Trainer) -> list[torch.Tensor]:
    """Copies of G's and D's state (parameters and buffers), to compare two runs or a run before and after."""
    return [t.clone() for m in (trainer.G, trainer.D) for t in m.state_dict().values()]


def read_checkpoint(path: Path) -> dict:
    """A checkpoint read with plain ``torch.load(weights_only=True)``: what a learner (or a newer torch) would do."""
    return torch.load(path, map_location="cpu", weights_only=True)


SMALL_RUN = {"z_dim": 8, "batch_size": 32, "steps": 20, "log_every": 4}
"""A run small enough for a test that trains, checkpoints and resumes it (the robustness tests' size)."""


def small_cfg(**changes) -> TrainConfig:
    """``TrainConfig`` of ``SMALL_RUN`` on the CPU, with ``changes``."""
    return TrainConfig(**{"device": "cpu", **SMALL_RUN, **changes})


def small_ring_trainer(**changes) -> Trainer:
    """``ring_trainer`` of ``SMALL_RUN`` with width-32 networks, with ``changes`` to the config."""
    return ring_trainer(width=32, **{**SMALL_RUN, **changes})


def cli_args(out: Path, *extra: str) -> list[str]:
    """``gancourse train`` arguments for a small ring run on the CPU writing to ``out``, then ``extra``."""
    return ["train", "--data", "ring", "--out", str(out), "--no-progress", "--device", "cpu", "--z-dim", "8",
            "--batch-size", "64", "--width", "32", *extra]
