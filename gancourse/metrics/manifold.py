"""Quality and diversity as separate numbers: k-NN manifold metrics on feature vectors (N, F).

Improved precision and recall (Kynkaanniemi et al. 2019, Sec. 2): the manifold of a set of features
is the union of balls around each point with radius the distance to its k-th nearest neighbour in the
set (k = 3); then

    precision = share of fakes inside the real manifold     (quality: do samples look real?)
    recall    = share of reals inside the fake manifold     (diversity: is every part of the data made?)

Density and coverage (Naeem et al. 2020, Eq. 3-4) use the real balls only (k = 5 in the paper), so an
outlier fake with a huge ball cannot inflate them:

    density  = 1 / (k M) * sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]   (about 1 when fakes are like reals)
    coverage = 1 / N * sum_i 1[exists j: Y_j in B(X_i, NND_k(X_i))]

Balls are closed (distance <= radius). Distances are exact (``torch.cdist`` in float64, no approximate
nearest neighbours), computed a block of rows at a time so 10k x 10k features fit in a few hundred MB.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["ManifoldMetrics", "knn_radii", "precision_recall", "density_coverage", "manifold_metrics"]

_BLOCK_ELEMENTS = 2**24  # one block of the distance matrix: 16M float64 = 128 MB


def _features(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or len(x) == 0 or x.shape[1] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a feature tensor of shape (N, F) with N, F >= 1, got {got}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite features")
    return x.detach().to(torch.float64)


def _check_k(k: int, n: int, name: str) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got k={k!r}")
    if k >= n:
        raise ValueError(f"k={k} needs more than k points in {name}, which has {n}")


def _blocks(a: torch.Tensor, b: torch.Tensor):
    """(row slice, block of cdist(a, b)) for consecutive blocks of a's rows."""
    rows = max(1, _BLOCK_ELEMENTS // len(b))
    for start in range(0, len(a), rows):
        yield slice(start, start + rows), torch.cdist(a[start:start + rows], b)


def _knn_radii(x: torch.Tensor, ks: tuple[int, ...]) -> list[torch.Tensor]:
    """The k-th nearest-other-point distance of every row of x, for each k in ks, in one pass."""
    radii = [torch.empty(len(x), dtype=torch.float64) for _ in ks]
    for rows, d in _blocks(x, x):
        # The k + 1 smallest include the point itself (distance 0).
        nearest = d.topk(max(ks) + 1, dim=1, largest=False).values
        for r, k in zip(radii, ks):
            r[rows] = nearest[:, k].cpu()
    return radii


def knn_radii(features: torch.Tensor, k: int = 3) -> torch.Tensor:
    """Distance from each point to its k-th nearest *other* point of the same set, shape (N,).

    Example:
        >>> knn_radii(torch.tensor([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    x = _features(features, "features")
    _check_k(k, len(x), "features")
    return _knn_radii(x, (k,))[0]


def _pair(real, fake, ks_real: tuple[int, ...], ks_fake: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = _features(real, "real"), _features(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"real and fake features differ in width: {x.shape[1]} vs {y.shape[1]}")
    for k in ks_real:
        _check_k(k, len(x), "real")
    for k in ks_fake:
        _check_k(k, len(y), "fake")
    return x, y


def _scores(x: torch.Tensor, y: torch.Tensor, k: int | None, k_dc: int | None) -> dict[str, float]:
    """One pass over the real-fake distances (blocks of fake rows) for all four numbers."""
    ks = tuple(sorted({kk for kk in (k, k_dc) if kk is not None}))
    r_real = dict(zip(ks, _knn_radii(x, ks)))
    r_fake = _knn_radii(y, (k,))[0].to(x.device) if k is not None else None
    in_real = torch.zeros(len(y), dtype=torch.bool)       # fake j inside some real k-NN ball
    in_fake = torch.zeros(len(x), dtype=torch.bool, device=x.device)  # real i inside some fake k-NN ball
    balls = 0.0                                           # sum over fakes of the real (k_dc) balls holding it
    nearest = torch.full((len(x),), torch.inf, dtype=torch.float64, device=x.device)  # each real's nearest fake
    for rows, d in _blocks(y, x):
        if k is not None:
            in_real[rows] = (d <= r_real[k].to(x.device)[None, :]).any(1).cpu()
            in_fake |= (d <= r_fake[rows, None]).any(0)
        if k_dc is not None:
            balls += (d <= r_real[k_dc].to(x.device)[None, :]).sum().item()
            nearest = torch.minimum(nearest, d.min(0).values)
    out = {}
    if k is not None:
        out.update(precision=in_real.double().mean().item(), recall=in_fake.double().mean().item())
    if k_dc is not None:
        out.update(density=balls / (k_dc * len(y)),
                   coverage=(nearest.cpu() <= r_real[k_dc]).double().mean().item())
    return out


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, Eq. 1-2) with k-NN balls.

    Example:
        >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
        >>> precision_recall(real, torch.tensor([[0.5], [9.0]]), k=1)  # outlier 9: off the real manifold, but it
        (0.5, 1.0)
        >>> # makes the fake ball around 0.5 of radius 8.5, which holds every real: why density/coverage exist
    """
    x, y = _pair(real, fake, (k,), (k,))
    out = _scores(x, y, k, None)
    return out["precision"], out["recall"]


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020, Eq. 3-4) with the real k-NN balls only.

    Example:
        >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])  # radii (k = 1): 1, 1, 1, 1
        >>> density_coverage(real, torch.tensor([[0.5], [9.0]]), k=1)  # 0.5 is in 2 balls: (2 + 0) / (1 * 2)
        (1.0, 0.5)
    """
    x, y = _pair(real, fake, (k,), ())
    out = _scores(x, y, None, k)
    return out["density"], out["coverage"]


@dataclass(frozen=True)
class ManifoldMetrics:
    """Precision, recall (k = ``k``) and density, coverage (k = ``k_dc``) of one set of fakes.

    Example:
        >>> ManifoldMetrics(0.9, 0.5, 1.0, 0.6, 3, 5).recall
        0.5
    """

    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    k_dc: int


def manifold_metrics(real: torch.Tensor, fake: torch.Tensor, k: int = 3, k_dc: int = 5) -> ManifoldMetrics:
    """All four numbers at once: ``precision_recall(real, fake, k)`` and ``density_coverage(real, fake, k_dc)``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> real, fake = torch.randn(500, 2, generator=g), torch.randn(500, 2, generator=g)
        >>> m = manifold_metrics(real, fake); m.precision > 0.9, m.recall > 0.9, 0.8 < m.density < 1.2
        (True, True, True)
    """
    x, y = _pair(real, fake, (k, k_dc), (k,))
    out = _scores(x, y, k, k_dc)
    return ManifoldMetrics(out["precision"], out["recall"], out["density"], out["coverage"], k, k_dc)
