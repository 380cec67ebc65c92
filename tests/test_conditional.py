"""Class-conditional GANs through the one loop (issue 17): the networks against their formulas, the loss
terms against hand computations, bad labels, checkpoints, and unconditional runs left exactly as they were."""
import json

import pytest
import torch
import torch.nn.functional as F

from gancourse.checkpoint import CheckpointError
from gancourse.cli import main
from gancourse.conditioning import CONDITIONS, acgan_class_loss
from gancourse.config import TrainConfig
from gancourse.data import (
    LABELLED_DATASETS,
    MixtureSampler,
    TensorSampler,
    grid_of_gaussians,
    make_mixture,
    make_sampler,
    overlapping_classes,
    ring_of_gaussians,
)
from gancourse.models import build_models
from gancourse.models.conditional import (
    ACGANDiscriminator,
    ConditionalBatchNorm2d,
    ProjectionDiscriminator,
    discriminator_trunk,
)
from gancourse.models.dcgan import DCGANDiscriminator
from gancourse.train import Trainer


def _images(n=40, classes=4, seed=5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g),
            torch.arange(n) % classes)


# --- the networks against their formulas --------------------------------------------------------------------


@pytest.mark.parametrize("model, shape", [("mlp", (2,)), ("dcgan", (1, 28, 28))])
def test_projection_d_is_psi_of_phi_plus_the_embedding_inner_product(model, shape):
    torch.manual_seed(0)
    _, D = build_models(model, shape, z_dim=4, width=4, condition="projection", num_classes=5, d_norm="none")
    assert isinstance(D, ProjectionDiscriminator)
    with torch.no_grad():
        D.embed.weight.normal_()  # a trained-looking embedding, so its term is not negligible
    x = torch.randn(6, *shape)
    y = torch.tensor([0, 4, 2, 2, 1, 3])
    phi = D.trunk(x)
    by_hand = phi @ D.head.weight[0] + D.head.bias[0] + (D.embed.weight[y] * phi).sum(1)
    assert torch.allclose(D(x, y), by_hand, atol=1e-5)
    # The label matters: another y gives another score, by exactly <embed(y') - embed(y), phi>.
    y2 = (y + 1) % 5
    diff = ((D.embed.weight[y2] - D.embed.weight[y]) * phi).sum(1)
    assert torch.allclose(D(x, y2) - D(x, y), diff, atol=1e-4)
    assert diff.abs().min() > 1e-3


def test_dcgan_trunk_and_head_compute_the_unconditional_d():
    torch.manual_seed(1)
    D = DCGANDiscriminator(1, 28, 4, norm="none")
    x = torch.randn(3, 1, 28, 28)
    expected = D(x)
    phi, psi = discriminator_trunk(D)
    assert psi.in_features == 8 * 7 * 7  # 2 * width channels on a 7 x 7 map, DCGAN's last conv as a Linear
    assert torch.allclose(psi(phi(x)).squeeze(1), expected, atol=1e-5)


def test_acgan_d_has_a_source_head_and_a_class_head_on_one_trunk():
    torch.manual_seed(2)
    _, D = build_models("mlp", (2,), z_dim=4, width=8, condition="acgan", num_classes=3)
    assert isinstance(D, ACGANDiscriminator)
    x = torch.randn(5, 2)
    source, logits = D(x)
    phi = D.trunk(x)
    assert torch.allclose(source, D.head(phi).squeeze(1)) and torch.allclose(logits, D.classifier(phi))
    assert logits.shape == (5, 3)


def test_acgan_class_loss_is_the_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 4.0, 0.0]])
    y = torch.tensor([0, 2, 1, 0])
    log_softmax = logits - logits.exp().sum(1, keepdim=True).log()
    by_hand = -log_softmax[torch.arange(4), y].mean()
    assert acgan_class_loss(logits, y).item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert acgan_class_loss(logits, y).item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    # The third row is uniform over three classes: its term is log 3.
    assert acgan_class_loss(logits[2:3], y[2:3]).item() == pytest.approx(1.0986123, rel=1e-6)
    entry = CONDITIONS["acgan"]
    fake_logits, y_fake = logits.flip(0), torch.tensor([1, 1, 2, 0])
    assert entry.d_aux(logits, y, fake_logits, y_fake).item() == pytest.approx(
        F.cross_entropy(logits, y).item() + F.cross_entropy(fake_logits, y_fake).item(), rel=1e-6)
    assert entry.g_aux(fake_logits, y_fake).item() == pytest.approx(F.cross_entropy(fake_logits, y_fake).item())
    for name in ("none", "concat", "projection"):  # only AC-GAN adds loss terms
        assert CONDITIONS[name].d_aux(logits, y, fake_logits, y_fake) == 0.0
        assert CONDITIONS[name].g_aux(fake_logits, y_fake) == 0.0


