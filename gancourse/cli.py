"""Command line: ``python -m gancourse train ...`` (also installed as ``gancourse``).

Example::

    gancourse train --data ring --model mlp --loss nsgan --steps 2000 --out runs/ring
    gancourse train --data digits --model dcgan --loss wgan-gp --steps 3000 --out runs/digits-gp
    gancourse train --out runs/ring --steps 4000 --resume   # continue the same run
    gancourse train --out runs/x --lr-g 1e-3 --dry-run      # check the settings, train nothing
    gancourse train --data folder:~/faces --image-size 64 --model dcgan --out runs/faces   # your own pictures
    gancourse train --data digits --model dcgan --condition projection --out runs/cdigits  # one row per class

It writes ``samples.png``, ``losses.png``, ``metrics.json`` and ``checkpoint.pt`` into ``--out`` and
refuses to touch a non-empty folder unless ``--resume`` is given. Every argument is checked before
anything slow happens; a bad one exits with status 2 and one line on stderr. While training, an exact
checkpoint and the three outputs are written (atomically) every ``--checkpoint-every`` (default every
2 minutes; ``500`` for every 500 steps, ``0`` for only at the end), so a run that is killed outright
loses at most that much. Ctrl-C or SIGTERM (a closed terminal, ``timeout``, a batch scheduler) stops
after the current step and saves a checkpoint that ``--resume`` continues exactly (a second one stops
at once, still saving); the exit status is then 130 (Ctrl-C) or 143 (SIGTERM). The final save (checkpoint,
then the three outputs) is never cut short by a further signal: it takes about a second, and only SIGKILL
can stop it, which leaves the previous complete files. ``--resume`` first removes the temporary files a
killed save left behind (``checkpoint.pt.*.tmp``, ...); a folder holding only those counts as empty.
Every number is bounded where it is checked (``_checks.SETTING_LIMITS``), so a typo such as
``--batch-size 1000000000000`` is refused up front, naming the flag. A run that fails after
training started (an error inside the loop, e.g. from ``torch.compile``) exits with status 1 and the
error's own message; status 1 also means the training diverged (a statistic became NaN or infinite, or a loss
or gradient norm passed ``divergence.DIVERGENCE_BOUND``).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._checks import SETTING_LIMITS, within_limit
from .run_folder import check_writable, is_own_temporary, remove_own_temporaries
from .run_outputs import load_plotting, write_outputs

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["main", "build_parser", "parse_and_check", "TrainPlan", "SavePeriod", "CHECKPOINT_EVERY"]

# argparse default None = "not given", so --resume can tell a repeated flag from a default.
_DEFAULTS = {"data": "ring", "model": "mlp", "loss": "nsgan", "device": "auto"}  # seed: TrainConfig's 0
# Flags that set a TrainConfig field of the same name (dashes for underscores).
_CONFIG_FLAGS = ("loss", "batch_size", "lr_g", "lr_d", "beta1", "beta2", "optimizer", "n_critic", "clip",
                 "gp_lambda", "r1_gamma", "z_dim", "seed", "condition")
CHECKPOINT_EVERY = "2m"
"""Default of ``--checkpoint-every``: writing a checkpoint and the pictures takes about a second, so
every 2 minutes costs under 1% and a killed run loses at most 2 minutes."""


@dataclass(frozen=True)
class SavePeriod:
    """How often a running ``gancourse train`` saves: every ``steps`` steps or ``minutes`` minutes
    (neither: only at the end or when stopped). ``parse`` reads ``--checkpoint-every``.

    Example:
        >>> SavePeriod.parse("500"), SavePeriod.parse("1.5m"), SavePeriod.parse("0").enabled
        (SavePeriod(steps=500, minutes=None), SavePeriod(steps=None, minutes=1.5), False)
    """

    steps: int | None = None
    minutes: float | None = None

    @property
    def enabled(self) -> bool:
        return self.steps is not None or self.minutes is not None

    @classmethod
    def parse(cls, text: str) -> SavePeriod:
        """``N`` (steps), ``Nm`` or ``Nmin`` (minutes), ``0`` or ``off`` (never); else ``ValueError``.

        Example:
            >>> SavePeriod.parse("10min").minutes
            10.0
        """
        value = str(text).strip().lower()
        if value in ("0", "off"):
            return cls()
        match = re.fullmatch(r"(\d+)|(\d+\.?\d*|\.\d+)\s*(m|min)", value)
        if match and match.group(1) is not None and int(match.group(1)) >= 1:
            return cls(steps=int(match.group(1)))
        if match and match.group(2) is not None and float(match.group(2)) > 0:
            return cls(minutes=float(match.group(2)))
        raise ValueError(f"--checkpoint-every {text!r} is not a period: give steps (500), minutes (10m) or 0 (off)")


def _save_period(text: str) -> SavePeriod:
    try:
        return SavePeriod.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage block first), and
    ``--clip -1e-3`` or ``--gp-lambda -inf`` pass the value on to be checked instead of being
    mistaken for an unknown flag."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"-((\d+\.?\d*|\.\d+)(e[-+]?\d+)?|inf|infinity|nan)\Z", re.I)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see: {self.prog} --help)\n")


def _data_arg(text: str) -> str:
    """``--data``: a dataset name or ``folder:PATH``; argparse's own wording for a bad choice."""
    from .data import DATASETS, FOLDER_PREFIX, check_dataset_name

    try:
        return check_dataset_name(text)
    except ValueError:
        choices = ", ".join(f"'{d}'" for d in DATASETS)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {choices}, "
                                         f"or {FOLDER_PREFIX}PATH for a folder of PNG/JPEG pictures)") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so tests and docs can inspect it).

    Example:
        >>> build_parser().parse_args(["train", "--out", "runs/x", "--lr-g", "1e-3"]).lr_g
        0.001
    """
    from .config import CONDITIONS, LOSSES, OPTIMIZERS
    from .device import DEVICES
    from .models import MODELS, NORMS

    parser = _Parser(prog="gancourse", description="Train the course's GANs headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a named setup and write pictures, metrics and a checkpoint")
    train.add_argument("--data", type=_data_arg, metavar="NAME|folder:PATH",
                       help="dataset, or folder:PATH for your own PNG/JPEG pictures (default: ring)")
    train.add_argument("--image-size", type=int, metavar="N",
                       help="side of the pictures of folder: data, after a centre crop (default: 64; a DCGAN "
                            "builds 16, 28, 32, 64, 128 or 256)")
    train.add_argument("--model", choices=MODELS, help="architecture (default: mlp)")
    train.add_argument("--loss", choices=LOSSES, help="GAN objective (default: nsgan)")
    train.add_argument("--steps", type=int, default=2000, help="generator steps in total (default: 2000)")
    train.add_argument("--out", required=True, type=Path, help="output folder (must be empty unless --resume)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--seed", type=int, help="random seed (default: 0)")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr-g", type=float)
    train.add_argument("--lr-d", type=float)
    train.add_argument("--beta1", type=float)
    train.add_argument("--beta2", type=float)
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--n-critic", type=int, help="discriminator steps per generator step (k)")
    train.add_argument("--clip", type=float, help="WGAN weight clipping c")
    train.add_argument("--gp-lambda", type=float, help="WGAN-GP penalty weight lambda")
    train.add_argument("--r1-gamma", "--r1", type=float, metavar="GAMMA", dest="r1_gamma",
                       help="R1 penalty gamma on real data (Mescheder et al. 2018; default 0: off)")
    train.add_argument("--ema", type=float, metavar="DECAY",
                       help="also keep an average of G's weights with this decay in [0, 1), e.g. 0.999 "
                            "(Karras et al. 2018); the pictures are drawn from it")
    train.add_argument("--z-dim", type=int)
    train.add_argument("--width", type=int, help="hidden units (mlp) or base channels (dcgan)")
    train.add_argument("--norm", choices=NORMS, help="normalisation in G and D (default: model's own)")
    train.add_argument("--condition", choices=CONDITIONS,
                       help="class-conditional GAN: how D gets the label (default: none, unconditional; needs "
                            "labelled data)")
    train.add_argument("--spectral-norm", action="store_true", default=None,
                       help="spectral normalisation on every layer of D (Miyato et al. 2018)")
    train.add_argument("--device", choices=DEVICES, help="where to train (default: auto)")
    train.add_argument("--compile", action="store_true", help="torch.compile the networks")
    train.add_argument("--checkpoint-every", type=_save_period, default=SavePeriod.parse(CHECKPOINT_EVERY),
                       metavar="N|Nm", help=f"save a checkpoint and the pictures every N steps or N minutes "
                                            f"while training, 0 = only at the end (default: {CHECKPOINT_EVERY})")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--dry-run", action="store_true", help="check the arguments and print the settings; "
                                                              "train and write nothing")
    return parser


@dataclass
class TrainPlan:
    """A checked command line: what ``main`` will train, from which step, into which folder.

    ``setup`` holds the names ``Trainer.from_names`` needs (data, model, width, g_norm, d_norm,
    spectral_norm; a checkpoint written before ``spectral_norm`` existed has none: False).

    Example:
        >>> plan = parse_and_check(["train", "--out", "/nonexistent/run", "--loss", "wgan", "--device", "cpu"])
        >>> plan.cfg.optimizer, plan.cfg.clip, plan.start_step
        ('rmsprop', 0.01, 0)
    """

    out: Path
    cfg: TrainConfig
    setup: dict
    resume: bool = False
    start_step: int = 0
    progress: bool = True
    dry_run: bool = False
    save_every: SavePeriod = SavePeriod()
    warnings: tuple[str, ...] = ()

    @property
    def checkpoint(self) -> Path:
        """Where the run's checkpoint is (read with ``--resume``, written when training ends or stops)."""
        return self.out / "checkpoint.pt"

    def describe(self) -> str:
        """One line saying what would be trained.

        Example:
            >>> parse_and_check(["train", "--out", "/nonexistent/run", "--device", "cpu"]).describe()
            'ring / mlp / nsgan, steps 0 -> 2000 on cpu, into /nonexistent/run'
        """
        s, c = self.setup, self.cfg
        norms = (s.get("g_norm"), s.get("d_norm"))
        shown = "" if norms in ((None, None), ("none", "none")) else f" (norm: G {norms[0]}, D {norms[1]})"
        shown += " (spectral norm in D)" if s.get("spectral_norm") else ""
        shown += f" (conditional: {c.condition})" if c.condition != "none" else ""
        return (f"{s['data']} / {s['model']}{shown} / {c.loss}, steps {self.start_step} -> {c.steps} on {c.device}, "
                f"into {self.out}")


