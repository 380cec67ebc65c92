"""The cached long runs lessons plot (gancourse/data/cached, written by benchmarks/): present, complete, and
consistent with the configuration the lesson trains, so a plot of one is a plot of the run it claims to be."""
import base64
import json
from importlib.resources import files

import torch

from gancourse.config import preset


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
