"""Hyperparameters of a training run: one small dataclass, validated before any training starts."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .device import DEVICES

__all__ = ["TrainConfig", "LOSSES", "OPTIMIZERS", "PRESETS", "preset"]

LOSSES = ("gan", "nsgan", "wgan", "wgan-gp")
"""gan: minimax (saturating) G loss; nsgan: non-saturating; wgan: critic + clipping; wgan-gp: critic + penalty."""
OPTIMIZERS = ("adam", "rmsprop")


@dataclass
class TrainConfig:
    """Everything the training loop needs besides the two networks and the data.

    ``n_critic`` is k in Goodfellow et al.'s Algorithm 1 (discriminator steps per generator step).
    ``clip`` is WGAN's c (None: no clipping); ``gp_lambda`` is WGAN-GP's lambda (used by
    ``loss="wgan-gp"`` only). ``log_every`` is how often (in steps) statistics are read back from
    the device: the only host synchronisation in the loop. ``unroll_steps`` is K of the unrolled
    GAN (Metz et al. 2017): each generator step is taken against a differentiable copy of D moved
    K optimiser steps ahead (0, the default, is the plain game).

    Example:
        >>> TrainConfig(loss="wgan", optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, clip=0.01, n_critic=5).n_critic
        5
    """

    loss: str = "nsgan"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 1
    clip: float | None = None
    gp_lambda: float = 10.0
    batch_size: int = 64
    steps: int = 1000
    z_dim: int = 64
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    compile: bool = False
    log_every: int = 10
    unroll_steps: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field, its value and what is valid."""
        _choice("loss", self.loss, LOSSES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        device_base = str(self.device).split(":")[0]
        if device_base not in DEVICES:
            raise ValueError(f"device={self.device!r} is not valid; choices: {', '.join(DEVICES)} (cuda:N allowed)")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite learning rate, got {name}={value!r}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise ValueError(f"{name} must be in [0, 1), got {name}={value!r}")
        for name, low in (("n_critic", 1), ("batch_size", 1), ("steps", 1), ("z_dim", 1), ("log_every", 1),
                          ("unroll_steps", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
        if self.clip is not None and not (isinstance(self.clip, (int, float)) and math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"clip must be None (no clipping) or a positive number c, got clip={self.clip!r}")
        if not (isinstance(self.gp_lambda, (int, float)) and math.isfinite(self.gp_lambda) and self.gp_lambda >= 0):
            raise ValueError(f"gp_lambda must be a finite number >= 0, got gp_lambda={self.gp_lambda!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got seed={self.seed!r}")

    def to_dict(self) -> dict:
        """Plain dict (JSON- and checkpoint-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Inverse of ``to_dict``; unknown keys are an error that lists the valid ones."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        """A validated copy with some fields changed."""
        return replace(self, **changes)


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid choices: {', '.join(choices)}")


# Published settings, so a lesson can start from the paper and change one thing at a time.
PRESETS: dict[str, dict] = {
    # Radford et al. 2015, Sec. 4: Adam lr 2e-4, beta1 0.5, batch 128, z in R^100.
    "dcgan": dict(loss="nsgan", optimizer="adam", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999,
                  batch_size=128, z_dim=100),
    # Arjovsky et al. 2017, Algorithm 1: RMSprop lr 5e-5, c = 0.01, m = 64, n_critic = 5.
    "wgan": dict(loss="wgan", optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, clip=0.01, batch_size=64, n_critic=5),
    # Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam lr 1e-4, betas (0, 0.9).
    "wgan-gp": dict(loss="wgan-gp", optimizer="adam", lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9,
                    gp_lambda=10.0, n_critic=5, batch_size=64),
    # VEEGAN / Metz et al. mixture protocol (as restated by GDPP): z 256, Adam beta1 0.5,
    # D lr 1e-4, G lr 1e-3, batch 512.
    "mixture-benchmark": dict(loss="nsgan", optimizer="adam", lr_g=1e-3, lr_d=1e-4, beta1=0.5, beta2=0.999,
                              batch_size=512, z_dim=256),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A ``TrainConfig`` with a paper's settings, optionally overridden.

    Example:
        >>> preset("wgan-gp").beta1
        0.0
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid choices: {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})