def parse_and_check(argv: list[str] | None = None) -> TrainPlan:
    """Parse and check a command line without training, loading data or writing anything.

    argparse errors (unknown flag, missing value, bad choice) exit with status 2 (``SystemExit``)
    after one line on stderr; a bad value or an unusable ``--out`` raises ``ValueError`` (or
    ``CheckpointError`` for a broken checkpoint with ``--resume``) naming it.

    Example:
        >>> parse_and_check(["train", "--out", "/nonexistent/run", "--n-critic", "0"])
        Traceback (most recent call last):
        ValueError: n_critic must be an integer >= 1, got n_critic=0
    """
    from .data import check_labelled_dataset, is_image_dataset
    from .device import pick_device
    from .models.build import critic_norm_problem, default_norms

    args = build_parser().parse_args(argv)
    out: Path = args.out
    if args.width is not None and args.width < 1:
        raise ValueError(f"--width must be a positive number of units or channels, got --width {args.width}")
    for name in SETTING_LIMITS:
        within_limit(name, getattr(args, name, None), flag="--" + name.replace("_", "-"))
    if args.resume:
        cfg, setup, start = _resumed_settings(args)
    else:
        if out.exists() and (not out.is_dir() or any(not is_own_temporary(p) for p in out.iterdir())):
            raise ValueError(f"output folder {out} is not empty; choose a new --out or add --resume to continue")
        model = args.model or _DEFAULTS["model"]
        cfg, start = _config_for(args), 0
        # The norms are fixed here, so --dry-run shows them and the checkpoint records them.
        default_g, default_d = default_norms(model, cfg.loss)
        setup = {"data": _data_name(args.data or _DEFAULTS["data"], args.image_size, model), "model": model,
                 "width": args.width, "g_norm": args.norm or default_g, "d_norm": args.norm or default_d,
                 "spectral_norm": bool(args.spectral_norm)}
        if setup["model"] == "dcgan" and not is_image_dataset(setup["data"]):
            raise ValueError(f"--model dcgan needs an image dataset, but --data {setup['data']} is 2-D points; "
                             "use --model mlp for it")
        if cfg.condition != "none":
            check_labelled_dataset(setup["data"], f"--condition {cfg.condition}")
    cfg = cfg.replace(device=str(pick_device(cfg.device)))  # an unavailable device fails here, not mid-setup
    problem = critic_norm_problem(cfg.loss, setup.get("d_norm"))
    return TrainPlan(out=out, cfg=cfg, setup=setup, resume=args.resume, start_step=start,
                     progress=not args.no_progress, dry_run=args.dry_run, save_every=args.checkpoint_every,
                     warnings=(problem,) if problem else ())


