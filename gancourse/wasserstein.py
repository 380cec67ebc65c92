"""Distances between distributions, computed exactly: why JS fails and what W_1 measures.

- ``example1``: Example 1 of Arjovsky, Chintala, Bottou 2017 (two parallel segments a distance
  theta apart) in closed form, and ``example1_numerical`` recomputing it from discretised
  distributions (divergences on the union support, W_1 by an exact linear program).
- ``shifted_gaussians``: the same four quantities after blurring both segments with Gaussian
  noise of std sigma in x (the "add noise" remedy of Arjovsky & Bottou 2017), by quadrature.
- ``wasserstein_1d``: W_1 between 1-D distributions from the CDF formula W_1 = int |F_P - F_Q|.
- ``earth_movers_distance``: W for any small discrete distributions, as Kantorovich's linear
  program; ``kantorovich_dual``: the same number from the dual, sup over 1-Lipschitz f of
  E_P[f] - E_Q[f], together with the optimal f: what a WGAN critic tries to learn.
- ``wasserstein_samples``: W_1 between two equal-size samples in any dimension, exactly, as an
  assignment problem (fast enough for a few thousand points, where the general LP is not).

The two linear programs call ``scipy.optimize.linprog`` (HiGHS) and the assignment
``scipy.optimize.linear_sum_assignment``, imported only when used.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "example1", "example1_numerical", "discrete_divergences", "shifted_gaussians", "wasserstein_1d",
    "earth_movers_distance", "kantorovich_dual", "Transport", "wasserstein_samples",
]

LOG2 = math.log(2.0)
ArrayLike = torch.Tensor | Sequence | float  # tensors, lists or numpy arrays; converted to float64


def _as_float64(x: ArrayLike) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = np.ascontiguousarray(x, dtype=np.float64)  # a reversed numpy view has negative strides torch refuses
    return torch.as_tensor(x, dtype=torch.float64)


def example1(theta: ArrayLike) -> dict[str, torch.Tensor]:
    """Example 1 of Arjovsky et al. 2017 in closed form. P_0 = (0, Z), P_theta = (theta, Z), Z ~ U[0, 1]:

        W_1 = |theta|;   JS = log 2, KL = +inf, TV = 1 for theta != 0;   all 0 at theta = 0.

    Only W_1 is continuous in theta, so only W_1 gives a gradient (sign(theta)) pulling P_theta
    onto P_0; JS and TV are flat (gradient 0) everywhere except the jump at 0. JS uses natural
    logs (maximum log 2).

    Example:
        >>> {k: float(v) for k, v in example1(0.5).items()}
        {'W1': 0.5, 'JS': 0.6931471805599453, 'KL': inf, 'TV': 1.0}
    """
    theta = _as_float64(theta)
    apart = theta != 0
    zero = torch.zeros_like(theta)
    return {"W1": theta.abs(), "JS": torch.where(apart, zero + LOG2, zero),
            "KL": torch.where(apart, zero + math.inf, zero), "TV": apart.to(torch.float64)}


def _check_weights(name: str, w: torch.Tensor) -> torch.Tensor:
    if w.dim() != 1 or w.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector of weights, got shape {tuple(w.shape)}")
    # float32 inputs sum to 1 only up to ~1e-7; renormalise so the LP's constraints are consistent
    if (w < 0).any() or abs(float(w.sum()) - 1) > 1e-6:
        raise ValueError(f"{name} must be a probability vector (non-negative, sums to 1), sum={float(w.sum())}")
    return w / w.sum()


def discrete_divergences(p: ArrayLike, q: ArrayLike) -> dict[str, float]:
    """KL(p || q), JS(p, q) and TV(p, q) of two probability vectors on the same support:

        KL = sum p log(p / q)  (+inf if p > 0 where q = 0),   TV = 1/2 sum |p - q|,
        JS = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2.

    Example:
        >>> discrete_divergences(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))["JS"] == math.log(2)
        True
    """
    p, q = _as_float64(p), _as_float64(q)
    if p.shape != q.shape or p.dim() != 1:
        raise ValueError(f"p and q must be 1-D with the same length, got {tuple(p.shape)} and {tuple(q.shape)}")
    p, q = _check_weights("p", p), _check_weights("q", q)

    def kl(a: torch.Tensor, b: torch.Tensor) -> float:
        nz = a > 0
        if (b[nz] == 0).any():
            return math.inf
        return float((a[nz] * (a[nz] / b[nz]).log()).sum())

    m = (p + q) / 2
    return {"KL": kl(p, q), "JS": 0.5 * kl(p, m) + 0.5 * kl(q, m), "TV": 0.5 * float((p - q).abs().sum())}


def example1_numerical(theta: float, n: int = 20) -> dict[str, float]:
    """Example 1 from discretised distributions: each segment becomes ``n`` equal point masses
    (x, (i + 1/2) / n). JS, KL and TV come from ``discrete_divergences`` on the union of the two
    supports; W_1 from ``earth_movers_distance`` with Euclidean ground cost (an exact LP).

    Example:
        >>> {k: round(v, 4) for k, v in example1_numerical(0.3, n=5).items()}
        {'W1': 0.3, 'JS': 0.6931, 'KL': inf, 'TV': 1.0}
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got n={n}")
    y = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    p_points = torch.stack([torch.zeros(n, dtype=torch.float64), y], 1)
    q_points = torch.stack([torch.full((n,), float(theta), dtype=torch.float64), y], 1)
    w = torch.full((n,), 1.0 / n, dtype=torch.float64)
    support = torch.unique(torch.cat([p_points, q_points]), dim=0)

    def on_support(points: torch.Tensor) -> torch.Tensor:
        hits = (support[:, None, :] == points[None, :, :]).all(-1)  # (support, n)
        return hits.to(torch.float64) @ w

    divergences = discrete_divergences(on_support(p_points), on_support(q_points))
    w1 = earth_movers_distance(w, w, torch.cdist(p_points, q_points)).distance
    return {"W1": w1, "JS": divergences["JS"], "KL": divergences["KL"], "TV": divergences["TV"]}


