"""Lesson 6's comparison pieces: the stabiliser entries, the image runs, the average's score, truncation."""
import math

import pytest
import torch

from gancourse.experiments.mixtures import Method, MixtureSetup, build_mixture_trainer, run_method
from gancourse.experiments.stabilisers import (
    IMAGE_SETUP,
    STABILISERS,
    build_image_trainer,
    mixture_summary,
    run_mixtures,
    truncated_normal,
)


def _has_spectral_norm(module: torch.nn.Module) -> bool:
    return any(hasattr(m, "parametrizations") for m in module.modules())


def test_truncated_normal_stays_inside_and_has_the_truncated_variance():
    t = 0.8
    z = truncated_normal(200_000, 2, t, torch.Generator().manual_seed(0))
    assert z.abs().max() <= t
    phi = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(t / math.sqrt(2)))
    variance = 1 - 2 * t * phi / (2 * big_phi - 1)  # the truncated normal's, by hand: 0.1876 at t = 0.8
    assert abs(z.var().item() - variance) < 0.005
    assert abs(z.mean().item()) < 0.005


def test_truncated_normal_without_truncation_is_the_plain_normal():
    a = truncated_normal(50, 3, math.inf, torch.Generator().manual_seed(4))
    b = torch.randn(50, 3, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [0, -1.0, True, "1"])
def test_truncated_normal_refuses_a_bad_threshold(bad):
    with pytest.raises(ValueError, match="threshold must be a positive number"):
        truncated_normal(4, 2, bad)


def test_each_image_game_gets_its_papers_discriminator():
    setup = IMAGE_SETUP.replace(steps=1, width=4)
    sn = build_image_trainer("hinge + SN", setup, device="cpu")
    assert sn.cfg.loss == "hinge" and _has_spectral_norm(sn.D)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in sn.D.modules())
    gp = build_image_trainer("WGAN-GP", setup, device="cpu")
    assert gp.cfg.n_critic == 5 and gp.cfg.gp_lambda == 10.0 and not _has_spectral_norm(gp.D)
    assert any(isinstance(m, torch.nn.GroupNorm) for m in gp.D.modules())  # layer norm, no batch norm
    r1 = build_image_trainer("NS-GAN + R1", setup, device="cpu")
    assert r1.cfg.r1_gamma == STABILISERS["NS-GAN + R1"].r1_gamma > 0 and r1.cfg.loss == "nsgan"
    ns = build_image_trainer("NS-GAN", setup, device="cpu")
    assert ns.cfg.r1_gamma == 0 and any(isinstance(m, torch.nn.BatchNorm2d) for m in ns.D.modules())
    assert all(t.ema is not None for t in (sn, gp, r1, ns))


def test_unknown_stabiliser_names_the_choices():
    with pytest.raises(ValueError, match="valid choices: NS-GAN, WGAN-GP"):
        build_image_trainer("SAGAN", IMAGE_SETUP.replace(steps=1, width=4), device="cpu")
    with pytest.raises(ValueError, match="unknown stabiliser"):
        run_mixtures(["ring"], [0], methods=["BigGAN"], workers=1, device="cpu")


def test_spectral_norm_in_the_mixture_benchmark_reaches_d():
    setup = MixtureSetup().replace(steps=1)
    assert _has_spectral_norm(build_mixture_trainer("ring", STABILISERS["hinge + SN"], setup, device="cpu").D)
    assert not _has_spectral_norm(build_mixture_trainer("ring", "GAN", setup, device="cpu").D)


def test_the_average_is_scored_from_the_average_not_from_g():
    setup = MixtureSetup().replace(steps=30, samples=200)
    # A half-life of 1e12 steps: the average never leaves G's initial weights, so its points are an untrained
    # G's, while the live G has moved.
    frozen = run_method("ring", Method("NS-GAN", ema_half_life=1e12), setup, seed=3, device="cpu")
    untrained = build_mixture_trainer("ring", "GAN", setup, seed=3, device="cpu")
    from gancourse.experiments.mixtures import generated_points

    assert torch.allclose(frozen.ema_samples, generated_points(untrained, 200))
    assert not torch.allclose(frozen.samples, frozen.ema_samples)
    # A tiny half-life (decay 0): the average is G itself.
    follow = run_method("ring", Method("NS-GAN", ema_half_life=1e-6), setup, seed=3, device="cpu")
    assert torch.allclose(follow.samples, follow.ema_samples, atol=1e-6)
    assert run_method("ring", "GAN", MixtureSetup().replace(steps=2, samples=50), device="cpu").ema_coverage is None


def test_mixture_summary_keeps_the_live_and_the_average_rows_apart():
    results = run_mixtures(["ring"], [0, 1], MixtureSetup().replace(steps=3, samples=60), methods=["NS-GAN"],
                           workers=1, device="cpu")
    table = mixture_summary(results)
    live = [r.coverage.modes_captured for r in results]
    ema = [r.ema_coverage.modes_captured for r in results]
    assert table["ring", "NS-GAN", False]["modes"][0] == pytest.approx(sum(live) / 2)
    assert table["ring", "NS-GAN", True]["modes"][0] == pytest.approx(sum(ema) / 2)
    assert table["ring", "NS-GAN", False]["modes"][1] == pytest.approx(abs(live[0] - live[1]) / 2)
