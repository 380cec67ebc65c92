"""Lesson 7, anomaly detection: the GAN's scores (D's output, f-AnoGAN) against PCA and k-NN, AUROC per held-out
digit, measured.

Settings (steps, the encoder's steps) are fixed on the tuning seeds (``TUNING_SEEDS``: 0 and 1) before any report
seed's test score is seen; report on other seeds (2, 3, 4 by default):

    python benchmarks/lesson7_anomaly.py --digits 3 7 --seeds 0 --steps 300            # tuning
    python benchmarks/lesson7_anomaly.py --digits 3 7 --seeds 2 3 4 --steps 300        # report

Each line is one run; then the table (mean +- SE of AUROC over seeds, per digit and pooled), the best score by
the two-standard-error rule, and the CPU seconds (this process and its workers) with the load average.
"""
from __future__ import annotations

import argparse
import os
import time

from lesson7_common import cpu_seconds, run_kind

from gancourse.experiments.anomaly import ANOMALY_SETUP, SCORES, TUNING_SEEDS, anomaly_summary, run_anomalies
from gancourse.experiments.core import best_and_on_par, pm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, nargs="+", default=[3, 7])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--steps", type=int, default=ANOMALY_SETUP.steps)
    parser.add_argument("--encoder-steps", type=int, default=ANOMALY_SETUP.encoder_steps)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    kind = run_kind(args.seeds, TUNING_SEEDS, "seeds")
    setup = ANOMALY_SETUP.replace(steps=args.steps, encoder_steps=args.encoder_steps)
    print(f"{kind} seeds {args.seeds}, held-out digits {args.digits}: GAN {args.steps} steps, encoder "
          f"{args.encoder_steps} steps, {args.workers} worker(s)")
    start, cpu_start = time.perf_counter(), cpu_seconds()
    results = run_anomalies(args.digits, args.seeds, setup, workers=args.workers)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    for r in results:
        print(f"digit {r.anomaly} seed {r.seed}: " + "  ".join(f"{n} {a:.3f}" for n, a in r.aurocs.items())
              + f"  ({r.seconds:.0f}s training)")
    table = anomaly_summary(results)
    print("\n| held-out digit | seeds | " + " | ".join(SCORES) + " |\n|" + "---|" * (len(SCORES) + 2))
    for key in (*args.digits, "all"):
        print(f"| {key} | {', '.join(map(str, args.seeds))} | "
              + " | ".join(pm(table[key][n], digits=3) for n in SCORES) + " |")
    pooled = {name: {"AUROC": table["all"][name]} for name in SCORES}
    best, on_par = best_and_on_par(pooled, list(SCORES), "AUROC")
    print(f"\nbest pooled AUROC: {best}; on par with it (2 SE): {', '.join(on_par)}")
    print(f"wall {wall:.0f}s, CPU {cpu:.0f}s, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
