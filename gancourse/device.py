"""Pick the training device (CUDA > Apple MPS > CPU), name it one way, and choose its autocast dtype.

Every device in the package goes through ``canonical_device`` once, so two names for the same
device compare equal: ``torch.device("cuda") != torch.device("cuda:0")`` in PyTorch, while a tensor
created on either reports ``cuda:0``. The canonical form is what a tensor's ``.device`` says:
``cuda:N`` (N the current CUDA device when no index is given), ``mps:0``, ``cpu``.
"""
from __future__ import annotations

import torch

__all__ = ["pick_device", "canonical_device", "autocast_dtype", "DEVICES"]

DEVICES = ("auto", "cuda", "mps", "cpu")


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def canonical_device(device: str | torch.device) -> torch.device:
    """The one name of ``device``, index included, as a tensor on it reports it (no device is checked).

    ``cuda`` becomes ``cuda:N`` with N the current CUDA device (0 when CUDA is absent), ``mps``
    becomes ``mps:0`` (there is one Apple GPU), ``cpu`` stays ``cpu``.

    Example:
        >>> canonical_device("mps"), canonical_device(torch.device("cpu"))
        (device(type='mps', index=0), device(type='cpu'))
    """
    device = torch.device(device)
    if device.type == "cpu":
        return torch.device("cpu")  # CPU tensors carry no index
    if device.index is not None:
        return device
    if device.type == "cuda":
        return torch.device("cuda", torch.cuda.current_device() if torch.cuda.is_available() else 0)
    return torch.device(device.type, 0)


def pick_device(preference: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; a named device is checked to exist. Canonical form.

    Example:
        >>> pick_device("cpu")
        device(type='cpu')
    """
    preference = str(preference)
    base, _, index = preference.partition(":")
    if base not in DEVICES or (index and not index.isdigit()) or (base == "auto" and index):
        raise ValueError(f"unknown device {preference!r}; valid choices: {', '.join(DEVICES)} (cuda:N allowed)")
    if base == "auto":
        if torch.cuda.is_available():
            return canonical_device("cuda")
        if _mps_available():
            return canonical_device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    if base == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise ValueError(f"device {preference!r} requested but this machine has {torch.cuda.device_count()} CUDA "
                         f"device(s): cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    if base == "mps" and not _mps_available():
        raise ValueError(f"device {preference!r} requested but MPS is not available; use 'auto' or 'cpu'")
    return canonical_device(preference)


def autocast_dtype(device: str | torch.device) -> torch.dtype | None:
    """The half-precision dtype that autocast should use for training on ``device``; None: stay in float32.

    bf16 on CUDA GPUs of compute capability 8.0 (Ampere) or newer, which have bf16 tensor cores and
    cuDNN bf16 convolutions; fp16 (with a GradScaler) below, e.g. on Colab's T4 (7.5), where
    ``torch.cuda.is_bf16_supported()`` still answers True because it counts emulation.
    None on the CPU and on mps: the course's models are small, and half precision there is slower
    or unsupported rather than faster (PyTorch AMP docs, "Automatic Mixed Precision package").

    Example:
        >>> autocast_dtype("cpu") is None
        True
    """
    device = canonical_device(device)
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.get_device_capability(device) >= (8, 0) else torch.float16
