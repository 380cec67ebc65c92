"""Command line: ``python -m gancourse train ...`` (also installed as ``gancourse``).

Example::

    gancourse train --data ring --model mlp --loss nsgan --steps 2000 --out runs/ring
    gancourse train --data digits --model dcgan --loss wgan-gp --steps 3000 --out runs/digits-gp
    gancourse train --out runs/ring --steps 4000 --resume   # continue the same run

It writes ``samples.png``, ``losses.png``, ``metrics.json`` and ``checkpoint.pt`` into ``--out`` and
refuses to touch a non-empty folder unless ``--resume`` is given.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so tests and docs can inspect it)."""
    from .config import LOSSES, OPTIMIZERS
    from .data import DATASETS
    from .device import DEVICES
    from .models import MODELS, NORMS

    parser = argparse.ArgumentParser(prog="gancourse", description="Train the course's GANs headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a named setup and write pictures, metrics and a checkpoint")
    train.add_argument("--data", default="ring", choices=DATASETS, help="dataset (default: ring)")
    train.add_argument("--model", default="mlp", choices=MODELS, help="architecture (default: mlp)")
    train.add_argument("--loss", default="nsgan", choices=LOSSES, help="GAN objective (default: nsgan)")
    train.add_argument("--steps", type=int, default=2000, help="generator steps in total (default: 2000)")
    train.add_argument("--out", required=True, type=Path, help="output folder (must be empty unless --resume)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--seed", type=int, default=0)
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
    train.add_argument("--device", default="auto", choices=DEVICES)
    train.add_argument("--compile", action="store_true", help="torch.compile the networks")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _config_for(args: argparse.Namespace):
    from .config import PRESETS, TrainConfig

    # Start from the paper's settings for the chosen objective, then apply what was given.
    base: dict = {}
    if args.loss in ("wgan", "wgan-gp"):
        base = dict(PRESETS[args.loss])
    elif args.model == "dcgan":
        base = dict(PRESETS["dcgan"])
    base["loss"] = args.loss
    given = {"batch_size": args.batch_size, "lr_g": args.lr_g, "lr_d": args.lr_d, "beta1": args.beta1,
             "beta2": args.beta2, "optimizer": args.optimizer, "n_critic": args.n_critic, "clip": args.clip,
             "gp_lambda": args.gp_lambda, "z_dim": args.z_dim}
    base.update({k: v for k, v in given.items() if v is not None})
    base.update(steps=args.steps, seed=args.seed, device=args.device, compile=args.compile)
    return TrainConfig(**base)


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
        fake = trainer.sample(2500, z=torch_randn(2500, trainer.cfg.z_dim, trainer.cfg.seed))
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
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return metrics


def torch_randn(n: int, dim: int, seed: int):
    """Evaluation noise, independent of the training RNG so evaluating never changes training."""
    import torch

    return torch.randn(n, dim, generator=torch.Generator().manual_seed(10_000 + seed))


def _train(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .config import TrainConfig
    from .train import Trainer

    out: Path = args.out
    ckpt = out / "checkpoint.pt"
    if args.resume:
        if not ckpt.is_file():
            raise ValueError(f"--resume given but {ckpt} does not exist")
        state = load_checkpoint(ckpt)
        cfg = TrainConfig.from_dict(state["config"]).replace(steps=args.steps)
        setup = state["setup"] or {}
        if args.steps <= state["step"]:
            raise ValueError(f"--steps {args.steps} must be larger than the checkpoint's step {state['step']}")
        trainer = Trainer.from_names(setup["data"], setup["model"], cfg, width=setup.get("width"),
                                     g_norm=setup.get("g_norm"), d_norm=setup.get("d_norm"))
        trainer.load(ckpt)
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"output folder {out} is not empty; choose a new --out or add --resume to continue")
        cfg = _config_for(args)
        trainer = Trainer.from_names(args.data, args.model, cfg, width=args.width, g_norm=args.norm, d_norm=args.norm)
        out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        trainer.train(progress=not args.no_progress)
    except KeyboardInterrupt:
        trainer.save(out / "checkpoint.pt")
        print(f"gancourse: interrupted at step {trainer.step}; checkpoint saved, continue with --resume", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    trainer.save(ckpt)
    metrics = _write_outputs(trainer, out, seconds)
    summary = f"trained {trainer.step} steps in {seconds:.1f}s on {trainer.device}; wrote {out}/"
    if "mode_coverage" in metrics:
        mc = metrics["mode_coverage"]
        summary += f" (modes {mc['modes_captured']}/{mc['num_modes']}, HQ {100 * mc['hq_fraction']:.1f}%)"
    print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 training diverged, 2 bad input)."""
    args = build_parser().parse_args(argv)
    from .checkpoint import CheckpointError
    from .train import TrainingDiverged

    try:
        return _train(args)
    except TrainingDiverged as err:
        print(f"gancourse: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, CheckpointError, RuntimeError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"gancourse: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
