"""Lesson 7, image-to-image translation: the degradations, the U-Net and patch D, the three arms and the scores."""
from __future__ import annotations

import math

import pytest
import torch

from gancourse.experiments.translation import (
    HOLE,
    TRANSLATION_SETUP,
    TranslationResult,
    bicubic_upsample,
    downsample,
    image_scores,
    make_inputs,
    mask_square,
    run_translations,
    score_outputs,
    train_translation,
    translate,
    translation_summary,
)
from gancourse.history import TrainingDiverged
from gancourse.metrics import DigitClassifier
from gancourse.models.unet import PatchDiscriminator, UNetGenerator, receptive_field


def test_downsampling_averages_blocks_and_bicubic_keeps_constants():
    x = torch.arange(64.0).view(1, 1, 8, 8)
    assert downsample(x, 4).flatten().tolist() == [x[0, 0, :4, :4].mean().item(), x[0, 0, :4, 4:].mean().item(),
                                                   x[0, 0, 4:, :4].mean().item(), x[0, 0, 4:, 4:].mean().item()]
    assert torch.allclose(bicubic_upsample(torch.full((2, 1, 7, 7), 0.3), 28), torch.full((2, 1, 28, 28), 0.3))
    assert bicubic_upsample(torch.tensor([[[[-1.0, 1.0], [1.0, -1.0]]]]), 8).abs().max() <= 1.0  # clamped
    with pytest.raises(ValueError, match="multiples of factor=4"):
        downsample(torch.zeros(1, 1, 30, 30))


def test_super_resolution_inputs_see_only_the_7x7_block_means():
    gen = torch.Generator().manual_seed(0)
    y = torch.rand(4, 1, 28, 28, generator=gen) * 2 - 1
    # a change with zero mean inside every 4 x 4 block is invisible to the input
    within = torch.tensor([[1.0, -1.0, 1.0, -1.0]] * 4).repeat(7, 7) * 0.05
    assert torch.allclose(make_inputs("super-resolution", y), make_inputs("super-resolution", y + within), atol=1e-6)
    assert make_inputs("super-resolution", y).shape == y.shape


def test_the_inpainting_hole_is_one_square_of_the_right_side_inside_the_border():
    y = -torch.ones(50, 1, 28, 28)
    x = mask_square(y, HOLE, torch.Generator().manual_seed(1))
    for img in x[:, 0]:
        rows, cols = torch.nonzero(img == 0, as_tuple=True)
        assert len(rows) == HOLE * HOLE
        assert rows.max() - rows.min() + 1 == HOLE and cols.max() - cols.min() + 1 == HOLE
        assert rows.min() >= 2 and rows.max() <= 25 and cols.min() >= 2 and cols.max() <= 25
    assert torch.equal(x, mask_square(y, HOLE, torch.Generator().manual_seed(1)))
    with pytest.raises(ValueError, match="side must be between 1 and 24"):
        mask_square(y, 30)


def test_unet_shapes_and_its_skip_connections_carry_the_input():
    G = UNetGenerator(width=4).eval()
    x = torch.randn(2, 1, 28, 28)
    assert G(x).shape == (2, 1, 28, 28) and G(x).abs().max() <= 1
    # one input pixel moves the output near it through the skip of e1, not only through the 7 x 7 bottleneck
    x.requires_grad_(True)
    G(x)[0, 0, 10, 10].backward()
    assert x.grad[0, 0, 9:13, 9:13].abs().sum() > 0
    with pytest.raises(ValueError, match="multiples of 4"):
        G(torch.zeros(1, 1, 30, 30))


