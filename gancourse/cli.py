"""Command line: ``python -m gancourse train ...`` (also installed as ``gancourse``).

Example::

    gancourse train --data ring --model mlp --loss nsgan --steps 2000 --out runs/ring
    gancourse train --data digits --model dcgan --loss wgan-gp --steps 3000 --out runs/digits-gp
    gancourse train --out runs/ring --steps 4000 --resume   # continue the same run
    gancourse train --out runs/x --lr-g 1e-3 --dry-run      # check the settings, train nothing

It writes ``samples.png``, ``losses.png``, ``metrics.json`` and ``checkpoint.pt`` into ``--out`` and
refuses to touch a non-empty folder unless ``--resume`` is given. Every argument is checked before
anything slow happens; a bad one exits with status 2 and one line on stderr. Ctrl-C stops after the
current step and saves a checkpoint that ``--resume`` continues exactly (a second Ctrl-C stops at
once, still saving); the exit status is then 130.
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

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["main", "build_parser", "parse_and_check", "TrainPlan"]

# argparse default None = "not given", so --resume can tell a repeated flag from a default.
_DEFAULTS = {"data": "ring", "model": "mlp", "loss": "nsgan", "device": "auto"}  # seed: TrainConfig's 0
# Flags that set a TrainConfig field of the same name (dashes for underscores).
_CONFIG_FLAGS = ("loss", "batch_size", "lr_g", "lr_d", "beta1", "beta2", "optimizer", "n_critic", "clip",
                 "gp_lambda", "z_dim", "seed")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage block first), and
    ``--clip -1e-3`` or ``--gp-lambda -inf`` pass the value on to be checked instead of being
    mistaken for an unknown flag."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"-((\d+\.?\d*|\.\d+)(e[-+]?\d+)?|inf|infinity|nan)\Z", re.I)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so tests and docs can inspect it).

    Example:
        >>> build_parser().parse_args(["train", "--out", "runs/x", "--lr-g", "1e-3"]).lr_g
        0.001
    """
    from .config import LOSSES, OPTIMIZERS
    from .data import DATASETS
    from .device import DEVICES
    from .models import MODELS, NORMS

    parser = _Parser(prog="gancourse", description="Train the course's GANs headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a named setup and write pictures, metrics and a checkpoint")
    train.add_argument("--data", choices=DATASETS, help="dataset (default: ring)")
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
    train.add_argument("--z-dim", type=int)
    train.add_argument("--width", type=int, help="hidden units (mlp) or base channels (dcgan)")
    train.add_argument("--norm", choices=NORMS, help="normalisation in G and D (default: model's own)")
    train.add_argument("--device", choices=DEVICES, help="where to train (default: auto)")
    train.add_argument("--compile", action="store_true", help="torch.compile the networks")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--dry-run", action="store_true", help="check the arguments and print the settings; "
                                                              "train and write nothing")
    return parser


