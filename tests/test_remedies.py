"""Remedies for mode collapse: packing, minibatch std, the unrolled generator step, the benchmark."""
import copy
import math

import pytest
import torch
from torch import nn

from gancourse import losses
from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, ring_of_gaussians
from gancourse.experiments.mixtures import (
    METHODS,
    MixtureSetup,
    Rescale,
    build_mixture_trainer,
    evaluate,
    lr_decay_callback,
    run_benchmark,
    run_method,
)
from gancourse.models import build_models
from gancourse.models.mlp import MLPDiscriminator
from gancourse.remedies import (
    MinibatchStd,
    MixtureLatent,
    PackedDiscriminator,
    minibatch_std,
    pack_samples,
    with_minibatch_std,
)
from gancourse.train import Trainer

# --- mixture latent (DeLiGAN) -------------------------------------------------------------------


def test_mixture_latent_picks_component_from_the_normal_cdf_of_the_first_entry():
    latent = MixtureLatent(z_dim=3, components=5)
    # the centre of component i's slice of [0, 1): u = (i + 0.5) / 5, z_0 = Phi^-1(u)
    z0 = torch.special.ndtri((torch.arange(5) + 0.5) / 5)
    z = torch.stack([z0, torch.zeros(5), torch.zeros(5)], dim=1)
    assert latent.component(z).tolist() == [0, 1, 2, 3, 4]
    # slice edges: Phi(z_0) = 0.4 - 1e-4 is still component 1, 0.4 + 1e-4 is component 2
    edges = torch.special.ndtri(torch.tensor([0.4 - 1e-4, 0.4 + 1e-4], dtype=torch.float64)).float()
    assert latent.component(torch.stack([edges, torch.zeros(2), torch.zeros(2)], 1)).tolist() == [1, 2]
    # z_0 ~ N(0, 1): every component equally likely (binomial std of a count: sqrt(n p (1-p)) = 89)
    counts = torch.bincount(latent.component(torch.randn(50_000, 3, generator=torch.Generator().manual_seed(0))),
                            minlength=5)
    assert (counts - 10_000).abs().max() < 5 * 89


def test_mixture_latent_is_mu_plus_sigma_times_eps_and_trains_both():
    torch.manual_seed(0)
    latent = MixtureLatent(z_dim=3, components=4, sigma=0.5)
    assert latent.sigma.shape == (4, 2) and torch.allclose(latent.sigma, torch.full((4, 2), 0.5))
    assert latent.means.min() >= -1 and latent.means.max() <= 1          # DeLiGAN's U(-1, 1) start
    z = torch.tensor([[-2.0, 1.0, -2.0], [-2.0, 3.0, 0.0], [2.0, 0.5, 0.5]])   # components 0, 0, 3
    out = latent(z)
    expected = torch.stack([latent.means[0] + 0.5 * torch.tensor([1.0, -2.0]),
                            latent.means[0] + 0.5 * torch.tensor([3.0, 0.0]),
                            latent.means[3] + 0.5 * torch.tensor([0.5, 0.5])])
    assert torch.allclose(out, expected)
    out.sum().backward()
    # d(sum)/d(mu_i) = number of codes using component i; d(sum)/d(log sigma_i) = sum of sigma_i * eps
    assert latent.means.grad[:, 0].tolist() == [2.0, 0.0, 0.0, 1.0]
    assert torch.allclose(latent.log_sigma.grad[0], 0.5 * torch.tensor([4.0, -2.0]))
    assert torch.allclose(latent.log_sigma.grad[3], 0.5 * torch.tensor([0.5, 0.5]))
    assert latent.log_sigma.grad[1:3].abs().sum() == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(z_dim=1, components=4), "z_dim must be >= 2"),
    (dict(z_dim=4, components=0), "components must be an integer >= 1"),
    (dict(z_dim=4, components=4, sigma=0.0), "sigma must be a positive finite number"),
    (dict(z_dim=4, components=4, sigma=float("nan")), "sigma must be a positive finite number"),
])
def test_mixture_latent_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixtureLatent(**kwargs)


