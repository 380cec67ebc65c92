"""How lesson 2's precision (% high-quality samples) depends on the training budget.

Trains one remedy of ``gancourse.experiments.mixtures`` on the ring or the grid with the notebook's
``MixtureSetup``, changed by ``--set field=value`` (any of its ``settings()``), and prints for every seed the
VEEGAN / PacGAN score, the training time, and where the samples that miss the 3-std discs lie:
just outside (3 to 6 std: modes too wide) or far (> 6 std: the "bridges" between modes).

    python benchmarks/mixture_precision.py --data grid --method "minibatch std" --seeds 0 1 \\
        --set batch_size=512 beta1=0 beta2=0.9

One CPU thread per run, as the notebook's worker processes use. Results: ``RESULTS.md``.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from gancourse.data import make_mixture
from gancourse.experiments.mixtures import METHODS, MixtureSetup, run_method
from gancourse.metrics.mixtures import nearest_mode_distance


def parse_setup(pairs: list[str], steps: int) -> MixtureSetup:
    """``["batch_size=512", "beta1=0"]`` -> the notebook's ``MixtureSetup`` with those settings changed."""
    settings = MixtureSetup().settings()
    changes: dict = {"steps": steps}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in settings:
            raise SystemExit(f"--set takes field=value with a MixtureSetup setting, got {pair!r}; "
                             f"settings: {', '.join(settings)}")
        kind = type(settings[name])
        changes[name] = text.lower() in ("1", "true", "yes") if kind is bool else kind(text)
    return MixtureSetup().replace(**changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=("ring", "grid"), default="grid")
    parser.add_argument("--method", choices=list(METHODS), default="minibatch std")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--components", type=int, default=None,
                        help="K of the mixture latent (DeLiGAN) for a mixture-latent method; default: its own")
    args = parser.parse_args()
    method = METHODS[args.method]
    if args.components is not None:
        if not method.latent_components:
            raise SystemExit(f"--components needs a mixture-latent method, got {args.method!r}")
        method = dataclasses.replace(method, latent_components=args.components,
                                     name=f"{method.name} (K={args.components})")
    setup = parse_setup(args.set, args.steps)
    torch.set_num_threads(1)
    mixture = make_mixture(args.data)
    print(setup)
    hq = []
    for seed in args.seeds:
        result = run_method(args.data, method, setup, seed, device="cpu")
        dist = nearest_mode_distance(result.samples, mixture.centres)[0] / mixture.std
        near = float(((dist > 3) & (dist <= 6)).float().mean())
        far = float((dist > 6).float().mean())
        hq.append(100 * result.coverage.hq_fraction)
        print(f"{args.data} | {method.name} | seed {seed} | {result.coverage} | {result.seconds:.1f}s | "
              f"missed: {100 * near:.1f}% at 3-6 std, {100 * far:.1f}% beyond 6 std", flush=True)
    if len(hq) > 1:
        print(f"mean % HQ {statistics.mean(hq):.1f} (standard error {statistics.stdev(hq) / len(hq) ** 0.5:.1f})")


if __name__ == "__main__":
    main()