@dataclass
class TrainPlan:
    """A checked command line: what ``main`` will train, from which step, into which folder.

    ``setup`` holds the names ``Trainer.from_names`` needs (data, model, width, g_norm, d_norm).

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
        return (f"{s['data']} / {s['model']} / {c.loss}, steps {self.start_step} -> {c.steps} on {c.device}, "
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
    from .data import is_image_dataset
    from .device import pick_device

    args = build_parser().parse_args(argv)
    out: Path = args.out
    if args.width is not None and args.width < 1:
        raise ValueError(f"--width must be a positive number of units or channels, got --width {args.width}")
    if args.resume:
        cfg, setup, start = _resumed_settings(args)
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"output folder {out} is not empty; choose a new --out or add --resume to continue")
        setup = {"data": args.data or _DEFAULTS["data"], "model": args.model or _DEFAULTS["model"],
                 "width": args.width, "g_norm": args.norm, "d_norm": args.norm}
        if setup["model"] == "dcgan" and not is_image_dataset(setup["data"]):
            raise ValueError(f"--model dcgan needs an image dataset, but --data {setup['data']} is 2-D points; "
                             "use --model mlp for it")
        cfg, start = _config_for(args), 0
    cfg = cfg.replace(device=str(pick_device(cfg.device)))  # an unavailable device fails here, not mid-setup
    return TrainPlan(out=out, cfg=cfg, setup=setup, resume=args.resume, start_step=start,
                     progress=not args.no_progress, dry_run=args.dry_run)


TOY_2D_SETTINGS = {"lr_g": 1e-3, "lr_d": 1e-3, "batch_size": 256, "z_dim": 16}
"""GAN / NS-GAN defaults for 2-D data: lesson 1's setting. DCGAN's (lr 2e-4, batch 64, z 64) learns the
2-D sets several times more slowly: after 3,000 steps its moons are still one blob."""


def _config_for(args: argparse.Namespace):
    from .config import PRESETS, TrainConfig

    # Start from the paper's settings for the chosen objective, then apply what was given.
    from .data import is_image_dataset

    loss, model = args.loss or _DEFAULTS["loss"], args.model or _DEFAULTS["model"]
    data = args.data or _DEFAULTS["data"]
    base: dict = {}
    if loss in ("wgan", "wgan-gp"):
        base = dict(PRESETS[loss])
    elif model == "dcgan":
        base = dict(PRESETS["dcgan"])
    elif not is_image_dataset(data):
        base = dict(TOY_2D_SETTINGS)
    base["loss"] = loss
    base.update({name: getattr(args, name) for name in _CONFIG_FLAGS if getattr(args, name) is not None})
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
    given = {"data": (args.data, setup["data"]), "model": (args.model, setup["model"]),
             "width": (args.width, setup.get("width")), "norm": (args.norm, setup.get("g_norm"))}
    given.update({name: (getattr(args, name), saved.get(name)) for name in _CONFIG_FLAGS})
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


class _StopOnInterrupt:
    """SIGINT handler for a training run: the first Ctrl-C asks the trainer to stop after the current
    step (so the checkpoint is exact), a second one raises ``KeyboardInterrupt`` at once.

    It is also a callback: a Ctrl-C that lands before ``train()`` has started, whose stop request
    ``train()`` would reset, still ends the run at the next callback.
    """

    def __init__(self, trainer) -> None:
        self.trainer, self.requested, self._previous = trainer, False, None

    def _handle(self, signum, frame) -> None:
        # No printing here: the handler may interrupt a write to stderr (the progress bar).
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.trainer.request_stop()

    def __call__(self, trainer) -> bool:
        return self.requested

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _write_outputs(trainer, out: Path, seconds: float) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .data import is_image_dataset, make_mixture
    from .metrics import mode_coverage
    from .plot import plot_history, plot_samples, plot_scatter

    setup = trainer.setup
    metrics: dict = {"setup": setup, "config": trainer.cfg.to_dict(), "step": trainer.step,
                     "train_seconds": round(seconds, 3), "device": str(trainer.device),
                     "final": {k: trainer.history.last(k) for k in trainer.history if k != "step"}}
    if is_image_dataset(setup["data"]):
        fig = plot_samples(trainer.sample(64), title=f"{setup['data']} / {setup['model']} / step {trainer.step}")
    else:
        mixture = make_mixture(setup["data"])
        fake = trainer.sample(z=torch_randn(2500, trainer.cfg.z_dim, trainer.cfg.seed))
        real = mixture.sample(2500)
        fig = plot_scatter(real, fake, trainer.D, logits=trainer.cfg.loss in ("wgan", "wgan-gp"),
                           title=f"{setup['data']} / {trainer.cfg.loss} / step {trainer.step}")
        if mixture.kind == "gaussian_mixture":
            cov = mode_coverage(fake, mixture.centres, mixture.std)
            metrics["mode_coverage"] = {"modes_captured": cov.modes_captured, "num_modes": cov.num_modes,
                                        "hq_fraction": cov.hq_fraction, "reverse_kl": cov.reverse_kl}
    fig.savefig(out / "samples.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig = plot_history(trainer.history, title=f"{setup['data']} / {trainer.cfg.loss}")
    fig.savefig(out / "losses.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    # Strict JSON: inf/nan (a reverse KL with no HQ sample, a diverged loss) become null, so that any
    # JSON reader (a browser, jq) can load the file; Python's default would write bare Infinity / NaN.
    (out / "metrics.json").write_text(json.dumps(_finite_or_none(metrics), indent=2, default=str,
                                                 allow_nan=False) + "\n")
    return metrics


def _finite_or_none(value):
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def torch_randn(n: int, dim: int, seed: int):
    """Evaluation noise, independent of the training RNG so evaluating never changes training.

    Example:
        >>> torch_randn(3, 2, seed=0).shape
        torch.Size([3, 2])
    """
    import torch

    return torch.randn(n, dim, generator=torch.Generator().manual_seed(10_000 + seed))


def _train(plan: TrainPlan) -> int:
    from .train import Trainer

    setup = plan.setup
    trainer = Trainer.from_names(setup["data"], setup["model"], plan.cfg, width=setup.get("width"),
                                 g_norm=setup.get("g_norm"), d_norm=setup.get("d_norm"))
    if plan.resume:
        trainer.load(plan.checkpoint)
    else:
        plan.out.mkdir(parents=True, exist_ok=True)
    stop = _StopOnInterrupt(trainer)
    trainer.callbacks.append(stop)
    start = time.perf_counter()
    try:
        with stop:
            # Printed once the handler is in place: from here on, Ctrl-C always leaves a checkpoint.
            print(f"gancourse: training {plan.describe()} (Ctrl-C stops and saves a checkpoint)", flush=True)
            trainer.train(progress=plan.progress)
    except KeyboardInterrupt:  # a second Ctrl-C: mid-step, but the weights are still usable
        stop.requested = True
    seconds = time.perf_counter() - start
    trainer.save(plan.checkpoint)
    if stop.requested and trainer.step < plan.cfg.steps:
        print(f"gancourse: interrupted at step {trainer.step}; checkpoint saved to {plan.checkpoint}; continue with "
              f"--out {plan.out} --steps {plan.cfg.steps} --resume", file=sys.stderr)
        return 130
    metrics = _write_outputs(trainer, plan.out, seconds)
    summary = f"trained {trainer.step} steps in {seconds:.1f}s on {trainer.device}; wrote {plan.out}/"
    if "mode_coverage" in metrics:
        mc = metrics["mode_coverage"]
        summary += f" (modes {mc['modes_captured']}/{mc['num_modes']}, HQ {100 * mc['hq_fraction']:.1f}%)"
    print(summary)
    return 0


def _error(err: BaseException) -> None:
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    print(f"gancourse: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 training diverged, 2 bad input, 130 interrupted).

    Example:
        >>> main(["train", "--out", "/nonexistent/run", "--device", "cpu", "--steps", "50", "--dry-run"])
        ... # doctest: +ELLIPSIS
        ring / mlp / nsgan, steps 0 -> 50 on cpu, into /nonexistent/run
        ...
        0
    """
    from .checkpoint import CheckpointError
    from .train import TrainingDiverged

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
    if plan.dry_run:
        print(plan.describe())
        print(json.dumps(plan.cfg.to_dict(), indent=2))
        return 0
    try:
        return _train(plan)
    except TrainingDiverged as err:
        _error(err)
        return 1
    except (ValueError, CheckpointError, RuntimeError, OSError) as err:  # OSError: --out cannot be written
        _error(err)
        return 2
    except KeyboardInterrupt:  # while loading data or saving: outside the training loop's own handling
        print("gancourse: interrupted before a checkpoint could be saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
