"""The training dashboard: sliders for the knobs that make GANs (un)stable, live plots, run comparison.

Training runs in a background thread, so the kernel stays free to receive a click on Stop (a button
callback is only delivered when the kernel is idle). The thread draws with matplotlib's object API
and updates an ``Image`` widget: core ipywidgets only, the same on ipywidgets 7.7 (Colab) and 8.x.

Example (in a notebook)::

    from gancourse.widgets import Dashboard
    dash = Dashboard(data="ring", loss="nsgan", steps=2000)
    dash             # sliders, Train / Stop / Reset, live plots
    dash.run(wait=True)   # the same as clicking Train, but blocks (used by tests and nbval)
    dash.compare()        # finished runs side by side
    Dashboard(data="ring", loss="hinge", controls=("r1_gamma", "spectral_norm", "ema_decay", "lr_g", "lr_d"))
    Dashboard(data="folder:my_pictures", model="dcgan", image_size=64)   # your own PNG/JPEG pictures
"""
from __future__ import annotations

import math
import textwrap
import threading
import warnings
from dataclasses import dataclass, field

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .._checks import positive_int, within_limit
from ..conditioning import CONDITIONS
from ..config import CRITIC_LOSSES, LOSSES, OPTIMIZERS, PRESETS, TrainConfig
from ..data import (
    DATASETS,
    check_dataset_name,
    check_labelled_dataset,
    display_name,
    folder_name,
    is_folder_name,
    is_image_dataset,
    make_mixture,
    parse_folder_name,
)
from ..ema import half_life
from ..losses import GAME_LOSSES
from ..models import MODELS
from ..models.build import CriticNormWarning, critic_norm_problem
from ..plot import plot_history
from ..run_outputs import heatmap_critic
from ..train import History, Trainer, TrainingDiverged
from .render import Snapshot, draw_snapshot, figure_png, live_figure, snapshot

__all__ = ["Dashboard", "Run", "CONTROLS", "DEFAULT_CONTROLS", "R1_GAMMAS", "EMA_DECAYS"]

CONTROLS = ("data", "model", "condition", "loss", "optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic", "clip_on",
            "clip", "gp_lambda", "r1_gamma", "spectral_norm", "ema_decay", "batch_norm", "batch_size", "steps", "seed")
"""Every knob the dashboard has, in the order it lays them out."""
DEFAULT_CONTROLS = tuple(name for name in CONTROLS
                         if name not in ("condition", "r1_gamma", "spectral_norm", "ema_decay"))
"""The knobs shown when ``controls`` is not given: lessons 1-4's. Lesson 5's ``condition`` and lesson 6's
stabilisers (R1, spectral norm, EMA) are shown when named in ``controls``; hidden, they stay off (an
unconditional run, no stabiliser) unless given an initial value."""
R1_GAMMAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
"""The R1 slider's stops: 0 (off) then about two per decade. Mescheder et al. 2018 use gamma = 10 on
CelebA-HQ and 0.1 to 10 elsewhere; StyleGAN2 uses 0.01 to 100 depending on the resolution."""
EMA_DECAYS = (0.0, 0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999)
"""The EMA slider's stops, as decays beta (0: off). Stored as ``TrainConfig.ema_half_life`` = ln(1/2) /
ln(beta) generator steps (``ema.half_life``): 0.999 is about 693 steps, 0.9999 about 6931."""

_STYLE = {"description_width": "110px"}
_WIDE = W.Layout(width="330px")


def _clipped(loss: str) -> bool:
    """Whether ``loss``'s critic is held by weight clipping (no penalty of its own), looked up in the registry;
    an unknown name is left to the config's check."""
    return loss in GAME_LOSSES and GAME_LOSSES[loss].clipped