def _data_name(data: str, image_size: int | None, model: str) -> str:
    """The dataset name a run records: a ``folder:`` name made absolute and given its size, so the
    checkpoint means the same folder from any working directory; other names as they are."""
    from .data import data_shape, folder_name, is_folder_name, parse_folder_name
    from .models import dcgan_plan

    if image_size is not None and image_size < 1:
        raise ValueError(f"--image-size must be a positive number of pixels, got --image-size {image_size}")
    if not is_folder_name(data):
        native = data_shape(data)
        if image_size is not None and (len(native) != 3 or native[-1] != image_size):
            what = f"{native[-1]}x{native[-1]} images" if len(native) == 3 else "2-D points"
            raise ValueError(f"--image-size {image_size} applies to folder:PATH data only; --data {data} has {what}")
        return data
    path, given = parse_folder_name(data, default=None)
    if given is not None and image_size is not None and given != image_size:
        raise ValueError(f"--image-size {image_size} contradicts the size in --data {data}; give one of them")
    size = given or image_size or 64
    if not path.expanduser().is_dir():
        raise ValueError(f"--data {data}: {path} is not a folder; give folder:PATH with PATH a folder of PNG/JPEG "
                         "pictures")
    if model == "dcgan":
        try:
            dcgan_plan(size)
        except ValueError as err:
            raise ValueError(f"--image-size {size}: {err}") from None
    return folder_name(path, size)


