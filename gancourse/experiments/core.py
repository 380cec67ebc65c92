"""The ground floor of the lessons' measured comparisons: what every experiment shares, each defined once.

- ``Setup`` and ``Result``: the one run shape. A setup holds a ``TrainConfig`` (what every run of a comparison
  shares: loss, optimiser, batch, z, budget) with the networks and the evaluation budget; a comparison varies the
  method, the data and the seed around it. A result holds what was run, its scores and its training seconds.
- ``fixed_codes``: the evaluation latents, the same z for every method so that scores and pictures compare.
- ``summarise``: mean +- standard error over seeds of any measures of any results, grouped by a key.
- ``verdict``: the course's rule for a difference, "better" / "worse" only beyond two standard errors of the
  difference, else "on par"; ``best_and_on_par`` applies it to a table's best row.
- ``pm``: "mean ± se" as the tables print it.
- ``timed_train``: train a ``Trainer`` and return the seconds it took (every runner's result holds them).
- ``known``: a registry lookup that names the valid choices when a method name is unknown.

The standard error is s / sqrt(n) with s the sample standard deviation (``mean_and_standard_error``, the one
definition every table uses). For two independent means the difference has standard error
sqrt(se_a^2 + se_b^2), so a gain counts when |mean_a - mean_b| > 2 sqrt(se_a^2 + se_b^2) (about a 95% test).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TypeVar

import torch

from ..config import TrainConfig

__all__ = ["Setup", "Result", "fixed_codes", "mean_and_standard_error", "summarise", "by_method",
           "share_and_standard_error", "verdict", "best_and_on_par", "pm", "timed_train", "known", "EVALUATION_SEED"]

V = TypeVar("V")

EVALUATION_SEED = 12345
"""The seed of the evaluation latents (``fixed_codes``): never one of the training seeds."""

_CONFIG_FIELDS = frozenset(f.name for f in fields(TrainConfig))


@dataclass(frozen=True)
class Setup:
    """What every run of one comparison shares: ``config`` (a ``TrainConfig``: loss, optimiser, batch, z, steps),
    the networks (``model`` in ``models.MODELS`` of base ``width``, None: the factory's default), the dataset
    ``data`` when the comparison runs on one, and ``samples``, how many generated samples each run is scored on.

    The config's fields read through the setup (``setup.steps`` is ``setup.config.steps``), and ``replace``
    changes either kind: ``setup.replace(steps=20, samples=100)``. The seed and the device are the run's, not
    the setup's: ``trainer(seed, device)`` sets them when it builds the run with the one factory,
    ``Trainer.from_names``.

    Example:
        >>> s = Setup(TrainConfig(steps=100, z_dim=4), data="ring", width=8).replace(steps=3, samples=50)
        >>> s.steps, s.samples, s.trainer(seed=1, device="cpu").cfg.seed
        (3, 50, 1)
    """

    config: TrainConfig
    model: str = "mlp"
    width: int | None = None
    data: str | None = None
    samples: int = 1000

    def __getattr__(self, name: str):
        # only reached when normal lookup fails: the config's fields read through; anything else (and the
        # dunder names pickle looks for before ``config`` exists) stays an AttributeError
        if name in _CONFIG_FIELDS and "config" in self.__dict__:
            return getattr(self.config, name)
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def replace(self, **changes) -> Setup:
        """A copy with ``changes``: the setup's own fields, or the config's (``TrainConfig``) by name.

        Example:
            >>> Setup(TrainConfig(steps=100)).replace(lr_g=1e-3, samples=10).config.lr_g
            0.001
        """
        own = {f.name for f in fields(self)}
        unknown = [k for k in changes if k not in own and k not in _CONFIG_FIELDS]
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; valid choices: {', '.join(sorted(own | _CONFIG_FIELDS))}")
        config = self.config.replace(**{k: v for k, v in changes.items() if k not in own})
        return replace(self, config=config, **{k: v for k, v in changes.items() if k in own})

    def settings(self) -> dict[str, object]:
        """Every setting as one flat dict (the config's fields, then the setup's own), for tables of what changed.

        Example:
            >>> Setup(TrainConfig(steps=7)).settings()["steps"]
            7
        """
        flat = {f.name: getattr(self.config, f.name) for f in fields(self.config) if f.name not in ("seed", "device")}
        flat.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "config"})
        return flat

    def trainer(self, seed: int = 0, device: str = "auto", data: str | None = None, callbacks=(), **changes):
        """``Trainer.from_names(data or self.data, self.model, config, width=self.width)`` for one run, the
        config with ``seed``, ``device`` and any other ``changes`` (the method's) applied; ``callbacks`` go to
        the trainer. Keyword ``g_norm``, ``d_norm`` and ``spectral_norm`` go to the factory, not the config.

        Example:
            >>> Setup(TrainConfig(steps=2, z_dim=2), width=8).trainer(data="grid", device="cpu").setup["data"]
            'grid'
        """
        from ..train import Trainer

        models = {k: changes.pop(k) for k in ("g_norm", "d_norm", "spectral_norm") if k in changes}
        config = self.config.replace(seed=seed, device=str(device), **changes)
        return Trainer.from_names(data or self.data, self.model, config, width=self.width, callbacks=list(callbacks),
                                  **models)


@dataclass
class Result:
    """What every run's result holds: the method (a registry name), the dataset, the seed and its training
    seconds; each runner's result adds its scores.

    Example:
        >>> Result("GAN", "ring", 6, 2.5).seconds
        2.5
    """

    method: str
    data: str
    seed: int
    seconds: float


def fixed_codes(n: int, z_dim: int, seed: int = EVALUATION_SEED) -> torch.Tensor:
    """``n`` latent codes (CPU) fixed by ``seed``, drawn from a generator of their own: the evaluation codes
    every experiment scores its generators on, so that methods are compared on the same z.

    Example:
        >>> torch.equal(fixed_codes(3, 2), fixed_codes(3, 2)), fixed_codes(3, 2).shape
        (True, torch.Size([3, 2]))
    """
    return torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))


def mean_and_standard_error(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean, s / sqrt(n) with s the sample standard deviation
    (n - 1 in the denominator), as PacGAN reports its trials. One value has no error estimate: NaN.
    Infinite values (reverse KL with no HQ sample) give an infinite mean and a NaN error.

    Example:
        >>> mean_and_standard_error([1.0, 2.0, 3.0])  # s = 1
        (2.0, 0.5773502691896257)
    """
    n = len(values)
    if n == 0:
        raise ValueError("need at least one value")
    if not all(math.isfinite(v) for v in values):
        return (math.inf if any(v == math.inf for v in values) else math.nan), math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)


def by_method(result: Result) -> str:
    """The default grouping of ``summarise``: one row per method.

    Example:
        >>> by_method(Result("GAN", "ring", 0, 1.0))
        'GAN'
    """
    return result.method


def summarise(results: Iterable, measures: Mapping[str, Callable[[object], float | None]],
              key: Callable[[object], Hashable] = by_method) -> dict:
    """``{key(r): {name: (mean, standard error)}}`` over the results sharing a key (by default the method), in
    run order; ``measures`` maps a name to a function of one result (a measure returning None is left out).

    Example:
        >>> runs = [Result("a", "ring", s, t) for s, t in ((0, 0.5), (1, 0.7))]
        >>> summarise(runs, {"seconds": lambda r: r.seconds})["a"]["seconds"]
        (0.6, 0.09999999999999998)
    """
    groups: dict[Hashable, dict[str, list[float]]] = {}
    for r in results:
        row = groups.setdefault(key(r), {name: [] for name in measures})
        for name, measure in measures.items():
            value = measure(r)
            if value is not None:
                row[name].append(float(value))
    return {k: {name: mean_and_standard_error(values) for name, values in row.items() if values}
            for k, row in groups.items()}


def share_and_standard_error(share: float, n: int) -> tuple[float, float]:
    """(p, sqrt(p (1 - p) / n)): a share p of n independent points with its binomial standard error, ready for
    ``verdict`` (precision and recall are such shares).

    Example:
        >>> share_and_standard_error(0.5, 100)
        (0.5, 0.05)
    """
    return share, math.sqrt(share * (1 - share) / n)


def verdict(ours: tuple[float, float], theirs: float | tuple[float, float | None], higher_is_better: bool = True,
            k: float = 2.0) -> str:
    """"better" / "worse" when our mean differs from ``theirs`` by more than ``k`` standard errors of the
    difference, sqrt(se_ours^2 + se_theirs^2); "on par" within that. ``theirs`` is a (mean, se) pair or a
    published number whose error is not known (it then counts as 0, as does a pair's None). Without a standard
    error (one run, NaN) the answer is "undecided (one run)"; an infinite mean of ours is worse or better outright.

    Example:
        >>> verdict((95.0, 1.0), 93.6), verdict((95.0, 0.5), 93.6), verdict((90.0, 1.0), (93.6, 0.5))
        ('on par', 'better', 'worse')
        >>> verdict((0.02, 0.005), 0.04, higher_is_better=False), verdict((8.0, float("nan")), 7.8)
        ('better', 'undecided (one run)')
    """
    mean, se = ours
    theirs_mean, theirs_se = (theirs, None) if isinstance(theirs, (int, float)) else theirs
    if math.isinf(mean):
        return "worse" if (mean > 0) != higher_is_better else "better"
    if any(math.isnan(v) for v in (mean, se, theirs_mean, 0.0 if theirs_se is None else theirs_se)):
        return "undecided (one run)"
    spread = k * math.sqrt(se ** 2 + (theirs_se or 0.0) ** 2)
    gain = (mean - theirs_mean) if higher_is_better else (theirs_mean - mean)
    if gain > spread:
        return "better"
    if gain < -spread:
        return "worse"
    return "on par"


def best_and_on_par(table: Mapping[V, Mapping[str, tuple[float, float]]], keys: Sequence[V], column: str,
                    higher_is_better: bool = True) -> tuple[V, list[V]]:
    """(the key with the best mean of ``column``, every key whose row is on par with it by ``verdict``, the
    best included): which rows a sentence may call "best" and which only "on par with the best".

    Example:
        >>> table = {"a": {"fd": (10.0, 1.0)}, "b": {"fd": (11.0, 1.0)}, "c": {"fd": (20.0, 1.0)}}
        >>> best_and_on_par(table, ["a", "b", "c"], "fd", higher_is_better=False)
        ('a', ['a', 'b'])
    """
    sign = 1 if higher_is_better else -1
    best = max(keys, key=lambda key: sign * table[key][column][0])
    return best, [key for key in keys if verdict(table[key][column], table[best][column], higher_is_better) == "on par"]


def pm(pair: tuple[float, float], scale: float = 1.0, digits: int = 1) -> str:
    """"mean ± se" of a (mean, standard error) pair times ``scale``; the mean alone when the error is NaN (one
    run), "inf" for an infinite mean.

    Example:
        >>> pm((0.75, 0.02), 100), pm((7.0, float("nan"))), pm((0.1234, 0.01), digits=3)
        ('75.0 ± 2.0', '7.0', '0.123 ± 0.010')
    """
    mean, se = pair
    if math.isinf(mean):
        return "inf"
    text = f"{scale * mean:.{digits}f}"
    return text if math.isnan(se) else f"{text} ± {scale * se:.{digits}f}"


def timed_train(trainer, progress: bool = False) -> float:
    """Train ``trainer`` to its last step and return the wall-clock seconds it took.

    Example:
        >>> from gancourse.config import TrainConfig
        >>> from gancourse.train import Trainer
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(steps=2, z_dim=2, device="cpu"), width=8)
        >>> timed_train(t) >= 0, t.step
        (True, 2)
    """
    start = time.perf_counter()
    trainer.train(progress=progress)
    return time.perf_counter() - start


def known(names: Iterable[str], registry: Mapping[str, object], what: str) -> list[str]:
    """``names`` as a list when every one is in ``registry``, else ``ValueError`` naming the unknown ones and
    the valid choices.

    Example:
        >>> known(["a"], {"a": 1, "b": 2}, "method")
        ['a']
        >>> known(["c"], {"a": 1, "b": 2}, "method")
        Traceback (most recent call last):
        ValueError: unknown method(s) ['c']; valid choices: a, b
    """
    names = list(names)
    unknown = [n for n in names if not isinstance(n, str) or n not in registry]
    if unknown:
        raise ValueError(f"unknown {what}(s) {unknown}; valid choices: {', '.join(registry)}")
    return names