def test_conditional_batch_norm_is_batch_norm_then_the_classes_scale_and_shift():
    torch.manual_seed(3)
    cbn = ConditionalBatchNorm2d(4, num_classes=3)
    assert torch.equal(cbn.gamma.weight, torch.ones(3, 4)) and torch.equal(cbn.beta.weight, torch.zeros(3, 4))
    with torch.no_grad():
        cbn.gamma.weight.normal_(1.0, 0.5)
        cbn.beta.weight.normal_()
    h = torch.randn(6, 4, 5, 5) * 3 + 1
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    mean = h.mean(dim=(0, 2, 3), keepdim=True)
    var = h.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    normed = (h - mean) / torch.sqrt(var + 1e-5)
    by_hand = cbn.gamma.weight[y][:, :, None, None] * normed + cbn.beta.weight[y][:, :, None, None]
    assert torch.allclose(cbn(h, y), by_hand, atol=1e-5)
    assert cbn.bn.weight is None  # the batch norm itself has no affine map
    cbn.eval()  # running statistics, updated by the call above (momentum 0.1 from mean 0, var 1)
    running = (h - 0.1 * mean) / torch.sqrt(0.9 + 0.1 * h.var(dim=(0, 2, 3), keepdim=True) + 1e-5)
    expected = cbn.gamma.weight[y][:, :, None, None] * running + cbn.beta.weight[y][:, :, None, None]
    assert torch.allclose(cbn(h, y), expected, atol=1e-5)


def test_conditional_generators_take_labels_and_an_untrained_cbn_g_is_the_plain_dcgan():
    torch.manual_seed(4)
    G, _ = build_models("dcgan", (1, 28, 28), z_dim=8, width=4, condition="concat", num_classes=10)
    torch.manual_seed(4)
    plain, _ = build_models("dcgan", (1, 28, 28), z_dim=8, width=4)
    z = torch.randn(4, 8)
    G.eval(), plain.eval()
    # gamma = 1, beta = 0 at the start: no class changes anything yet, and the layers are DCGAN's (one seed).
    assert len([m for m in G.modules() if isinstance(m, ConditionalBatchNorm2d)]) == 2
    for bn in [m for m in plain.modules() if isinstance(m, torch.nn.BatchNorm2d)]:
        with torch.no_grad():
            bn.weight.fill_(1.0), bn.bias.zero_()
    assert torch.allclose(G(z, torch.zeros(4, dtype=torch.long)), plain(z), atol=1e-5)
    assert torch.allclose(G(z, torch.full((4,), 9)), plain(z), atol=1e-5)
    G_mlp, _ = build_models("mlp", (2,), z_dim=4, width=8, condition="projection", num_classes=3)
    out = G_mlp(torch.zeros(3, 4), torch.tensor([0, 1, 2]))
    assert out.shape == (3, 2) and not torch.allclose(out[0], out[1])  # the label moves the output


# --- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("y, message", [
    (torch.tensor([0, 1, 3]), r"0\.\.2 \(num_classes=3\), got values from 0 to 3"),
    (torch.tensor([0, -1, 2]), r"got values from -1 to 2"),
    (torch.tensor([0.0, 1.0, 2.0]), r"integer class indices.*torch.float32"),
    (torch.tensor([[0, 1, 2]]), r"shape \(3,\).*got shape \(1, 3\)"),
    (torch.tensor([0, 1]), r"shape \(3,\).*got shape \(2,\)"),
    ([0, 1, 2], r"tensor of 3 int64 class indices, got list"),
    (torch.tensor([True, False, True]), r"integer class indices.*torch.bool"),
    (torch.zeros(3, dtype=torch.long, device="meta"), r"labels y are on meta but the batch is on cpu"),
])
@pytest.mark.parametrize("model, shape, condition", [
    ("mlp", (2,), "projection"), ("mlp", (2,), "concat"), ("dcgan", (1, 28, 28), "projection")])
