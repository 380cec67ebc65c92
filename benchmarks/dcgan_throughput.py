"""The same DCGAN, the same number of steps, trained two ways: the textbook loop and ``gancourse.train``.

(a) textbook: a torchvision-style ``Dataset`` over the uint8 images that converts every sample with
    ``ToTensor`` + ``Normalize`` (via PIL, as torchvision's MNIST does), a shuffling ``DataLoader``,
    ``.to(device)`` per batch, ``nn.BCEWithLogitsLoss``, ``zero_grad()``, float32, the loop of the
    PyTorch DCGAN tutorial.
(b) ``gancourse.train.Trainer`` with ``reuse_fakes=True`` (the generator step reuses the D step's fakes,
    as (a) does): the whole dataset on the device as one uint8 tensor, one gather per batch,
    statistics read back every ``log_every`` steps, ``set_to_none`` grads, channels_last convolutions;
    on CUDA also autocast (bf16 or fp16 + GradScaler).

Both use the DCGAN paper's settings (``preset("dcgan")``: Adam 2e-4, beta1 0.5, batch 128, z 100)
and the same networks from the same seed. The two loops take turns, ``--eval-every`` steps at a time,
so that both see the same machine load. After each turn the clock stops, 500 samples
from fixed noise are scored by the cached digit classifier (``gancourse.metrics.images``), and the
clock restarts: "seconds to threshold" is training time only.

Usage (offline, ``digits``; nothing is downloaded):
    python benchmarks/dcgan_throughput.py --threads 1 --steps 600
    python benchmarks/dcgan_throughput.py --device cuda --steps 2000 --width 64
    python benchmarks/dcgan_throughput.py --methods gancourse --threads 2 --threshold 0.8 --steps 4000 --eval-every 250
"""
from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from gancourse import preset
from gancourse.config import TrainConfig
from gancourse.data import load_images, make_sampler
from gancourse.device import pick_device
from gancourse.experiments.mixtures import lr_decay_callback
from gancourse.metrics.images import ImageQuality, evaluate_images, load_classifier
from gancourse.models import build_models
from gancourse.remedies import MixtureLatent
from gancourse.train import Trainer