def test_patch_d_sees_an_18_pixel_patch_of_the_pair():
    # without normalisation: a norm's statistics (pix2pix's batch norm too) are image-wide
    D = PatchDiscriminator(width=4, norm="none")
    x, y = torch.randn(1, 1, 28, 28, requires_grad=True), torch.randn(1, 1, 28, 28, requires_grad=True)
    logits = D(x, y)
    assert logits.shape == (1, 49)
    logits[0, 3 * 7 + 3].backward()  # the centre patch
    for grad in (x.grad[0, 0], y.grad[0, 0]):  # it sees both the input and the output
        rows, cols = torch.nonzero(grad, as_tuple=True)
        assert rows.max() - rows.min() + 1 == receptive_field([(4, 2), (4, 2), (3, 1)]) == 18
        assert cols.max() - cols.min() + 1 == 18
    assert PatchDiscriminator(width=4, conditional=False)(None, y).shape == (1, 49)
    with pytest.raises(ValueError, match="pair up"):
        D(torch.zeros(2, 1, 28, 28), torch.zeros(3, 1, 28, 28))


def test_psnr_and_ssim_by_hand():
    y = -torch.ones(3, 1, 28, 28)
    x = y.clone()
    x[0] += 0.2  # off by 0.1 on [0, 1] everywhere: 20 dB
    x[1, :, :7] += 0.2  # a quarter of the pixels: 10 log10(1 / (0.25 * 0.01)) = 26.02 dB
    x[2] += 0.02  # off by 0.01: 40 dB
    psnr, ssim = image_scores(x, y)
    assert psnr == pytest.approx((20.0 + 10 * math.log10(400) + 40.0) / 3, abs=1e-3)
    assert image_scores(y, y)[1] == pytest.approx(1.0) and ssim < 1.0
    with pytest.raises(ValueError, match="one shape"):
        image_scores(x[:2], y)


def _toy_images(n: int = 64) -> torch.Tensor:
    # bright squares on black: a structure G can learn to restore within a few steps
    gen = torch.Generator().manual_seed(0)
    img = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i, (r, c) in enumerate(torch.randint(4, 16, (n, 2), generator=gen).tolist()):
        img[i, 0, r:r + 8, c:c + 8] = 255
    return img


TINY = TRANSLATION_SETUP.replace(steps=2, width=4, batch_size=8)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_each_arm_uses_exactly_its_losses():
    img = _toy_images()
    G_cgan, D_cgan = train_translation("cGAN", "inpainting", TINY, images=img)
    # the cGAN arm ignores lambda; the L1 arm has no D, so D's learning rate cannot touch it
    assert _same(G_cgan, train_translation("cGAN", "inpainting", TINY.replace(l1_weight=0.0), images=img)[0])
    G_l1, D_l1 = train_translation("L1", "inpainting", TINY, images=img)
    assert D_l1 is None and _same(G_l1, train_translation("L1", "inpainting", TINY.replace(lr_d=1.0), images=img)[0])
    # L1 + cGAN with lambda = 0 is the cGAN arm; with lambda = 100 it is not
    assert _same(G_cgan, train_translation("L1 + cGAN", "inpainting", TINY.replace(l1_weight=0.0), images=img)[0])
    assert not _same(G_cgan, train_translation("L1 + cGAN", "inpainting", TINY, images=img)[0])


def test_the_l1_arm_learns_to_fill_holes():
    img = _toy_images()
    y = img.float() / 127.5 - 1
    x = make_inputs("inpainting", y, torch.Generator().manual_seed(3))
    before = image_scores(translate(UNetGenerator(width=8), x), y)[0]
    G, _ = train_translation("L1", "inpainting", TINY.replace(steps=60, width=8, lr_g=2e-3), images=img)
    assert image_scores(translate(G, x), y)[0] > before + 5


def test_bad_arms_tasks_and_divergence_are_named():
    img = _toy_images(16)
    with pytest.raises(ValueError, match="valid choices: L1, L1 \\+ cGAN, cGAN"):
        train_translation("pix2pix", "inpainting", TINY, images=img)
    with pytest.raises(ValueError, match="valid choices: super-resolution, inpainting"):
        run_translations(["denoise"], [0])
    with pytest.raises(TrainingDiverged):
        train_translation("L1 + cGAN", "super-resolution", TINY.replace(lr_g=1e30, lr_d=1e30,
                                                                        steps=4), images=img)