TOY_2D_SETTINGS = {"lr_g": 1e-3, "lr_d": 1e-3, "batch_size": 256, "z_dim": 16}
"""GAN / NS-GAN defaults for 2-D data: lesson 1's setting. DCGAN's (lr 2e-4, batch 64, z 64) learns the
2-D sets several times more slowly: after 3,000 steps its moons are still one blob."""


def _config_for(args: argparse.Namespace):
    from .config import CRITIC_LOSSES, PRESETS, TrainConfig

    # Start from the paper's settings for the chosen objective, then apply what was given.
    from .data import is_image_dataset

    loss, model = args.loss or _DEFAULTS["loss"], args.model or _DEFAULTS["model"]
    data = args.data or _DEFAULTS["data"]
    base: dict = {}
    if loss in CRITIC_LOSSES:      # each Wasserstein loss starts from its paper's preset
        base = dict(PRESETS[loss])
    elif model == "dcgan":
        base = dict(PRESETS["dcgan"])
    elif not is_image_dataset(data):
        base = dict(TOY_2D_SETTINGS)
    base["loss"] = loss
    base.update({name: getattr(args, name) for name in _CONFIG_FLAGS if getattr(args, name) is not None})
    if args.ema is not None:
        from .ema import half_life

        base["ema_half_life"] = half_life(args.ema)   # TrainConfig stores the average as a half-life in steps
    base.update(steps=args.steps, device=args.device or _DEFAULTS["device"], compile=args.compile)
    return TrainConfig(**base)


