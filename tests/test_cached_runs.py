"""The cached long runs lessons plot (gancourse/data/cached, written by benchmarks/): present, complete, and
consistent with the configuration the lesson trains, so a plot of one is a plot of the run it claims to be."""
import base64
import itertools
import json
import math
from importlib.resources import files
from pathlib import Path

import pytest
import torch

from gancourse.config import preset
from gancourse.data import load_images
from gancourse.experiments.stabilisers import (
    IMAGE_SETUP,
    STABILISERS,
    ImageScore,
    StabiliserImageResult,
    build_image_trainer,
    image_summary,
    run_stabiliser_image,
    score_images,
)
from gancourse.metrics import DigitClassifier, extract_features
from gancourse.metrics.manifold import density_coverage, precision_recall


def _cached(name: str) -> dict:
    return json.loads(files("gancourse.data").joinpath(f"cached/{name}").read_text())


def test_clipped_wgan_curve_is_lesson_4s_configuration_run_longer():
    cached = _cached("wgan_clip_digits.json")
    # the notebook's DIGITS settings on the paper's WGAN preset: only the length differs
    expected = preset("wgan", z_dim=64, batch_size=64, steps=cached["steps"], seed=0, device="cpu")
    assert {k: v for k, v in vars(expected).items() if k != "device"} == cached["config"]
    assert cached["width"] == 32 and cached["data"] == "digits"
    curve = cached["curve"]
    assert curve["step"] == list(range(100, cached["steps"] + 1, 100))   # scored every 100 steps, to the end
    assert cached["steps"] > 1000                                          # longer than the notebook's run
    lengths = {len(v) for v in curve.values()}
    assert lengths == {len(curve["step"])}
    assert all(f > 0 for f in curve["frechet"]) and all(0 <= c <= 10 for c in curve["classes_covered"])
    assert cached["wall_seconds"] > 0 and cached["cpu_seconds"] > 0


def test_clipped_wgan_samples_decode_to_images():
    samples = _cached("wgan_clip_digits.json")["samples"]
    raw = base64.b64decode(samples["uint8_base64"])
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(*samples["shape"])
    assert tuple(images.shape) == (36, 1, 28, 28)
    assert images.float().std() > 0          # a picture, not a constant


# --- lesson 6: the four games on digits, run longer (benchmarks/stabilisers_longer.py) ----------------------

STABILISERS_FILE = "stabilisers_digits.json"
MEASURES = ("frechet", "precision", "recall", "density", "coverage", "classes")


def test_lesson6_cache_is_the_notebooks_setup_run_longer():
    cached = _cached(STABILISERS_FILE)
    # IMAGE_SETUP with only the length changed: a changed setup makes the cache stale and fails here
    assert cached["setup"] == json.loads(json.dumps(IMAGE_SETUP.replace(steps=cached["steps"]).settings()))
    assert cached["steps"] > IMAGE_SETUP.steps                     # longer than the notebook's runs
    assert IMAGE_SETUP.steps in cached["checkpoints"]               # and scored at the notebook's budget
    for name in STABILISERS:                                       # each game's own settings and networks
        trainer = build_image_trainer(name, IMAGE_SETUP.replace(steps=1, width=4), device="cpu")
        game = cached["games"][name]
        assert game["config"] == json.loads(json.dumps(
            {k: v for k, v in vars(trainer.cfg).items() if k not in ("device", "seed", "steps")}))
        assert game["networks"] == {k: trainer.setup[k] for k in ("g_norm", "d_norm", "spectral_norm")}
    # the classifier the notebook scores with in full mode
    notebook = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "06_modern_gans.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert f'load_classifier("digits", device=device, steps=budget({cached["classifier_steps"]},' in code
    assert cached["wall_seconds"] > 0 and cached["cpu_seconds"] > 0 and cached["threads"] == 1


def test_lesson6_cache_holds_every_game_seed_and_generator_on_the_report_seeds():
    cached = _cached(STABILISERS_FILE)
    assert cached["seeds"] == [6, 7, 8]                             # the report seeds, never the tuning seed 0 or 10
    keys = [(r["game"], r["seed"], r["ema"]) for r in cached["runs"]]
    assert sorted(keys) == sorted(itertools.product(STABILISERS, (6, 7, 8), (False, True)))


