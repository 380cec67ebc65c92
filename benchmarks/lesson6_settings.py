"""How lesson 6's comparison settings were chosen, on tuning seeds only (the notebook reports seeds 6, 7, 8).

Mixtures: the four games of ``gancourse.experiments.stabilisers`` in lesson 2's modern setting with the learning rates
decayed (lesson 2's schedule) or held constant (``--constant``), each scored for its live G and its average.
Digits: the four games on ``IMAGE_SETUP`` with a chosen learning rate and half-life.

    python benchmarks/lesson6_settings.py mixtures --seeds 0 1 --constant
    python benchmarks/lesson6_settings.py digits --seeds 0 --lr 1e-3 --half-life 20

Two worker processes, one thread each, as the notebook runs. Results: ``RESULTS.md``.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

from gancourse.experiments.mixtures import MixtureSetup, run_benchmark
from gancourse.experiments.stabilisers import IMAGE_SETUP, STABILISERS, run_stabiliser_images


def mixtures(args) -> None:
    setup = MixtureSetup().replace(steps=args.steps, decay_to=1.0 if args.constant else MixtureSetup().decay_to)
    methods = [replace(m, ema_half_life=args.half_life, r1_gamma=args.r1_gamma if m.r1_gamma else 0.0)
               for m in STABILISERS.values() if m.name in args.games]
    for result in run_benchmark(["ring", "grid"], methods, args.seeds, setup, device="cpu", workers=2, progress=False):
        live, ema = result.coverage, result.ema_coverage
        print(f"{result.data:4s} {result.method:12s} seed {result.seed}: live G {live.modes_captured:2d} modes "
              f"{100 * live.hq_fraction:5.1f}% HQ | average {ema.modes_captured:2d} modes "
              f"{100 * ema.hq_fraction:5.1f}% HQ | {result.seconds:.1f}s")


def digits(args) -> None:
    setup = IMAGE_SETUP.replace(steps=args.steps, lr_g=args.lr, lr_d=args.lr, ema_half_life=args.half_life)
    for r in run_stabiliser_images(args.games, args.seeds, setup, workers=2, device="cpu"):
        print(f"{r.method:12s} seed {r.seed}: live G Frechet {r.score.frechet:7.1f} P {r.score.precision:.2f} "
              f"R {r.score.recall:.2f} classes {r.score.classes} | average Frechet {r.ema_score.frechet:7.1f} "
              f"P {r.ema_score.precision:.2f} R {r.ema_score.recall:.2f} | {r.seconds:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", choices=("mixtures", "digits"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--games", nargs="+", default=list(STABILISERS), choices=list(STABILISERS))
    parser.add_argument("--steps", type=int, default=None, help="default: 2000 (mixtures), 300 (digits)")
    parser.add_argument("--constant", action="store_true", help="mixtures: constant learning rates")
    parser.add_argument("--half-life", type=float, default=None, help="default: 200 (mixtures), 20 (digits)")
    parser.add_argument("--r1-gamma", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=1e-3, help="digits: the one learning rate")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.data == "mixtures":
        args.steps, args.half_life = args.steps or 2000, args.half_life or 200.0
        mixtures(args)
    else:
        args.steps, args.half_life = args.steps or 300, args.half_life or 20.0
        digits(args)
    print(f"{time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