def test_mixture_latent_checks_the_code_shape():
    with pytest.raises(ValueError, match=r"z must have shape \(N, z_dim=4\), got \(2, 3\)"):
        MixtureLatent(4, 8)(torch.zeros(2, 3))


def test_mixture_latent_method_trains_means_and_scales_in_the_unchanged_loop():
    t = build_mixture_trainer("grid", "mixture latent", MixtureSetup().replace(steps=5, batch_size=16), device="cpu")
    latent = next(m for m in t.G.modules() if isinstance(m, MixtureLatent))
    assert latent.components == METHODS["mixture latent"].latent_components and latent.z_dim == t.cfg.z_dim
    # G's network takes one input fewer than the code: the first entry only picks the component
    first_linear = next(m for m in t.G.modules() if isinstance(m, nn.Linear))
    assert first_linear.in_features == t.cfg.z_dim - 1
    means, log_sigma = latent.means.detach().clone(), latent.log_sigma.detach().clone()
    t.train(progress=False)
    assert not torch.equal(means, latent.means) and not torch.equal(log_sigma, latent.log_sigma)
    assert evaluate(t, "grid").num_modes == 25


# --- packing -----------------------------------------------------------------------------------


def test_pack_samples_concatenates_consecutive_samples():
    x = torch.arange(12.0).view(6, 2)
    packed = pack_samples(x, 3)
    assert packed.tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    images = torch.randn(4, 1, 5, 5)
    packed = pack_samples(images, 2)
    assert packed.shape == (2, 2, 5, 5)
    # channel-wise, as PacGAN
    assert torch.equal(packed[1, 0], images[2, 0]) and torch.equal(packed[1, 1], images[3, 0])


@pytest.mark.parametrize("pack", [0, -1, 2.0, True])
def test_pack_size_must_be_a_positive_integer(pack):
    with pytest.raises(ValueError, match="pack must be an integer >= 1"):
        pack_samples(torch.zeros(4, 2), pack)


def test_batch_not_divisible_by_pack_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot be split into packs of 4"):
        PackedDiscriminator(MLPDiscriminator((8,)), 4)(torch.zeros(6, 2))


def test_packed_discriminator_gives_one_logit_per_pack_and_sees_all_members():
    torch.manual_seed(0)
    D = PackedDiscriminator(MLPDiscriminator((6,)), 3)
    x = torch.randn(9, 2)
    out = D(x)
    assert out.shape == (3,)
    assert torch.allclose(out[1], D.inner(x[3:6].reshape(1, 6))[0])
    y = x.clone()
    y[4] += 1.0  # change one member of the second pack: only that pack's logit moves
    changed = (D(y) != out).tolist()
    assert changed == [False, True, False]


def test_packed_discriminator_trains_with_the_unchanged_loop():
    cfg = TrainConfig(steps=4, batch_size=32, z_dim=8, device="cpu")
    torch.manual_seed(0)
    G, _ = build_models("mlp", (2,), z_dim=8)
    D = PackedDiscriminator(MLPDiscriminator((8,)), 4)
    hist = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 32), cfg).train(progress=False)
    assert len(hist) == 4 and all(math.isfinite(v) for v in hist["loss_d"])


# --- minibatch standard deviation ------------------------------------------------------------------


def test_minibatch_std_matches_a_hand_computation():
    # Groups of 2 with sample b in group b mod 2: {x0, x2} and {x1, x3}.
    x = torch.tensor([[0.0, 0.0], [1.0, 5.0], [2.0, 4.0], [3.0, 5.0]])
    s = minibatch_std(x, group_size=2)
    # group {x0, x2}: feature stds 1 and 2 -> mean 1.5; group {x1, x3}: stds 1 and 0 -> mean 0.5
    expected = torch.tensor([1.5, 0.5, 1.5, 0.5])
    assert torch.allclose(s, expected, atol=1e-4)
    whole = minibatch_std(x, group_size=None)  # one group of 4: population stds over the batch
    assert torch.allclose(whole, x.std(0, unbiased=False).mean().expand(4), atol=1e-4)