@dataclass
class Run:
    """One training run of the dashboard: its settings, history, last picture and how it ended.

    Example:
        >>> history = History({"step": [1], "loss_d": [1.386], "loss_g": [0.693], "d_real": [0.5], "d_fake": [0.5]})
        >>> print(Run("demo", TrainConfig(), {}, history).summary())
        demo: running after 1 steps; loss_d 1.386, loss_g 0.693, d_real 0.500, d_fake 0.500
    """

    label: str
    cfg: TrainConfig
    setup: dict
    history: History = field(default_factory=History)
    status: str = "running"
    final: Snapshot | None = None

    def summary(self) -> str:
        last = {k: self.history.last(k) for k in ("loss_d", "loss_g", "d_real", "d_fake")}
        return (f"{self.label}: {self.status} after {len(self.history)} steps; "
                + ", ".join(f"{k} {v:.3f}" for k, v in last.items()))


MAX_PLOT_EVERY = 250


class Dashboard:
    """Sliders and pickers for a GAN run, Train / Stop / Reset, live plots and a compare view.

    ``controls`` picks which knobs are shown (any of ``CONTROLS``; default ``DEFAULT_CONTROLS``, lessons 1-4's);
    hidden knobs keep their values. Keyword arguments set initial values (``lr_g=1e-3``, ``n_critic=5``,
    ``steps=500``, ...), checked as the CLI checks its flags: a bad one is a ``ValueError`` naming it and what
    is valid, and a valid one beyond a slider's usual range (``n_critic=50``, ``lr_g=1e-7``) widens that
    slider instead of being clamped into it.
    ``plot_every`` is the live-plot period in steps (default: about 20 frames per run, and at least one
    frame every ``MAX_PLOT_EVERY`` steps so that a long run still looks live). Choosing ``wgan`` or
    ``wgan-gp`` loads the paper's settings and unticks batch norm (their critic has none); ticking it
    again is lesson 4's experiment: the run goes ahead with a note saying what is wrong with it.
    ``data`` may also be ``folder:PATH`` (your own PNG/JPEG pictures, added to the dataset picker);
    ``image_size`` is their side after a centre crop (default 64, or the ``@SIZE`` of the name).

    Lesson 5's ``condition`` (a dropdown: none, concat, acgan, projection; ``TrainConfig.condition``) trains a
    class-conditional GAN on a labelled dataset (``data.LABELLED_DATASETS``: the Gaussian mixtures, whose label is
    the mode, and the images); on one without labels the run is refused with a message naming the labelled
    ones. The live samples are drawn for every label in turn, and D's 2-D heatmap is its score with the label
    averaged out (AC-GAN: its source head).

    Lesson 6's stabilisers: ``r1_gamma`` (a slider over ``R1_GAMMAS`` whose first stop, 0, is "off"; it is
    ``TrainConfig.r1_gamma``), ``spectral_norm`` (a tick box: D's layers spectrally normalised, passed to
    ``Trainer.from_names``) and ``ema_decay`` (a slider over ``EMA_DECAYS`` that shows the decay beta, 0 =
    "off", and stores the half-life ``ema.half_life(beta)`` in ``TrainConfig.ema_half_life``). An initial
    value off the stops is added to its slider. With EMA on, the live plot draws its samples from the
    average of G (``Trainer.sample(ema=True)``, the weights one would evaluate and ship), and says so in
    its title; D's heatmap is always the one D. Spectral norm together with WGAN weight clipping is
    refused with a message (choose one Lipschitz constraint); choosing ``wgan`` while spectral norm is
    ticked therefore leaves clipping off.

    Example:
        >>> dash = Dashboard(data="ring", loss="wgan-gp", steps=4, z_dim=4, width=16, device="cpu", plot_every=4)
        >>> cfg = dash.config()  # choosing WGAN-GP loads its paper's settings
        >>> cfg.optimizer, cfg.n_critic, cfg.gp_lambda, cfg.clip
        ('adam', 5, 10.0, None)
        >>> run = dash.run(wait=True)  # what the Train button does, blocking
        >>> run.status, len(run.history), len(dash.runs)
        ('finished', 4, 1)
        >>> lesson6 = ("r1_gamma", "spectral_norm", "ema_decay", "lr_g", "lr_d")
        >>> six = Dashboard(data="ring", loss="hinge", controls=lesson6, r1_gamma=10, ema_decay=0.999,
        ...                 spectral_norm=True, device="cpu")
        >>> cfg = six.config()
        >>> cfg.loss, cfg.r1_gamma, round(cfg.ema_half_life, 1), six.values()["spectral_norm"]
        ('hinge', 10.0, 692.8, True)
    """

    def __init__(self, data: str = "ring", model: str = "mlp", loss: str = "nsgan", *, controls=None,
                 plot_every: int | None = None, device: str = "auto", z_dim: int | None = None,
                 width: int | None = None, image_size: int | None = None, **initial) -> None:
        controls = tuple(DEFAULT_CONTROLS if controls is None else controls)
        unknown = set(controls) - set(CONTROLS)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; valid choices: {', '.join(CONTROLS)}")
        defaults = TrainConfig()
        values = {"data": data, "model": model, "condition": "none", "loss": loss, "optimizer": defaults.optimizer,
                  "lr_g": defaults.lr_g, "lr_d": defaults.lr_d, "beta1": defaults.beta1, "beta2": defaults.beta2,
                  "n_critic": defaults.n_critic, "clip_on": _clipped(loss), "clip": 0.01,
                  "gp_lambda": defaults.gp_lambda, "r1_gamma": defaults.r1_gamma, "spectral_norm": False,
                  "ema_decay": 0.0, "batch_norm": False, "batch_size": defaults.batch_size, "steps": 1000, "seed": 0}
        if loss in CRITIC_LOSSES:
            values.update({k: v for k, v in PRESETS[loss].items() if k in values})
            values["clip_on"] = _clipped(loss)
        bad = set(initial) - set(values)
        if bad:
            raise ValueError(f"unknown initial value(s) {sorted(bad)}; valid: {', '.join(values)}")
        values.update(initial)
        _check_values(values, z_dim=z_dim, width=width, plot_every=plot_every)
        _check_stabilisers(values)
        if values["spectral_norm"] and _clipped(values["loss"]) and "clip_on" not in initial:
            values["clip_on"] = False  # SN is the critic's Lipschitz constraint: no clipping on top of it
        check_dataset_name(values["data"])
        if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int)
                                       or image_size < 1):
            raise ValueError(f"image_size must be an integer >= 1 (for a DCGAN: 16, 28, 32, 64, 128 or 256), "
                             f"got image_size={image_size!r}")
        self.image_size = image_size
        self._initial = dict(values)
        self.device, self.z_dim, self.width, self.plot_every = device, z_dim, width, plot_every
        self.controls = self._make_controls(values)
        self.shown = controls
        self.train_button = W.Button(description="Train", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.reset_button = W.Button(description="Reset", icon="refresh")
        self.compare_button = W.Button(description="Compare runs", icon="columns")
        self.message = W.HTML(value="")
        self.plot = W.Image(format="png", layout=W.Layout(width="100%", max_width="960px"))
        # Hidden until "Compare runs" fills it: an empty Image shows as a broken-image icon in the browser.
        self.compare_plot = W.Image(format="png", layout=W.Layout(width="100%", max_width="960px", display="none"))
        self.train_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.compare_button.on_click(lambda _: self._show_compare())
        self.controls["loss"].observe(self._on_loss_change, names="value")
        self.runs: list[Run] = []
        self.current: Run | None = None
        self._trainer: Trainer | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = False
        self._note = ""  # what is wrong with the current run's settings, kept under its result
        self.widget = self._layout()
        self.plot.value = figure_png(live_figure(None, History(), "press Train"))

    # --- widgets ------------------------------------------------------------------------------
    def _make_controls(self, v: dict) -> dict:
        # A valid initial value beyond a slider's usual range widens the slider: a slider would clamp it.
        log = dict(step=0.1, readout_format=".1e", style=_STYLE, layout=_WIDE)
        return {
            # A folder given by name joins the picker, so switching away from it and back works.
            "data": W.Dropdown(options=list(DATASETS) + ([v["data"]] if is_folder_name(v["data"]) else []),
                               value=v["data"], description="dataset", style=_STYLE, layout=_WIDE),
            "model": W.Dropdown(options=list(MODELS), value=v["model"], description="model", style=_STYLE,
                                layout=_WIDE),
            "condition": W.Dropdown(options=list(CONDITIONS), value=v["condition"], description="condition on y",
                                    style=_STYLE, layout=_WIDE),
            "loss": W.Dropdown(options=list(LOSSES), value=v["loss"], description="loss", style=_STYLE, layout=_WIDE),
            "optimizer": W.Dropdown(options=list(OPTIMIZERS), value=v["optimizer"], description="optimizer",
                                    style=_STYLE, layout=_WIDE),
            "lr_g": W.FloatLogSlider(value=v["lr_g"], base=10, description="G learning rate",
                                     **_log_range(v["lr_g"], -6, 0), **log),
            "lr_d": W.FloatLogSlider(value=v["lr_d"], base=10, description="D learning rate",
                                     **_log_range(v["lr_d"], -6, 0), **log),
            "beta1": W.FloatSlider(value=v["beta1"], min=0.0, max=max(0.99, v["beta1"]), step=0.01,
                                   description="Adam beta1", style=_STYLE, layout=_WIDE),
            "beta2": W.FloatSlider(value=v["beta2"], min=min(0.5, v["beta2"]), max=max(0.999, v["beta2"]),
                                   step=0.001, readout_format=".3f", description="Adam beta2", style=_STYLE,
                                   layout=_WIDE),
            "n_critic": W.IntSlider(value=v["n_critic"], min=1, max=max(10, v["n_critic"]), description="k / n_critic",
                                    style=_STYLE, layout=_WIDE),
            "clip_on": W.Checkbox(value=v["clip_on"], description="clip D weights (WGAN)", indent=False),
            "clip": W.FloatLogSlider(value=v["clip"], base=10, step=0.1, readout_format=".0e", description="clip c",
                                     style=_STYLE, layout=_WIDE, **_log_range(v["clip"], -4, 0)),
            "gp_lambda": W.FloatSlider(value=v["gp_lambda"], min=0.0, max=max(50.0, v["gp_lambda"]), step=0.5,
                                       description="GP lambda", style=_STYLE, layout=_WIDE),
            "r1_gamma": _stop_slider(R1_GAMMAS, v["r1_gamma"], "R1 gamma"),
            "spectral_norm": W.Checkbox(value=v["spectral_norm"], description="spectral norm in D", indent=False),
            "ema_decay": _stop_slider(EMA_DECAYS, v["ema_decay"], "EMA decay of G"),
            "batch_norm": W.Checkbox(value=v["batch_norm"], description="batch norm in G and D", indent=False),
            "batch_size": W.Dropdown(options=sorted({16, 32, 64, 128, 256, 512, v["batch_size"]}),
                                     value=v["batch_size"], description="batch size", style=_STYLE, layout=_WIDE),
            "steps": W.IntText(value=v["steps"], description="steps", style=_STYLE, layout=_WIDE),
            "seed": W.IntText(value=v["seed"], description="seed", style=_STYLE, layout=_WIDE),
        }

    def _layout(self) -> W.Widget:
        shown = [self.controls[name] for name in CONTROLS if name in self.shown]
        half = (len(shown) + 1) // 2
        knobs = W.HBox([W.VBox(shown[:half]), W.VBox(shown[half:])])
        buttons = W.HBox([self.train_button, self.stop_button, self.reset_button, self.compare_button])
        return W.VBox([knobs, buttons, self.message, self.plot, self.compare_plot])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _on_loss_change(self, change) -> None:
        # Switching objective loads that paper's settings: a WGAN with DCGAN's Adam settings is a
        # different (and usually failing) experiment, which the learner can still make by hand.
        # The paper's critic has no batch norm (Gulrajani et al. 2017, Sec. 4), so a critic loss
        # unticks it; ticking it again is lesson 4's experiment, run with a note.
        loss = change["new"]
        settings = dict(PRESETS.get(loss, {})) if loss in CRITIC_LOSSES else {
            k: self._initial[k] for k in ("optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic")}
        for key, value in settings.items():
            if key in self.controls and key != "batch_size":
                self.controls[key].value = value
        # With spectral norm ticked, SN is the critic's constraint: clipping on top of it is refused in run().
        self.controls["clip_on"].value = _clipped(loss) and not self.controls["spectral_norm"].value
        self.controls["batch_norm"].value = False if loss in CRITIC_LOSSES else self._initial["batch_norm"]
        if loss in CRITIC_LOSSES:
            self._say(f"loaded the paper's settings for {loss} (no batch norm in the critic)", "info")

    def _say(self, text: str, kind: str = "info") -> None:
        colour = {"info": "#555", "error": "#b00", "ok": "#070"}[kind]
        self.message.value = f'<span style="color:{colour}">{text}</span>'

    # --- settings --------------------------------------------------------------------------------
    def values(self) -> dict:
        """Current value of every control."""
        return {name: widget.value for name, widget in self.controls.items()}

    def config(self) -> TrainConfig:
        """The ``TrainConfig`` the current values describe (raises ``ValueError`` if invalid).

        The EMA slider's decay beta becomes ``ema_half_life = ema.half_life(beta)`` (0 stays 0, off).
        Spectral norm is no field of ``TrainConfig``: it is how D is built (``values()["spectral_norm"]``).
        """
        v = self.values()
        extra = {"z_dim": self.z_dim} if self.z_dim else {}
        return TrainConfig(loss=v["loss"], optimizer=v["optimizer"], lr_g=float(v["lr_g"]), lr_d=float(v["lr_d"]),
                           beta1=float(v["beta1"]), beta2=float(v["beta2"]), n_critic=int(v["n_critic"]),
                           clip=float(v["clip"]) if v["clip_on"] else None, gp_lambda=float(v["gp_lambda"]),
                           r1_gamma=float(v["r1_gamma"]), ema_half_life=half_life(float(v["ema_decay"])),
                           batch_size=int(v["batch_size"]), steps=int(v["steps"]), seed=int(v["seed"]),
                           condition=v["condition"], device=self.device, **extra)

    # --- actions --------------------------------------------------------------------------------
    def run(self, wait: bool = False) -> Run | None:
        """Start training with the current values (what Train does). ``wait`` blocks until it ends.

        Invalid settings are shown in the message line and return None; nothing is raised.
        """
        if self._thread is not None and self._thread.is_alive():
            self._say("a run is already in progress: press Stop first", "error")
            return None
        try:
            cfg = self.config()
            v = self.values()
            _check_combination(cfg, v)
            _check_condition(cfg, self._data_name(v["data"]), v["model"], v["batch_norm"])
            norm = "batch" if v["batch_norm"] else "none"
            with warnings.catch_warnings():  # shown in the message line instead
                warnings.simplefilter("ignore", CriticNormWarning)
                trainer = Trainer.from_names(self._data_name(v["data"]), v["model"], cfg, width=self.width,
                                             g_norm=norm, d_norm=norm, spectral_norm=bool(v["spectral_norm"]))
        except (ValueError, RuntimeError) as err:
            self._say(f"cannot train with these settings: {err}", "error")
            return None
        problem = critic_norm_problem(cfg.loss, norm)
        notes = [problem.split("; training with it")[0]] if problem else []
        notes += _stabiliser_notes(cfg, v)
        self._note = "note: " + "; ".join(notes) if notes else ""
        if notes:
            self._say(self._note, "info")
        else:
            self._say("")
        run = Run(label=self._label(cfg, v), cfg=cfg,
                  setup=dict(trainer.setup, batch_norm=v["batch_norm"], spectral_norm=bool(v["spectral_norm"])))
        run.history = trainer.history
        self.current, self._trainer = run, trainer
        every = self.plot_every or min(MAX_PLOT_EVERY, max(1, cfg.steps // 20))
        self._real, self._z = self._fixed_inputs(trainer)
        trainer.callbacks.append(self._on_progress)
        trainer.callback_every = every
        self._stop_requested = False
        self.train_button.disabled, self.stop_button.disabled = True, False
        self._thread = threading.Thread(target=self._worker, args=(trainer, run), daemon=True)
        self._thread.start()
        if wait:
            self.wait()
        return run

    def _data_name(self, data: str) -> str:
        """The name to train on: a folder gets ``image_size`` (an explicit ``@SIZE`` must agree with it)."""
        if not is_folder_name(data):
            return data
        path, given = parse_folder_name(data, default=None)
        if given is not None and self.image_size is not None and given != self.image_size:
            raise ValueError(f"image_size={self.image_size} contradicts the size in {data!r}; give one of them")
        return folder_name(path, given or self.image_size or 64)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run has finished (or ``timeout`` seconds passed)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """Ask the current run to stop after its current step; its history is kept as a run."""
        self._stop_requested = True
        if self._trainer is not None:
            self._trainer.request_stop()

    def reset(self) -> None:
        """Stop any run, forget all runs and restore the initial values."""
        self.stop()
        self.wait(timeout=30)
        for name, value in self._initial.items():
            self.controls[name].value = value
        self.runs.clear()
        self.current = None
        self.compare_plot.value = b""
        self.compare_plot.layout.display = "none"
        self.plot.value = figure_png(live_figure(None, History(), "press Train"))
        self._say("reset: runs cleared, initial settings restored")

    # --- the training thread ------------------------------------------------------------------------
    def _fixed_inputs(self, trainer: Trainer):
        if is_image_dataset(trainer.setup["data"]):
            return None, None
        mixture = make_mixture(trainer.setup["data"])
        real = mixture.sample(1000, generator=torch.Generator().manual_seed(0))
        z = torch.randn(1000, trainer.cfg.z_dim, generator=torch.Generator().manual_seed(1))
        return real, z

    def _on_progress(self, trainer: Trainer) -> bool:
        snap = snapshot(_heatmap_view(trainer), self._real, self._z, ema=trainer.ema is not None)
        self.current.final = snap
        self.plot.value = figure_png(live_figure(snap, trainer.history, self.current.label))
        return self._stop_requested

    def _worker(self, trainer: Trainer, run: Run) -> None:
        try:
            trainer.train(progress=False)
            run.status = "stopped" if self._stop_requested else "finished"
            self._say(f"{run.status}: {trainer.step} steps" + (f"; {self._note}" if self._note else ""), "ok")
        except TrainingDiverged as err:
            run.status = "diverged"
            self._say(str(err), "error")
        except Exception as err:  # shown to the learner, never a traceback from a thread
            run.status = "error"
            self._say(f"training failed: {type(err).__name__}: {err}", "error")
        finally:
            run.history = trainer.history
            try:
                if run.status != "diverged" or run.final is None:
                    run.final = snapshot(_heatmap_view(trainer), self._real, self._z, ema=trainer.ema is not None)
                self.plot.value = figure_png(live_figure(run.final, run.history, f"{run.label} ({run.status})"))
            except Exception:  # a diverged generator can make even the picture impossible
                pass
            self.runs.append(run)
            self.train_button.disabled, self.stop_button.disabled = False, True

    @staticmethod
    def _label(cfg: TrainConfig, v: dict) -> str:
        parts = [display_name(v["data"]), v["model"], cfg.loss, f"lrG {cfg.lr_g:.0e}", f"lrD {cfg.lr_d:.0e}"]
        if cfg.condition != "none":
            parts.insert(2, f"cond {cfg.condition}")
        if cfg.optimizer == "adam":
            parts.append(f"b1 {cfg.beta1:g}")
        else:
            parts.append("rmsprop")
        if cfg.n_critic > 1:
            parts.append(f"k {cfg.n_critic}")
        if cfg.clip is not None:
            parts.append(f"c {cfg.clip:g}")
        if GAME_LOSSES[cfg.loss].penalty == "gp":
            parts.append(f"lambda {cfg.gp_lambda:g}")
        if cfg.r1_gamma > 0:
            parts.append(f"R1 {cfg.r1_gamma:g}")
        if v.get("spectral_norm"):
            parts.append("SN")
        if cfg.ema_half_life > 0:
            parts.append(f"EMA {float(v['ema_decay']):g}")
        if v["batch_norm"]:
            parts.append("BN")
        return ", ".join(parts)

    # --- comparing runs ---------------------------------------------------------------------------
    def compare(self, runs: list[Run] | None = None, last: int = 4) -> Figure:
        """Finished runs side by side: final samples on top, D(x) and D(G(z)) below."""
        runs = list(runs if runs is not None else self.runs[-last:])
        if not runs:
            raise ValueError("no finished runs to compare yet: press Train first")
        # 2.4 inches a run: four runs fill the widget's 960 px at the course's 100 dpi, so nothing is shrunk.
        fig = Figure(figsize=(2.4 * len(runs), 5.4))
        axes = fig.subplots(2, len(runs), squeeze=False)
        for i, run in enumerate(runs):
            if run.final is not None:
                title = textwrap.fill(f"{run.label} ({run.status}, step {len(run.history)})", 26)
                draw_snapshot(run.final, axes[0][i], title=title)
            plot_history(run.history, keys=[["d_real", "d_fake"]], axes=[axes[1][i]])
        fig.tight_layout()
        return fig

    def _show_compare(self) -> None:
        try:
            self.compare_plot.value = figure_png(self.compare())
            self.compare_plot.layout.display = None
        except ValueError as err:
            self._say(str(err), "error")


# --- lesson 6's stabilisers ---------------------------------------------------------------------------------

def _stop_slider(stops: tuple[float, ...], value: float, description: str) -> W.SelectionSlider:
    """A slider over ``stops`` (plus ``value`` if it is not one) set to ``value``; the stop 0 reads "off"."""
    values = sorted(set(float(x) for x in stops) | {float(value)})
    slider = W.SelectionSlider(options=[("off" if x == 0 else f"{x:g}", x) for x in values], description=description,
                               continuous_update=False, style=_STYLE, layout=_WIDE)
    slider.value = float(value)  # set after construction: given to the constructor, stop 0 shows no label (8.1)
    return slider


def _log_range(value: float, low: int, high: int) -> dict:
    """min and max (powers of 10) of a log slider: ``low`` .. ``high``, widened to whole decades around ``value``."""
    exponent = math.log10(value)
    return {"min": min(low, math.floor(exponent)), "max": max(high, math.ceil(exponent))}


def _check_values(v: dict, z_dim=None, width=None, plot_every=None) -> None:
    """The initial values, checked as the CLI checks its flags (``TrainConfig.validate`` and
    ``_checks.SETTING_LIMITS``): a ``ValueError`` names the parameter and what is valid. A widget would
    otherwise clamp a number into its range or fail with a traitlets error that names neither."""
    for name, choices in (("model", MODELS), ("condition", CONDITIONS), ("loss", LOSSES), ("optimizer", OPTIMIZERS)):
        if not isinstance(v[name], str) or v[name] not in choices:
            raise ValueError(f"unknown {name} {v[name]!r}; valid choices: {', '.join(choices)}")
    for name in ("clip_on", "batch_norm"):
        if not isinstance(v[name], bool):
            raise ValueError(f"{name} must be True or False, got {name}={v[name]!r}")
    if v["clip"] is None:
        raise ValueError("clip must be a positive number c (the clip slider's value); clip_on=False turns clipping "
                         "off, got clip=None")
    extra = {} if z_dim is None else {"z_dim": z_dim}
    TrainConfig(**{name: v[name] for name in ("loss", "optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic",
                                              "clip", "gp_lambda", "batch_size", "steps", "seed", "condition")},
                **extra)  # its checks name the field, the value and the valid range
    for name, value in (("width", width), ("plot_every", plot_every)):
        if value is not None:
            positive_int(name, value)
    for name, value in dict(v, z_dim=z_dim, width=width).items():
        within_limit(name, value)


def _check_stabilisers(v: dict) -> None:
    """Initial values of the lesson-6 knobs: a clear ``ValueError`` naming the value and what is valid."""
    gamma = v["r1_gamma"]
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not math.isfinite(gamma) or gamma < 0:
        raise ValueError(f"r1_gamma must be a finite number >= 0 (0: off; the slider's stops: "
                         f"{', '.join(f'{x:g}' for x in R1_GAMMAS)}), got r1_gamma={gamma!r}")
    decay = v["ema_decay"]
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
        raise ValueError(f"ema_decay must be a decay beta in [0, 1) (0: off; the slider's stops: "
                         f"{', '.join(f'{x:g}' for x in EMA_DECAYS)}), got ema_decay={decay!r}")
    if not isinstance(v["spectral_norm"], bool):
        raise ValueError(f"spectral_norm must be True or False, got spectral_norm={v['spectral_norm']!r}")


def _check_combination(cfg: TrainConfig, v: dict) -> None:
    """Settings that contradict each other, refused before anything is built."""
    if v["spectral_norm"] and cfg.clip is not None:
        raise ValueError(
            f"spectral norm and weight clipping (c = {cfg.clip:g}) are two Lipschitz constraints on one critic; "
            "choose one. Spectral norm divides each weight by its largest singular value, and W / sigma(W) does "
            "not change when W is scaled, so clipping the raw weights under it bounds nothing. Untick "
            "'clip D weights (WGAN)' or 'spectral norm in D'")


def _stabiliser_notes(cfg: TrainConfig, v: dict) -> list[str]:
    """What is odd (not wrong) about a run's stabilisers, shown under its result."""
    notes = []
    if cfg.ema_half_life > cfg.steps:
        notes.append(f"EMA decay {float(v['ema_decay']):g} has a half-life of {cfg.ema_half_life:.0f} generator "
                     f"steps, longer than this run of {cfg.steps}: the average still remembers the untrained G, "
                     "and the samples shown come from it")
    if v["spectral_norm"] and v["batch_norm"]:
        notes.append("batch norm in a spectrally normalised D rescales its activations by batch statistics, so the "
                     "product of the layers' spectral norms no longer bounds D's Lipschitz constant (Miyato et al. "
                     "2018 use no batch norm in D)")
    return notes


# --- lesson 5's labels --------------------------------------------------------------------------------------

def _check_condition(cfg: TrainConfig, data: str, model: str = "mlp", batch_norm: bool = True) -> None:
    """A conditional run needs class labels: refused, with the labelled choices, on a dataset without them; a
    conditional DCGAN needs the batch-norm tick (its G takes the label through class-conditional batch norm)."""
    if cfg.condition == "none":
        return
    try:
        check_labelled_dataset(data, f"condition {cfg.condition!r}")
    except ValueError as err:
        raise ValueError(f"{err}; or choose condition 'none'") from None
    if model == "dcgan" and not batch_norm:
        raise ValueError(f"condition {cfg.condition!r} with the DCGAN: its G takes the label through class-conditional "
                         "batch norm, so tick 'batch norm in G and D' (or choose condition 'none')")


class _HeatmapView:
    """The trainer as ``render.snapshot`` sees it, with a D that takes x alone."""

    def __init__(self, trainer: Trainer) -> None:
        self._trainer = trainer
        self.D = heatmap_critic(trainer)  # the one labelled-D evaluation, shared with samples.png

    def __getattr__(self, name: str):
        return getattr(self._trainer, name)


def _heatmap_view(trainer: Trainer):
    """``trainer`` itself for an unconditional run; a view whose D averages the label out for a conditional one."""
    return trainer if trainer.cfg.condition == "none" else _HeatmapView(trainer)
