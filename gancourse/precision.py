"""Mixed precision for the training loop: autocast and one fp16 GradScaler per player.

Split from ``gancourse.train`` (``Trainer`` inherits it). The PyTorch AMP docs ("Automatic Mixed
Precision examples"): autocast wraps the forward passes and the losses only, never a backward pass;
bf16 (float32's exponent range) needs no loss scaling, fp16 does.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

__all__ = ["MixedPrecision"]


class MixedPrecision:
    """Autocast and loss scaling for a class with a ``device`` (``Trainer``): ``_set_precision`` chooses,
    ``_autocast()`` wraps forward passes, ``_optimizer_step`` runs backward, norm and update.

    Example:
        >>> class Player(MixedPrecision):
        ...     device = torch.device("cpu")
        >>> p = Player(); p._set_precision(None); p.scaler_d.is_enabled(), p.amp_dtype
        (False, None)
    """

    def _set_precision(self, dtype: torch.dtype | None, **scaler_options) -> None:
        """Autocast dtype (None: float32) and loss scaling; ``scaler_options`` go to ``GradScaler``.

        fp16 needs loss scaling, bf16 (float32's exponent range) does not (PyTorch AMP docs, "Gradient
        scaling"). Each player gets its own GradScaler, updated once after each of its optimiser steps.
        The AMP examples' recipe for several optimisers is one scaler updated once per iteration, after
        every optimiser has stepped; it does not fit Algorithm 1, whose D steps n_critic times before G
        steps once, while a scaler allows one ``step(opt)`` per optimiser between two ``update()``s. With
        a scaler per player every D step is a complete scale-step-update cycle, and an overflow in one
        player's gradients lowers only that player's scale. ``__init__`` calls this with
        ``device.autocast_dtype``; the tests call it on the CPU (fp16 autocast + ``GradScaler("cpu")``)
        to run the branch a GPU without bf16 takes.
        """
        self.amp_dtype = dtype
        fp16 = dtype == torch.float16
        device_type = self.device.type if fp16 else "cpu"  # a disabled scaler never touches a device
        self.scaler_d = torch.amp.GradScaler(device_type, enabled=fp16, **scaler_options)
        self.scaler_g = torch.amp.GradScaler(device_type, enabled=fp16, **scaler_options)

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _optimizer_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, module: nn.Module,
                        scaler: torch.amp.GradScaler) -> tuple[torch.Tensor, torch.Tensor]:
        """Backward, gradient norm, update: returns (norm, 1.0 if the scaler skipped the update else 0.0).

        The AMP examples' recipe for inspecting gradients: ``scale(loss).backward()``, ``unscale_(opt)``
        before reading the gradients, ``step(opt)`` (which skips the update when an unscaled gradient
        is inf or NaN), ``update()`` (which then halves the scale). A skip is how dynamic loss scaling
        finds its scale, not divergence: it is returned on the device, with the norm set to NaN, and
        ``flush`` records it. The scaler skips exactly when a gradient is not finite, which is when
        this norm is not finite, so no private scaler state is read and nothing waits on the host.
        """
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if scaler.is_enabled():
            scaler.unscale_(opt)
        norms = [p.grad.detach().float().norm() for p in module.parameters() if p.grad is not None]
        grad_norm = torch.stack(norms).norm() if norms else torch.zeros((), device=self.device)
        scaler.step(opt)
        scaler.update()
        if not scaler.is_enabled():
            return grad_norm, torch.zeros((), device=self.device)
        skipped = ~torch.isfinite(grad_norm)
        return torch.where(skipped, torch.nan, grad_norm), skipped.float()

