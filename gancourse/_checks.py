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
