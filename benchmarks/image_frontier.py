"""Image quality per CPU-second: one row per lever, so that the image lessons' defaults are chosen by measurement.

Every run is the one runner's run (``experiments.core.Setup.trainer``: ``Trainer.from_names``) of a DCGAN on an
image dataset, scored every ``--eval-every`` generator steps on ``--samples`` fixed latent codes
(``experiments.core.fixed_codes``) by the course classifier (``metrics.load_classifier``): classes covered,
the fraction of samples classified with confidence >= 0.9, and the Frechet distance of the classifier's features.
Runs with an average of G's weights are scored twice, raw G and average, from the same run. The clock stops
while a run is scored, so ``seconds`` is training time only.

A lever is a named set of changes to the base setup (``LEVERS``): config fields (loss, rates, betas, batch,
R1, EMA half-life), model fields (width, D's spectral norm) or the mixture latent. The report gives, per lever,
the first step and second at which the bar (every class present and at least ``--bar`` confident) is met, and
the confident fraction over the last third of the run (mean and minimum over its checkpoints): "held", as the
issue asks, means that minimum clears the bar.

    python benchmarks/image_frontier.py --levers "as is" "hinge + SN" --seeds 10 11 --steps 3000 --jobs 2 --threads 1
    python benchmarks/image_frontier.py --report results.jsonl   # the table again, from the saved rows

``--jobs 2 --threads 1`` runs two levers at once, one core each; a time measured that way is a 1-core time.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gancourse.config import preset  # noqa: E402
from gancourse.experiments.conditional import CONDITIONAL_IMAGE_SETUP  # noqa: E402
from gancourse.experiments.core import Setup, fixed_codes, mean_and_standard_error, pm  # noqa: E402
from gancourse.experiments.stabilisers import IMAGE_SETUP, truncated_normal  # noqa: E402

BASES = {
    "lesson3": Setup(preset("dcgan", device="cpu", log_every=50), model="dcgan", width=32, data="digits", samples=500),
    "lesson5": CONDITIONAL_IMAGE_SETUP.replace(samples=500),
    "lesson6": IMAGE_SETUP.replace(samples=500),
}
"""The setups the levers change: lesson 3's main run (the DCGAN paper's settings: Adam 2e-4, beta1 0.5, batch 128,
z 100; width 32), lesson 5's conditional image runs and lesson 6's image comparison (width 16, Adam (0, 0.9),
lr 1e-3, batch 64, z 64)."""

_EMA = dict(ema_half_life=100.0)  # every lever's run is also scored through an average of G: one run, two rows
_HINGE_SN = dict(loss="hinge", spectral_norm=True, beta1=0.0, beta2=0.9)
LEVERS: dict[str, dict] = {
    "as is": dict(_EMA),  # the base setup unchanged (lesson 3: the DCGAN paper's settings)
    "lr 5e-4": dict(lr_g=5e-4, lr_d=5e-4, **_EMA),
    "lr 5e-4, beta2 0.99": dict(lr_g=5e-4, lr_d=5e-4, beta2=0.99, **_EMA),
    "lr 1e-3, betas (0, 0.9)": dict(lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.9, **_EMA),
    "hinge + SN": dict(_HINGE_SN, **_EMA),
    "hinge + SN, TTUR 1e-4 / 4e-4": dict(_HINGE_SN, lr_g=1e-4, lr_d=4e-4, **_EMA),
    "hinge + SN, lr 5e-4": dict(_HINGE_SN, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "NS + R1 (gamma 1)": dict(r1_gamma=1.0, **_EMA),
    "batch 64, lr 5e-4": dict(batch_size=64, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "batch 256, lr 5e-4": dict(batch_size=256, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "width 16, lr 5e-4": dict(width=16, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "width 48, lr 5e-4": dict(width=48, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "width 32": dict(width=32, **_EMA),
    "Adam 2e-4, betas (0.5, 0.999)": dict(lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, **_EMA),
    "hinge + SN, width 32": dict(_HINGE_SN, width=32, **_EMA),
    # lesson 2's remedy for samples between modes: DeLiGAN's mixture latent (Gurumurthy et al. 2017) in front of G
    "mixture latent K 100, lr 5e-4": dict(latent_components=100, lr_g=5e-4, lr_d=5e-4, **_EMA),
    "mixture latent K 100": dict(latent_components=100, **_EMA),
    # AC-GAN as Odena et al. 2017 fed it: the label enters G's input too (here only the conditional batch norm has it)
    "label in G's input": dict(label_in_input=True, **_EMA),
    "mixture latent K 100, hinge + SN": dict(_HINGE_SN, latent_components=100, **_EMA),
    "mixture latent K 100, hinge + SN, lr 5e-4": dict(_HINGE_SN, latent_components=100, lr_g=5e-4, lr_d=5e-4,
                                                       **_EMA),
}


class _LabelInInput(torch.nn.Module):
    """G(z, y) = G'([z, e(y)], y): a conditional DCGAN generator that also sees a learned label embedding e(y) in
    its input, as AC-GAN's generator does (Odena et al. 2017, Sec. 3), besides its conditional batch norm."""

    def __init__(self, z_dim: int, num_classes: int, width: int, embed_dim: int = 10) -> None:
        super().__init__()
        from gancourse.models.conditional import ConditionalDCGANGenerator

        self.z_dim, self.num_classes = z_dim, num_classes
        self.embed = torch.nn.Embedding(num_classes, embed_dim)
        self.inner = ConditionalDCGANGenerator(z_dim + embed_dim, width=width, num_classes=num_classes)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.cat([z, self.embed(y).to(z.dtype)], dim=1), y)


