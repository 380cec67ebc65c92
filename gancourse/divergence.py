"""When a run counts as diverged: a statistic that is not finite, or a loss or gradient norm beyond a bound.

A learning rate far too large need not produce NaN or Inf: Adam moves every weight by about the learning rate
per step whatever the gradient, so with lr = 1e3 the weights reach thousands, the losses 1e13 and the gradient
norms 1e10, all finite, and a run that only checked for NaN would finish "successfully" with a broken model.
``check_bounded`` stops such a run as ``TrainingDiverged``, naming the step and the statistic.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from .history import TrainingDiverged

__all__ = ["DIVERGENCE_BOUND", "BOUNDED_STATS", "check_bounded"]

DIVERGENCE_BOUND = 1e6
"""The largest |loss| or gradient norm of a run that is still training.

The course's losses stay orders of magnitude below it while a run learns: the GAN losses are
-log sigmoid(logit), about |logit| once D is sure, and a float32 sigmoid is exactly 0 or 1 beyond
|logit| ~ 17 (no gradient), so a loss of 1e6 means a D that stopped teaching long before; the WGAN critic
loss is a difference of mean scores that clipping (c = 0.01) keeps near or below 1 and the gradient
penalty keeps near the Wasserstein distance of the data (about 10 on the 2-D sets, tens on images); the
gradient norms of a learning run are 1e-3 to 1e2. A run past 1e6 is moving its weights by the learning
rate each step with no direction left (Adam's steps do not shrink), which is divergence even while
every number is finite."""

BOUNDED_STATS = ("loss_d", "loss_g", "grad_norm_d", "grad_norm_g")
"""The statistics ``check_bounded`` compares with ``DIVERGENCE_BOUND``. The mean scores (d_real, d_fake,
w_estimate) enter the losses, so they are bounded through them."""


def check_bounded(step: int, stats: Mapping[str, float]) -> None:
    """``TrainingDiverged`` (step, statistic, value) when a finite loss or gradient norm in ``stats`` (a
    mapping, or a named tuple of floats) exceeds ``DIVERGENCE_BOUND`` in absolute value; NaN and Inf are
    the finite-check's to report.

    Example:
        >>> check_bounded(3, {"loss_d": 1.4, "loss_g": -2e3, "grad_norm_d": 12.0})
        >>> try:
        ...     check_bounded(7, {"loss_d": 1.4, "loss_g": 1.3e13})
        ... except TrainingDiverged as err:
        ...     print(str(err).split(". Try")[0])
        training diverged at step 7: loss_g = 13000000000000.0 (|loss_g| > 1e+06: finite, but far beyond a learning run)
    """
    values = stats._asdict() if hasattr(stats, "_asdict") else stats
    for key in BOUNDED_STATS:
        value = values.get(key)
        if value is not None and math.isfinite(value) and abs(value) > DIVERGENCE_BOUND:
            raise TrainingDiverged(step, key, value, f"|{key}| > {DIVERGENCE_BOUND:g}: finite, but far beyond a "
                                   "learning run")
