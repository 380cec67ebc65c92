"""A focused widget for lesson 2: pick a dataset, a remedy and its strength, and watch the number
of modes captured grow (or collapse) while the GAN trains.

Training runs in a background thread so the Stop button stays responsive; pictures are drawn with
matplotlib's object API (no pyplot, thread-safe) into an ``Image`` widget. Core ipywidgets only,
so it behaves the same on ipywidgets 7.7 (Colab) and 8.x.

Example (in a notebook)::

    from gancourse.widgets.mode_collapse import ModeCollapseExplorer
    explorer = ModeCollapseExplorer(data="grid", remedy="PacGAN", strength=4)
    explorer                   # controls, Train / Stop, live plots
    explorer.run(wait=True)    # the same as clicking Train, but blocks (tests, nbval)
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from ..data import make_mixture
from ..experiments.mixtures import (
    LATENT_COMPONENTS,
    UNROLLED_ADAM,
    Method,
    MixtureSetup,
    build_mixture_trainer,
    evaluate,
)
from ..metrics.mixtures import ModeCoverage
from ..plot import FAKE_COLOR, REAL_COLOR
from ..train import Trainer, TrainingDiverged
from .render import figure_png

__all__ = ["ModeCollapseExplorer", "REMEDIES", "remedy_method", "strength_choices", "ExplorerRun"]

REMEDIES: dict[str, tuple[str, int, int, int] | None] = {
    # remedy: (what the strength slider sets, min, max, default); None: no strength
    "GAN": None,
    "PacGAN": ("pack size m", 2, 8, 4),
    "minibatch std": ("group size", 2, 16, 4),
    "unrolled GAN": ("unroll steps K", 1, 10, 5),
    "WGAN-GP": ("critic steps", 1, 10, 5),
    "mixture latent": ("components K", 2, 256, LATENT_COMPONENTS),
}

_SPLITS_THE_BATCH = ("PacGAN", "minibatch std")
"""Remedies whose strength splits the batch: packs of m samples, groups of G for the statistic."""

_BUILDERS = {
    # remedy: its benchmark Method at a given strength (looked up by name, like REMEDIES)
    "PacGAN": lambda m: Method(f"PacGAN{m}", pack=m),
    "minibatch std": lambda g: Method(f"minibatch std (groups of {g})", minibatch_std=True, group_size=g),
    "unrolled GAN": lambda k: Method(f"unrolled GAN ({k} steps)", unroll_steps=k, **UNROLLED_ADAM),
    "WGAN-GP": lambda n: Method(f"WGAN-GP (n_critic {n})", loss="wgan-gp", n_critic=n),
    "mixture latent": lambda k: Method(f"mixture latent (K={k})", latent_components=k),
}


def strength_choices(remedy: str, batch_size: int = 128) -> list[int]:
    """The strengths the slider offers for ``remedy``: its range from ``REMEDIES``, keeping only
    pack sizes and group sizes that divide ``batch_size`` (any other fails on the first batch).

    Example:
        >>> strength_choices("PacGAN", 128), strength_choices("minibatch std", 96)
        ([2, 4, 8], [2, 3, 4, 6, 8, 12, 16])
        >>> strength_choices("GAN")
        []
    """
    if remedy not in REMEDIES:
        raise ValueError(f"unknown remedy {remedy!r}; valid choices: {', '.join(REMEDIES)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got batch_size={batch_size!r}")
    spec = REMEDIES[remedy]
    if spec is None:
        return []
    _, low, high, _ = spec
    values = range(low, high + 1)
    return [v for v in values if batch_size % v == 0] if remedy in _SPLITS_THE_BATCH else list(values)


def remedy_method(remedy: str, strength: int | None = None) -> Method:
    """The benchmark ``Method`` for a remedy and its strength (``None``: the remedy's default).

    Example:
        >>> remedy_method("PacGAN", 3).pack
        3
    """
    if remedy not in REMEDIES:
        raise ValueError(f"unknown remedy {remedy!r}; valid choices: {', '.join(REMEDIES)}")
    spec = REMEDIES[remedy]
    if spec is None:
        return Method("GAN")
    label, low, high, default = spec
    strength = default if strength is None else strength
    if isinstance(strength, bool) or not isinstance(strength, int) or not low <= strength <= high:
        raise ValueError(f"{remedy} {label} must be an integer in [{low}, {high}], got {strength!r}")
    return _BUILDERS[remedy](strength)


@dataclass
class ExplorerRun:
    """One run of the explorer: settings, the (step, modes captured, HQ fraction) curve, how it ended.

    Example:
        >>> run = ExplorerRun("PacGAN4, seed 0", "grid", curve=[(100, 12, 0.4), (200, 20, 0.6)])
        >>> run.status, max(modes for _, modes, _ in run.curve)
        ('running', 20)
    """

    label: str
    data: str
    curve: list[tuple[int, int, float]] = field(default_factory=list)
    final: ModeCoverage | None = None
    status: str = "running"


class ModeCollapseExplorer:
    """Dataset, remedy, strength, steps and seed controls; Train / Stop; a live picture of the samples
    and of the modes-captured curve, with earlier runs drawn for comparison.

    ``setup`` is the shared benchmark ``MixtureSetup`` (default ``MixtureSetup()``; its ``steps`` is replaced by
    the steps slider); ``plot_every`` is the period, in steps, of the coverage measurement (1,000
    samples) and redraw. The strength slider offers ``strength_choices(remedy, setup.batch_size)``.

    Example:
        >>> explorer = ModeCollapseExplorer(data="ring", remedy="PacGAN", strength=2)
        >>> explorer.method().pack, explorer.strength.description, explorer.strength.options, explorer.runs
        (2, 'pack size m', (2, 4, 8), [])
        >>> explorer.remedy.value = "unrolled GAN"  # what picking it in the dropdown does
        >>> explorer.strength.description, explorer.method().unroll_steps
        ('unroll steps K', 5)
    """

    def __init__(self, data: str = "grid", remedy: str = "GAN", strength: int | None = None, *,
                 steps: int = 2000, seed: int = 0, setup: MixtureSetup | None = None, plot_every: int | None = None,
                 device: str = "auto") -> None:
        if data not in ("ring", "grid"):
            raise ValueError(f"data must be 'ring' or 'grid', got {data!r}")
        remedy_method(remedy, strength)  # validates remedy and strength
        self.setup = setup if setup is not None else MixtureSetup()
        choices = strength_choices(remedy, self.setup.batch_size)
        if strength is not None and choices and strength not in choices:
            raise ValueError(f"{remedy} {REMEDIES[remedy][0]} {strength} does not divide the batch of "
                             f"{self.setup.batch_size}; valid choices: {', '.join(map(str, choices))}")
        self.plot_every, self.device = plot_every, device
        style = {"description_width": "100px"}
        self.data = W.Dropdown(options=["ring", "grid"], value=data, description="dataset", style=style)
        self.remedy = W.Dropdown(options=list(REMEDIES), value=remedy, description="remedy", style=style)
        # A SelectionSlider, not an IntSlider: pack and group sizes skip the values that do not divide the batch.
        self.strength = W.SelectionSlider(options=[1], value=1, description="strength", style=style)
        self.steps = W.IntSlider(value=steps, min=100, max=max(10000, steps), step=100, description="steps",
                                 style=style)
        self.seed = W.IntSlider(value=seed, min=0, max=20, description="seed", style=style)
        self.train_button = W.Button(description="Train", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.clear_button = W.Button(description="Clear runs", icon="trash")
        self.message = W.HTML(value="")
        self.plot = W.Image(format="png", layout=W.Layout(width="100%", max_width="900px"))
        self.remedy.observe(lambda change: self._sync_strength(), names="value")
        self._sync_strength(strength)
        self.train_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.clear_button.on_click(lambda _: self.clear())
        self.runs: list[ExplorerRun] = []
        self._trainer: Trainer | None = None
        self._thread: threading.Thread | None = None
        self._stop = False
        self._lock = threading.Lock()
        controls = W.VBox([self.data, self.remedy, self.strength, self.steps, self.seed,
                           W.HBox([self.train_button, self.stop_button, self.clear_button]), self.message])
        self.widget = W.HBox([controls, self.plot])
        self._draw(None, None)

    # --- controls -------------------------------------------------------------------------------
    def _sync_strength(self, value: int | None = None) -> None:
        spec = REMEDIES[self.remedy.value]
        if spec is None:
            self.strength.description, self.strength.disabled = "strength", True
            return
        label, _, _, default = spec
        choices = strength_choices(self.remedy.value, self.setup.batch_size)
        if value is None:  # the remedy's default, or the nearest value that divides the batch
            value = min(choices, key=lambda v: (abs(v - default), v))
        self.strength.options = choices
        self.strength.value = value
        self.strength.description, self.strength.disabled = label, False

    def method(self) -> Method:
        """The ``Method`` the controls describe now."""
        spec = REMEDIES[self.remedy.value]
        return remedy_method(self.remedy.value, None if spec is None else int(self.strength.value))

    # --- training ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, wait: bool = False) -> ExplorerRun | None:
        """Train with the current control values in a background thread (``wait=True`` blocks until
        it ends). Returns the new run, or None when a run is already going."""
        if self.running:
            self.message.value = "a run is already going: press Stop first"
            return None
        data, method, steps, seed = self.data.value, self.method(), int(self.steps.value), int(self.seed.value)
        every = self.plot_every or max(10, steps // 20)
        run = ExplorerRun(label=f"{method.name}, seed {seed}", data=data)
        self.runs.append(run)
        self._stop = False
        trainer = build_mixture_trainer(data, method, self.setup.replace(steps=steps), seed, device=self.device,
                                        callbacks=[lambda t: self._on_progress(t, run, every)], callback_every=every)
        self._trainer = trainer
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.message.value = f"training {run.label} on the {data} ..."
        self._thread = threading.Thread(target=self._train, args=(trainer, run), daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()
        return run

    def _train(self, trainer: Trainer, run: ExplorerRun) -> None:
        try:
            trainer.train(progress=False)
            run.final = evaluate(trainer, run.data)
            run.status = "stopped" if trainer.step < trainer.cfg.steps else "finished"
            self.message.value = f"{run.label}: {run.status} at step {trainer.step}: {run.final}"
        except TrainingDiverged as err:
            run.status = "diverged"
            self.message.value = f"{run.label}: {err}"
        except Exception as err:  # shown in the widget: a thread's traceback would vanish
            run.status = "failed"
            self.message.value = f"{run.label}: failed: {type(err).__name__}: {err}"
        finally:
            self._draw(trainer, run)
            self.train_button.disabled, self.stop_button.disabled = False, True

    def _on_progress(self, trainer: Trainer, run: ExplorerRun, every: int) -> bool:
        if trainer.step % every == 0 or trainer.step == trainer.cfg.steps:
            cov = evaluate(trainer, run.data, samples=1000)
            run.curve.append((trainer.step, cov.modes_captured, cov.hq_fraction))
            self._draw(trainer, run)
        return self._stop

    def stop(self) -> None:
        """Ask the running training to stop after its current step."""
        self._stop = True
        if self._trainer is not None:
            self._trainer.request_stop()

    def clear(self) -> None:
        """Forget finished runs (their curves disappear from the plot)."""
        if not self.running:
            self.runs.clear()
            self._draw(None, None)

    # --- pictures ----------------------------------------------------------------------------------
    def _draw(self, trainer: Trainer | None, run: ExplorerRun | None) -> None:
        with self._lock:
            self.plot.value = figure_png(self.figure(trainer, run))

    def figure(self, trainer: Trainer | None = None, run: ExplorerRun | None = None) -> Figure:
        """Left: real modes and 1,000 generated points; right: modes captured over steps, every run."""
        data = run.data if run is not None else self.data.value
        mixture = make_mixture(data)
        fig = Figure(figsize=(9, 3.8))  # 900 px: the widget shows it 1:1
        ax_points, ax_curve = fig.subplots(1, 2)
        centres = mixture.centres
        ax_points.scatter(centres[:, 0], centres[:, 1], s=60, facecolors="none", edgecolors=REAL_COLOR,
                          label="modes (centres)")
        if trainer is not None:
            z = torch.randn(1000, trainer.cfg.z_dim, generator=torch.Generator().manual_seed(0))
            fake = trainer.sample(z=z)
            ax_points.scatter(fake[:, 0], fake[:, 1], s=3, c=FAKE_COLOR, alpha=0.5, label="generated")
            ax_points.set_title(f"{run.label if run else ''}: step {trainer.step}")
        lim = 1.5 * float(centres.abs().max())
        ax_points.set_xlim(-lim, lim)
        ax_points.set_ylim(-lim, lim)
        ax_points.set_aspect("equal")
        ax_points.legend(loc="upper right")
        for other in self.runs:
            if other.data != data or not other.curve:
                continue
            steps, modes = [c[0] for c in other.curve], [c[1] for c in other.curve]
            ax_curve.plot(steps, modes, marker=".", lw=2.5 if other is run else 1.2, label=other.label)
        ax_curve.axhline(mixture.num_modes, color="grey", ls="--", lw=1)
        ax_curve.set_ylim(0, mixture.num_modes + 1)
        ax_curve.set_xlabel("generator step")
        ax_curve.set_ylabel("modes captured (1,000 samples)")
        ax_curve.set_title(f"{data}: {mixture.num_modes} modes")
        if any(o.curve and o.data == data for o in self.runs):
            ax_curve.legend(loc="lower right")
        fig.tight_layout()
        return fig

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