def test_minibatch_std_of_identical_samples_is_almost_zero_and_spread_raises_it():
    same = torch.ones(8, 3)
    spread = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    assert minibatch_std(same).max() < 1e-3
    assert minibatch_std(spread).min() > 0.3


def test_minibatch_std_layer_adds_one_constant_feature_map():
    x = torch.randn(8, 3, 4, 4)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (8, 4, 4, 4)
    assert torch.equal(y[:, :3], x)
    assert torch.all(y[:, 3] == y[:, 3, :1, :1])  # constant over positions


@pytest.mark.parametrize("group", [0, -2, 3.5])
def test_minibatch_std_rejects_bad_group_sizes(group):
    with pytest.raises(ValueError, match="group_size"):
        MinibatchStd(group)


def test_minibatch_std_batch_must_split_into_groups():
    with pytest.raises(ValueError, match="groups of 4"):
        minibatch_std(torch.zeros(6, 2), 4)


@pytest.mark.parametrize("model,shape", [("mlp", (2,)), ("dcgan", (1, 28, 28))])
def test_with_minibatch_std_starts_as_the_same_function_and_then_uses_the_statistic(model, shape):
    torch.manual_seed(0)
    _, D = build_models(model, shape, z_dim=8, width=8, d_norm="none")
    Dm = with_minibatch_std(D)
    x = torch.randn(8, *shape)
    assert torch.allclose(Dm(x), D(x), atol=1e-6)
    assert D.net[-1] is not Dm.net[-1]  # D itself is not modified
    with torch.no_grad():
        Dm.net[-1].weight[:, -1] += 1.0  # once the statistic has weight, a collapsed batch scores differently
    collapsed = x[:1].expand(8, *shape).contiguous()
    assert not torch.allclose(Dm(collapsed) - D(collapsed), Dm(x) - D(x))


def test_with_minibatch_std_needs_a_sequential_discriminator():
    with pytest.raises(ValueError, match="ending in Linear or Conv2d"):
        with_minibatch_std(nn.Linear(2, 1))


# --- unrolled GAN ----------------------------------------------------------------------------------


def _ring(unroll=0, optimizer="adam", loss="nsgan", steps=3, **kw):
    cfg = TrainConfig(loss=loss, optimizer=optimizer, steps=steps, batch_size=32, z_dim=8, device="cpu",
                      lr_g=1e-3, lr_d=1e-3, unroll_steps=unroll, **kw)
    torch.manual_seed(0)
    G, D = build_models("mlp", (2,), z_dim=8, width=16)
    return Trainer(G, D, MixtureSampler(ring_of_gaussians(), 32, seed=0), cfg)


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_unroll_steps_is_validated(value):
    with pytest.raises(ValueError, match="unroll_steps must be an integer >= 0"):
        TrainConfig(unroll_steps=value)


def test_unroll_steps_round_trips_and_defaults_to_zero_for_old_configs():
    assert TrainConfig().unroll_steps == 0
    old = TrainConfig().to_dict()
    del old["unroll_steps"]
    assert TrainConfig.from_dict(old).unroll_steps == 0
    assert TrainConfig.from_dict(TrainConfig(unroll_steps=3).to_dict()).unroll_steps == 3


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_unrolled_parameters_equal_k_real_optimiser_steps_on_the_same_batch(optimizer):
    trainer = _ring(unroll=3, optimizer=optimizer)
    trainer.train(progress=False)  # the optimiser now has moment estimates to continue from
    state = copy.deepcopy(trainer.sampler.state_dict())
    fake = trainer.G(torch.randn(32, 8, generator=torch.Generator().manual_seed(5)))
    unrolled = trainer._unrolled_discriminator(fake)

    # The same 3 steps taken by a copy of D with a copy of its optimiser, on the same two batches.
    trainer.sampler.load_state_dict(state)
    real = trainer.sampler.sample(32)
    D = copy.deepcopy(trainer.D).requires_grad_(True)
    opt = trainer._optimizer(D, trainer.cfg.lr_d)
    opt.load_state_dict(trainer.opt_d.state_dict())
    for _ in range(3):
        opt.zero_grad()
        losses.discriminator_loss(D(real), D(fake.detach())).backward()
        opt.step()
    for name, p in D.named_parameters():
        assert torch.allclose(unrolled[name], p, atol=1e-6, rtol=1e-5), name
    # ... and the trainer's own D has not moved.
    for (name, p), q in zip(trainer.D.named_parameters(), D.parameters()):
        assert not torch.allclose(p, q), name