def shifted_gaussians(theta: ArrayLike, sigma: float = 0.1, points: int = 4001) -> dict[str, torch.Tensor]:
    """Example 1 blurred by N(0, sigma^2) noise in x, by quadrature on a grid of ``points``.

    The y parts are identical, so everything reduces to N(0, sigma^2) against N(theta, sigma^2)
    in x. Closed forms to check against: KL = theta^2 / (2 sigma^2), TV = erf(|theta| / (2
    sqrt(2) sigma)), W_1 = |theta|; JS has none, grows like theta^2 / (8 sigma^2) near 0 and
    saturates at log 2: with noise the divergences are smooth, but a few sigma away their
    gradient vanishes again, while W_1's does not.

    Example:
        >>> out = shifted_gaussians(0.2, sigma=0.1)
        >>> round(float(out["KL"]), 3), round(float(out["W1"]), 3)
        (2.0, 0.2)
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got sigma={sigma}")
    theta = _as_float64(theta)
    flat = theta.reshape(-1)
    lo = min(0.0, float(flat.min())) - 12 * sigma
    hi = max(0.0, float(flat.max())) + 12 * sigma
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    dx = x[1] - x[0]

    def density(mean: torch.Tensor) -> torch.Tensor:
        return torch.exp(-0.5 * ((x[None, :] - mean[:, None]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    p, q = density(torch.zeros_like(flat)), density(flat)
    m = (p + q) / 2
    tiny = 1e-300  # log(0) guard where both densities underflow; those terms are 0 anyway

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.trapezoid(torch.where(a > 0, a * (torch.log(a + tiny) - torch.log(b + tiny)), 0.0), dx=dx, dim=1)

    # W_1 in 1-D is the area between the CDFs (``wasserstein_1d``), here on the grid.
    cdf_gap = torch.cumsum(p - q, dim=1) * dx
    out = {"W1": torch.trapezoid(cdf_gap.abs(), dx=dx, dim=1), "JS": 0.5 * kl(p, m) + 0.5 * kl(q, m),
           "KL": kl(q, p), "TV": 0.5 * torch.trapezoid((p - q).abs(), dx=dx, dim=1)}
    return {k: v.reshape(theta.shape) for k, v in out.items()}


def wasserstein_1d(u: ArrayLike, v: ArrayLike, u_weights: ArrayLike | None = None,
                   v_weights: ArrayLike | None = None) -> float:
    """W_1 between two 1-D discrete distributions (values with optional weights), from

        W_1(P, Q) = integral |F_P(x) - F_Q(x)| dx

    evaluated exactly between consecutive sorted support points (Villani 2009; the formula
    behind ``scipy.stats.wasserstein_distance``). For two samples of equal size it equals the
    mean |u_(i) - v_(i)| of the sorted values: the optimal plan in 1-D never crosses.

    Example:
        >>> wasserstein_1d([0.0, 1.0], [2.0])  # move 1/2 by 2 and 1/2 by 1
        1.5
    """
    u, v = _as_float64(u).reshape(-1), _as_float64(v).reshape(-1)
    if u.numel() == 0 or v.numel() == 0:
        raise ValueError("both distributions need at least one value")
    uw = torch.ones_like(u) if u_weights is None else _as_float64(u_weights).reshape(-1)
    vw = torch.ones_like(v) if v_weights is None else _as_float64(v_weights).reshape(-1)
    if uw.shape != u.shape or vw.shape != v.shape:
        raise ValueError("weights must have one entry per value")
    if (uw < 0).any() or (vw < 0).any() or uw.sum() <= 0 or vw.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    values = torch.cat([u, v])
    masses = torch.cat([uw / uw.sum(), -vw / vw.sum()])  # CDF difference jumps by +p or -q
    order = torch.argsort(values)
    values, masses = values[order], masses[order]
    cdf_gap = torch.cumsum(masses, 0)[:-1]
    return float((cdf_gap.abs() * values.diff()).sum())


@dataclass
class Transport:
    """An optimal transport plan: ``plan[i, j]`` is the mass moved from a's point i to b's point j.

    Example:
        >>> t = earth_movers_distance([1.0, 0.0], [0.0, 1.0], [[0.0, 3.0], [3.0, 0.0]])  # all mass moves 3
        >>> isinstance(t, Transport), t.distance, t.plan.sum().item()
        (True, 3.0, 1.0)
    """

    distance: float
    plan: torch.Tensor


def _linprog():
    try:
        from scipy.optimize import linprog
    except ImportError as err:  # scipy ships with Colab and the course's dev install
        raise ImportError("earth_movers_distance and kantorovich_dual need scipy: pip install scipy") from err
    return linprog


def earth_movers_distance(a: ArrayLike, b: ArrayLike, cost: ArrayLike) -> Transport:
    """Exact optimal transport between discrete distributions ``a`` (n,) and ``b`` (m,) for the
    ground cost matrix ``cost`` (n, m), as Kantorovich's linear program (Arjovsky et al. 2017, Eq. 1):

        W(a, b) = min_{gamma >= 0} sum_ij gamma_ij C_ij   s.t.  sum_j gamma_ij = a_i,  sum_i gamma_ij = b_j.

    With C_ij = ||x_i - y_j|| this is the earth mover's (Wasserstein-1) distance.

    Example:
        >>> t = earth_movers_distance([0.5, 0.5], [1.0], [[2.0], [1.0]])
        >>> t.distance, t.plan.tolist()
        (1.5, [[0.5], [0.5]])
    """
    a, b, cost = _check_weights("a", _as_float64(a)), _check_weights("b", _as_float64(b)), _as_float64(cost)
    n, m = len(a), len(b)
    if cost.shape != (n, m):
        raise ValueError(f"cost must have shape ({n}, {m}), got {tuple(cost.shape)}")
    rows = torch.kron(torch.eye(n, dtype=torch.float64), torch.ones(1, m, dtype=torch.float64))  # sum over j
    cols = torch.kron(torch.ones(1, n, dtype=torch.float64), torch.eye(m, dtype=torch.float64))  # sum over i
    result = _linprog()(cost.reshape(-1).numpy(), A_eq=torch.cat([rows, cols]).numpy(),
                        b_eq=torch.cat([a, b]).numpy(), bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"the transport LP failed: {result.message}")
    plan = torch.from_numpy(result.x).reshape(n, m).clamp(min=0)
    return Transport(float(result.fun), plan)


def kantorovich_dual(points: ArrayLike, a: ArrayLike, b: ArrayLike) -> tuple[float, torch.Tensor]:
    """W_1 from the Kantorovich-Rubinstein duality (Arjovsky et al. 2017, Eq. 2), on a finite set:

        W_1(P, Q) = max_f sum_i (a_i - b_i) f(x_i)   s.t.  f(x_i) - f(x_j) <= ||x_i - x_j|| for all i, j

    where ``a`` and ``b`` are P's and Q's masses on the shared ``points`` (k, d). Returns the value
    and the optimal critic f at the points (shifted so its minimum is 0: f is only defined up
    to a constant, and adding one changes nothing in E_P[f] - E_Q[f]).

    Example:
        >>> value, f = kantorovich_dual([[0.0], [1.0], [3.0]], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0])
        >>> round(value, 6), [round(v, 6) for v in f.tolist()]
        (2.5, [3.0, 2.0, 0.0])
    """
    x = _as_float64(points)
    x = x[:, None] if x.dim() == 1 else x
    a, b = _check_weights("a", _as_float64(a)), _check_weights("b", _as_float64(b))
    k = len(x)
    if len(a) != k or len(b) != k:
        raise ValueError(f"a and b need one mass per point ({k}), got {len(a)} and {len(b)}")
    dist = torch.cdist(x, x)
    i, j = torch.triu_indices(k, k, offset=1)
    # f_i - f_j <= d_ij and f_j - f_i <= d_ij for every pair i < j
    lhs = torch.zeros(2 * len(i), k, dtype=torch.float64)
    rows = torch.arange(len(i))
    lhs[rows, i], lhs[rows, j] = 1.0, -1.0
    lhs[rows + len(i), i], lhs[rows + len(i), j] = -1.0, 1.0
    rhs = torch.cat([dist[i, j], dist[i, j]])
    bounds = [(0, 0)] + [(None, None)] * (k - 1)  # pin f(x_0) = 0: f is defined up to a constant
    result = _linprog()(-(a - b).numpy(), A_ub=lhs.numpy() if k > 1 else None, b_ub=rhs.numpy() if k > 1 else None,
                        bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"the dual LP failed: {result.message}")
    f = torch.from_numpy(result.x)
    return float(-result.fun), f - f.min()


def wasserstein_samples(x: ArrayLike, y: ArrayLike) -> float:
    """Exact W_1 between the empirical distributions of two samples of equal size n, points of any
    dimension (rows), each carrying mass 1/n, with the Euclidean ground distance.

    With equal masses 1/n on both sides, Kantorovich's LP (``earth_movers_distance``) has an
    optimal plan that is a permutation (Birkhoff-von Neumann: the plans form the n x n doubly
    stochastic matrices scaled by 1/n, whose vertices are permutation matrices), so

        W_1 = min over permutations s of (1/n) sum_i ||x_i - y_s(i)||,

    an assignment problem, solved exactly by ``scipy.optimize.linear_sum_assignment``.

    Example:
        >>> wasserstein_samples([[0.0, 0.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]])  # each point moves up by 1
        1.0
    """
    a, b = _as_float64(x), _as_float64(y)
    a = a[:, None] if a.dim() == 1 else a
    b = b[:, None] if b.dim() == 1 else b
    if a.dim() != 2 or b.dim() != 2 or a.shape != b.shape or len(a) == 0:
        raise ValueError(f"need two non-empty samples of the same shape (n, d), got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}; for unequal sizes or weights use earth_movers_distance")
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError as err:
        raise ImportError("wasserstein_samples needs scipy: pip install scipy") from err
    cost = torch.cdist(a, b)
    rows, cols = linear_sum_assignment(cost.numpy())
    return float(cost[torch.as_tensor(rows), torch.as_tensor(cols)].mean())
