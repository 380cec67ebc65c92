"""Lesson 7, semi-supervised GAN: D's loss from K logits, feature matching, the labelled split and the runs."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse.experiments import semisupervised
from gancourse.experiments.semisupervised import (
    ARMS,
    SEMISUPERVISED_SETUP,
    ClassifierD,
    GaussianNoise,
    SemiSupervisedResult,
    classification_error,
    feature_matching_loss,
    labelled_split,
    log_partition,
    real_probability,
    run_semisupervised_all,
    semisupervised_d_loss,
    semisupervised_summary,
    supervised_loss,
    train_semisupervised,
    unsupervised_loss,
)
from gancourse.history import TrainingDiverged


def _direct_unsupervised(real: torch.Tensor, fake: torch.Tensor) -> float:
    # the textbook form in float64: D = Z / (Z + 1), loss = -mean log D(real) - mean log(1 - D(fake))
    z_real, z_fake = real.double().exp().sum(1), fake.double().exp().sum(1)
    d_real, d_fake = z_real / (z_real + 1), z_fake / (z_fake + 1)
    return float(-d_real.log().mean() - (1 - d_fake).log().mean())


def test_unsupervised_loss_matches_the_direct_formula_in_float64():
    gen = torch.Generator().manual_seed(0)
    real, fake = 3 * torch.randn(64, 10, generator=gen), 3 * torch.randn(64, 10, generator=gen)
    assert unsupervised_loss(real, fake).item() == pytest.approx(_direct_unsupervised(real, fake), rel=1e-5)


def test_d_is_the_real_share_of_a_softmax_over_k_plus_one_logits_with_the_fake_logit_at_zero():
    logits = torch.randn(16, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with_fake = torch.cat([logits, torch.zeros(16, 1, dtype=torch.float64)], 1).softmax(1)
    assert torch.allclose(real_probability(logits), with_fake[:, :10].sum(1))
    # the supervised loss is -log p(y | x, y < K + 1): the K + 1 softmax renormalised over the real classes
    y = torch.arange(16) % 10
    conditional = with_fake[:, :10] / with_fake[:, :10].sum(1, keepdim=True)
    assert supervised_loss(logits, y).item() == pytest.approx(float(-conditional[torch.arange(16), y].log().mean()))


def test_extreme_logits_give_the_right_finite_loss_and_gradient():
    k = 10
    real = torch.full((4, k), -1000.0, requires_grad=True)  # D(x) = Z/(Z+1) = 10 e^-1000: far from "real"
    fake = torch.full((4, k), 1000.0, requires_grad=True)  # D(G(z)) = 1 - e^-1000 / 10: far from "fake"
    loss = unsupervised_loss(real, fake)
    # -log D = log(1 + 1/Z) = 1000 - log 10 (to e^-990); -log(1 - D) = log(1 + Z) = 1000 + log 10
    assert loss.item() == pytest.approx((1000 - math.log(k)) + (1000 + math.log(k)), rel=1e-6)
    loss.backward()
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()
    # each real logit gets -1/K of its row's share of the mean; each fake logit +1/K (to float32's precision
    # at 1000, where one ulp of log Z is 6e-5)
    assert torch.allclose(real.grad, torch.full_like(real, -1 / (4 * k)), rtol=1e-3)
    assert torch.allclose(fake.grad, torch.full_like(fake, 1 / (4 * k)), rtol=1e-3)
    # and the "obvious" form overflows where ours does not
    assert not math.isfinite(_direct_unsupervised(fake.detach(), fake.detach()))
    # the confident right answer costs nothing
    assert unsupervised_loss(-real.detach(), -fake.detach()).item() == pytest.approx(0.0, abs=1e-6)
    assert log_partition(torch.tensor([[1000.0, -1000.0]])).item() == pytest.approx(1000.0)


def test_the_d_loss_is_the_sum_of_its_parts_with_the_weight():
    gen = torch.Generator().manual_seed(2)
    lab, unl, fake = (torch.randn(8, 4, generator=gen) for _ in range(3))
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    expected = F.cross_entropy(lab, y) + 0.5 * unsupervised_loss(unl, fake)
    assert torch.allclose(semisupervised_d_loss(lab, y, unl, fake, unsupervised_weight=0.5), expected)
    with pytest.raises(ValueError, match="unsupervised_weight"):
        semisupervised_d_loss(lab, y, unl, fake, unsupervised_weight=-1.0)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.3"):
        supervised_loss(lab, y + 1)
    with pytest.raises(ValueError, match="K >= 2"):
        unsupervised_loss(torch.zeros(3), torch.zeros(3))


def test_feature_matching_is_the_squared_distance_of_the_means_and_leaves_the_real_side_alone():
    real = torch.tensor([[1.0, 0.0], [3.0, 4.0]], requires_grad=True)  # mean (2, 2)
    fake = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], requires_grad=True)  # mean (0, 1)
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx(2.0 ** 2 + 1.0 ** 2)
    loss.backward()
    assert real.grad is None
    # d/d fake_i = -2 (mean_real - mean_fake) / n_fake
    assert torch.allclose(fake.grad, torch.tensor([[-4 / 3, -2 / 3]] * 3))


def test_noise_only_in_training_and_d_shapes():
    x = torch.zeros(20000)
    assert GaussianNoise(0.5).train()(x).std().item() == pytest.approx(0.5, rel=0.05)
    D = ClassifierD((1, 8, 8), num_classes=3, hidden=(6, 5))
    img = torch.randn(4, 1, 8, 8)
    D.eval()
    assert torch.equal(D(img), D(img)) and D(img).shape == (4, 3) and D.features(img).shape == (4, 5)
    with pytest.raises(ValueError, match="std"):
        GaussianNoise(-1.0)


def test_labelled_split_is_balanced_seeded_and_disjoint():
    y = torch.arange(1000) % 10
    lab, unl = labelled_split(y, per_class=10, seed=3)
    assert len(lab) == 100 and y[lab].bincount().tolist() == [10] * 10
    assert not set(lab.tolist()) & set(unl.tolist()) and len(lab) + len(unl) == 1000
    assert torch.equal(lab, labelled_split(y, 10, seed=3)[0])
    assert not torch.equal(lab, labelled_split(y, 10, seed=4)[0])
    with pytest.raises(ValueError, match="per_class=200 but class 0 has only 100"):
        labelled_split(y, per_class=200)
    with pytest.raises(ValueError, match="per_class must be an int"):
        labelled_split(y, per_class=0)


def _toy(n: int = 120, k: int = 3, seed: int = 0):
    # k classes told apart by the brightness of the image: a task the D MLP learns in a few steps
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    base = (40 + 80 * y).view(n, 1, 1, 1).expand(n, 1, 28, 28)
    x = (base + torch.randint(-20, 21, (n, 1, 28, 28), generator=gen)).clamp(0, 255).to(torch.uint8)
    return x, y


TINY = SEMISUPERVISED_SETUP.replace(steps=3, batch_size=12, per_class=2, d_hidden=(16,), g_hidden=(16,), z_dim=4,
                                   lr_d=3e-3, lr_g=3e-3)


@pytest.mark.parametrize("arm", ARMS)
def test_training_reads_no_label_beyond_the_subset_and_nothing_of_the_test_split(arm, monkeypatch):
    x, y = _toy()
    test_x, test_y = _toy(30, seed=1)
    split = labelled_split(y, TINY.per_class, seed=7)
    lab = split[0]
    scrambled = (y + 1) % 3
    scrambled[lab] = y[lab]  # the labelled subset keeps its labels, every other label is wrong
    # the split itself is drawn from the true labels, once (choosing a balanced subset needs them)
    monkeypatch.setattr(semisupervised, "labelled_split", lambda *args, **kwargs: split)
    D1, _, _ = train_semisupervised(arm, TINY, draw=7, data=(x, y, test_x, test_y))
    D2, _, _ = train_semisupervised(arm, TINY, draw=7, data=(x, scrambled, 255 - test_x, (test_y + 1) % 3))
    for p1, p2 in zip(D1.state_dict().values(), D2.state_dict().values()):
        assert torch.equal(p1, p2)


def test_labels_only_learns_the_toy_task_and_the_error_is_counted_right():
    x, y = _toy()
    D, G, curve = train_semisupervised("labels only", TINY.replace(steps=60, per_class=10, checkpoints=(60,)),
                                       draw=0, data=(x, y, x, y))
    assert G is None and curve[60] == classification_error(D, x.float() / 127.5 - 1, y) < 0.05
    # the error counts wrong argmaxes: relabelling every image to another class makes each right answer wrong
    assert classification_error(D, x.float() / 127.5 - 1, (y + 1) % 3) > 0.95


def test_a_run_that_blows_up_raises_training_diverged_and_bad_arms_are_named():
    x, y = _toy()
    with pytest.raises(TrainingDiverged, match="loss_d"):
        train_semisupervised("semi-supervised GAN", TINY.replace(lr_d=1e30, steps=5), data=(x, y, x, y))
    with pytest.raises(ValueError, match="valid choices: labels only, semi-supervised GAN"):
        train_semisupervised("GAN", TINY, data=(x, y, x, y))
    with pytest.raises(ValueError, match="valid choices"):
        run_semisupervised_all([0], arms=["supervised"])


def test_summary_gives_percent_error_and_frechet_only_where_measured():
    rs = [SemiSupervisedResult("labels only", "digits", 2, 1.0, error=0.25),
          SemiSupervisedResult("labels only", "digits", 3, 3.0, error=0.15),
          SemiSupervisedResult("semi-supervised GAN", "digits", 2, 5.0, error=0.1, frechet=30.0)]
    table = semisupervised_summary(rs)
    assert table["labels only"]["test error %"] == pytest.approx((20.0, 5.0))
    assert "Frechet distance" not in table["labels only"]
    assert table["semi-supervised GAN"]["Frechet distance"][0] == 30.0


def test_generator_samples_are_fixed_by_the_evaluation_codes():
    from gancourse.experiments.semisupervised import MLPGenerator, generator_samples

    G = MLPGenerator(z_dim=8, hidden=(16,))
    a, b = generator_samples(G, 5), generator_samples(G, 5)
    assert torch.equal(a, b) and a.shape == (5, 1, 28, 28) and a.abs().max() <= 1


def test_no_labelled_digit_is_also_a_test_image():
    from gancourse.data import load_images

    images, labels = load_images("digits", train=True)
    test_images, _ = load_images("digits", train=False)
    test_set = {row.tobytes() for row in test_images.flatten(1).numpy()}
    for draw in (0, 2):
        labelled, unlabelled = labelled_split(labels, 10, seed=draw)
        assert len(labelled) == 100 and len(unlabelled) == len(images) - 100
        assert not {row.tobytes() for row in images[labelled].flatten(1).numpy()} & test_set