def test_bad_labels_are_a_value_error_naming_the_problem(y, message, model, shape, condition):
    G, D = build_models(model, shape, z_dim=4, width=4, condition=condition, num_classes=3)
    with pytest.raises(ValueError, match=message):
        G(torch.randn(3, 4), y)
    with pytest.raises(ValueError, match=message):
        D(torch.randn(3, *shape), y)


def test_trainer_sample_checks_labels_and_refuses_them_for_an_unconditional_run():
    cfg = TrainConfig(z_dim=4, batch_size=8, device="cpu", condition="projection")
    trainer = Trainer.from_names("ring", "mlp", cfg, width=8)
    assert trainer.num_classes == 8 and trainer.setup["num_classes"] == 8
    with pytest.raises(ValueError, match="0..7"):
        trainer.sample(2, y=torch.tensor([0, 8]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        trainer.sample(3, y=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        trainer.sample(2, y=torch.tensor([0.5, 1.0]))
    plain = Trainer.from_names("ring", "mlp", cfg.replace(condition="none"), width=8)
    with pytest.raises(ValueError, match="y \\(class labels\\) is for conditional runs; this run has condition='none'"):
        plain.sample(2, y=torch.tensor([0, 1]))


def test_a_conditional_model_on_unlabelled_data_is_refused_before_training(capsys, tmp_path):
    cfg = TrainConfig(z_dim=4, batch_size=8, device="cpu", condition="acgan")
    for data in ("spiral", "moons"):
        with pytest.raises(ValueError, match=f"dataset '{data}' has none; labelled choices: ring, grid, "
                                             "overlapping_classes, digits"):
            Trainer.from_names(data, "mlp", cfg)
    with pytest.raises(ValueError, match="'spiral' is a curve and has no class labels"):
        MixtureSampler(make_mixture("spiral"), 8).sample_labelled()
    assert MixtureSampler(make_mixture("spiral"), 8).num_classes is None
    # A conditional trainer built by hand on an unlabelled sampler: the same check, in __init__.
    G, D = build_models("mlp", (2,), z_dim=4, width=8, condition="acgan", num_classes=3)
    with pytest.raises(ValueError, match="needs labelled data, but the sampler has no labels"):
        Trainer(G, D, MixtureSampler(make_mixture("spiral"), 8), cfg)
    assert main(["train", "--data", "spiral", "--condition", "concat", "--steps", "2", "--out", str(tmp_path / "x"),
                 "--no-progress", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "--condition concat needs class labels, but dataset 'spiral' has none" in err and "grid" in err


def test_unknown_condition_lists_the_choices(capsys):
    with pytest.raises(ValueError, match="unknown condition 'cgan'; valid choices: none, concat, acgan, projection"):
        TrainConfig(condition="cgan")
    with pytest.raises(ValueError, match="unknown condition 'cgan'; valid choices: none, concat, acgan, projection"):
        build_models("mlp", (2,), condition="cgan", num_classes=3)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        build_models("mlp", (2,), condition="acgan")
    assert main(["train", "--out", "/nonexistent/x", "--condition", "cgan"]) == 2
    assert "invalid choice: 'cgan' (choose from 'none', 'concat', 'acgan', 'projection')" in capsys.readouterr().err


def test_networks_and_condition_must_match():
    sampler = make_sampler("grid", 8)
    cfg = TrainConfig(z_dim=4, batch_size=8, device="cpu")
    G, D = build_models("mlp", (2,), z_dim=4, width=8, condition="projection", num_classes=25)
    with pytest.raises(ValueError, match="conditional network.*condition='none'.*'projection'"):
        Trainer(G, D, sampler, cfg)
    with pytest.raises(ValueError, match="needs G and D built for it.*a projection D.*condition='acgan'"):
        Trainer(G, D, sampler, cfg.replace(condition="acgan"))
    G4, D4 = build_models("mlp", (2,), z_dim=4, width=8, condition="projection", num_classes=4)
    with pytest.raises(ValueError, match="with 25 classes needs G and D built for it.*num_classes=25"):
        Trainer(G4, D4, sampler, cfg.replace(condition="projection"))
    with pytest.raises(ValueError, match="g_norm must be 'batch'"):
        build_models("dcgan", (1, 28, 28), z_dim=4, width=4, g_norm="layer", condition="acgan", num_classes=10)


# --- labelled data -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda seed: MixtureSampler(grid_of_gaussians(std=1e-3), 16, seed=seed),
                                  lambda seed: TensorSampler(*_images()[:1], 16, seed=seed, labels=_images()[1])])
def test_labelled_batches_are_the_unlabelled_batches_with_their_labels(make):
    plain, labelled = make(7), make(7)
    for _ in range(4):  # across a TensorSampler epoch boundary too (40 examples, batches of 16)
        x, y = labelled.sample_labelled()
        assert torch.equal(plain.sample(), x) and y.dtype == torch.int64 and y.shape == (16,)
    assert torch.equal(plain.generator.get_state(), labelled.generator.get_state())
    if isinstance(labelled, MixtureSampler):  # the label is the component the point came from
        nearest = torch.cdist(x, labelled.mixture.centres).argmin(1)
        assert torch.equal(nearest, y) and labelled.num_classes == 25
    else:
        assert labelled.num_classes == 4


def test_mixture_sample_draws_what_it_drew_before_labels_existed():
    # The old Mixture.sample, written out: component index, then noise, both from the generator.
    for mixture in (ring_of_gaussians(), grid_of_gaussians()):
        g = torch.Generator().manual_seed(11)
        idx = torch.randint(mixture.num_modes, (50,), generator=g)
        expected = mixture.centres[idx] + mixture.std * torch.randn(50, 2, generator=g)
        assert torch.equal(mixture.sample(50, generator=torch.Generator().manual_seed(11)), expected)


def test_overlapping_classes_have_the_documented_per_class_distributions():
    m = make_mixture("overlapping_classes")
    assert "overlapping_classes" in LABELLED_DATASETS and m.num_classes == 2
    x, y = m.sample_labelled(40000, generator=torch.Generator().manual_seed(0))
    for k, std in enumerate((1.0, 3.0)):
        xk = x[y == k]
        assert xk.mean(0).abs().max() < 0.05 * std
        assert xk.std(0).tolist() == pytest.approx([std, std], rel=0.03)
        assert torch.allclose(m.centres[k], torch.zeros(2)) and m.component_stds[k].item() == std
    assert (y == 0).float().mean().item() == pytest.approx(0.5, abs=0.01)
    shifted = overlapping_classes(stds=(1.0, 1.0, 2.0), spacing=2.0)
    assert shifted.centres.tolist() == [[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]] and shifted.num_classes == 3
    with pytest.raises(ValueError, match=r"stds\[1\] must be positive, got stds\[1\]=0"):
        overlapping_classes(stds=(1.0, 0))
    with pytest.raises(ValueError, match="two or more"):
        overlapping_classes(stds=(1.0,))


# --- the loop ------------------------------------------------------------------------------------------------


def test_acgan_loss_terms_in_the_history_are_the_cross_entropies_by_hand():
    cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", condition="acgan", steps=3, log_every=1)
    trainer = Trainer.from_names("grid", "mlp", cfg, width=16)
    d_outputs, g_labels, real_labels = [], [], []
    trainer.D.register_forward_hook(lambda m, args, out: d_outputs.append(tuple(o.detach().clone() for o in out)))
    trainer.G.register_forward_hook(lambda m, args, out: g_labels.append(args[1].clone()))
    draw = trainer.sampler.sample_labelled

    def recording(n=None):
        x, y = draw(n)
        real_labels.append(y.clone())
        return x, y

    trainer.sampler.sample_labelled = recording
    hist = trainer.train(progress=False)
    assert len(d_outputs) == 3 * 3 and len(g_labels) == 2 * 3
    for i in range(3):
        (real_s, real_c), (fake_s, fake_c), (gen_s, gen_c) = d_outputs[3 * i: 3 * i + 3]
        y_real, y_fake, y_gen = real_labels[i], g_labels[2 * i], g_labels[2 * i + 1]
        loss_d = (F.softplus(-real_s).mean() + F.softplus(fake_s).mean()
                  + F.cross_entropy(real_c, y_real) + F.cross_entropy(fake_c, y_fake))
        loss_g = F.softplus(-gen_s).mean() + F.cross_entropy(gen_c, y_gen)
        assert hist["loss_d"][i] == pytest.approx(loss_d.item(), rel=1e-5)
        assert hist["loss_g"][i] == pytest.approx(loss_g.item(), rel=1e-5)
        assert hist["d_real"][i] == pytest.approx(torch.sigmoid(real_s).mean().item(), rel=1e-5)
    # Fake labels are uniform over the K classes: over 3 * 2 * 16 draws every one of 25 classes is not
    # expected, but more than half of them are, and none is outside 0..24.
    drawn = torch.cat(g_labels)
    assert drawn.min() >= 0 and drawn.max() < 25 and len(drawn.unique()) > 12


def test_gradient_penalty_and_r1_work_for_a_conditional_d():
    seen = []

    def make(condition, **cfg):
        base = dict(z_dim=4, batch_size=16, device="cpu", steps=3, log_every=1, condition=condition)
        return Trainer.from_names("grid", "mlp", TrainConfig(**{**base, **cfg}), width=16)

    for condition in ("concat", "acgan", "projection"):
        gp = make(condition, loss="wgan-gp", n_critic=2).train(progress=False)
        r1 = make(condition, loss="hinge", r1_gamma=3.0).train(progress=False)
        assert all(v > 0 for v in gp["gp"]) and all(v > 0 for v in r1["gp"])
        seen.append(condition)
    # R1 by hand on a projection D: gamma / 2 * E ||grad_x D(x, y)||^2 with y the batch's labels.
    trainer = make("projection", loss="hinge", r1_gamma=3.0)
    x, y = trainer.sampler.sample_labelled(16)
    x = x.requires_grad_(True)
    (grad,) = torch.autograd.grad(trainer.D(x, y).sum(), x)
    expected = 1.5 * grad.pow(2).sum(1).mean()
    critic = trainer.condition.critic(trainer.D, y)
    assert trainer.penalties[0].compute(critic, x.detach(), x.detach(), 3.0, None).item() == pytest.approx(
        expected.item(), rel=1e-5)


def _dcgan_trainer(condition, **cfg):
    torch.manual_seed(0)
    G, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4, condition=condition, num_classes=4)
    images, labels = _images()
    return Trainer(G, D, TensorSampler(images, 8, seed=0, labels=labels),
                   TrainConfig(z_dim=8, batch_size=8, device="cpu", steps=9, log_every=4, n_critic=2,
                               condition=condition, **cfg))


@pytest.mark.parametrize("make", [
    lambda: Trainer.from_names("grid", "mlp", TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=9, log_every=4,
                                                          condition="acgan"), width=16),
    lambda: Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=9, log_every=4,
                                                          condition="concat", loss="wgan-gp", n_critic=2,
                                                          ema_half_life=3), width=16),
    lambda: _dcgan_trainer("projection", reuse_fakes=True),
    lambda: _dcgan_trainer("acgan"),
    lambda: _dcgan_trainer("concat", loss="wgan-gp"),
], ids=["grid-acgan", "ring-concat-wgan-gp-ema", "dcgan-projection-reuse-fakes", "dcgan-acgan", "dcgan-concat-gp"])
def test_a_conditional_run_resumes_bit_for_bit(make, split_and_resume):
    full, resumed = split_and_resume(make, 4)
    assert resumed.step == 4
    resumed.train(progress=False)
    for a, b in zip(list(full.G.state_dict().values()) + list(full.D.state_dict().values()),
                    list(resumed.G.state_dict().values()) + list(resumed.D.state_dict().values())):
        assert torch.equal(a, b)
    assert full.history == resumed.history
    assert torch.equal(full.sample(8, ema=full.ema is not None), resumed.sample(8, ema=resumed.ema is not None))