def _resumed_settings(args: argparse.Namespace):
    from .checkpoint import CheckpointError, load_checkpoint
    from .config import TrainConfig

    ckpt = args.out / "checkpoint.pt"
    if not ckpt.is_file():
        raise ValueError(f"--resume given but {ckpt} does not exist")
    state = load_checkpoint(ckpt)
    setup, saved, step = state.get("setup"), state.get("config"), state.get("step")
    if not (isinstance(setup, dict) and {"data", "model"} <= set(setup) and isinstance(saved, dict)
            and isinstance(step, int)):
        raise CheckpointError(f"{ckpt} does not record its data, model, config and step (it was not written by "
                              "`gancourse train` or Trainer.from_names), so it cannot be resumed from here")
    # Flags repeated from the first command are fine; a different value would silently not apply.
    data = None  # compared as the canonical name the first run recorded (absolute folder, with its size)
    if args.data is not None or args.image_size is not None:
        from .data import is_folder_name

        saved_data = setup["data"]
        base = args.data or (saved_data.rpartition("@")[0] if is_folder_name(saved_data) else saved_data)
        data = _data_name(base, args.image_size, args.model or setup["model"])
    given = {"data": (data, setup["data"]), "model": (args.model, setup["model"]),
             "width": (args.width, setup.get("width")), "norm": (args.norm, setup.get("g_norm")),
             "spectral_norm": (args.spectral_norm, bool(setup.get("spectral_norm", False)))}
    given.update({name: (getattr(args, name), saved.get(name, "none" if name == "condition" else None))
                  for name in _CONFIG_FLAGS})  # a checkpoint from before labels existed is unconditional
    if args.ema is not None:
        from .ema import half_life

        given["ema"] = (half_life(args.ema), saved.get("ema_half_life"))
    for name, (value, saved_value) in given.items():
        if value is not None and value != saved_value:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} {value} differs from the checkpoint's {name}={saved_value!r}; --resume continues "
                             f"with the saved settings: drop {flag}, or start a new run in another --out")
    if args.steps <= step:
        raise ValueError(f"--steps {args.steps} must be larger than the checkpoint's step {step}")
    cfg = TrainConfig.from_dict(saved).replace(steps=args.steps, device=args.device or _DEFAULTS["device"],
                                               compile=args.compile)
    return cfg, setup, step