def _trainer(setup: Setup, seed: int, data: str, changes: dict):
    """``setup.trainer`` for the lever's changes; a lever with ``latent_components`` puts DeLiGAN's mixture latent
    (``remedies.MixtureLatent``, lesson 2) in front of a G that takes one input fewer, as lesson 2 does; one with
    ``label_in_input`` swaps the conditional G for ``_LabelInInput``."""
    if changes.pop("label_in_input", False):
        trainer = setup.trainer(seed=seed, device="cpu", data=data, **changes)
        torch.manual_seed(seed)
        G = _LabelInInput(setup.z_dim, trainer.num_classes, setup.width)
        from gancourse.train import Trainer

        return Trainer(G, trainer.D, trainer.sampler, trainer.cfg)
    components = changes.pop("latent_components", 0)
    if not components:
        return setup.trainer(seed=seed, device="cpu", data=data, **changes)
    from torch import nn

    from gancourse.data import data_shape, make_sampler
    from gancourse.models import build_models
    from gancourse.remedies import MixtureLatent
    from gancourse.train import Trainer

    models = {k: changes.pop(k) for k in ("g_norm", "d_norm", "spectral_norm") if k in changes}
    cfg = setup.config.replace(seed=seed, device="cpu", **changes)
    sampler = make_sampler(data, cfg.batch_size, device="cpu", seed=seed)
    torch.manual_seed(seed)
    G, D = build_models(setup.model, data_shape(data), z_dim=cfg.z_dim - 1, width=setup.width, loss=cfg.loss,
                        **models)
    return Trainer(nn.Sequential(MixtureLatent(cfg.z_dim, components), G), D, sampler, cfg)


def evaluation_codes(n: int, z_dim: int, threshold: float, mixture: bool) -> torch.Tensor:
    """The fixed evaluation codes, truncated to [-threshold, threshold] in every coordinate (BigGAN's truncation
    trick, ``stabilisers.truncated_normal``); inf gives ``fixed_codes`` themselves. A mixture latent picks its
    component from the first coordinate, which stays untruncated so that every component is still drawn."""
    if math.isinf(threshold):
        return fixed_codes(n, z_dim)
    z = truncated_normal(n, z_dim, threshold, torch.Generator().manual_seed(12345))
    if mixture:
        z[:, 0] = fixed_codes(n, z_dim)[:, 0]
    return z


def run(lever: str, seed: int, steps: int, eval_every: int, threads: int, data: str, base: str = "lesson3",
        condition: str = "none", out: Path | None = None, truncations: tuple = (math.inf,)) -> list[dict]:
    """Train the ``base`` setup with ``lever``'s changes for ``steps`` steps and score it every ``eval_every``; a
    ``condition`` other than "none" trains a conditional G, asked for every class equally, and also scores the
    share of its images the classifier reads as the asked-for digit. Every checkpoint is scored once per threshold
    in ``truncations`` (inf: untruncated codes). Each scored row is appended to ``out`` (JSON
    lines) as soon as it exists, so a long sweep can be read while it runs. ``cpu_seconds`` is the process's CPU
    time in training: unlike the wall clock it does not grow when other processes share the cores."""
    from gancourse.metrics import evaluate_images, extract_features, label_accuracy, load_classifier, predict_proba

    torch.set_num_threads(threads)
    changes = dict(LEVERS[lever])
    setup_changes = {k: changes.pop(k) for k in ("width",) if k in changes}
    setup = BASES[base].replace(steps=steps, **setup_changes)
    if condition != "none":
        changes["condition"] = condition
    mixture = bool(changes.get("latent_components"))
    trainer = _trainer(setup, seed, data, changes)
    classifier = load_classifier(data, device="cpu", verbose=False)
    from gancourse.data import load_images

    test, _ = load_images(data, train=False)
    real_features = extract_features(classifier, test[:setup.samples].float() / 127.5 - 1)
    codes = {t: evaluation_codes(setup.samples, setup.z_dim, t, mixture) for t in truncations}
    y = torch.arange(setup.samples) % classifier.num_classes if condition != "none" else None
    rows, seconds, cpu_seconds, done = [], 0.0, 0.0, 0
    while done < steps:
        start, cpu_start = time.perf_counter(), time.process_time()
        trainer.train(steps=min(eval_every, steps - done), progress=False)
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        done = trainer.step
        for averaged, (threshold, z) in ((a, c) for a in ([False, True] if trainer.ema is not None else [False])
                                         for c in codes.items()):
            images = trainer.sample(z=z, y=y, ema=averaged)
            q = evaluate_images(images, classifier, real_features)
            label = None if y is None else label_accuracy(predict_proba(classifier, images), y)
            rows.append(dict(lever=lever, seed=seed, step=done, seconds=round(seconds, 2),
                             cpu_seconds=round(cpu_seconds, 2), ema=averaged,
                             classes=q.classes_covered, confident=q.confident_fraction, frechet=q.frechet,
                             kl=q.kl_uniform, label_accuracy=label, threads=threads, data=data, base=base,
                             condition=condition, truncation=None if math.isinf(threshold) else threshold))
            if out is not None:
                with out.open("a") as f:
                    f.write(json.dumps(rows[-1]) + "\n")
    return rows