def test_checkpoint_records_the_conditioning_and_refuses_another(tmp_path):
    cfg = TrainConfig(z_dim=4, batch_size=8, device="cpu", steps=2, condition="projection")
    trainer = Trainer.from_names("grid", "mlp", cfg, width=8)
    trainer.train(progress=False)
    path = trainer.save(tmp_path / "c.pt")
    state = torch.load(path, weights_only=True)
    assert state["setup"]["condition"] == "projection" and state["setup"]["num_classes"] == 25
    assert state["config"]["condition"] == "projection"
    other = Trainer.from_names("grid", "mlp", cfg.replace(condition="concat"), width=8)
    with pytest.raises(CheckpointError, match="saved with condition='projection' but this trainer uses "
                                              "condition='concat'"):
        other.load(path)
    plain = Trainer.from_names("grid", "mlp", cfg.replace(condition="none"), width=8)
    with pytest.raises(CheckpointError, match="condition='projection'"):
        plain.load(path)


def test_sample_defaults_to_every_class_in_turn_and_ema_takes_labels():
    cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=5, condition="concat", ema_half_life=2)
    trainer = Trainer.from_names("grid", "mlp", cfg, width=16)
    trainer.train(progress=False)
    z = trainer.fixed_z[:30]
    assert torch.equal(trainer.sample(30), trainer.sample(z=z, y=torch.arange(30) % 25))
    assert not torch.equal(trainer.sample(z=z, y=torch.zeros(30, dtype=torch.long)), trainer.sample(30))
    ema = trainer.sample(z=z, y=torch.arange(30) % 25, ema=True)
    trainer.ema.module.eval()
    assert torch.allclose(ema, trainer.ema.module(z, torch.arange(30) % 25), atol=1e-6)
    assert not torch.equal(ema, trainer.sample(30))  # the average is not the last G


