"""Does the plain GAN collapse in the papers' setting within a CPU budget, and in lesson 2's?

Trains one method of ``gancourse.experiments.mixtures`` in ``PAPER_SETUP`` (VEEGAN / Metz et al.: z 256,
2 x FC128 tanh, Adam beta1 0.5, lr 1e-4 for D and 1e-3 for G, batch 512) or in ``COLLAPSE_SETUP``
(lesson 2's), for ``--steps`` steps, and prints every ``--every`` steps the protocol's score of 2,500
samples: modes captured / % HQ / % of all samples nearest the most popular mode.

    python benchmarks/lesson2_collapse.py --setup paper --data ring --seeds 0 1 --steps 6000 --every 250

One CPU thread per run, as the notebook's worker processes use. Results: ``RESULTS.md``.
"""
from __future__ import annotations

import argparse
import time

import torch

from gancourse.experiments.collapse import COLLAPSE_METHODS, COLLAPSE_SETUP, PAPER_SETUP
from gancourse.experiments.mixtures import run_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=("paper", "collapse"), default="paper")
    parser.add_argument("--data", choices=("ring", "grid"), default="ring")
    parser.add_argument("--method", choices=list(COLLAPSE_METHODS), default="GAN")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=None, help="default: the setup's own")
    parser.add_argument("--every", type=int, default=250)
    args = parser.parse_args()
    setup = PAPER_SETUP if args.setup == "paper" else COLLAPSE_SETUP
    if args.steps is not None:
        setup = setup.replace(steps=args.steps)
    torch.set_num_threads(1)
    print(setup)
    for seed in args.seeds:
        start = time.perf_counter()
        result = run_method(args.data, COLLAPSE_METHODS[args.method], setup, seed, device="cpu",
                            trace_every=args.every)
        trace = " ".join(f"{step}:{modes}/{100 * hq:.0f}/{100 * top:.0f}" for step, modes, hq, top in result.trace)
        print(f"{args.data} | {args.method} | seed {seed} | {result.coverage} | "
              f"{time.perf_counter() - start:.0f}s | step:modes/%HQ/%top {trace}", flush=True)


if __name__ == "__main__":
    main()
