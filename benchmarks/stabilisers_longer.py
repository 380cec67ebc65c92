"""Lesson 6's four games on digits, trained past the notebook's budget: at what length do they separate?

The notebook (section 5) trains NS-GAN, WGAN-GP, hinge + SN and NS-GAN + R1 on ``digits`` with ``IMAGE_SETUP``
(a width-16 DCGAN, batch 64, Adam (0, 0.9), lr 1e-3, z 64) for 300 generator steps on seeds 6, 7, 8, and scores
each run's live G and its average on 1,000 fixed latent codes against 1,000 real test digits, with the cached
``digits`` classifier (600 steps). This script runs exactly that (``run_stabiliser_images``, the same setup,
classifier, codes and real reference) for ``--steps`` generator steps and scores every run every ``--every``
steps on the way (``checkpoints``: scoring does not change the run, so the point at step s is a run of s steps).
It writes the curves per (game, seed, live G or average) with the run's wall and CPU seconds, the load, the
torch version and each game's training settings to ``gancourse/data/cached/stabilisers_digits.json``, with the
final samples of seed 6 on the notebook's 36 picture codes (uint8, base64), which notebook 06 plots as
"Budget or method?".

    OMP_NUM_THREADS=1 python benchmarks/stabilisers_longer.py --steps 2400 --every 300 --workers 2
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gancourse.experiments.stabilisers import (  # noqa: E402
    IMAGE_SETUP,
    STABILISERS,
    build_image_trainer,
    image_generator,
    run_stabiliser_images,
)

OUT = Path(__file__).resolve().parents[1] / "gancourse" / "data" / "cached" / "stabilisers_digits.json"
REPORT_SEEDS = (6, 7, 8)
CLASSIFIER_STEPS = 600   # the notebook's full-mode classifier
PICTURE_SEED = 0         # the notebook's 36 picture codes: torch.randn(36, z_dim, generator=manual_seed(0))
MEASURES = ("frechet", "precision", "recall", "density", "coverage", "classes")


class LoadSampler:
    """The 1-minute load average every ``every`` seconds in a background thread, while the runs train."""

    def __init__(self, every: float = 30.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(every)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def game_settings(setup) -> dict:
    """What each game trains with beyond the shared setup: its config and the networks it builds."""
    settings = {}
    for name in STABILISERS:
        trainer = build_image_trainer(name, setup.replace(steps=1), device="cpu")
        config = {k: v for k, v in vars(trainer.cfg).items() if k not in ("device", "seed", "steps")}
        settings[name] = {"config": config,
                          "networks": {k: trainer.setup[k] for k in ("g_norm", "d_norm", "spectral_norm")}}
    return settings


def curve_rows(results) -> list[dict]:
    """One row per (game, seed, live G or average): the steps and every measure along them."""
    rows = []
    for r in results:
        for ema, which in ((False, 1), (True, 2)):
            row = {"game": r.method, "seed": r.seed, "ema": ema, "training_seconds": round(r.seconds, 1),
                   "step": [point[0] for point in r.curve]}
            row.update({m: [(int if m == "classes" else float)(getattr(point[which], m)) for point in r.curve]
                        for m in MEASURES})
            rows.append(row)
    return rows


def final_samples(results, setup, seed: int) -> dict:
    """uint8 base64 pictures of each game's live G and average of ``seed`` on the notebook's 36 codes."""
    z = torch.randn(36, setup.z_dim, generator=torch.Generator().manual_seed(PICTURE_SEED))
    games, shape = {}, None
    for r in results:
        if r.seed != seed:
            continue
        games[r.method] = {}
        for ema, key in ((False, "live"), (True, "ema")):
            with torch.no_grad():
                images = image_generator(r, setup, ema)(z)
            pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
            shape = list(pixels.shape)
            games[r.method][key] = base64.b64encode(pixels.numpy().tobytes()).decode("ascii")
    return {"shape": shape, "codes_seed": PICTURE_SEED, "training_seed": seed, "step": setup.steps,
            "uint8_base64": games}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--every", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(REPORT_SEEDS),
                        help="the notebook's report seeds; others only for a smoke test with --out elsewhere")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.every < 1 or args.steps < args.every:
        parser.error(f"need 1 <= --every <= --steps, got --every {args.every} --steps {args.steps}")
    if args.out == OUT and tuple(args.seeds) != REPORT_SEEDS:
        parser.error(f"the cached file holds the report seeds {REPORT_SEEDS}; write other seeds with --out")
    setup = IMAGE_SETUP.replace(steps=args.steps)
    checkpoints = sorted({*range(args.every, args.steps + 1, args.every), args.steps})
    torch.set_num_threads(1)
    print(f"{len(STABILISERS)} games x seeds {args.seeds}, {args.steps} steps, scored at {checkpoints}, "
          f"{args.workers} workers", flush=True)
    load_start = os.getloadavg()
    start, cpu = time.perf_counter(), time.process_time()
    with LoadSampler() as load:
        results = run_stabiliser_images(list(STABILISERS), args.seeds, setup, classifier_steps=CLASSIFIER_STEPS,
                                        workers=args.workers, device="cpu", progress=True, checkpoints=checkpoints)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, joined by now
    cpu_seconds = time.process_time() - cpu + children.ru_utime + children.ru_stime
    record = {"setup": {k: v for k, v in setup.settings().items()}, "games": game_settings(setup),
              "classifier_steps": CLASSIFIER_STEPS, "seeds": list(args.seeds), "steps": args.steps,
              "every": args.every, "checkpoints": checkpoints, "wall_seconds": round(seconds, 1),
              "cpu_seconds": round(cpu_seconds, 1), "workers": args.workers, "threads": 1,
              "load_average": {"start": list(load_start), "end": list(os.getloadavg()),
                               "sampled_1min": {"min": min(load.samples), "max": max(load.samples),
                                                "mean": round(sum(load.samples) / len(load.samples), 2)}},
              "machine": platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
              "runs": curve_rows(results), "samples": final_samples(results, setup, args.seeds[0])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{len(results)} runs of {args.steps} steps in {seconds:.0f}s wall, {cpu_seconds:.0f}s CPU "
          f"(1-min load {min(load.samples):.1f}-{max(load.samples):.1f}); written to {args.out}")


if __name__ == "__main__":
    main()