def test_generator_gradient_flows_through_the_unrolled_discriminator():
    trainer = _ring(unroll=2)
    trainer.train(progress=False)
    trainer.D.requires_grad_(False)
    z = torch.randn(32, 8, generator=torch.Generator().manual_seed(1))

    def g_grad(detach: bool) -> torch.Tensor:
        trainer.G.zero_grad()
        state = copy.deepcopy(trainer.sampler.state_dict())
        fake = trainer.G(z)
        params = trainer._unrolled_discriminator(fake)
        trainer.sampler.load_state_dict(state)
        if detach:  # keep theta_D^K's value but drop the d theta_D^K / d theta_G term of Eq. 7
            params = {k: v.detach() for k, v in params.items()}
        out = torch.func.functional_call(trainer.D, params, (fake,))
        losses.generator_loss_nonsaturating(out).backward()
        return torch.cat([p.grad.flatten() for p in trainer.G.parameters()])

    full, partial = g_grad(False), g_grad(True)
    assert (full - partial).norm() > 1e-3 * full.norm()


def test_unrolled_training_moves_g_differently_and_leaves_d_updates_alone():
    plain, unrolled = _ring(unroll=0, steps=1), _ring(unroll=3, steps=1)
    plain.train(progress=False)
    unrolled.train(progress=False)
    # The D step comes first and is identical; only G's step differs.
    for p, q in zip(plain.D.parameters(), unrolled.D.parameters()):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, q) for p, q in zip(plain.G.parameters(), unrolled.G.parameters()))


@pytest.mark.parametrize("loss,extra", [("wgan-gp", {}), ("wgan", {"clip": 0.01}), ("gan", {})])
def test_unrolling_works_with_every_loss(loss, extra):
    hist = _ring(unroll=2, loss=loss, steps=4, **extra).train(progress=False)
    assert len(hist) == 4 and all(math.isfinite(v) for v in hist["loss_g"])


def test_unrolling_does_not_touch_the_batch_norm_statistics_of_d():
    cfg = TrainConfig(steps=1, batch_size=16, z_dim=8, device="cpu", unroll_steps=3)
    torch.manual_seed(0)
    G, D = build_models("mlp", (2,), z_dim=8, width=8, d_norm="batch")
    trainer = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 16), cfg)
    trainer._discriminator_step()  # two forward passes: real, fake
    counts = [int(v) for k, v in trainer.D.named_buffers() if k.endswith("num_batches_tracked")]
    assert counts == [2, 2]
    trainer._generator_step()  # 2 * 3 unrolled passes use copies; only the final pass counts, as without unrolling
    counts = [int(v) for k, v in trainer.D.named_buffers() if k.endswith("num_batches_tracked")]
    assert counts == [3, 3]


def test_resume_with_unrolling_is_bit_for_bit(tmp_path):
    full = _ring(unroll=2, steps=8, log_every=3)
    full.train(progress=False)
    first = _ring(unroll=2, steps=8, log_every=3)
    first.train(steps=5, progress=False)
    first.save(tmp_path / "c.pt")
    resumed = _ring(unroll=2, steps=8, log_every=3).load(tmp_path / "c.pt")
    resumed.train(progress=False)
    for a, b in zip(full.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    assert full.history == resumed.history


# --- benchmark ------------------------------------------------------------------------------------


def test_rescale_and_lr_decay_schedule():
    assert Rescale(0.25)(torch.tensor([4.0])).item() == 1.0
    with pytest.raises(ValueError, match="factor"):
        Rescale(0.0)
    trainer = _ring(steps=100)
    callback = lr_decay_callback(100, start=0.5, final=0.01)
    for step, expected in ((10, 1e-3), (50, 1e-3), (75, 1e-4), (100, 1e-5)):
        trainer.step = step
        callback(trainer)
        assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-9)
        assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="start"):
        lr_decay_callback(100, start=1.0, final=0.1)


