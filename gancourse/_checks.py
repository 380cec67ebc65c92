"""Argument checks shared by several modules, so every bad count gets the same clear message."""
from __future__ import annotations

import numbers

import torch


def positive_int(name: str, value: object, meaning: str = "") -> int:
    """``value`` as a plain ``int`` if it is a whole number >= 1, else ``ValueError`` naming it.

    Python and numpy integers pass; ``True``/``False`` do not (``bool`` is an ``int`` subclass,
    but ``width=True`` is a mistake), and neither do floats such as ``2.0`` or strings such as ``"8"``.

    Example:
        >>> positive_int("width", 16)
        16
        >>> positive_int("width", 2.5)
        Traceback (most recent call last):
        ValueError: width must be an integer >= 1, got width=2.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{meaning}, got {name}={value!r}")
    return int(value)


FLOAT32_MAX = 3.4028234663852886e38
"""The largest float32 (``torch.finfo(torch.float32).max``): the loop's weights, losses and optimiser states
are float32, and torch refuses to turn a larger Python float into one ("cannot be converted ... without
overflow"), so a learning rate, a clipping value or a penalty weight above it fails inside torch."""

SETTING_LIMITS: dict[str, float] = {
    "lr_g": FLOAT32_MAX, "lr_d": FLOAT32_MAX, "clip": FLOAT32_MAX, "gp_lambda": FLOAT32_MAX,
    "r1_gamma": FLOAT32_MAX, "batch_size": 2**16, "z_dim": 2**14, "width": 2**14,
}
"""The largest value of each setting whose valid range the loop alone does not bound.

The float settings are bounded by ``FLOAT32_MAX`` (beyond it torch cannot represent them). The sizes are
bounded far above any published GAN and far below a size that exhausts memory before the first step: the
papers the course follows use batches of 64 to 512 (BigGAN's largest is 2,048) and latent codes of 100 to
512 dimensions, and a batch of 65,536 (2**16) 28x28 pictures, or an MLP 16,384 (2**14) units wide, already
takes gigabytes; a value above these bounds (a typo such as 1e12) would fail with a raw allocation error."""


def within_limit(name: str, value: object, flag: str | None = None) -> None:
    """``ValueError`` naming ``flag`` (default: ``name``) when a number exceeds ``SETTING_LIMITS[name]``; other
    values (None, a bad type, a name without a limit) are left to the setting's own check.

    Example:
        >>> within_limit("batch_size", 64)
        >>> within_limit("lr_g", 1e300, flag="--lr-g")
        Traceback (most recent call last):
        ValueError: --lr-g 1e+300 is too large: the largest allowed is 3.4e+38 (the largest float32)
    """
    limit = SETTING_LIMITS.get(name)
    if limit is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        return
    if value > limit:
        what = "the largest float32" if limit == FLOAT32_MAX else "far above any GAN in the papers; check for a typo"
        shown = f"{limit:.2g}" if limit == FLOAT32_MAX else f"{int(limit):,}"
        label = flag or name
        raise ValueError(f"{label} {value!r} is too large: the largest allowed is {shown} ({what})"
                         if flag else f"{label}={value!r} is too large: the largest allowed is {shown} ({what})")


def check_labels(y: object, n: int, num_classes: int, device: torch.device | str | None = None,
                 values: bool = True) -> torch.Tensor:
    """``y`` as int64 if it holds ``n`` class labels in 0..num_classes-1 on ``device``, else ``ValueError``.

    ``values=False`` skips the range check, which reads ``y`` back from the device: the models skip it on
    an accelerator (it would make every forward pass wait for the GPU) and under ``torch.compile``.

    Example:
        >>> check_labels(torch.tensor([0, 2]), 2, num_classes=3).tolist()
        [0, 2]
        >>> check_labels(torch.tensor([0, 3]), 2, num_classes=3)
        Traceback (most recent call last):
        ValueError: labels y must be class indices in 0..2 (num_classes=3), got values from 0 to 3
        >>> check_labels(torch.tensor([0.0, 1.0]), 2, num_classes=3)
        Traceback (most recent call last):
        ValueError: labels y must be integer class indices (torch.int64), got dtype torch.float32
    """
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"labels y must be a tensor of {n} int64 class indices, got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"labels y must be integer class indices (torch.int64), got dtype {y.dtype}")
    if tuple(y.shape) != (n,):
        raise ValueError(f"labels y must have shape ({n},), one label per example of the batch, "
                         f"got shape {tuple(y.shape)}")
    if device is not None and y.device != torch.device(device):
        raise ValueError(f"labels y are on {y.device} but the batch is on {device}; move them with y.to(x.device)")
    if values and n > 0:
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= num_classes:
            raise ValueError(f"labels y must be class indices in 0..{num_classes - 1} (num_classes={num_classes}), "
                             f"got values from {low} to {high}")
    return y.long()