def test_scores_of_the_truth_and_the_summary():
    y = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    classifier = DigitClassifier().eval()
    labels = predict = classifier(y).argmax(1)
    s = score_outputs(y, y, labels, y, classifier)
    assert (s["psnr"], s["ssim"], s["accuracy"]) == (math.inf, pytest.approx(1.0), 1.0)
    assert abs(s["frechet"]) < 1e-2  # the same images as reference: distance 0 up to the matrix square root
    assert score_outputs(y, y, (predict + 1) % 10, y, classifier)["accuracy"] == 0.0
    rs = [TranslationResult("L1", "digits", 2, 1.0, task="inpainting", psnr=20.0, accuracy=0.9),
          TranslationResult("L1", "digits", 3, 1.0, task="inpainting", psnr=22.0, accuracy=0.7)]
    row = translation_summary(rs)[("inpainting", "L1")]
    assert row["PSNR dB"] == (21.0, 1.0) and row["label accuracy %"] == pytest.approx((80.0, 10.0))


def _fake_digits(monkeypatch):
    from gancourse.experiments import translation

    images = _toy_images(40)
    monkeypatch.setattr(translation, "load_images", lambda name, train=True: (images, torch.arange(40) % 10))
    monkeypatch.setattr(translation, "load_classifier", lambda *a, **k: DigitClassifier().eval())
    return images.float() / 127.5 - 1


def test_evaluation_pairs_reference_rows_and_the_figure_rows(monkeypatch):
    from gancourse.experiments.translation import evaluation_pairs, reference_rows, side_by_side

    y = _fake_digits(monkeypatch)
    setup = TRANSLATION_SETUP.replace(samples=10)
    x, targets, labels, reference = evaluation_pairs("super-resolution", setup)
    assert torch.equal(targets, y[:10]) and torch.equal(reference, y[10:20]) and labels.tolist() == list(range(10))
    assert torch.equal(x, make_inputs("super-resolution", targets))
    floor, truth = reference_rows("super-resolution", setup)
    assert (floor.method, truth.method) == ("bicubic", "truth")
    assert floor.psnr == pytest.approx(image_scores(x, targets)[0]) and truth.psnr == math.inf
    rows = side_by_side("super-resolution", {"L1": UNetGenerator(width=4)}, n=3, setup=setup)
    assert list(rows) == ["input", "L1", "truth"] and all(r.shape == (3, 1, 28, 28) for r in rows.values())
    assert torch.equal(rows["truth"], y[:3]) and torch.equal(rows["input"], x[:3])
    with pytest.raises(ValueError, match="samples=30 needs 60 test images"):
        evaluation_pairs("inpainting", setup.replace(samples=30))


def test_paired_difference_pairs_by_seed_and_task():
    from gancourse.experiments.translation import paired_difference

    rs = [TranslationResult(m, "digits", s, 1.0, task=t, frechet=f)
          for m, s, t, f in (("L1", 2, "inpainting", 300.0), ("L1 + cGAN", 2, "inpainting", 250.0),
                             ("L1", 3, "inpainting", 100.0), ("L1 + cGAN", 3, "inpainting", 40.0),
                             ("L1", 4, "inpainting", 500.0),  # no partner: left out
                             ("L1 + cGAN", 2, "super-resolution", 0.0))]  # another task: left out
    assert paired_difference(rs, "inpainting", "L1 + cGAN", "L1", "frechet") == (-55.0, 5.0)
    with pytest.raises(ValueError, match="valid choices: psnr, ssim, accuracy, frechet"):
        paired_difference(rs, "inpainting", "L1 + cGAN", "L1", "fid")
    with pytest.raises(ValueError, match="no seed has both"):
        paired_difference(rs, "super-resolution", "L1 + cGAN", "L1", "psnr")
