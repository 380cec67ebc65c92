"""Checks for lesson 2 (mode collapse): the coverage metric, PacGAN packing, minibatch std.

Each ``check_*`` calls your function on small inputs whose answers can be worked out by hand. It
prints one line when all pass, prints "not done yet" and a hint while your function is still the stub
(it raises ``NotImplementedError`` or returns ``None`` / ``...``), and raises ``AssertionError`` with a
hint naming what is wrong otherwise. The notebook's later cells use the package's versions
(``coverage``, ``pack`` and ``batch_std`` below, or ``mode_coverage`` / ``pack_samples`` /
``minibatch_std``), never the learner's.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..metrics.mixtures import mode_coverage
from ..remedies.minibatch_std import minibatch_std
from ..remedies.packing import pack_samples
from ._stub import call_reporting_errors, explain_error, reports_stub

__all__ = ["check_coverage", "check_pack", "check_minibatch_std", "coverage", "pack", "batch_std"]


def coverage(samples: torch.Tensor, centres: torch.Tensor, std: float) -> tuple[int, float]:
    """The package's answer to exercise 1: ``(modes_captured, hq_fraction)`` of ``mode_coverage``.

    Example:
        >>> coverage(torch.zeros(4, 2), torch.tensor([[0.0, 0.0], [1.0, 0.0]]), 0.1)
        (1, 1.0)
    """
    result = mode_coverage(samples, centres, std)
    return result.modes_captured, result.hq_fraction


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """The package's answer to exercise 2: ``pack_samples(x, m)``.

    Example:
        >>> pack(torch.arange(4.0).view(2, 2), 2).tolist()
        [[0.0, 1.0, 2.0, 3.0]]
    """
    return pack_samples(x, m)


def batch_std(x: torch.Tensor) -> torch.Tensor:
    """The package's answer to exercise 3: ``minibatch_std(x, group_size=None)``.

    Example:
        >>> batch_std(torch.tensor([[0.0], [2.0]])).tolist()
        [1.0, 1.0]
    """
    return minibatch_std(x, group_size=None)


def _per_sample(value, batch: int) -> torch.Tensor:
    """The learner's statistic as float64 (any float dtype is fine), or an AssertionError naming a wrong shape."""
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"return a tensor of shape (B,), got {type(value).__name__}")
    if tuple(value.shape) != (batch,):
        raise AssertionError(f"the statistic should have one value per sample: for a batch of {batch} expected "
                             f"shape ({batch},), got {tuple(value.shape)}")
    return value.detach().double()


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(float(a) - float(b)) <= tol


@reports_stub("torch.cdist gives every sample-to-centre distance at once; only the HQ samples (within 3 * std "
               "of their nearest centre) capture modes.")
def check_coverage(fn: Callable[[torch.Tensor, torch.Tensor, float], tuple]) -> None:
    """Check ``fn(samples, centres, std) -> (modes_captured, hq_fraction)`` (VEEGAN / PacGAN protocol).

    A sample is high quality when its distance to the nearest centre is at most 3 * std; a mode is
    captured when it is the nearest centre of at least one high-quality sample.

    Example:
        >>> from gancourse.metrics.mixtures import mode_coverage
        >>> check_coverage(lambda x, c, s: (mode_coverage(x, c, s).modes_captured, mode_coverage(x, c, s).hq_fraction))
        check_coverage: all 4 cases pass.
        >>> def stub(samples, centres, std):
        ...     raise NotImplementedError
        >>> check_coverage(stub)  # doctest: +ELLIPSIS
        check_coverage: not done yet (your function still raises NotImplementedError). Hint: ...
    """
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    cases = [
        # (samples, std, expected modes, expected HQ fraction, what the case tests)
        (torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 0.1, 3, 1.0, "one sample on each centre"),
        (torch.tensor([[0.05, 0.0], [0.02, 0.01], [0.5, 0.5], [0.9, 0.9]]), 0.02, 1, 0.5,
         "two samples near centre 0 (0.05 and 0.022 away, within 3 * 0.02 = 0.06), two far from every centre"),
        (torch.tensor([[0.0, 0.29], [1.0, 0.31]]), 0.1, 1, 0.5,
         "distance 0.29 counts (<= 0.3), 0.31 does not: the test is distance <= 3 * std"),
        (torch.tensor([[0.45, 0.0], [0.55, 0.0]]), 0.2, 2, 1.0,
         "0.45 is nearest to centre 0 and 0.55 to centre 1: a sample belongs to its NEAREST centre"),
    ]
    for samples, std, modes, hq, what in cases:
        got = call_reporting_errors(fn, samples, centres, std)
        assert isinstance(got, tuple) and len(got) == 2, f"return a tuple (modes_captured, hq_fraction), got {got!r}"
        got_modes, got_hq = got
        assert int(got_modes) == modes, (f"modes captured: expected {modes}, got {got_modes} ({what}). "
                                         "Count the distinct nearest centres among the high-quality samples only.")
        assert _close(got_hq, hq), (f"HQ fraction: expected {hq}, got {float(got_hq)} ({what}). "
                                    "It is the fraction of ALL samples within 3 * std of their nearest centre.")
    print(f"check_coverage: all {len(cases)} cases pass.")


