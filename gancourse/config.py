"""Hyperparameters of a training run: one small dataclass, validated before any training starts."""
from __future__ import annotations

import inspect
import math
import numbers
import re
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch

from ._checks import SETTING_LIMITS, within_limit
from .conditioning import CONDITIONS as _CONDITION_ENTRIES
from .device import DEVICES
from .losses import GAME_LOSSES

__all__ = ["TrainConfig", "LOSSES", "CRITIC_LOSSES", "OPTIMIZERS", "CONDITIONS", "PRESETS", "preset"]

LOSSES = tuple(GAME_LOSSES)
"""gan: minimax (saturating) G loss; nsgan: non-saturating; wgan: critic + clipping; wgan-gp: critic + penalty;
hinge: the hinge loss of SNGAN / BigGAN. One entry each in ``losses.GAME_LOSSES``, which the loop looks up."""
CRITIC_LOSSES = tuple(name for name, entry in GAME_LOSSES.items() if entry.is_critic)
"""The losses whose D is a critic f(x) scoring one sample (no batch norm in it: ``models.build.default_norms``)."""
OPTIMIZERS = ("adam", "rmsprop")
CONDITIONS = tuple(_CONDITION_ENTRIES)
"""none: unconditional; concat, acgan, projection: the three ways of giving D the label (lesson 5). One entry
each in ``conditioning.CONDITIONS``, which the loop looks up."""
MAX_SEED = 2**63 - 1
"""Largest seed: torch seeds are 64-bit and the trainer derives a few seeds from ``seed + k``."""

_FLOAT_FIELDS = ("lr_g", "lr_d", "beta1", "beta2", "clip", "gp_lambda", "r1_gamma", "ema_half_life")
_INT_FIELDS = ("n_critic", "batch_size", "steps", "z_dim", "seed", "log_every", "unroll_steps")
_BOOL_FIELDS = ("amp", "compile", "reuse_fakes")
_STR_FIELDS = ("loss", "optimizer", "device", "condition")
_DEVICE_PATTERN = re.compile(r"auto|(cpu|cuda|mps)(:\d+)?")


