"""The Dirac-GAN: the smallest GAN that fails to converge (Mescheder, Geiger & Nowozin 2018, Sec. 2-3).

The data is a point mass at 0, the generator a point mass at theta, the discriminator linear,
D_psi(x) = psi * x. With f the paper's loss function the game is

    L(theta, psi) = f(D_psi(theta)) + f(-D_psi(0)) = f(psi * theta) + f(0)        (Eq. 1 and 3)

f(t) = -log(1 + exp(-t)) for the standard GAN, f(t) = t for WGAN. D ascends L - R(psi) (R a
regulariser), G descends L, so training follows the gradient vector field

    v(theta, psi) = ( -dL/dtheta, d(L - R)/dpsi )                                  (Eq. 2)

The only equilibrium is (0, 0). Its Jacobian v'(0, 0) decides local convergence: eigenvalues with
negative real part converge (for small enough steps), purely imaginary ones circle for ever. Closed
forms (Sec. 2.2 and 3), with f'(0) = 1/2 and f''(0) = -1/4 for the standard GAN:

    unregularised GAN         +- i f'(0)                                     (Lemma 2.2)
    WGAN                      +- i                                            (f' = 1)
    R1 or R2 (gamma)          -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)           (Lemma 3.3)
    instance noise (sigma)    f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2)   (Lemma 3.2)
    WGAN-GP                   none: its penalty (gamma/2)(|psi| - g0)^2 is not differentiable at psi = 0

Here ``jacobian_at_equilibrium`` differentiates ``vector_field`` numerically (autograd) so that the
closed forms can be checked against it; the regularisers are computed from their definitions (a
gradient of D with respect to x, an expectation over noise), not from their Dirac-GAN simplifications.
"""
from __future__ import annotations

import cmath
import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["METHODS", "vector_field", "jacobian_at_equilibrium", "numerical_eigenvalues", "closed_form_eigenvalues",
           "trajectory"]

METHODS = ("gan", "wgan", "r1", "r2", "instance-noise", "wgan-gp")
"""gan: f(t) = -log(1 + e^-t); wgan: f(t) = t (clip psi in ``trajectory``); r1 / r2: the gan with the
penalty (gamma/2) E[D'(x)^2] on data / on fakes; instance-noise: the gan with N(0, sigma^2) added to both
distributions; wgan-gp: f(t) = t with (gamma/2) E[(|D'(x_hat)| - g0)^2] on interpolates."""

_HERMITE = np.polynomial.hermite_e.hermegauss(40)  # nodes and weights for E over a standard normal


def _check_method(method: str) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(METHODS)}")


def _f(method: str, t: torch.Tensor) -> torch.Tensor:
    # f(t) = -log(1 + exp(-t)) = -softplus(-t), written stably; WGAN's f is the identity.
    return t if method in ("wgan", "wgan-gp") else -F.softplus(-t)