class TextbookImages(torch.utils.data.Dataset):
    """What ``torchvision.datasets.MNIST`` does per item: uint8 array -> PIL image -> transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform) -> None:
        # (N, C, H, W) -> (N, H, W) for grey, (N, H, W, C) for colour: the layouts PIL expects.
        array = images.numpy()
        self.images = array[:, 0] if array.shape[1] == 1 else np.ascontiguousarray(array.transpose(0, 2, 3, 1))
        self.labels = labels.numpy()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def _endless(loader) -> Iterator[torch.Tensor]:
    while True:
        for images, _ in loader:
            yield images


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def dcgan_models(shape: tuple, cfg: TrainConfig, width: int, components: int = 0) -> tuple[nn.Module, nn.Module]:
    """The DCGAN pair, seeded by ``cfg.seed``; with ``components`` > 0, G is fed by DeLiGAN's mixture latent
    (``gancourse.remedies.MixtureLatent``, lesson 2) with that many components."""
    torch.manual_seed(cfg.seed)
    if not components:
        return build_models("dcgan", shape, z_dim=cfg.z_dim, width=width)
    G, D = build_models("dcgan", shape, z_dim=cfg.z_dim - 1, width=width)
    return nn.Sequential(MixtureLatent(cfg.z_dim, components), G), D


def textbook_run(data: str, cfg: TrainConfig, width: int, workers: int, components: int = 0):
    """(G, train_chunk) where ``train_chunk(k)`` runs k more generator steps of the textbook loop."""
    from torchvision import transforms

    device = pick_device(cfg.device)
    images, labels = load_images(data)
    channels = images.shape[1]
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * channels, (0.5,) * channels)])
    loader = torch.utils.data.DataLoader(TextbookImages(images, labels, transform), batch_size=cfg.batch_size,
                                         shuffle=True, drop_last=True, num_workers=workers,
                                         persistent_workers=workers > 0,
                                         generator=torch.Generator().manual_seed(cfg.seed))
    batches = _endless(loader)
    G, D = dcgan_models(tuple(images.shape[1:]), cfg, width, components)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    bce = nn.BCEWithLogitsLoss()

    def train_chunk(steps: int) -> None:
        for _ in range(steps):
            real = next(batches).to(device)
            n = real.size(0)
            ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
            fake = G(torch.randn(n, cfg.z_dim, device=device))
            D.zero_grad()
            loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            G.zero_grad()
            loss_g = bce(D(fake), ones)  # non-saturating: fakes labelled real
            loss_g.backward()
            opt_g.step()
            # The tutorial logs every iteration with .item(): a host sync per step.
            loss_d.item(), loss_g.item()

    return G, train_chunk


def gancourse_run(data: str, cfg: TrainConfig, width: int, components: int = 0, decay: tuple | None = None):
    device = pick_device(cfg.device)
    sampler = make_sampler(data, cfg.batch_size, device=device, seed=cfg.seed)
    G, D = dcgan_models(tuple(sampler.data.shape[1:]), cfg, width, components)
    # decay = (start, final): lesson 2's schedule, both rates constant until start * steps, then falling
    # geometrically to final times their value at the last step
    callbacks = [] if decay is None else [lr_decay_callback(cfg.steps, *decay)]
    # reuse_fakes: the generator step trains on the D step's fake batch, as the textbook loop does, so
    # both loops run the same algorithm and differ only in how they run it.
    trainer = Trainer(G, D, sampler, cfg.replace(device=str(device), reuse_fakes=True), callbacks=callbacks)
    return trainer.G, lambda steps: trainer.train(steps=steps, progress=False)


@torch.no_grad()
def _score(G: nn.Module, z: torch.Tensor, classifier) -> ImageQuality:
    # Train-mode batch norm (batch statistics), as ``Trainer.sample`` and the lessons sample.
    return evaluate_images(G(z).float(), classifier)


def measure(runs: dict, *, steps: int, eval_every: int, warmup: int, batch_size: int, classifier,
            z: torch.Tensor, threshold: float, device: torch.device) -> dict:
    """Train every run ``steps`` steps in chunks of ``eval_every``, the runs taking turns chunk by chunk.

    Taking turns exposes both loops to the same machine load (a shared CPU drifts by 10-20% over a
    minute). Only training is timed; each run is scored after each chunk with the clock stopped.
    """
    results = {}
    for name, (G, train_chunk) in runs.items():
        train_chunk(warmup)  # first calls allocate, pick kernels, start workers: not steady state
        _sync(device)
        results[name] = {"seconds": 0.0, "reached": None, "final": None, "G": G, "train_chunk": train_chunk}
    done = warmup
    while done < steps:
        chunk = min(eval_every, steps - done)
        for name, r in results.items():
            start = time.perf_counter()
            r["train_chunk"](chunk)
            _sync(device)
            r["seconds"] += time.perf_counter() - start
            r["final"] = _score(r["G"], z, classifier)
            passed = r["final"].classes_covered == r["final"].num_classes and r["final"].confident_fraction >= threshold
            if passed and r["reached"] is None:
                r["reached"] = (done + chunk, r["seconds"])
            print(f"  {name:9s} step {done + chunk:5d}  {r['seconds']:7.1f}s  {r['final']}", flush=True)
        done += chunk
    for r in results.values():
        r["images_per_s"] = (steps - warmup) * batch_size / r["seconds"]
        del r["G"], r["train_chunk"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="digits", help="image dataset (default digits: offline)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--steps", type=int, default=600, help="generator steps per method, warm-up included")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--width", type=int, default=32, help="DCGAN base channels (the paper's is 64 or more)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers for the textbook loop")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="quality bar: all classes present and this fraction of samples classified with "
                             "confidence >= 0.9")
    parser.add_argument("--methods", nargs="+", choices=("textbook", "gancourse"), default=["textbook", "gancourse"],
                        help="which loops to run (default: both)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate of both players (default: the DCGAN paper's 2e-4)")
    parser.add_argument("--latent-components", type=int, default=0,
                        help="feed G with DeLiGAN's mixture latent of this many components (lesson 2; default 0: "
                             "the plain Gaussian)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decay", type=float, nargs=2, default=None, metavar=("START", "FINAL"),
                        help="gancourse loop only: hold the rates until START * steps, then decay them "
                             "geometrically to FINAL times their value (lesson 2's schedule)")
    args = parser.parse_args()
    if args.decay is not None and "textbook" in args.methods:
        parser.error("--decay applies to the gancourse loop only: add --methods gancourse")
    if args.threads:
        torch.set_num_threads(args.threads)
    lr = {} if args.lr is None else {"lr_g": args.lr, "lr_d": args.lr}
    cfg = preset("dcgan", device=args.device, steps=args.steps, seed=args.seed, **lr)
    device = pick_device(cfg.device)
    classifier = load_classifier(args.data, device=device)
    z = torch.randn(500, cfg.z_dim, generator=torch.Generator().manual_seed(123)).to(device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none"
    print(f"torch {torch.__version__}, {platform.machine()}, device {device} ({gpu}), "
          f"threads {torch.get_num_threads()}, data {args.data}, width {args.width}, batch {cfg.batch_size}, "
          f"steps {args.steps}, workers {args.workers}, lr {cfg.lr_g:g}, latent components "
          f"{args.latent_components or 'none'}, seed {cfg.seed}")
    common = dict(steps=args.steps, eval_every=args.eval_every, warmup=args.warmup, batch_size=cfg.batch_size,
                  classifier=classifier, z=z, threshold=args.threshold, device=device)
    k = args.latent_components
    runs = {"textbook": lambda: textbook_run(args.data, cfg, args.width, args.workers, k),
            "gancourse": lambda: gancourse_run(args.data, cfg, args.width, k, args.decay)}
    results = measure({name: runs[name]() for name in args.methods}, **common)
    print(f"\n{'method':10s} {'images/s':>9s} {'train s':>8s} {'threshold reached':>24s}  final quality")
    for name, r in results.items():
        reached = "not reached" if r["reached"] is None else f"step {r['reached'][0]} after {r['reached'][1]:.1f}s"
        print(f"{name:10s} {r['images_per_s']:9.0f} {r['seconds']:8.1f} {reached:>24s}  {r['final']}")
    if len(results) == 2:
        ratio = results["gancourse"]["images_per_s"] / results["textbook"]["images_per_s"]
        print(f"gancourse / textbook throughput: {ratio:.2f}x")


if __name__ == "__main__":
    main()