def test_labels_steer_a_trained_conditional_generator_to_their_mode():
    # Lesson 5's point: conditioning on the mode index. With 25 modes a G that ignored y would land on the
    # asked-for mode for about 1 sample in 25. Measured (seeds 0-2): concat 1.0 after 800 steps (it learns
    # the label more slowly: 0.47 after 400), projection 0.96-0.99 and acgan 0.92-0.94 after 300.
    centres, y = grid_of_gaussians().centres, torch.arange(2500) % 25
    for condition, steps in (("concat", 800), ("projection", 300), ("acgan", 300)):
        cfg = TrainConfig(z_dim=8, batch_size=128, device="cpu", steps=steps, lr_g=1e-3, lr_d=1e-3, seed=0,
                          condition=condition, log_every=100)
        trainer = Trainer.from_names("grid", "mlp", cfg, width=64)
        z = torch.randn(2500, 8, generator=torch.Generator().manual_seed(1))
        untrained = (torch.cdist(trainer.sample(z=z, y=y), centres).argmin(1) == y).float().mean().item()
        trainer.train(progress=False)
        hits = (torch.cdist(trainer.sample(z=z, y=y), centres).argmin(1) == y).float().mean().item()
        assert untrained < 0.15 and hits > 0.6, (condition, untrained, hits)
        # Asking for another label moves the same z to another mode: the label, not z, picks the mode.
        moved = (torch.cdist(trainer.sample(z=z, y=(y + 7) % 25), centres).argmin(1) == (y + 7) % 25)
        assert moved.float().mean().item() > 0.6


