"""Checkpoints: atomic writes, ``weights_only=True`` loads, and errors a learner can act on.

``trainer_state`` and ``restore_trainer`` are what ``Trainer.state_dict`` and ``Trainer.load`` do: the
whole state of a run (weights, optimiser moments, loss scales, random-number states, history, the average
of G), so that a resumed run continues the exact trajectory. The format has not changed since
``CHECKPOINT_FORMAT`` v1; older v1 files without a later key (``G_ema``, a scaler per player, a statistic)
still load.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from .ema import EMA
from .history import History
from .paths import write_atomically

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT", "trainer_state",
           "restore_trainer"]

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
        # torch's own message suggests retrying with weights_only=False, which would run whatever code a
        # malicious file holds: only the error's type is relayed, with what the file is not.
        raise CheckpointError(f"{path} is not a checkpoint this package wrote: it is corrupt, truncated, or holds "
                              f"objects other than tensors and plain values ({type(err).__name__}); it is never "
                              "loaded with weights_only=False, which would run any code it carries. Resume from "
                              "another checkpoint or start a new run") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a gancourse checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return state


def trainer_state(trainer) -> dict:
    """Everything needed to continue ``trainer``'s trajectory (what ``Trainer.state_dict`` returns).

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> sorted(trainer_state(Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"))))[:4]
        ['D', 'G', 'config', 'format']
    """
    trainer.flush()
    extra = {} if trainer.ema is None else {"G_ema": trainer.ema.state_dict()}
    return {
        "format": CHECKPOINT_FORMAT,
        "config": trainer.cfg.to_dict(),
        "setup": getattr(trainer, "setup", None),
        "step": trainer.step,
        "G": trainer.G.state_dict(),
        "D": trainer.D.state_dict(),
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "scaler_d": trainer.scaler_d.state_dict(),
        "scaler_g": trainer.scaler_g.state_dict(),
        "noise_rng": trainer.noise.get_state(),
        "sampler": trainer.sampler.state_dict(),
        "history": trainer.history.to_dict(),
        **extra,
    }


def restore_trainer(trainer, path: str | os.PathLike) -> None:
    """Load the checkpoint at ``path`` into ``trainer`` (what ``Trainer.load`` does; its docstring says how).

    Example:
        >>> import tempfile; from gancourse.train import Trainer, TrainConfig, train_gan
        >>> p = os.path.join(tempfile.mkdtemp(), "c.pt")
        >>> _ = train_gan("ring", steps=2, z_dim=4, device="cpu", progress=False).save(p)
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu")); restore_trainer(t, p); t.step
        2
    """
    state = load_checkpoint(path, map_location="cpu")
    missing = [k for k in ("G", "D", "opt_g", "opt_d", "step", "history") if k not in state]
    if missing:
        raise CheckpointError(f"{path} is missing {', '.join(missing)}; it is not a training checkpoint")
    cfg = trainer.cfg
    saved = state.get("config") if isinstance(state.get("config"), dict) else {}
    for key, default in (("optimizer", cfg.optimizer), ("condition", "none")):
        if saved.get(key, default) != getattr(cfg, key):
            raise CheckpointError(f"{path} was saved with {key}={saved.get(key, default)!r} but this trainer uses "
                                  f"{key}={getattr(cfg, key)!r}; build it with the checkpoint's config "
                                  "(TrainConfig.from_dict(load_checkpoint(path)['config']))")
    # load_state_dict copies matching tensors before it reports a mismatch: keep the old ones to restore.
    modules = (trainer.G, trainer.D) + (() if trainer.ema is None else (trainer.ema.module,))
    backup = [(m, {k: v.clone() for k, v in m.state_dict().items()}) for m in modules]
    try:
        trainer.G.load_state_dict(state["G"])
        trainer.D.load_state_dict(state["D"])
        if trainer.ema is not None and state.get("G_ema") is not None:
            trainer.ema.load_state_dict(state["G_ema"])
        trainer.opt_g.load_state_dict(state["opt_g"])
        trainer.opt_d.load_state_dict(state["opt_d"])
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        for module, weights in backup:
            module.load_state_dict(weights)
        raise CheckpointError(f"{path} was saved from a different model shape than this trainer's: "
                              f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from err
    # Learning rates and betas are the trainer's config; only the moment estimates come from the file.
    for opt, lr in ((trainer.opt_g, cfg.lr_g), (trainer.opt_d, cfg.lr_d)):
        for group in opt.param_groups:
            group["lr"] = lr
            if "betas" in group:
                group["betas"] = (cfg.beta1, cfg.beta2)
    if trainer.ema is not None and state.get("G_ema") is None:
        warnings.warn(f"{path} holds no average of G's weights (it was trained without ema_half_life); the "
                      "average restarts from the checkpoint's G", UserWarning, stacklevel=3)
        trainer.ema = EMA(trainer.G, trainer.ema.decay)
    # A checkpoint from a disabled scaler (CPU, bf16) is empty; a fresh fp16 scaler is as good.
    # Checkpoints written before the scaler per player hold one "scaler", which both continue from.
    for key, scaler in (("scaler_d", trainer.scaler_d), ("scaler_g", trainer.scaler_g)):
        if state.get(key, state.get("scaler")):
            scaler.load_state_dict(state.get(key, state.get("scaler")))
    _restore_rng(path, trainer.noise.set_state, state.get("noise_rng"), "noise")
    _restore_rng(path, trainer.sampler.load_state_dict, state.get("sampler"), "sampler")
    trainer.step = int(state["step"])
    trainer.history = History(state["history"])


def _restore_rng(path, restore: Callable, saved, what: str) -> None:
    try:
        if saved is None:
            raise KeyError(what)
        restore(saved)
    except (RuntimeError, KeyError, TypeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        warnings.warn(f"{path}: the {what} random-number state cannot be restored here ({reason}), probably "
                      "because it was saved on another device type; training continues with fresh random "
                      "numbers, so it will not repeat the original run exactly", UserWarning, stacklevel=4)
