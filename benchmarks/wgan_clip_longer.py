"""Lesson 4's clipped WGAN on digits, trained past the notebook's budget: is its lag budget or method?

The notebook (section 6, "Budget or method?") trains the clipped WGAN of the WGAN paper (RMSprop 5e-5, c = 0.01,
5 critic steps per generator step) on ``digits`` for 1,000 generator steps, with the same network (a width-32
DCGAN, the critic with layer norm), batch, latent size, seed and classifier checks as here. This script runs the
same configuration for ``--steps`` generator steps, scores it every 100 steps exactly as the notebook does
(``image_quality_callback``: 1,000 samples from fixed latent codes, the cached ``digits`` classifier), and writes
the learning curve with the run's wall and CPU seconds to ``gancourse/data/cached/wgan_clip_digits.json``, which
the notebook plots next to its own 1,000-step curve (the two agree over the shared steps up to floating-point
differences between thread counts), and 36 samples of the final G (uint8, base64) for its picture.

    python benchmarks/wgan_clip_longer.py --steps 3000
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gancourse.config import preset  # noqa: E402
from gancourse.metrics import image_quality_callback, load_classifier  # noqa: E402
from gancourse.train import Trainer  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "gancourse" / "data" / "cached" / "wgan_clip_digits.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    classifier = load_classifier("digits", steps=600, verbose=False)
    quality = image_quality_callback(classifier, every=100, n=1000, verbose=True)
    cfg = preset("wgan", z_dim=64, batch_size=64, steps=args.steps, seed=0, device="cpu")
    trainer = Trainer.from_names("digits", "dcgan", cfg, width=32, callbacks=[quality])
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train(progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    table = quality.table()
    z = torch.randn(36, cfg.z_dim, generator=torch.Generator().manual_seed(36))
    samples = ((trainer.sample(z=z).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    record = {"config": {k: v for k, v in vars(cfg).items() if k != "device"}, "width": 32, "data": "digits",
              "steps": args.steps, "wall_seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
              "threads": torch.get_num_threads(), "load_average": os.getloadavg(), "machine": platform.machine(),
              "torch": torch.__version__, "curve": table,
              "samples": {"shape": list(samples.shape), "seed": 36,
                          "uint8_base64": base64.b64encode(samples.numpy().tobytes()).decode("ascii")}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{args.steps} steps in {seconds:.0f}s wall, {cpu_seconds:.0f}s CPU; written to {args.out}")


if __name__ == "__main__":
    main()
