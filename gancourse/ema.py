"""An exponential moving average of the generator's weights, for sampling (Karras et al. 2018, Sec. A.1;
Yazici et al. 2019, "The unusual effectiveness of averaging in GAN training").

After every generator step, with beta the decay:

    theta_ema <- beta * theta_ema + (1 - beta) * theta  =  theta_ema + (1 - beta) * (theta - theta_ema)

The game's iterates circle around an equilibrium instead of settling on it (see ``gancourse.dirac``);
their average sits nearer its centre, so samples from the averaged G are usually better than from the
last G, at the cost of one copy of G and no extra training.

Buffers (batch norm's running mean and variance, its counter) are *copied* from G after each update,
not averaged: an average of past running statistics is no statistic of any network, while G's own
running statistics describe activations of weights close to the average when beta is near 1 (StyleGAN2's
choice). They are still those of G, not of the averaged weights: ``recompute_batch_norm_`` re-estimates
them exactly for the averaged G from a few batches (BigGAN's "standing statistics"), if that matters.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

__all__ = ["EMA", "decay_from_half_life", "half_life", "recompute_batch_norm_"]


def decay_from_half_life(steps: float) -> float:
    """The decay beta whose average forgets half its past in ``steps`` updates: beta = 0.5 ** (1 / steps).

    ``steps = 0`` means no averaging (beta = 0: the average is G itself).

    Example:
        >>> round(decay_from_half_life(693.0), 4), decay_from_half_life(1.0), decay_from_half_life(0)
        (0.999, 0.5, 0.0)
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, float)) or not math.isfinite(steps) or steps < 0:
        raise ValueError(f"half-life must be a finite number of steps >= 0, got {steps!r}")
    return 0.0 if steps == 0 else 0.5 ** (1.0 / steps)


def half_life(decay: float) -> float:
    """The half-life in updates of an average with decay ``decay`` in [0, 1): ln(1/2) / ln(decay).

    Inverse of ``decay_from_half_life`` (up to rounding), for a CLI or widget that takes the decay.

    Example:
        >>> round(half_life(0.999), 1), half_life(0.5), half_life(0.0)
        (692.8, 1.0, 0.0)
    """
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
        raise ValueError(f"EMA decay must be in [0, 1), got decay={decay!r}")
    return 0.0 if decay == 0 else math.log(0.5) / math.log(decay)


def _check_decay(decay: float) -> float:
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay <= 1:
        raise ValueError(f"EMA decay must be a number in [0, 1], got decay={decay!r}")
    return float(decay)


class EMA:
    """A copy of ``G`` (``self.module``, in eval mode, no gradients) tracking the average of G's weights.

    The average starts at G's current weights. ``update(G)`` after each generator step; ``decay`` is
    beta (0: the copy follows G exactly; 1: it never moves). Buffers are copied from G (module docstring).

    Example:
        >>> G = nn.Linear(1, 1, bias=False); _ = nn.init.zeros_(G.weight)
        >>> ema = EMA(G, decay=0.5)
        >>> _ = G.weight.data.fill_(2.0); ema.update(G); _ = G.weight.data.fill_(4.0); ema.update(G)
        >>> ema.module.weight.item()  # 0.5 * (0.5 * 0 + 0.5 * 2) + 0.5 * 4
        2.5
    """

    def __init__(self, G: nn.Module, decay: float) -> None:
        if not isinstance(G, nn.Module):
            raise TypeError(f"G must be a torch.nn.Module, got {type(G).__name__}")
        self.decay = _check_decay(decay)
        self.module = copy.deepcopy(G).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, G: nn.Module, decay: float | None = None) -> None:
        """theta_ema <- theta_ema + (1 - beta) (theta - theta_ema) for every parameter; buffers copied.

        ``lerp_`` is that formula; it is exact at both ends (beta = 0 gives G's weights, constant
        weights stay constant), where ``beta * a + (1 - beta) * b`` could move by a rounding error.

        Example:
            >>> G = nn.Linear(2, 2); ema = EMA(G, 0.9); ema.update(G)
            >>> torch.equal(ema.module.weight, G.weight)  # constant weights: the average equals them
            True
        """
        beta = self.decay if decay is None else _check_decay(decay)
        own = dict(self.module.named_parameters())
        theirs = dict(G.named_parameters())
        if own.keys() != theirs.keys():
            differ = sorted(own.keys() ^ theirs.keys())
            raise ValueError(f"G does not have the parameters of the averaged copy; these differ: {differ}")
        for name, p_ema in own.items():
            p_ema.lerp_(theirs[name].detach(), 1.0 - beta)
        theirs_b = dict(G.named_buffers())
        for name, b_ema in self.module.named_buffers():
            b_ema.copy_(theirs_b[name])
        self.updates += 1

    def state_dict(self) -> dict:
        """The averaged weights, buffers and the update count (what checkpoints store).

        Example:
            >>> sorted(EMA(nn.Linear(1, 1), 0.9).state_dict())
            ['decay', 'module', 'updates']
        """
        return {"module": self.module.state_dict(), "decay": self.decay, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()``'s output. The decay stays this object's (a resumed run may change it).

        Example:
            >>> a, b = EMA(nn.Linear(1, 1), 0.9), EMA(nn.Linear(1, 1), 0.9)
            >>> b.load_state_dict(a.state_dict()); torch.equal(a.module.weight, b.module.weight)
            True
        """
        self.module.load_state_dict(state["module"])
        self.updates = int(state.get("updates", 0))


@torch.no_grad()
def recompute_batch_norm_(module: nn.Module, latents) -> nn.Module:
    """Re-estimate every batch norm's running mean and variance in ``module`` from forward passes on
    ``latents`` (an iterable of input batches): the exact statistics of *these* weights, averaged
    over the batches with equal weight (``momentum=None``), not those copied from the live G.

    Returns ``module`` in eval mode; each batch norm's momentum is put back as it was.

    Example:
        >>> G = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        >>> _ = recompute_batch_norm_(G, [torch.randn(64, 2) for _ in range(4)])
        >>> int(G[1].num_batches_tracked), G.training
        (4, False)
    """
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m, m.momentum) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    module.train()
    try:
        for z in latents:
            module(z)
    finally:
        for m, momentum in saved:
            m.momentum = momentum
        module.eval()
    return module
