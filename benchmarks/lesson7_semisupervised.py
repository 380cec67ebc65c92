"""Lesson 7, semi-supervised classification: the labels-only D against the semi-supervised GAN's D, measured.

Settings are chosen on the tuning draws (``TUNING_DRAWS``: 0 and 1) and reported on other draws (2, 3, 4 by
default), never on the draws they were tuned on:

    python benchmarks/lesson7_semisupervised.py --draws 0 1 --steps 1000 --every 100      # tuning
    python benchmarks/lesson7_semisupervised.py --draws 2 3 4 --steps 1000                 # report

Each line is one run (arm, draw, test error at the end and at the checkpoints, G's Frechet distance, seconds);
then the table (mean +- SE over the draws), the two-standard-error verdict of the GAN against labels only, and
the CPU seconds of the whole benchmark (this process and its workers) with the load average. ``--workers 2``
runs as the notebook would (one thread per process); the default, 1, keeps a shared machine's second core free.
"""
from __future__ import annotations

import argparse
import os
import time

from lesson7_common import cpu_seconds, run_kind

from gancourse.experiments.core import pm, verdict
from gancourse.experiments.semisupervised import (
    ARMS,
    PUBLISHED_MNIST_100,
    SEMISUPERVISED_SETUP,
    TUNING_DRAWS,
    run_semisupervised_all,
    semisupervised_summary,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--steps", type=int, default=SEMISUPERVISED_SETUP.steps)
    parser.add_argument("--lr", type=float, default=SEMISUPERVISED_SETUP.lr_d, help="D's (and G's) learning rate")
    parser.add_argument("--lr-g", type=float, default=None, help="G's learning rate (default: --lr)")
    parser.add_argument("--hidden", type=int, nargs="+", default=list(SEMISUPERVISED_SETUP.d_hidden))
    parser.add_argument("--weight", type=float, default=SEMISUPERVISED_SETUP.unsupervised_weight,
                        help="weight of the unsupervised loss")
    parser.add_argument("--per-class", type=int, default=SEMISUPERVISED_SETUP.per_class)
    parser.add_argument("--every", type=int, default=0, help="record the test error every N steps (0: at the end)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    kind = run_kind(args.draws, TUNING_DRAWS, "draws")
    checkpoints = tuple(range(args.every, args.steps + 1, args.every)) if args.every > 0 else ()
    args.lr_g = args.lr if args.lr_g is None else args.lr_g
    setup = SEMISUPERVISED_SETUP.replace(steps=args.steps, lr_d=args.lr, lr_g=args.lr_g, d_hidden=tuple(args.hidden),
                                         unsupervised_weight=args.weight, per_class=args.per_class,
                                         checkpoints=checkpoints)
    print(f"{kind} draws {args.draws}: {args.steps} steps, lr {args.lr:g} (G {args.lr_g:g}), D hidden "
          f"{tuple(args.hidden)}, unsupervised weight {args.weight:g}, {args.per_class} labels per class, "
          f"{args.workers} worker(s)")
    start, cpu_start = time.perf_counter(), cpu_seconds()
    results = [r for r, _ in run_semisupervised_all(args.draws, setup, args.arms, workers=args.workers)]
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    for r in results:
        curve = " ".join(f"{step}:{100 * err:.1f}" for step, err in r.curve.items())
        print(f"{r.method:20s} draw {r.seed}: test error {100 * r.error:5.2f}%  Frechet {r.frechet:7.1f}  "
              f"{r.seconds:6.1f}s  {curve}")
    table = semisupervised_summary(results)
    print("\n| arm | draws | test error % | Frechet distance of G | seconds per run |\n|---|---|---|---|---|")
    for arm, row in table.items():
        fd = pm(row["Frechet distance"]) if "Frechet distance" in row else "-"
        print(f"| {arm} | {', '.join(map(str, args.draws))} | {pm(row['test error %'], digits=2)} | {fd} | "
              f"{pm(row['seconds'])} |")
    if set(ARMS) <= set(table):
        gan, alone = table["semi-supervised GAN"]["test error %"], table["labels only"]["test error %"]
        print(f"\nsemi-supervised GAN vs labels only (test error, lower is better): "
              f"{verdict(gan, alone, higher_is_better=False)}")
    mean, se = PUBLISHED_MNIST_100
    print(f"published (Salimans et al. 2016, MNIST, 100 labels, 300 epochs; check): {mean / 100:.2f}% ± {se / 100:.3f}")
    print(f"\nwall {wall:.0f}s, CPU {cpu:.0f}s, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
