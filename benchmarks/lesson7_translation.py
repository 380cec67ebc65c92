"""Lesson 7, image-to-image translation: pix2pix's three arms (L1, L1 + cGAN, cGAN) on x4 super-resolution and
inpainting, with the non-GAN floor (bicubic / the masked input) and the truth, measured.

Settings are chosen on the tuning seeds (``TUNING_SEEDS``: 0 and 1) and reported on other seeds (2, 3, 4 by
default), never on the seeds they were tuned on:

    python benchmarks/lesson7_translation.py --seeds 0 --steps 600            # tuning
    python benchmarks/lesson7_translation.py --seeds 2 3 4 --steps 600        # report

Each line is one run; then per task a table (mean +- SE over seeds: PSNR, SSIM, the classifier's accuracy on the
outputs against the target's label, Frechet distance to other real images, seconds), the floor and the truth,
and whether the runs show the papers' direction beyond two standard errors (L1 + cGAN against L1: lower PSNR,
lower Frechet distance), as independent means and paired by seed (the arms of one seed share G's initial weights
and batches), then the CPU seconds (this process and its workers) and the load average.
"""
from __future__ import annotations

import argparse
import os
import time

from lesson7_common import cpu_seconds, run_kind

from gancourse.experiments.core import pm, verdict
from gancourse.experiments.translation import (
    ARMS,
    FLOORS,
    TASKS,
    TRANSLATION_SETUP,
    TUNING_SEEDS,
    paired_difference,
    reference_rows,
    run_translations,
    translation_summary,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--steps", type=int, default=TRANSLATION_SETUP.steps)
    parser.add_argument("--lr", type=float, default=TRANSLATION_SETUP.lr_g, help="G's and D's learning rate")
    parser.add_argument("--width", type=int, default=TRANSLATION_SETUP.width)
    parser.add_argument("--l1-weight", type=float, default=TRANSLATION_SETUP.l1_weight)
    parser.add_argument("--samples", type=int, default=TRANSLATION_SETUP.samples)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    kind = run_kind(args.seeds, TUNING_SEEDS, "seeds")
    setup = TRANSLATION_SETUP.replace(steps=args.steps, lr_g=args.lr, lr_d=args.lr, width=args.width,
                                      l1_weight=args.l1_weight, samples=args.samples)
    print(f"{kind} seeds {args.seeds}: {args.steps} steps, lr {args.lr:g}, width {args.width}, lambda "
          f"{args.l1_weight:g}, {args.samples} test images, {args.workers} worker(s)")
    start, cpu_start = time.perf_counter(), cpu_seconds()
    results = [r for r, _ in run_translations(args.tasks, args.seeds, setup, args.arms, workers=args.workers)]
    references = [r for task in args.tasks for r in reference_rows(task, setup)]
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    for r in results:
        print(f"{r.task:16s} {r.method:10s} seed {r.seed}: PSNR {r.psnr:6.2f} dB  SSIM {r.ssim:.3f}  "
              f"label acc {100 * r.accuracy:5.1f}%  Frechet {r.frechet:7.1f}  {r.seconds:6.1f}s")
    table = translation_summary(results + references)
    for task in args.tasks:
        print(f"\n{task}\n| arm | seeds | PSNR dB | SSIM | label accuracy % | Frechet distance | seconds |\n"
              "|---|---|---|---|---|---|---|")
        for method in (*args.arms, FLOORS[task], "truth"):
            row = table[(task, method)]
            seeds = "-" if method in (FLOORS[task], "truth") else ", ".join(map(str, args.seeds))
            print(f"| {method} | {seeds} | {pm(row['PSNR dB'], digits=2)} | {pm(row['SSIM'], digits=3)} | "
                  f"{pm(row['label accuracy %'])} | {pm(row['Frechet distance'])} | {pm(row['seconds'])} |")
        if {"L1", "L1 + cGAN"} <= set(args.arms):
            l1, both = table[(task, "L1")], table[(task, "L1 + cGAN")]
            print(f"L1 + cGAN against L1: PSNR {verdict(both['PSNR dB'], l1['PSNR dB'])}, SSIM "
                  f"{verdict(both['SSIM'], l1['SSIM'])}, label accuracy "
                  f"{verdict(both['label accuracy %'], l1['label accuracy %'])}, realism (Frechet) "
                  f"{verdict(both['Frechet distance'], l1['Frechet distance'], higher_is_better=False)}")
            paired = []
            for measure, name, higher in (("psnr", "PSNR", True), ("ssim", "SSIM", True),
                                          ("accuracy", "label accuracy", True), ("frechet", "Frechet", False)):
                diff = paired_difference(results, task, "L1 + cGAN", "L1", measure)
                paired.append(f"{name} {pm(diff, digits=3)} ({verdict(diff, 0.0, higher_is_better=higher)})")
            print("paired by seed, L1 + cGAN minus L1: " + ", ".join(paired))
    print(f"\nwall {wall:.0f}s, CPU {cpu:.0f}s, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