@dataclass
class TrainConfig:
    """Everything the training loop needs besides the two networks and the data.

    ``n_critic`` is k in Goodfellow et al.'s Algorithm 1 (discriminator steps per generator step).
    ``clip`` is WGAN's c (None: no clipping); ``gp_lambda`` is WGAN-GP's lambda (used by
    ``loss="wgan-gp"`` only). ``log_every`` is how often (in steps) statistics are read back from
    the device: the only host synchronisation in the loop. ``unroll_steps`` is K of the unrolled
    GAN (Metz et al. 2017): each generator step is taken against a differentiable copy of D moved
    K optimiser steps ahead (0, the default, is the plain game). ``reuse_fakes`` makes the generator
    step reuse the fake batch of the last discriminator step, as the PyTorch DCGAN tutorial does: one
    generator forward per step instead of two. Algorithm 1 draws a fresh minibatch of noise for the
    generator step, so the default (False) follows the paper.

    The stabilisers of lesson 6: ``loss="hinge"`` (Miyato et al. 2018, Eq. 16-17); ``r1_gamma`` is gamma of
    the R1 penalty on real data (Mescheder et al. 2018, Eq. 9; 0, the default, is off; any loss);
    ``ema_half_life`` keeps an exponential moving average of G's weights for sampling (Karras et al. 2018;
    Yazici et al. 2019) whose half-life is that many generator steps, i.e. decay beta = 0.5 ** (1 /
    ema_half_life) per step (0: off; beta = 0.999 is a half-life of about 693 steps, ``ema.half_life``),
    the way StyleGAN specifies it. TTUR (Heusel et al. 2017: D and G at different learning rates, D the
    faster) is ``lr_d != lr_g``, e.g. ``lr_d=4e-4, lr_g=1e-4``.

    ``condition`` is how a class-conditional GAN gives D the label (lesson 5; ``conditioning.CONDITIONS``):
    "none" (the default, unconditional), "concat", "acgan" or "projection". It is a training setting, not
    only a network's: it changes what the loop draws (labels) and D's and G's losses (AC-GAN's classifier).
    The number of classes comes from the data (``sampler.num_classes``). The unrolled GAN is unconditional only.

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
    reuse_fakes: bool = False
    r1_gamma: float = 0.0
    ema_half_life: float = 0.0
    condition: str = "none"

    def __new__(cls, *args, **kwargs):
        # Runs before the generated __init__, whose own error would not say which fields exist.
        _check_field_names(kwargs)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        self._to_plain_types()
        self.validate()

    def _to_plain_types(self) -> None:
        # numpy scalars (np.logspace sweeps), torch.device or np.str_ values would be pickled as
        # such into checkpoints, which torch.load(weights_only=True) then refuses to read.
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                try:
                    setattr(self, name, float(value))
                except OverflowError:  # an int beyond float range: validate() names it
                    pass
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                setattr(self, name, int(value))
        for name in _BOOL_FIELDS:
            if isinstance(getattr(self, name), np.bool_):
                setattr(self, name, bool(getattr(self, name)))
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) or (name == "device" and isinstance(value, torch.device)):
                setattr(self, name, str(value))

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field, its value and what is valid.

        Example:
            >>> cfg = TrainConfig()
            >>> cfg.n_critic = 0
            >>> cfg.validate()
            Traceback (most recent call last):
            ValueError: n_critic must be an integer >= 1, got n_critic=0
        """
        _choice("loss", self.loss, LOSSES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("condition", self.condition, CONDITIONS)
        if not (isinstance(self.device, str) and _DEVICE_PATTERN.fullmatch(self.device)):
            raise ValueError(f"device={self.device!r} is not valid; choices: {', '.join(DEVICES)} (cuda:N allowed)")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not (_is_number(value) and _is_finite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite learning rate, got {name}={value!r}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not (_is_number(value) and 0 <= value < 1):
                raise ValueError(f"{name} must be in [0, 1), got {name}={value!r}")
        for name, low in (("n_critic", 1), ("batch_size", 1), ("steps", 1), ("z_dim", 1), ("log_every", 1),
                          ("unroll_steps", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
        if self.clip is not None and not (_is_number(self.clip) and _is_finite(self.clip) and self.clip > 0):
            raise ValueError(f"clip must be None (no clipping) or a positive number c, got clip={self.clip!r}")
        if not (_is_number(self.gp_lambda) and _is_finite(self.gp_lambda) and self.gp_lambda >= 0):
            raise ValueError(f"gp_lambda must be a finite number >= 0, got gp_lambda={self.gp_lambda!r}")
        if not (_is_number(self.r1_gamma) and _is_finite(self.r1_gamma) and self.r1_gamma >= 0):
            raise ValueError(f"r1_gamma must be a finite number >= 0 (0: no R1), got r1_gamma={self.r1_gamma!r}")
        if not (_is_number(self.ema_half_life) and _is_finite(self.ema_half_life) and self.ema_half_life >= 0):
            raise ValueError(f"ema_half_life must be a finite number of generator steps >= 0 (0: no average of G), "
                             f"got ema_half_life={self.ema_half_life!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be an integer in [0, 2**63 - 1], got seed={self.seed!r}")
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {name}={getattr(self, name)!r}")
        if self.reuse_fakes and self.unroll_steps:
            raise ValueError(f"reuse_fakes=True cannot be combined with unroll_steps={self.unroll_steps}: the unrolled "
                             "generator step needs its own fake batch; set one of them off")
        for name in SETTING_LIMITS:   # the same bounds as the CLI's flags and the Dashboard's values
            if hasattr(self, name):
                within_limit(name, getattr(self, name))

    def to_dict(self) -> dict:
        """Plain dict (JSON- and checkpoint-safe).

        Example:
            >>> TrainConfig(steps=7).to_dict()["steps"]
            7
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys are an error that lists the valid ones.

        Example:
            >>> TrainConfig.from_dict({"loss": "wgan-gp", "n_critic": 5}).loss
            'wgan-gp'
        """
        if not isinstance(values, dict):
            raise ValueError(f"TrainConfig.from_dict needs a dict of fields, got {type(values).__name__}")
        try:
            _check_field_names(values)
        except TypeError as err:
            raise ValueError(str(err)) from None
        return cls(**values)

    def replace(self, **changes) -> TrainConfig:
        """A validated copy with some fields changed.

        Example:
            >>> TrainConfig(lr_g=1e-3).replace(lr_d=4e-3).lr_d
            0.004
        """
        return replace(self, **changes)


# A class with its own __new__ shows __new__'s (*args, **kwargs) in help() and editor tooltips;
# give it back the fields of the generated __init__.
_init_parameters = list(inspect.signature(TrainConfig.__init__).parameters.values())
TrainConfig.__signature__ = inspect.Signature(_init_parameters[1:])


def _check_field_names(names) -> None:
    known = [f.name for f in fields(TrainConfig)]
    unknown = sorted(str(name) for name in names if name not in known)
    if unknown:
        raise TypeError(f"unknown TrainConfig field(s) {unknown}; valid fields: {', '.join(known)}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
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
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid choices: {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})