def _grad_x_of_D(psi: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dD_psi(x)/dx by autograd (for D(x) = psi x it is psi; computed, not assumed)."""
    x = x.detach().requires_grad_(True) if not x.requires_grad else x
    (g,) = torch.autograd.grad((psi * x).sum(), x, create_graph=True)
    return g


def _losses(method: str, theta: torch.Tensor, psi: torch.Tensor, gamma: float, sigma: float, g0: float):
    """(L, R): the game's value and D's regulariser, elementwise over broadcast theta and psi."""
    if method == "instance-noise":
        # E over eps_g, eps_d ~ N(0, sigma^2) by Gauss-Hermite quadrature (exact for polynomials of degree < 80).
        nodes, weights = (torch.as_tensor(a, dtype=theta.dtype) for a in _HERMITE)
        eps, w = sigma * nodes, weights / math.sqrt(2 * math.pi)
        t, p = theta.unsqueeze(-1), psi.unsqueeze(-1)
        L = (w * _f(method, p * (t + eps))).sum(-1) + (w * _f(method, -p * eps)).sum(-1)
        return L, torch.zeros_like(L)
    L = _f(method, psi * theta) + _f(method, -psi * torch.zeros_like(theta))
    if method == "r1":  # on the data, x = 0
        R = gamma / 2 * _grad_x_of_D(psi, torch.zeros_like(theta)).square()
    elif method == "r2":  # on the generator's samples, x = theta
        R = gamma / 2 * _grad_x_of_D(psi, theta.detach().clone()).square()
    elif method == "wgan-gp":  # x_hat = eps * 0 + (1 - eps) * theta; D' is psi at every eps, so eps = 1/2 is exact
        x_hat = 0.5 * theta.detach()
        R = gamma / 2 * (_grad_x_of_D(psi, x_hat).abs() - g0).square()
    else:
        R = torch.zeros_like(L)
    return L, R


def vector_field(method: str, theta, psi, *, gamma: float = 1.0, sigma: float = 0.5, g0: float = 1.0) -> torch.Tensor:
    """v(theta, psi) = (-dL/dtheta, d(L - R)/dpsi) for ``method`` (``METHODS``), stacked on a first axis
    of size 2. ``theta`` and ``psi`` may be grids (any broadcastable shapes) for a quiver plot.

    Example:
        >>> vector_field("wgan", 1.0, 2.0).tolist()  # (-psi, theta)
        [-2.0, 1.0]
        >>> [round(v, 4) for v in vector_field("r1", 0.0, 1.0, gamma=2.0).tolist()]  # psi decays: -gamma psi
        [-0.5, -2.0]
    """
    _check_method(method)
    for name, value in (("gamma", gamma), ("sigma", sigma), ("g0", g0)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {name}={value!r}")
    theta = torch.as_tensor(theta, dtype=torch.float64)
    psi = torch.as_tensor(psi, dtype=torch.float64)
    theta, psi = torch.broadcast_tensors(theta, psi)
    graph = theta.requires_grad or psi.requires_grad  # the Jacobian differentiates this field again
    theta = theta if theta.requires_grad else theta.clone().requires_grad_(True)
    psi = psi if psi.requires_grad else psi.clone().requires_grad_(True)
    L, R = _losses(method, theta, psi, gamma, sigma, g0)
    (dL_dtheta,) = torch.autograd.grad(L.sum(), theta, create_graph=True)
    (dLR_dpsi,) = torch.autograd.grad((L - R).sum(), psi, create_graph=True)
    v = torch.stack([-dL_dtheta, dLR_dpsi])
    return v if graph else v.detach()


def jacobian_at_equilibrium(method: str, **params) -> torch.Tensor:
    """The 2 x 2 Jacobian of ``vector_field`` at the equilibrium (0, 0), by autograd.

    Example:
        >>> jacobian_at_equilibrium("gan").tolist()  # [[0, -f'(0)], [f'(0), 0]]
        [[0.0, -0.5], [0.5, 0.0]]
    """
    _check_method(method)
    if method == "wgan-gp":
        raise ValueError("wgan-gp has no Jacobian at (0, 0): its penalty (gamma/2)(|psi| - g0)^2 is not differentiable "
                         "at psi = 0; compare its trajectory instead")
    point = torch.zeros(2, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda p: vector_field(method, p[0], p[1], **params), point)


def _sorted(values) -> torch.Tensor:
    return torch.tensor(sorted((complex(z) for z in values), key=lambda z: (z.imag, z.real)), dtype=torch.complex128)


def numerical_eigenvalues(method: str, **params) -> torch.Tensor:
    """Eigenvalues of ``jacobian_at_equilibrium(method, **params)``, sorted as ``closed_form_eigenvalues``.

    Example:
        >>> torch.allclose(numerical_eigenvalues("r1", gamma=0.3), closed_form_eigenvalues("r1", gamma=0.3))
        True
    """
    return _sorted(torch.linalg.eigvals(jacobian_at_equilibrium(method, **params)).tolist())


def closed_form_eigenvalues(method: str, *, gamma: float = 1.0, sigma: float = 0.5) -> torch.Tensor:
    """The paper's eigenvalues of v'(0, 0) (module docstring), as a complex tensor of 2, sorted by
    imaginary part then real part.

    Example:
        >>> closed_form_eigenvalues("gan").tolist()
        [-0.5j, 0.5j]
        >>> closed_form_eigenvalues("r1", gamma=1.0).tolist()  # -1/2 +- sqrt(1/4 - 1/4)
        [(-0.5+0j), (-0.5+0j)]
    """
    _check_method(method)
    fp, fpp = 0.5, -0.25  # f'(0), f''(0) of f(t) = -log(1 + exp(-t))
    if method == "gan":
        centre, radicand = 0.0, -fp**2
    elif method == "wgan":
        centre, radicand = 0.0, -1.0
    elif method in ("r1", "r2"):
        centre, radicand = -gamma / 2, gamma**2 / 4 - fp**2
    elif method == "instance-noise":
        centre, radicand = fpp * sigma**2, fpp**2 * sigma**4 - fp**2
    else:
        raise ValueError("wgan-gp has no closed form: its vector field is not differentiable at (0, 0)")
    root = cmath.sqrt(radicand)
    return _sorted([centre - root, centre + root])


def trajectory(method: str, start: tuple[float, float] = (1.0, 1.0), steps: int = 200, lr: float = 0.1, *,
               alternating: bool = False, clip: float | None = None, **params) -> torch.Tensor:
    """Gradient descent on the Dirac-GAN: (steps + 1, 2) points (theta, psi), from ``start``.

    Simultaneous: (theta, psi) <- (theta, psi) + lr * v(theta, psi). Alternating (``alternating=True``):
    D first, psi <- psi + lr v_psi(theta, psi), then G against the new D, theta <- theta + lr
    v_theta(theta, psi_new), as the training loop's Algorithm 1 does. ``clip`` clips psi to [-clip, clip]
    after each D update (WGAN). ``params`` go to ``vector_field`` (gamma, sigma, g0).

    Example:
        >>> path = trajectory("gan", steps=300, lr=0.5)
        >>> path.shape, bool(path[-1].norm() > path[0].norm())  # simultaneous GD spirals outwards
        (torch.Size([301, 2]), True)
    """
    _check_method(method)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got steps={steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite step size, got lr={lr!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip must be None or a positive number, got clip={clip!r}")
    theta, psi = (float(s) for s in start)
    points = [(theta, psi)]
    for _ in range(steps):
        if alternating:
            psi = psi + lr * vector_field(method, theta, psi, **params)[1].item()
            psi = psi if clip is None else min(max(psi, -clip), clip)
            theta = theta + lr * vector_field(method, theta, psi, **params)[0].item()
        else:
            v_theta, v_psi = vector_field(method, theta, psi, **params).tolist()
            theta, psi = theta + lr * v_theta, psi + lr * v_psi
            psi = psi if clip is None else min(max(psi, -clip), clip)
        points.append((theta, psi))
    return torch.tensor(points, dtype=torch.float64)
