"""2-D toy distributions: where every GAN failure mode is visible in one scatter plot.

The ring and grid defaults follow the mode-collapse benchmark of VEEGAN (Srivastava et al. 2017,
Sec. 5.1) and PacGAN (Lin et al. 2018, Sec. 5): ring means (cos 2*pi*i/8, sin 2*pi*i/8) with
std 0.01, grid means {-4, -2, 0, 2, 4}^2 with std 0.05. Every distribution exposes ``centres``
and ``std`` so that ``gancourse.metrics`` can score samples against it.

Class labels: in a Gaussian mixture the label of a point is the index of the component it was drawn
from (``Mixture.sample_labelled``), so conditioning on it is conditioning on the mode (lesson 5).
``overlapping_classes`` is the mixture whose classes overlap, for AC-GAN's bias (Shu et al. 2017; Gong
et al. 2019, TAC-GAN, Sec. 3): class k is N(centre_k, std_k^2 I) with per-class stds. Curves (spiral,
moons) have no labels.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import torch

from .._checks import positive_int

__all__ = ["Mixture", "ring_of_gaussians", "grid_of_gaussians", "spiral", "two_moons", "overlapping_classes",
           "MIXTURES", "make_mixture"]


@dataclass
class Mixture:
    """A 2-D distribution that can be sampled on any device.

    ``centres`` is (K, 2) and ``std`` the per-mode standard deviation when the distribution is a
    Gaussian mixture (equal weights). ``kind`` is ``"gaussian_mixture"`` or ``"curve"`` (spiral,
    moons: points on a curve plus isotropic noise; ``centres`` are then points along the curve
    used only for plotting and coverage). ``stds`` (K,) gives each component its own std (the classes
    of ``overlapping_classes``); None means ``std`` for every component. Component k of a Gaussian mixture
    is N(centres[k], s_k^2 I), s_k = ``component_stds[k]``: each coordinate is a 1-D N(centres[k, i], s_k^2).

    Example:
        >>> pair = Mixture("pair", torch.tensor([[0.0, 0.0], [1.0, 0.0]]), std=0.1)
        >>> pair.num_modes, pair.sample(5).shape, pair.num_classes
        (2, torch.Size([5, 2]), 2)
    """

    name: str
    centres: torch.Tensor
    std: float
    kind: str = "gaussian_mixture"
    segments: torch.Tensor | None = None  # curves: start indices of the segments to sample on
    stds: torch.Tensor | None = None  # (K,) per-component stds, or None: std for all

    @property
    def num_modes(self) -> int:
        return int(self.centres.shape[0])

    @property
    def num_classes(self) -> int | None:
        """Number of class labels (one per Gaussian component), None for a curve (no labels)."""
        return self.num_modes if self.kind == "gaussian_mixture" else None

    @property
    def component_stds(self) -> torch.Tensor:
        """(K,) float32: the std of each Gaussian component (``stds``, or ``std`` repeated)."""
        if self.stds is not None:
            return self.stds.float()
        return torch.full((self.num_modes,), float(self.std))

    def sample(self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        """Draw ``n`` points, shape (n, 2), float32, on ``device`` (default: the generator's device or CPU).

        Example:
            >>> ring_of_gaussians().sample(4).shape
            torch.Size([4, 2])
        """
        return self._draw(n, generator, device)[0]

    def sample_labelled(self, n: int, generator: torch.Generator | None = None,
                        device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: ``n`` points as ``sample`` draws them (the same random numbers, so the same points for
        the same generator state) and y (n,) int64, the index of the component each came from.

        Example:
            >>> x, y = grid_of_gaussians(std=1e-3).sample_labelled(4, torch.Generator().manual_seed(0))
            >>> bool((x - grid_of_gaussians().centres[y]).abs().max() < 0.01), y.dtype
            (True, torch.int64)
            >>> spiral().sample_labelled(2)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ValueError: 'spiral' is a curve and has no class labels; labelled 2-D choices: ring, grid, ...
        """
        if self.kind != "gaussian_mixture":
            labelled = [name for name, build in MIXTURES.items() if build().kind == "gaussian_mixture"]
            raise ValueError(f"{self.name!r} is a curve and has no class labels; labelled 2-D choices: "
                             f"{', '.join(labelled)}")
        return self._draw(n, generator, device)

    def _draw(self, n, generator, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        n = positive_int("n", n, " (a number of samples)")
        if device is None:
            device = generator.device if generator is not None else "cpu"
        centres = self.centres.to(device)
        if self.kind == "gaussian_mixture":
            idx = torch.randint(self.num_modes, (n,), generator=generator, device=device)
            base = centres[idx]
            noise = torch.randn(n, 2, generator=generator, device=device)
            if self.stds is None:
                return base + self.std * noise, idx
            return base + self.stds.to(device)[idx, None] * noise, idx
        # Curves: a uniformly chosen segment (they have near-equal length), then a uniform
        # position on it, so the density along the curve is close to uniform.
        segments = self.segments if self.segments is not None else torch.arange(self.num_modes - 1)
        segments = segments.to(device)
        pick = torch.randint(len(segments), (n,), generator=generator, device=device)
        lo = segments[pick]
        frac = torch.rand(n, 1, generator=generator, device=device)
        base = centres[lo] * (1 - frac) + centres[lo + 1] * frac
        noise = torch.randn(n, 2, generator=generator, device=device)
        return base + self.std * noise, None


def ring_of_gaussians(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Mixture:
    """Equal-weight Gaussians on a circle: means (r cos 2*pi*i/K, r sin 2*pi*i/K), i = 0..K-1.

    The angles are ``2*pi*i/K`` for ``i in range(K)``; ``linspace(0, 2*pi, K)`` would repeat the
    first angle and silently give K-1 modes.

    Example:
        >>> [round(v, 6) for v in ring_of_gaussians().centres[2].tolist()]  # angle 2*pi*2/8 = pi/2
        [0.0, 1.0]
    """
    _check_positive(num_modes=num_modes, radius=radius, std=std)
    angles = 2 * math.pi * torch.arange(num_modes, dtype=torch.float64) / num_modes
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return Mixture("ring", centres.float(), float(std))


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """Equal-weight Gaussians on a ``side x side`` grid centred at 0, e.g. {-4,-2,0,2,4}^2.

    Example:
        >>> grid_of_gaussians().centres.shape
        torch.Size([25, 2])
    """
    _check_positive(side=side, spacing=spacing, std=std)
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return Mixture("grid", torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), float(std))


def spiral(turns: float = 1.5, std: float = 0.05, points: int = 200) -> Mixture:
    """An Archimedean spiral r = theta / (2*pi*turns) (radius 0..1) with Gaussian noise.

    Example:
        >>> spiral().kind
        'curve'
    """
    _check_positive(turns=turns, std=std, points=points)
    theta = torch.linspace(0.0, 2 * math.pi * turns, points)
    r = theta / theta[-1]
    return Mixture("spiral", torch.stack([r * theta.cos(), r * theta.sin()], dim=1), float(std), kind="curve")


def two_moons(std: float = 0.05, points: int = 200) -> Mixture:
    """Two interleaved half circles (the classic 'moons'), scaled to roughly [-1, 1]^2.

    Example:
        >>> two_moons().sample(3).shape
        torch.Size([3, 2])
    """
    _check_positive(std=std, points=points)
    half = points // 2
    t = torch.linspace(0.0, math.pi, half)
    upper = torch.stack([t.cos(), t.sin()], dim=1)
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], dim=1)
    pts = torch.cat([upper, lower], dim=0)
    pts = (pts - torch.tensor([0.5, 0.25])) / 1.25
    # The segment joining the end of one moon to the start of the other is not part of either.
    segments = torch.cat([torch.arange(half - 1), torch.arange(half, 2 * half - 1)])
    return Mixture("moons", pts, float(std), kind="curve", segments=segments)