def _job(args: tuple) -> list[dict]:
    return run(*args)


def report(rows: list[dict], bar: float) -> str:
    """The frontier table: per (lever, raw/average), over seeds, mean ± SE of the held confident fraction."""
    groups: dict[tuple, dict[int, list[dict]]] = {}
    for r in rows:
        lever = r["lever"] + ("" if r.get("condition", "none") == "none" else f" [{r['condition']}]")
        lever += "" if r.get("truncation") is None else f", truncation {r['truncation']:g}"
        groups.setdefault((lever, r["ema"]), {}).setdefault(r["seed"], []).append(r)
    lines = ["| lever | G | seeds | steps | CPU s (train) | CPU s / 1k steps | first at bar (step, wall s) | "
             "confident, last third: "
             "mean (min) | classes (min) | Frechet at end | label accuracy at end |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (lever, ema), by_seed in groups.items():
        held, lows, firsts, ends, secs, classes, steps, labels = [], [], [], [], [], [], [], []
        for seed_rows in by_seed.values():
            seed_rows.sort(key=lambda r: r["step"])
            last = seed_rows[-1]
            third = [r for r in seed_rows if r["step"] >= last["step"] * 2 / 3]
            held.append(sum(r["confident"] for r in third) / len(third))
            lows.append(min(r["confident"] for r in third))
            classes.append(min(r["classes"] for r in third))
            ends.append(last["frechet"])
            if last.get("label_accuracy") is not None:
                labels.append(last["label_accuracy"])
            secs.append(last.get("cpu_seconds", last["seconds"]))
            steps.append(last["step"])
            first = next((r for r in seed_rows if r["confident"] >= bar and r["classes"] == 10), None)
            firsts.append(f"{first['step']}, {first['seconds']:.0f}" if first else "not reached")
        m, se = mean_and_standard_error(held)
        fd, fd_se = mean_and_standard_error(ends)
        s, _ = mean_and_standard_error(secs)
        lines.append(f"| {lever} | {'average' if ema else 'raw'} | {len(by_seed)} | {max(steps)} | {s:.0f} | "
                     f"{1000 * s / max(steps):.0f} | {'; '.join(firsts)} | "
                     f"{pm((m, se), 100)}% ({100 * min(lows):.0f}%) | "
                     f"{min(classes)} | {pm((fd, fd_se))} | "
                     f"{pm(mean_and_standard_error(labels), 100) + '%' if labels else '-'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levers", nargs="+", default=["as is"], help=f"choices: {', '.join(LEVERS)}")
    parser.add_argument("--seeds", nargs="+", type=int, default=[10])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--data", default="digits")
    parser.add_argument("--base", default="lesson3", choices=list(BASES))
    parser.add_argument("--condition", default="none", help="none, concat, projection or acgan")
    parser.add_argument("--truncation", nargs="+", type=float, default=[math.inf],
                        help="score every checkpoint at these truncation thresholds too (inf: none)")
    parser.add_argument("--bar", type=float, default=0.8)
    parser.add_argument("--out", type=Path, default=Path("image_frontier.jsonl"))
    parser.add_argument("--report", type=Path, help="print the table of a saved --out file and stop")
    args = parser.parse_args()
    if args.report:
        rows = [json.loads(line) for line in args.report.read_text().splitlines() if line.strip()]
        print(report(rows, args.bar))
        return
    unknown = [lever for lever in args.levers if lever not in LEVERS]
    if unknown:
        parser.error(f"unknown lever(s) {unknown}; valid choices: {', '.join(LEVERS)}")
    jobs = [(lever, seed, args.steps, args.eval_every, args.threads, args.data, args.base, args.condition, args.out,
             tuple(args.truncation))
            for seed in args.seeds for lever in args.levers]
    rows = []
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.jobs) as pool:
            for part in pool.imap_unordered(_job, jobs):
                rows += part
                print(f"done: {part[0]['lever']} seed {part[0]['seed']}", flush=True)
    else:
        for job in jobs:
            part = _job(job)
            rows += part
            print(f"done: {job[0]} seed {job[1]}", flush=True)
    print(report(rows, args.bar))


if __name__ == "__main__":
    main()