def test_build_trainer_wires_each_method():
    setup = MixtureSetup().replace(steps=3, batch_size=16)
    t = build_mixture_trainer("grid", "PacGAN4", setup, device="cpu")
    assert isinstance(t.D, PackedDiscriminator) and t.D.pack == 4
    unrolled = build_mixture_trainer("ring", "unrolled GAN (5 steps)", setup, device="cpu")
    assert unrolled.cfg.unroll_steps == 5
    # the unrolled GAN keeps its own Adam settings; every other method takes the setup's
    assert (unrolled.cfg.beta1, unrolled.cfg.beta2, unrolled.cfg.lr_g) == (0.5, 0.999, 2e-3)
    assert unrolled.opt_d.param_groups[0]["betas"] == (0.5, 0.999)
    plain = build_mixture_trainer("ring", "GAN", setup.replace(lr_g=3e-3, beta1=0.1), device="cpu")
    assert (plain.cfg.lr_g, plain.cfg.beta1, plain.opt_g.param_groups[0]["lr"]) == (3e-3, 0.1, 3e-3)
    wgan = build_mixture_trainer("ring", "WGAN-GP", setup, device="cpu")
    assert wgan.cfg.loss == "wgan-gp" and wgan.cfg.n_critic == 5
    mb = build_mixture_trainer("ring", "minibatch std", setup, device="cpu")
    assert any(isinstance(m, MinibatchStd) for m in mb.D.modules())
    # grid points span +-4: the networks see them divided by 4; latent codes are scaled on the way in
    assert t.D.inner[0].factor == 0.25 and t.G[1].factor == 4.0
    assert t.G[0][0].factor == setup.latent_scale
    ring = build_mixture_trainer("ring", "GAN", setup.replace(latent_scale=1.0), device="cpu")
    assert ring.G[1].factor == 1.0 and isinstance(ring.G[0], nn.Module) and not isinstance(ring.G[0], nn.Sequential)
    with pytest.raises(ValueError, match="unknown method"):
        build_mixture_trainer("ring", "VEEGAN", setup)
    with pytest.raises(ValueError, match="'ring' or 'grid'"):
        build_mixture_trainer("spiral", "GAN", setup)


def test_same_seed_same_initial_generator_across_methods():
    a = build_mixture_trainer("ring", "GAN", MixtureSetup().replace(steps=1), seed=3, device="cpu")
    b = build_mixture_trainer("ring", "PacGAN2", MixtureSetup().replace(steps=1), seed=3, device="cpu")
    for p, q in zip(a.G.parameters(), b.G.parameters()):
        assert torch.equal(p, q)
    assert evaluate(a, "ring").hq_fraction == evaluate(b, "ring").hq_fraction


def test_run_method_records_a_trace_and_run_benchmark_covers_every_combination():
    r = run_method("ring", "GAN", MixtureSetup().replace(steps=40, samples=300), seed=1, device="cpu", trace_every=20)
    assert [step for step, *_ in r.trace] == [20, 40]
    assert all(0 <= modes <= 8 and 0 <= hq <= 1 and 1 / 8 <= top <= 1 for _, modes, hq, top in r.trace)
    # the trace scores the same fixed codes as the final score: its last entry is the final score
    assert len(r.frames) == 2 and r.frames[-1].shape == (300, 2) and torch.equal(r.frames[-1], r.samples)
    assert r.trace[-1][1:3] == (r.coverage.modes_captured, r.coverage.hq_fraction)
    res = run_benchmark(["ring", "grid"], ["GAN", "PacGAN2"], [0, 1], MixtureSetup().replace(steps=2), device="cpu",
                        progress=False)
    assert [(r.data, r.method, r.seed) for r in res][:3] == [("ring", "GAN", 0), ("ring", "GAN", 1),
                                                             ("ring", "PacGAN2", 0)]
    assert len(res) == 8 and {r.coverage.num_modes for r in res} == {8, 25}
    assert set(METHODS) >= {"GAN", "PacGAN2", "PacGAN4", "minibatch std", "unrolled GAN (5 steps)", "WGAN-GP"}


