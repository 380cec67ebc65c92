"""Pick the training device: CUDA > Apple MPS > CPU."""
from __future__ import annotations

import torch

__all__ = ["pick_device", "DEVICES"]

DEVICES = ("auto", "cuda", "mps", "cpu")


def pick_device(preference: str = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; a named device is checked to exist.

    Example:
        >>> pick_device("cpu")
        device(type='cpu')
    """
    base = preference.split(":")[0]
    if base not in DEVICES:
        raise ValueError(f"unknown device {preference!r}; valid choices: {', '.join(DEVICES)} (cuda:N allowed)")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {preference!r} requested but MPS is not available; use 'auto' or 'cpu'")
    return torch.device(preference)