@reports_stub("consecutive samples are consecutive in memory, so one reshape packs them; check that m divides "
               "the batch first.")
def check_pack(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(x, m)``: groups of m consecutive samples stacked along axis 1 (PacGAN packing).

    (B, F) -> (B/m, m*F) for points, (B, C, H, W) -> (B/m, m*C, H, W) for images; a batch that does
    not split into packs of m is a ``ValueError``.

    Example:
        >>> from gancourse.remedies.packing import pack_samples
        >>> check_pack(pack_samples)
        check_pack: all 4 cases pass.
    """
    x = torch.arange(12.0).view(6, 2)
    got = call_reporting_errors(fn, x, 3)
    assert isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}"
    assert tuple(got.shape) == (2, 6), (
        f"6 points of 2 features in packs of 3 should give shape (2, 6), got {tuple(got.shape)}")
    assert got.tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]], (
        f"pack 0 must hold samples 0, 1, 2 side by side: expected [[0..5], [6..11]], got {got.tolist()}")
    assert torch.equal(call_reporting_errors(fn, x, 1), x), "m = 1 must return the samples unchanged"
    images = torch.arange(4 * 2 * 3 * 3, dtype=torch.float32).view(4, 2, 3, 3)
    got = call_reporting_errors(fn, images, 2)
    assert tuple(got.shape) == (2, 4, 3, 3), (
        f"4 images (2, 3, 3) in packs of 2 should give (2, 4, 3, 3), got {tuple(got.shape)}")
    assert torch.equal(got[1, 2:], images[3]), "image 3 should be the second half of pack 1's channels"
    try:
        fn(torch.zeros(5, 2), 2)
    except ValueError:
        pass
    except Exception as err:
        raise AssertionError(f"5 samples in packs of 2: expected a ValueError, but {explain_error(err)}") from None
    else:
        raise AssertionError("5 samples cannot be split into packs of 2: raise ValueError (silently dropping or "
                             "mixing samples would hide a bug)")
    print("check_pack: all 4 cases pass.")


@reports_stub("the formula above: each feature's population std over the batch (dim 0), then the mean over "
               "features, repeated for every sample.")
def check_minibatch_std(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(x) -> (B,)``: the minibatch standard deviation statistic of Karras et al. 2018
    with the whole batch as one group: the population std of every feature over the batch, averaged
    over features, repeated for every sample.

    Example:
        >>> from gancourse.remedies.minibatch_std import minibatch_std
        >>> check_minibatch_std(lambda x: minibatch_std(x, group_size=None))
        check_minibatch_std: all 4 cases pass.
    """
    x = torch.tensor([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0], [6.0, 1.0]])
    # feature 0: values 0, 2, 4, 6, mean 3, population variance (9 + 1 + 1 + 9) / 4 = 5; feature 1: std 0
    expected = math.sqrt(5) / 2
    got = _per_sample(call_reporting_errors(fn, x), 4)
    if _close(got[0], math.sqrt(20 / 3) / 2, 1e-3):
        raise AssertionError("you used the unbiased (n - 1) variance; the layer uses the population variance "
                             "(divide by n), e.g. x.var(dim=0, correction=0)")
    if _close(got[0], math.sqrt(3.5), 1e-3):  # all 8 entries: mean 2, mean squared deviation 28 / 8
        raise AssertionError("that is the std of all entries pooled together; take the std of each feature over "
                             "the batch first, then average the per-feature stds")
    assert torch.allclose(got, torch.full((4,), expected, dtype=torch.float64), atol=1e-3), (
        f"expected sqrt(5)/2 = {expected:.4f} for every sample (feature stds sqrt(5) and 0, averaged), "
        f"got {got.tolist()}")
    # Two samples (0, 2) and (2, 0): each feature takes the values 0 and 2 (std 1), but both samples have the
    # same mean 1, so the std of the per-sample means is 0. The first case cannot tell these apart.
    crossed = _per_sample(call_reporting_errors(fn, torch.tensor([[0.0, 2.0], [2.0, 0.0]])), 2)
    if _close(crossed[0], 0.0, 1e-3):
        raise AssertionError("for the samples (0, 2) and (2, 0) you return 0, the std of the per-sample MEANS (both "
                             "are 1); the statistic is the std of each FEATURE over the batch (here 1 and 1), "
                             "averaged over features: 1")
    assert torch.allclose(crossed, torch.ones(2, dtype=torch.float64), atol=1e-3), (
        f"for the samples (0, 2) and (2, 0) both features have std 1 over the batch, so expected 1 for every sample, "
        f"got {crossed.tolist()}")
    same = _per_sample(call_reporting_errors(fn, torch.ones(8, 3)), 8)
    assert float(same.abs().max()) < 1e-3, f"a batch of identical samples has std 0, got {same.tolist()}"
    images = torch.zeros(2, 1, 2, 2)
    images[1] = 2.0  # every pixel: values 0 and 2, std 1
    got = _per_sample(call_reporting_errors(fn, images), 2)
    assert torch.allclose(got, torch.ones(2, dtype=torch.float64), atol=1e-3), (
        f"images: per-pixel std over the batch, averaged over channels and positions, should be 1; got {got.tolist()}")
    print("check_minibatch_std: all 4 cases pass.")
