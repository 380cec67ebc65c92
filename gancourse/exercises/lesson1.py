"""Checks for lesson 1 (the original GAN, Goodfellow et al. 2014), and the package's versions of its exercises.

Each ``check_*`` calls your function on small inputs whose answers can be worked out by hand. It prints
one line when they all pass, prints "not done yet" and a hint while your function is still the stub
(it raises ``NotImplementedError`` or returns ``None`` / ``...``), and raises ``AssertionError`` with a
hint naming what is wrong otherwise. The notebook's later cells use the versions defined here
(``optimal_discriminator``, ``js_divergence``, ``nonsaturating_loss``), never the learner's.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._stub import call_reporting_errors, reports_stub

__all__ = ["check_optimal_discriminator", "check_js_divergence", "check_nonsaturating_loss",
           "optimal_discriminator", "js_divergence", "nonsaturating_loss"]


def _as_tensor(value, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} should return a torch.Tensor, got {type(value).__name__}")
    return value.double()


def _one_number(value, name: str) -> torch.Tensor:
    """``value`` as a 0-d float64 tensor (graph kept), or an AssertionError naming a batch left unreduced."""
    value = _as_tensor(value, name)
    if value.numel() != 1:
        raise AssertionError(f"{name} should be one number (the mean over the batch), got a tensor of shape "
                             f"{tuple(value.shape)}: average it with .mean()")
    return value.reshape(())


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Proposition 1), pointwise.

    Example:
        >>> optimal_discriminator(torch.tensor([1.0, 0.0, 0.3]), torch.tensor([0.0, 1.0, 0.3]))
        tensor([1.0000, 0.0000, 0.5000])
    """
    return p_data / (p_data + p_g)


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """JS(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, natural log, 0 log 0 = 0.

    ``p`` and ``q`` are probability vectors of equal shape (Goodfellow et al. 2014, Theorem 1).

    Example:
        >>> round(float(js_divergence(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))), 4)  # log 2
        0.6931
    """
    m = (p + q) / 2

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # where a = 0 the term is 0 (0 log 0 = 0); a > 0 implies b >= a/2 > 0, so the log is finite
        return torch.where(a > 0, a * (a / b).log(), torch.zeros_like(a)).sum()

    return kl(p, m) / 2 + kl(q, m) / 2