def test_two_worker_processes_give_the_same_results_as_one_and_threads_are_restored():
    import torch as _torch

    threads = _torch.get_num_threads()
    setup = MixtureSetup().replace(steps=15, batch_size=32, z_dim=4, width=16)
    one = run_benchmark(["ring"], ["GAN", "PacGAN2"], [0, 1], setup, device="cpu", workers=1, progress=False)
    assert _torch.get_num_threads() == threads
    two = run_benchmark(["ring"], ["GAN", "PacGAN2"], [0, 1], setup, device="cpu", workers=2, progress=False)
    assert [(r.method, r.seed) for r in two] == [(r.method, r.seed) for r in one]
    for a, b in zip(one, two):
        assert a.coverage == b.coverage and torch.equal(a.samples, b.samples)
    with pytest.raises(ValueError, match="workers"):
        run_benchmark(["ring"], ["GAN"], [0], setup, device="cpu", workers=0)
    with pytest.raises(ValueError, match="unknown method"):
        run_benchmark(["ring"], ["GAN", "BigGAN"], [0], setup, device="cpu")


def test_collapse_setup_differs_from_the_papers_only_where_documented():
    from gancourse.experiments.collapse import COLLAPSE_METHODS, COLLAPSE_SETUP, PAPER_SETUP

    # REFERENCES.md: z 256, 2 x FC128 tanh, Adam beta1 0.5, D lr 1e-4, G lr 1e-3, batch 512, 25k iterations
    paper = PAPER_SETUP
    assert (paper.z_dim, paper.width, paper.g_depth, paper.d_depth) == (256, 128, 2, 2)
    assert (paper.g_activation, paper.d_activation) == ("tanh", "tanh")
    assert (paper.beta1, paper.lr_d, paper.lr_g, paper.batch_size, paper.steps) == (0.5, 1e-4, 1e-3, 512, 25_000)
    assert (paper.rescale, paper.latent_scale, paper.decay_to) == (False, 1.0, 1.0)
    ours = COLLAPSE_SETUP.settings()
    changed = {name for name, value in paper.settings().items() if value != ours[name]}
    assert changed == {"steps", "batch_size", "z_dim", "g_activation", "d_activation"}
    # every collapse-setting method trains with that setting's Adam, the unrolled GAN included
    for method in COLLAPSE_METHODS.values():
        assert method.adam(COLLAPSE_SETUP) == {"lr_g": 1e-3, "lr_d": 1e-4, "beta1": 0.5, "beta2": 0.999}
    unrolled = COLLAPSE_METHODS["unrolled GAN (5 steps)"]
    t = build_mixture_trainer("ring", unrolled, COLLAPSE_SETUP.replace(steps=2), device="cpu")
    assert t.cfg.unroll_steps == 5 and t.opt_d.param_groups[0]["lr"] == 1e-4
    # constant learning rates: the schedule with decay_to = 1 leaves them alone
    t.train(progress=False)
    assert t.opt_g.param_groups[0]["lr"] == 1e-3 and t.opt_d.param_groups[0]["lr"] == 1e-4
    assert not isinstance(t.G, nn.Sequential)   # no rescaling modules around G


def test_seconds_per_run_averages_over_datasets_and_seeds():
    from gancourse.experiments.mixtures import MixtureResult, seconds_per_run
    from gancourse.metrics.mixtures import ModeCoverage

    cov = ModeCoverage(8, 8, 1.0, 0.0, [1] * 8)
    runs = [MixtureResult("GAN", "ring", 0, 1.0, cov), MixtureResult("GAN", "grid", 1, 2.0, cov),
            MixtureResult("WGAN-GP", "ring", 0, 9.0, cov)]
    assert seconds_per_run(runs) == {"GAN": 1.5, "WGAN-GP": 9.0}