class _StopOnSignals:
    """SIGINT / SIGTERM handler for a training run: the first signal asks the trainer to stop after
    the current step (so the checkpoint is exact), a second one raises ``KeyboardInterrupt`` at once
    (once: later ones are only counted). SIGTERM is what a closed terminal, ``timeout`` or a batch
    scheduler sends: handled like Ctrl-C.

    Once ``finishing`` is set (the final save and output writes) no signal interrupts anything: the
    save is what keeps the run, so a signal then is only recorded. The handlers stay installed until
    the ``with`` block ends, after the last file is written.

    It is also a callback: a signal that lands before ``train()`` has started, whose stop request
    ``train()`` would reset, still ends the run at the next callback.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer) -> None:
        self.trainer, self.received, self._previous = trainer, None, {}
        self.finishing, self.interrupted, self.deferred = False, False, 0

    @property
    def requested(self) -> bool:
        return self.received is not None

    def _handle(self, signum, frame) -> None:
        # No printing here: the handler may interrupt a write to stderr (the progress bar).
        if self.received is None:
            self.received = signal.Signals(signum)
            self.trainer.request_stop()
        elif not (self.finishing or self.interrupted):
            self.interrupted = True  # raised once: a third signal cannot cut short the save this one leads to
            raise KeyboardInterrupt
        else:
            self.deferred += 1

    def __call__(self, trainer) -> bool:
        return self.requested

    def __enter__(self) -> _StopOnSignals:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


class _PeriodicSave:
    """Callback: every ``period`` (steps or minutes) an exact checkpoint, then samples.png,
    losses.png and metrics.json, so that a run killed without warning (SIGKILL, a crash, a lost
    machine) still leaves its last state for ``--resume``. Saving reads no random numbers that
    training uses, so a saving run and a quiet one follow the same trajectory."""

    def __init__(self, plan: TrainPlan, started: float) -> None:
        self.plan, self.started = plan, started
        self.last_time, self.saved_step = time.monotonic(), None

    def __call__(self, trainer) -> None:
        period = self.plan.save_every
        if trainer.step >= self.plan.cfg.steps or trainer.step == self.saved_step:
            return  # the end of training saves anyway
        due = (period.steps is not None and trainer.step % period.steps == 0) or (
            period.minutes is not None and time.monotonic() - self.last_time >= 60 * period.minutes)
        if due:
            trainer.save(self.plan.checkpoint)
            self.saved_step = trainer.step
            write_outputs(trainer, self.plan.out, time.perf_counter() - self.started)
            self.last_time = time.monotonic()


class _RunFailed(Exception):
    """Training started and then failed: the CLI exits with status 1 and this message."""


def _train(plan: TrainPlan) -> int:
    import warnings

    from .models.build import CriticNormWarning
    from .train import Trainer, TrainingDiverged

    # Setting up: an error here is about the input (data, checkpoint, --out), exit status 2.
    check_writable(plan.out)
    setup = plan.setup
    with warnings.catch_warnings():  # main() has printed it already, as one line
        warnings.simplefilter("ignore", CriticNormWarning)
        trainer = Trainer.from_names(setup["data"], setup["model"], plan.cfg, width=setup.get("width"),
                                     g_norm=setup.get("g_norm"), d_norm=setup.get("d_norm"),
                                     spectral_norm=bool(setup.get("spectral_norm", False)))
    if plan.resume:
        trainer.load(plan.checkpoint)
    else:
        plan.out.mkdir(parents=True, exist_ok=True)
    removed = remove_own_temporaries(plan.out)  # a killed save's leftovers (SIGKILL, a crash)
    if removed:
        print(f"gancourse: removed {len(removed)} temporary file(s) an interrupted save left in {plan.out}: "
              f"{', '.join(removed[:3])}{', ...' if len(removed) > 3 else ''}", file=sys.stderr)
    start = time.perf_counter()
    stop, saver = _StopOnSignals(trainer), _PeriodicSave(plan, start)
    trainer.callbacks.append(stop)
    if plan.save_every.enabled:
        trainer.callbacks.append(saver)
        if plan.save_every.steps is not None:  # callbacks must run on every multiple of the period
            trainer.callback_every = math.gcd(trainer.callback_every, plan.save_every.steps)
    load_plotting()  # before the handlers: a second signal must not cut short matplotlib's first import
    # Training: from here on a failure is the run's, not the input's, exit status 1. The handlers stay in
    # place until the final checkpoint, the outputs and the closing message are written.
    with stop:
        try:
            try:
                # Printed once the handlers are in place: from here on, a stop always leaves a checkpoint.
                print(f"gancourse: training {plan.describe()} (Ctrl-C stops and saves a checkpoint)", flush=True)
                trainer.train(progress=plan.progress)
                stop.finishing = True  # inside the try: a signal landing just before it is caught below
            except KeyboardInterrupt:  # a second signal: mid-step, but the weights are still usable
                stop.received = stop.received or signal.SIGINT
            stop.finishing = True  # no signal interrupts the save from here on; they are only counted
            seconds = time.perf_counter() - start
            trainer.save(plan.checkpoint)
            metrics = write_outputs(trainer, plan.out, seconds) if len(trainer.history) else {}
        except Exception as err:
            stop.finishing = True
            raise _RunFailed(_failure(err, trainer, plan, saver.saved_step,
                                      diverged=isinstance(err, TrainingDiverged))) from err
        if stop.requested and trainer.step < plan.cfg.steps:
            how = "interrupted" if stop.received == signal.SIGINT else f"stopped by {stop.received.name}"
            later = f" (it finished despite {stop.deferred} more signal(s))" if stop.deferred else ""
            print(f"gancourse: {how} at step {trainer.step}; checkpoint saved to {plan.checkpoint}{later}; continue "
                  f"with --out {plan.out} --steps {plan.cfg.steps} --resume", file=sys.stderr)
            return 128 + int(stop.received)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        summary = f"trained {trainer.step} steps in {seconds:.1f}s on {trainer.device}; wrote {plan.out}/"
        if "mode_coverage" in metrics:
            mc = metrics["mode_coverage"]
            summary += f" (modes {mc['modes_captured']}/{mc['num_modes']}, HQ {100 * mc['hq_fraction']:.1f}%)"
        print(summary)
        return 0


def _failure(err: Exception, trainer, plan: TrainPlan, saved_step: int | None, diverged: bool) -> str:
    # The whole message: a torch.compile error puts its cause on the lines after the first.
    lines = [line for line in str(err).splitlines() if line.strip()] or [""]
    text = "\n".join(lines[:20]) + ("\n..." if len(lines) > 20 else "")
    message = text if diverged else f"training failed at step {trainer.step}: {type(err).__name__}: {text}"
    last = saved_step if saved_step is not None else (plan.start_step if plan.resume else None)
    if last is not None:
        message += (f"\nthe last checkpoint (step {last}) is {plan.checkpoint}; --resume continues from it")
    return message


def _error(err: BaseException) -> None:
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    print(f"gancourse: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status: 0 ok, 1 the run failed after it started (training
    diverged, or an error inside the loop), 2 bad input, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.

    Example:
        >>> main(["train", "--out", "/nonexistent/run", "--device", "cpu", "--steps", "50", "--dry-run"])
        ... # doctest: +ELLIPSIS
        ring / mlp / nsgan, steps 0 -> 50 on cpu, into /nonexistent/run
        ...
        0
    """
    from .checkpoint import CheckpointError

    try:
        plan = parse_and_check(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2), already reported
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    except (ValueError, CheckpointError, OSError) as err:  # OSError: an --out that cannot be read
        _error(err)
        return 2
    except KeyboardInterrupt:
        print("gancourse: interrupted before training started; nothing was written", file=sys.stderr)
        return 130
    for warning in plan.warnings:
        print(f"gancourse: warning: {warning}", file=sys.stderr)
    if plan.dry_run:
        print(plan.describe())
        print(json.dumps(plan.cfg.to_dict(), indent=2))
        return 0
    try:
        return _train(plan)
    except _RunFailed as err:
        print(f"gancourse: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, CheckpointError, RuntimeError, OSError) as err:  # before training: data, checkpoint, --out
        _error(err)
        return 2
    except KeyboardInterrupt:  # while loading data or building the networks, before the handlers are in place
        print("gancourse: interrupted before training started; no checkpoint was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
