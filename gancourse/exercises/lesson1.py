"""Checks for lesson 1 (the original GAN, Goodfellow et al. 2014)."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["check_optimal_discriminator", "check_js_divergence", "check_nonsaturating_loss"]


def _as_tensor(value, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} should return a torch.Tensor, got {type(value).__name__}")
    return value.double()


def check_optimal_discriminator(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(p_data, p_g)`` = D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1).

    ``p_data`` and ``p_g`` are densities evaluated at the same points (tensors of equal shape).

    Example:
        >>> check_optimal_discriminator(lambda p, q: p / (p + q))
        optimal discriminator: correct
    """
    p = torch.tensor([1.0, 0.0, 0.3, 2.0, 0.25], dtype=torch.float64)
    q = torch.tensor([0.0, 1.0, 0.3, 0.5, 0.75], dtype=torch.float64)
    expected = torch.tensor([1.0, 0.0, 0.5, 0.8, 0.25], dtype=torch.float64)
    got = _as_tensor(fn(p, q), "your function")
    if got.shape != expected.shape:
        raise AssertionError(f"expected one value per point, shape {tuple(expected.shape)}, got {tuple(got.shape)}")
    if torch.allclose(got, 1 - expected, atol=1e-6):
        raise AssertionError("you returned p_g / (p_data + p_g): D should be large where the DATA density is large")
    bad = ~torch.isclose(got, expected, atol=1e-6)
    if bad.any():
        i = int(bad.nonzero()[0])
        raise AssertionError(f"at p_data={p[i].item()}, p_g={q[i].item()} expected D*={expected[i].item():.4f}, "
                             f"got {got[i].item():.4f}. Maximise p_data log D + p_g log(1 - D) over D in [0, 1].")
    print("optimal discriminator: correct")


def check_js_divergence(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(p, q)`` = JS(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, natural log,
    for discrete distributions given as 1-D probability vectors (zeros allowed: 0 log 0 = 0).

    Example:
        >>> def js(p, q):
        ...     m = (p + q) / 2
        ...     kl = lambda a, b: torch.where(a > 0, a * (a / b).log(), torch.zeros_like(a)).sum()
        ...     return kl(p, m) / 2 + kl(q, m) / 2
        >>> check_js_divergence(js)
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
        got = float(_as_tensor(fn(p.double(), q.double()), "your function"))
        if not math.isfinite(got):
            raise AssertionError(f"{what}: got {got}; remember 0 * log 0 = 0 (mask the zero entries)")
        if abs(got - expected) > 1e-6:
            base2 = abs(got - expected / math.log(2)) < 1e-6
            hint = " (did you use log base 2? the lesson uses natural log)" if base2 else ""
            raise AssertionError(f"{what}: expected {expected:.6f}, got {got:.6f}{hint}")
    p, q = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64), torch.tensor([0.1, 0.3, 0.6], dtype=torch.float64)
    if abs(float(fn(p, q)) - float(fn(q, p))) > 1e-9:
        raise AssertionError("JS must be symmetric: JS(p||q) = JS(q||p); did you compute a single KL?")
    print("Jensen-Shannon divergence: correct")


def check_nonsaturating_loss(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(fake_logits)`` = -mean log D(G(z)) with D = sigmoid(logit), stable for any logit.

    Example:
        >>> check_nonsaturating_loss(lambda t: torch.nn.functional.softplus(-t).mean())
        non-saturating generator loss: correct
    """
    logits = torch.tensor([-3.0, 0.0, 2.0, 0.5], dtype=torch.float64)
    expected = -torch.log(torch.sigmoid(logits)).mean()
    got = float(_as_tensor(fn(logits), "your loss"))
    if abs(got - float(torch.log(1 - torch.sigmoid(logits)).mean())) < 1e-9:
        raise AssertionError("that is the saturating (minimax) loss log(1 - D(G(z))); the non-saturating one is "
                             "-log D(G(z))")
    if abs(got - float(expected)) > 1e-6:
        raise AssertionError(f"on logits {logits.tolist()} expected {float(expected):.6f}, got {got:.6f}")
    extreme = torch.tensor([-1000.0, 1000.0], dtype=torch.float64, requires_grad=True)
    value = _as_tensor(fn(extreme), "your loss")
    number = float(value.detach())
    if not math.isfinite(number):
        raise AssertionError(f"at logits -1000 and 1000 your loss is {number}: log(sigmoid(t)) underflows; "
                             "write it with softplus: -log sigmoid(t) = softplus(-t)")
    if abs(number - 500.0) > 1e-6:
        raise AssertionError(f"at logits (-1000, 1000) expected 500.0, got {number}")
    (grad,) = torch.autograd.grad(value, extreme)
    if not torch.allclose(grad, torch.tensor([-0.5, 0.0], dtype=torch.float64), atol=1e-6):
        raise AssertionError(f"gradient at logits (-1000, 1000) should be (-1/2, 0) (a strong push for a rejected "
                             f"fake), got {grad.tolist()}")
    print("non-saturating generator loss: correct")


# Reference solutions used by the tests (the notebook shows them in collapsible cells).
def _reference_js(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    m = (p + q) / 2

    def kl(a, b):
        return torch.where(a > 0, a * (a / b).log(), torch.zeros_like(a)).sum()

    return kl(p, m) / 2 + kl(q, m) / 2


def _reference_nonsaturating(logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-logits).mean()
