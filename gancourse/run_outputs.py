"""What a ``gancourse train`` run leaves in its folder: the sample picture, the loss curves and the metrics.

Written atomically (``paths.write_atomically``), so a run killed mid-save leaves the previous complete files.
Evaluation draws its own random numbers (``torch_randn``, ``torch_generator``): saving never changes training.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from .paths import write_atomically

__all__ = ["load_plotting", "write_outputs", "sample_grid", "heatmap_critic", "finite_or_none", "torch_randn",
           "torch_generator"]


def load_plotting() -> None:
    """Import matplotlib (headless, Agg) and the plotting module that ``write_outputs`` uses, ahead of time.

    The CLI calls this before it installs its signal handlers: a second Ctrl-C or SIGTERM that lands in the
    middle of a first import of matplotlib (during a periodic save) leaves it half-initialised, and every
    later save of the run would then fail on it.

    Example:
        >>> import sys
        >>> load_plotting()
        >>> "matplotlib.pyplot" in sys.modules and "gancourse.plot" in sys.modules
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    from . import plot  # noqa: F401


def write_outputs(trainer, out: Path, seconds: float) -> dict:
    """Write ``samples.png``, ``losses.png`` and ``metrics.json`` for ``trainer`` into ``out`` (each file
    atomically) and return the metrics: the setup, the config, the final statistics and, on a Gaussian
    mixture, the mode coverage of 2,500 samples from evaluation noise of its own.

    Example:
        >>> import tempfile
        >>> from gancourse import TrainConfig
        >>> from gancourse.train import Trainer
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(steps=2, z_dim=4, device="cpu"), width=8)
        >>> _ = t.train(progress=False)
        >>> folder = Path(tempfile.mkdtemp())
        >>> metrics = write_outputs(t, folder, seconds=0.1)
        >>> sorted(p.name for p in folder.iterdir()), metrics["step"], metrics["mode_coverage"]["num_modes"]
        (['losses.png', 'metrics.json', 'samples.png'], 2, 8)
    """
    load_plotting()
    import matplotlib.pyplot as plt

    from .data import display_name, is_image_dataset, make_mixture
    from .losses import game_loss
    from .metrics import mode_coverage
    from .plot import plot_history, plot_samples, plot_scatter

    setup = trainer.setup
    shown = display_name(setup["data"])   # a folder's own name, not its whole absolute path
    metrics: dict = {"setup": setup, "config": trainer.cfg.to_dict(), "step": trainer.step,
                     "train_seconds": round(seconds, 3), "device": str(trainer.device),
                     "final": {k: trainer.history.last(k) for k in trainer.history if k != "step"}}
    if is_image_dataset(setup["data"]):
        title = f"{shown} / {setup['model']} / step {trainer.step}"
        images, nrow = sample_grid(trainer)
        fig = plot_samples(images, title=title, nrow=nrow)
    else:
        mixture = make_mixture(setup["data"])
        fake = trainer.sample(z=torch_randn(2500, trainer.cfg.z_dim, trainer.cfg.seed), ema=trainer.ema is not None)
        # Its own generator: the global one is left as it was, so saving mid-run changes nothing.
        real = mixture.sample(2500, generator=torch_generator(20_000 + trainer.cfg.seed))
        # plot_scatter's logits=True means "D's output is a raw score": WGAN critics and the hinge loss
        fig = plot_scatter(real, fake, heatmap_critic(trainer), logits=not game_loss(trainer.cfg.loss).logits,
                           title=f"{setup['data']} / {trainer.cfg.loss} / step {trainer.step}")
        if mixture.kind == "gaussian_mixture":
            cov = mode_coverage(fake, mixture.centres, mixture.std)
            metrics["mode_coverage"] = {"modes_captured": cov.modes_captured, "num_modes": cov.num_modes,
                                        "hq_fraction": cov.hq_fraction, "reverse_kl": cov.reverse_kl}
    # Every file is written next to its place and renamed over it: a run killed mid-write (SIGKILL
    # during a periodic save) leaves the previous complete file, never half a PNG.
    write_atomically(out / "samples.png", lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)
    fig = plot_history(trainer.history, title=f"{shown} / {trainer.cfg.loss}")
    write_atomically(out / "losses.png", lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)
    # Strict JSON: inf/nan (a reverse KL with no HQ sample, a diverged loss) become null, so that any
    # JSON reader (a browser, jq) can load the file; Python's default would write bare Infinity / NaN.
    text = json.dumps(finite_or_none(metrics), indent=2, default=str, allow_nan=False) + "\n"
    write_atomically(out / "metrics.json", lambda f: f.write(text.encode()))
    return metrics


def sample_grid(trainer) -> tuple:
    """(images, nrow) for samples.png: 64 samples, or for a conditional run with K <= 16 classes one row
    per class, the same 8 latent points in every row (style kept, label changed).

    Example:
        >>> from gancourse import TrainConfig
        >>> from gancourse.train import Trainer
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"), width=8)
        >>> images, nrow = sample_grid(t); tuple(images.shape), nrow
        ((64, 2), None)
    """
    K, ema = trainer.num_classes, trainer.ema is not None
    if not K or K > 16:
        return trainer.sample(64, ema=ema), None
    z = trainer.fixed_z[:8].cpu().repeat(K, 1)
    return trainer.sample(z=z, y=torch.arange(K).repeat_interleave(8), ema=ema), 8


def heatmap_critic(trainer):
    """D as a function of x alone, for the 2-D heatmaps (``samples.png`` here, the Dashboard's live plot):
    ``trainer.D`` itself for an unconditional run; for a conditional one D's source score with the label
    averaged out, (1/K) sum_c D(x, c) (``conditioning.Conditioning.discriminate``; AC-GAN's source head takes
    no label, so its mean is that head). A module holding D, so ``plot.critic_heatmap`` finds its device and
    switches it to eval mode as it does for D.

    Example:
        >>> from gancourse import TrainConfig
        >>> from gancourse.train import Trainer
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu", condition="acgan"), width=8)
        >>> import torch; heatmap_critic(t)(torch.zeros(5, 2)).shape
        torch.Size([5])
    """
    return trainer.D if not trainer.condition.labelled else _LabelAveragedCritic(trainer)


class _LabelAveragedCritic(nn.Module):
    """x -> (1/K) sum_c D's source score at (x, c): what ``heatmap_critic`` returns for a conditional run."""

    def __init__(self, trainer) -> None:
        super().__init__()
        self.D, self.condition, self.num_classes = trainer.D, trainer.condition, trainer.num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = [self.condition.discriminate(self.D, x, torch.full((len(x),), c, dtype=torch.long, device=x.device))[0]
                  for c in range(self.num_classes)]
        return torch.stack(scores).mean(0)


def finite_or_none(value):
    """``value`` with every non-finite float inside it (dicts, lists) replaced by None, for strict JSON.

    Example:
        >>> finite_or_none({"kl": float("inf"), "x": [1.0, float("nan")]})
        {'kl': None, 'x': [1.0, None]}
    """
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def torch_randn(n: int, dim: int, seed: int):
    """Evaluation noise, independent of the training RNG so evaluating never changes training.

    Example:
        >>> torch_randn(3, 2, seed=0).shape
        torch.Size([3, 2])
    """
    return torch.randn(n, dim, generator=torch_generator(10_000 + seed))


def torch_generator(seed: int):
    """A CPU ``torch.Generator`` seeded with ``seed`` (evaluation randomness of its own).

    Example:
        >>> torch_generator(3).initial_seed()
        3
    """
    return torch.Generator().manual_seed(seed)
