"""Throughput of the training loop: steps/s and images/s for two setups on the available device.

Usage: python benchmarks/train_throughput.py [--steps 200] [--device auto]
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from gancourse.config import TrainConfig, preset
from gancourse.train import Trainer


def measure(data: str, model: str, cfg: TrainConfig, warmup: int = 10, width: int | None = None) -> tuple[float, float]:
    """(generator steps/s, images/s through D) over ``cfg.steps - warmup`` steps after ``warmup`` untimed ones."""
    trainer = Trainer.from_names(data, model, cfg, width=width)
    trainer.train(steps=warmup, progress=False)
    if trainer.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.train(progress=False)
    if trainer.is_cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    steps = cfg.steps - warmup
    return steps / seconds, steps * cfg.batch_size * (cfg.n_critic + 1) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, threads {torch.get_num_threads()}")
    setups = [
        ("ring", "mlp", TrainConfig(batch_size=512, z_dim=64, steps=args.steps, device=args.device)),
        ("digits", "dcgan", preset("dcgan", steps=args.steps, device=args.device)),
    ]
    for data, model, cfg in setups:
        steps_per_s, samples_per_s = measure(data, model, cfg)
        print(f"{data:8s} {model:6s} batch {cfg.batch_size:4d}: {steps_per_s:8.1f} steps/s, "
              f"{samples_per_s:10.0f} samples/s through D")


if __name__ == "__main__":
    main()