def overlapping_classes(stds: tuple[float, ...] = (1.0, 3.0), spacing: float = 0.0) -> Mixture:
    """Classes whose distributions overlap, for AC-GAN's bias (Shu et al. 2017; Gong et al. 2019, TAC-GAN,
    Sec. 3 and their mixture-of-Gaussians experiment): class k is N((k * spacing, 0), stds[k]^2 I).

    The default is the TAC-GAN setting in each coordinate: class 0 = N(0, 1), class 1 = N(0, 3^2), both
    centred at the origin, so every point could be of either class. These per-class distributions are the
    truth a per-class metric compares with: ``centres[k]`` and ``component_stds[k]``; each coordinate of
    class k is an independent 1-D N(centres[k, i], stds[k]^2) (an exact 1-D Wasserstein distance applies).
    AC-GAN's classifier rewards samples that are easy to classify, so its class 0 shrinks towards the
    centre and its class 1 leaves it. ``std`` is the smallest class's std.

    Example:
        >>> m = overlapping_classes()
        >>> m.num_classes, m.centres.tolist(), m.component_stds.tolist()
        (2, [[0.0, 0.0], [0.0, 0.0]], [1.0, 3.0])
        >>> x, y = m.sample_labelled(20000, torch.Generator().manual_seed(0))
        >>> [round(x[y == k, 0].std().item(), 1) for k in (0, 1)]
        [1.0, 3.0]
    """
    stds = tuple(stds) if isinstance(stds, (tuple, list)) else stds
    if not isinstance(stds, tuple) or len(stds) < 2:
        raise ValueError(f"stds must be a tuple of two or more per-class stds, got stds={stds!r}")
    for k, value in enumerate(stds):
        _check_positive(**{f"stds[{k}]": value})
    if not math.isfinite(spacing):
        raise ValueError(f"spacing must be a finite number, got spacing={spacing}")
    centres = torch.tensor([[k * float(spacing), 0.0] for k in range(len(stds))])
    return Mixture("overlapping_classes", centres, float(min(stds)), stds=torch.tensor(stds, dtype=torch.float32))


MIXTURES = {
    "ring": ring_of_gaussians,
    "grid": grid_of_gaussians,
    "spiral": spiral,
    "moons": two_moons,
    "overlapping_classes": overlapping_classes,
}


def make_mixture(name: str, **kwargs: float) -> Mixture:
    """Build a named 2-D distribution: one of ``ring``, ``grid``, ``spiral``, ``moons``, ``overlapping_classes``.

    ``kwargs`` go to the builder (e.g. ``ring_of_gaussians``); an unknown one is a ``TypeError``
    that lists the parameters that builder takes.

    Example:
        >>> make_mixture("grid").num_modes
        25
        >>> make_mixture("ring", num_modes=4).num_modes
        4
    """
    if name not in MIXTURES:
        raise ValueError(f"unknown 2-D dataset {name!r}; valid choices: {', '.join(MIXTURES)}")
    builder = MIXTURES[name]
    valid = list(inspect.signature(builder).parameters)
    unknown = [key for key in kwargs if key not in valid]
    if unknown:
        raise TypeError(f"make_mixture({name!r}) got unknown parameter(s) {', '.join(map(repr, unknown))}; "
                        f"valid parameters for {name!r}: {', '.join(valid)}")
    return builder(**kwargs)


def _check_positive(**values: float) -> None:
    for key, value in values.items():
        if not value > 0:
            raise ValueError(f"{key} must be positive, got {key}={value}")