# --- unconditional training is what it was ---------------------------------------------------------------------


def test_unconditional_training_is_algorithm_1_written_out_bit_for_bit():
    """A by-hand replay of the loop as it was before labels (draws, order, losses, updates), compared with the
    Trainer bit for bit: a conditioning that drew one random number more, or changed the order of the draws
    or of D's forward passes, or added anything to a loss, would change the weights and the RNG states."""
    cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=6, lr_g=1e-3, lr_d=1e-3, seed=3)
    trainer = Trainer.from_names("grid", "mlp", cfg, width=16)
    assert trainer.condition.name == "none" and trainer.num_classes is None
    torch.manual_seed(3)
    G, D = build_models("mlp", (2,), z_dim=4, width=16)
    sampler = MixtureSampler(grid_of_gaussians(), 16, seed=3)
    noise = torch.Generator().manual_seed(cfg.seed + 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    losses = []
    for _ in range(cfg.steps):
        real = sampler.sample(16)
        with torch.no_grad():
            fake = G(torch.randn(16, 4, generator=noise))
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        loss_g = F.softplus(-D(G(torch.randn(16, 4, generator=noise)))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
        losses.append((loss_d.item(), loss_g.item()))
    hist = trainer.train(progress=False)
    assert list(zip(hist["loss_d"], hist["loss_g"])) == losses
    for a, b in zip(list(G.state_dict().values()) + list(D.state_dict().values()),
                    list(trainer.G.state_dict().values()) + list(trainer.D.state_dict().values())):
        assert torch.equal(a, b)
    assert torch.equal(trainer.noise.get_state(), noise.get_state())
    assert torch.equal(trainer.sampler.generator.get_state(), sampler.generator.get_state())


def test_condition_none_is_the_default_run():
    cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=5)
    a = Trainer.from_names("ring", "mlp", cfg, width=8)
    b = Trainer.from_names("ring", "mlp", cfg.replace(condition="none"), width=8)
    a.train(progress=False), b.train(progress=False)
    assert a.history == b.history
    assert a.setup["condition"] == "none" and a.setup["num_classes"] is None


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_trains_a_conditional_dcgan_and_resumes_it(tmp_path, capsys):
    out = tmp_path / "cdigits"
    args = ["train", "--data", "digits", "--model", "dcgan", "--condition", "projection", "--width", "4",
            "--z-dim", "8", "--batch-size", "8", "--out", str(out), "--no-progress", "--device", "cpu"]
    assert main(args + ["--steps", "2"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["condition"] == "projection" and metrics["setup"]["num_classes"] == 10
    assert (out / "samples.png").read_bytes()[:4] == b"\x89PNG"
    assert "(conditional: projection)" in capsys.readouterr().out
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress", "--device", "cpu"]) == 0
    assert json.loads((out / "metrics.json").read_text())["step"] == 3
    assert main(["train", "--out", str(out), "--resume", "--steps", "4", "--condition", "acgan", "--no-progress"]) == 2
    assert "--condition acgan differs from the checkpoint's condition='projection'" in capsys.readouterr().err


def test_cli_sample_grid_has_one_row_per_class():
    from gancourse.run_outputs import sample_grid as _sample_grid

    cfg = TrainConfig(z_dim=8, batch_size=8, device="cpu", condition="acgan")
    trainer = Trainer.from_names("digits", "dcgan", cfg, width=4)
    images, nrow = _sample_grid(trainer)
    assert images.shape == (80, 1, 28, 28) and nrow == 8
    # Row k is class k; a column keeps its latent point across the rows.
    z = trainer.fixed_z[:8]
    assert torch.equal(images[8 * 3: 8 * 4], trainer.sample(z=z, y=torch.full((8,), 3)))
    plain = Trainer.from_names("digits", "dcgan", cfg.replace(condition="none"), width=4)
    assert _sample_grid(plain)[0].shape == (64, 1, 28, 28) and _sample_grid(plain)[1] is None


def test_spectral_norm_wraps_a_conditional_d_and_trains():
    cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=3, loss="hinge", condition="projection")
    trainer = Trainer.from_names("grid", "mlp", cfg, width=16, spectral_norm=True)
    assert trainer.setup["spectral_norm"] and trainer.setup["condition"] == "projection"
    assert hasattr(trainer.D.head, "parametrizations") and all(
        hasattr(m, "parametrizations") for m in trainer.D.trunk.modules() if isinstance(m, torch.nn.Linear))
    assert not hasattr(trainer.D.embed, "parametrizations")  # only Linear and convolution layers are normalised
    hist = trainer.train(progress=False)
    assert len(hist) == 3 and all(torch.isfinite(torch.tensor(hist["loss_d"])))


def test_acgan_pushes_overlapping_classes_apart_and_projection_does_not():
    # AC-GAN's known bias (Shu et al. 2017; Gong et al. 2019, TAC-GAN, Sec. 3): class 0 = N(0, I) and class
    # 1 = N(0, 9 I) overlap at the centre, and AC-GAN's classifier rewards G for points that are easy to
    # classify, so class 1 leaves the centre and class 0 shrinks into it. True share of class 1 within
    # radius 1.5: 1 - exp(-1.5^2 / 18) = 0.118. Measured after 800 steps (seeds 0-2): AC-GAN 0.000-0.001 with
    # class 0's std 0.66-0.81; projection 0.09-0.11 with std 1.00-1.06.
    y = torch.arange(4000) % 2
    z = torch.randn(4000, 8, generator=torch.Generator().manual_seed(1))
    measured = {}
    for condition in ("acgan", "projection"):
        cfg = TrainConfig(z_dim=8, batch_size=256, device="cpu", steps=800, lr_g=1e-3, lr_d=1e-3, seed=0,
                          condition=condition, log_every=100)
        trainer = Trainer.from_names("overlapping_classes", "mlp", cfg, width=64)
        trainer.train(progress=False)
        fake = trainer.sample(z=z, y=y)
        measured[condition] = ((fake[y == 1].norm(dim=1) < 1.5).float().mean().item(),
                               fake[y == 0].std(0).mean().item())
    true_share = 1 - torch.exp(torch.tensor(-1.5 ** 2 / 18)).item()
    assert true_share == pytest.approx(0.1175, abs=1e-4)
    acgan_share, acgan_std0 = measured["acgan"]
    projection_share, projection_std0 = measured["projection"]
    assert acgan_share < 0.25 * true_share and acgan_std0 < 0.9, measured
    assert projection_share > 0.6 * true_share and 0.9 < projection_std0 < 1.15, measured