def nonsaturating_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log D(G(z)) with D = sigmoid(logit), written as softplus(-logit): finite for any logit.

    Example:
        >>> nonsaturating_loss(torch.tensor([-1000.0, 1000.0]))
        tensor(500.)
    """
    return F.softplus(-fake_logits).mean()


@reports_stub("maximise p_data * log D + p_g * log(1 - D) over D in [0, 1] at each point: "
               "set the derivative p_data / D - p_g / (1 - D) to zero and solve for D.")
def check_optimal_discriminator(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(p_data, p_g)`` = D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1).

    ``p_data`` and ``p_g`` are densities evaluated at the same points (tensors of equal shape).

    Example:
        >>> check_optimal_discriminator(optimal_discriminator)
        optimal discriminator: correct
        >>> def stub(p_data, p_g):
        ...     raise NotImplementedError
        >>> check_optimal_discriminator(stub)  # doctest: +ELLIPSIS
        check_optimal_discriminator: not done yet (your function still raises NotImplementedError). Hint: ...
    """
    p = torch.tensor([1.0, 0.0, 0.3, 2.0, 0.25], dtype=torch.float64)
    q = torch.tensor([0.0, 1.0, 0.3, 0.5, 0.75], dtype=torch.float64)
    expected = torch.tensor([1.0, 0.0, 0.5, 0.8, 0.25], dtype=torch.float64)
    got = _as_tensor(call_reporting_errors(fn, p, q), "your function")
    if got.shape != expected.shape:
        raise AssertionError(f"D* should have one value per point: for p_data and p_g of shape {tuple(p.shape)} "
                             f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
    if torch.allclose(got, 1 - expected, atol=1e-6):
        raise AssertionError("you returned p_g / (p_data + p_g): D should be large where the DATA density is large")
    bad = ~torch.isclose(got, expected, atol=1e-6)
    if bad.any():
        i = int(bad.nonzero()[0])
        raise AssertionError(f"at p_data={p[i].item()}, p_g={q[i].item()} expected D*={expected[i].item():.4f}, "
                             f"got {got[i].item():.4f}. Maximise p_data log D + p_g log(1 - D) over D in [0, 1].")
    print("optimal discriminator: correct")


@reports_stub("average KL(p || m) and KL(q || m) for the mixture m = (p + q) / 2 (section 3 defines KL); "
               "an entry where a = 0 adds 0 to KL(a || b).")
def check_js_divergence(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(p, q)`` = JS(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, natural log,
    for discrete distributions given as 1-D probability vectors (zeros allowed: 0 log 0 = 0).

    Example:
        >>> check_js_divergence(js_divergence)
        Jensen-Shannon divergence: correct
    """
    cases = [
        (torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]), 0.0, "identical distributions"),
        (torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), math.log(2),
         "disjoint supports (JS is log 2, its maximum)"),
        # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4);
        # KL(p||m) = log(4/3); KL(q||m) = 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3)
        (torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]), 0.5 * math.log(4 / 3) + 0.25 * math.log(4 / 3),
         "p = (1, 0), q = (1/2, 1/2)"),
    ]
    for p, q, expected, what in cases:
        got = float(_one_number(call_reporting_errors(fn, p.double(), q.double()), "your divergence"))
        if not math.isfinite(got):
            raise AssertionError(f"{what}: got {got}; remember 0 * log 0 = 0 (mask the zero entries)")
        if abs(got - expected) > 1e-6:
            base2 = abs(got - expected / math.log(2)) < 1e-6
            hint = " (did you use log base 2? the lesson uses natural log)" if base2 else ""
            raise AssertionError(f"{what}: expected {expected:.6f}, got {got:.6f}{hint}")
    p, q = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64), torch.tensor([0.1, 0.3, 0.6], dtype=torch.float64)
    forth, back = (float(_one_number(call_reporting_errors(fn, a, b), "your divergence")) for a, b in ((p, q), (q, p)))
    if abs(forth - back) > 1e-9:
        raise AssertionError("JS must be symmetric: JS(p||q) = JS(q||p); did you compute a single KL?")
    print("Jensen-Shannon divergence: correct")


@reports_stub("section 1 writes -log sigmoid(t) with a function that never overflows; use it, and average over "
               "the batch.")
def check_nonsaturating_loss(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(fake_logits)`` = -mean log D(G(z)) with D = sigmoid(logit), stable for any logit.

    Example:
        >>> check_nonsaturating_loss(nonsaturating_loss)
        non-saturating generator loss: correct
    """
    logits = torch.tensor([-3.0, 0.0, 2.0, 0.5], dtype=torch.float64)
    expected = -torch.log(torch.sigmoid(logits)).mean()
    got = float(_one_number(call_reporting_errors(fn, logits), "your loss"))
    if abs(got - float(torch.log(1 - torch.sigmoid(logits)).mean())) < 1e-9:
        raise AssertionError("that is the saturating (minimax) loss log(1 - D(G(z))); the non-saturating one is "
                             "-log D(G(z))")
    if abs(got + float(expected)) < 1e-9:
        raise AssertionError("wrong sign: you returned mean log D(G(z)); the generator MINIMISES -log D(G(z))")
    if abs(got - float(-torch.log(torch.sigmoid(logits)).sum())) < 1e-9:
        raise AssertionError("you summed over the batch; take the mean, as every loss in gancourse.losses does")
    if abs(got - float(expected)) > 1e-6:
        raise AssertionError(f"on logits {logits.tolist()} expected {float(expected):.6f}, got {got:.6f}")
    extreme = torch.tensor([-1000.0, 1000.0], dtype=torch.float64, requires_grad=True)
    value = _one_number(call_reporting_errors(fn, extreme), "your loss")
    number = float(value.detach())
    if not math.isfinite(number):
        raise AssertionError(f"at logits -1000 and 1000 your loss is {number}: log(sigmoid(t)) underflows; "
                             "write it with softplus: -log sigmoid(t) = softplus(-t)")
    if abs(number - 500.0) > 1e-6:
        raise AssertionError(f"at logits (-1000, 1000) expected 500.0, got {number}")
    if not value.requires_grad:
        raise AssertionError("your loss is not connected to the logits (a .detach(), .item() or new tensor on the "
                             "way?): G is trained by calling backward() on it, so it must stay a function of them")
    (grad,) = torch.autograd.grad(value, extreme)
    if not torch.allclose(grad, torch.tensor([-0.5, 0.0], dtype=torch.float64), atol=1e-6):
        raise AssertionError(f"gradient at logits (-1000, 1000) should be (-1/2, 0) (a strong push for a rejected "
                             f"fake), got {grad.tolist()}")
    print("non-saturating generator loss: correct")
