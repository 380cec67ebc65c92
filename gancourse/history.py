"""The per-step statistics of a training run (``StepStats``, ``History``) and the error a diverged run raises.

Split from ``gancourse.train``, which re-exports every name here.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["StepStats", "STAT_KEYS", "History", "TrainingDiverged"]


class StepStats(NamedTuple):
    """One training step's statistics by name (``STAT_KEYS`` are its fields, in this order).

    In the loop each field is a 0-d tensor on the device (``Trainer.train_step`` builds one per step);
    ``Trainer.flush`` reads a batch of them back as floats into the ``History``.

    Example:
        >>> s = StepStats(1.4, 0.7, 0.5, 0.5, 2.0, 3.0, 0.0, 0.1, 0)
        >>> s.loss_g, s._asdict()["amp_skips"]
        (0.7, 0)
    """

    loss_d: Any
    loss_g: Any
    d_real: Any
    d_fake: Any
    grad_norm_d: Any
    grad_norm_g: Any
    gp: Any
    w_estimate: Any
    amp_skips: Any


STAT_KEYS = StepStats._fields
"""Per-step statistics. d_real / d_fake are mean D(x), D(G(z)): probabilities for gan/nsgan, raw
scores for wgan/wgan-gp/hinge (``losses.GameLoss.logits``). gp: the penalties added to D's loss (WGAN-GP's
gradient penalty, R1), 0 without. w_estimate = mean f(x) - mean f(G(z)) (the WGAN estimate of W_1
up to the critic's Lipschitz constant; for gan losses, the logit gap). amp_skips: how many of the
step's n_critic + 1 optimiser updates the fp16 GradScaler skipped because a scaled gradient
overflowed (always 0 without fp16); a skipped update's gradient norm is recorded as NaN."""


class TrainingDiverged(RuntimeError):
    """Raised when a loss or statistic becomes NaN or infinite, or a loss or gradient norm passes
    ``divergence.DIVERGENCE_BOUND``; ``step`` and ``key`` say where.

    Example:
        >>> str(TrainingDiverged(12, "loss_d", float("nan"))).split(".")[0]
        'training diverged at step 12: loss_d = nan (not finite)'
    """

    def __init__(self, step: int, key: str, value: float, reason: str = "not finite") -> None:
        self.step, self.key, self.value = step, key, value
        super().__init__(f"training diverged at step {step}: {key} = {value} ({reason}). "
                         "Try smaller learning rates, a Lipschitz constraint for critic losses, or another seed.")


class History(dict):
    """Per-step statistics: ``history["loss_d"][i]`` belongs to step ``history["step"][i]``.

    Example:
        >>> h = History({"step": [1, 2], "loss_d": [1.4, 1.3]})
        >>> len(h), h.last("loss_d"), h.last("gp")
        (2, 1.3, nan)
    """

    def __init__(self, data: dict | None = None) -> None:
        super().__init__({k: [] for k in ("step",) + STAT_KEYS})
        if data:
            for key, values in data.items():
                self[key] = list(values)
            # A history saved before a statistic existed: pad it with NaN so every list stays aligned with "step".
            for key in STAT_KEYS:
                if key not in data and self["step"]:
                    self[key] = [math.nan] * len(self["step"])

    def __len__(self) -> int:  # number of recorded steps, not of keys
        return len(self["step"])

    def last(self, key: str) -> float:
        """Most recent value of ``key`` (NaN when nothing is recorded yet).

        Example:
            >>> History({"step": [1], "loss_g": [0.7]}).last("loss_g")
            0.7
        """
        if key not in self:
            raise KeyError(f"no statistic {key!r} in the history; recorded: {', '.join(self)}")
        return self[key][-1] if self[key] else math.nan

    def append(self, step: int, stats: StepStats) -> None:
        """Record ``stats`` (floats) as step ``step``'s.

        Example:
            >>> h = History(); h.append(3, StepStats(1.4, 0.7, 0.5, 0.5, 2.0, 3.0, 0.0, 0.1, 0))
            >>> h["step"], h["loss_d"]
            ([3], [1.4])
        """
        self["step"].append(step)
        for key, value in stats._asdict().items():
            self[key].append(value)

    def to_dict(self) -> dict:
        """Plain dict of lists (what checkpoints store).

        Example:
            >>> History({"step": [1]}).to_dict()["step"]
            [1]
        """
        return {k: list(v) for k, v in self.items()}
