"""Checkpoints: atomic writes, ``weights_only=True`` loads, and errors a learner can act on."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .paths import write_atomically

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "gancourse-checkpoint-v1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: corrupt, truncated, or from another model or format.

    Example:
        >>> issubclass(CheckpointError, RuntimeError)  # so `except RuntimeError` catches it too
        True
    """


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically: a crash mid-write never leaves a broken file there.

    Example:
        >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "c.pt")
        >>> save_checkpoint({"format": CHECKPOINT_FORMAT, "step": 1}, p).name
        'c.pt'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint with ``torch.load(weights_only=True)`` (no arbitrary code runs).

    Example:
        >>> load_checkpoint("/nonexistent.pt")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        CheckpointError: no checkpoint at /nonexistent.pt
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated?): "
                              f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a gancourse checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return state