def test_lesson6_curves_are_monotone_in_step_finite_and_in_range():
    cached = _cached(STABILISERS_FILE)
    checkpoints = cached["checkpoints"]
    assert checkpoints == sorted(set(checkpoints)) and checkpoints[-1] == cached["steps"]
    assert checkpoints == sorted({*range(cached["every"], cached["steps"] + 1, cached["every"]), cached["steps"]})
    for run in cached["runs"]:
        assert run["step"] == checkpoints
        assert all(len(run[m]) == len(checkpoints) for m in MEASURES)
        assert all(math.isfinite(v) for m in MEASURES for v in run[m])
        assert all(f > 0 for f in run["frechet"]) and all(d >= 0 for d in run["density"])
        assert all(0 <= v <= 1 for m in ("precision", "recall", "coverage") for v in run[m])
        assert all(0 <= c <= 10 and c == int(c) for c in run["classes"])
        assert run["training_seconds"] > 0


def test_lesson6_cached_samples_decode_to_images_for_every_game():
    samples = _cached(STABILISERS_FILE)["samples"]
    assert samples["training_seed"] == 6 and samples["codes_seed"] == 0
    assert set(samples["uint8_base64"]) == set(STABILISERS)
    for pictures in samples["uint8_base64"].values():
        for key in ("live", "ema"):
            raw = base64.b64decode(pictures[key])
            images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(*samples["shape"])
            assert tuple(images.shape) == (36, 1, 28, 28) and images.float().std() > 0


# --- the hook the cache is made with: scoring along a run (run_stabiliser_image(checkpoints=...)) -------------


@pytest.fixture(scope="module")
def scoring():
    torch.manual_seed(0)
    classifier = DigitClassifier().eval()  # untrained but seeded: the path is tested, not the classifier
    images, _ = load_images("digits", train=False)
    return classifier, extract_features(classifier, images[:60])


TINY = IMAGE_SETUP.replace(steps=6, width=4, samples=60, log_every=2)


def _run(setup, scoring, checkpoints=()):
    classifier, real = scoring
    return run_stabiliser_image("NS-GAN + R1", setup, seed=6, classifier=classifier, real_features=real,
                                device="cpu", checkpoints=checkpoints)


def test_scoring_along_a_run_scores_a_shorter_run_and_changes_nothing(scoring):
    along = _run(TINY, scoring, checkpoints=(2, 4, 6))
    assert [step for step, _, _ in along.curve] == [2, 4, 6]
    assert along.curve[-1] == (6, along.score, along.ema_score)
    plain = _run(TINY, scoring)                          # the same run, not scored on the way
    assert plain.score == along.score and plain.ema_score == along.ema_score and plain.curve == []
    shorter = _run(TINY.replace(steps=4), scoring)       # the point at step 4 is a run of 4 steps
    assert along.curve[1] == (4, shorter.score, shorter.ema_score)
    assert along.seconds > 0


@pytest.mark.parametrize("bad", [[3], [0], [8], [True], [2.0]])
def test_checkpoints_the_run_cannot_be_scored_at_are_refused(scoring, bad):
    with pytest.raises(ValueError, match=r"valid choices: multiples of log_every=2 up to steps=6"):
        _run(TINY, scoring, checkpoints=bad)


def test_image_scores_hold_density_and_coverage_of_the_manifold_module(scoring):
    classifier, real = scoring
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    s = score_images(images, classifier, real)
    assert (s.density, s.coverage) == density_coverage(real, extract_features(classifier, images), k=5)
    assert (s.precision, s.recall) == precision_recall(real, extract_features(classifier, images), k=3)


def test_image_summary_averages_density_and_coverage_over_seeds():
    runs = [StabiliserImageResult("NS-GAN", "digits", seed, 1.0, ImageScore(10.0, 0.5, 0.5, 10, d, c),
                                  ImageScore(9.0, 0.5, 0.5, 10)) for seed, d, c in ((6, 0.8, 0.4), (7, 1.0, 0.6))]
    table = image_summary(runs)
    # by hand: mean (0.8 + 1.0) / 2 = 0.9, s = 0.1 * sqrt(2), se = s / sqrt(2) = 0.1
    assert table["NS-GAN", False]["density"] == pytest.approx((0.9, 0.1))
    assert table["NS-GAN", False]["coverage"] == pytest.approx((0.5, 0.1))
    assert all(math.isnan(v) for v in table["NS-GAN", True]["density"])   # not measured: NaN, not a number
