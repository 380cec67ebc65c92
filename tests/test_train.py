import math
import warnings

import pytest
import torch
from helpers import ring_trainer

from gancourse.checkpoint import CheckpointError
from gancourse.config import TrainConfig, preset
from gancourse.data import MixtureSampler, TensorSampler, ring_of_gaussians
from gancourse.metrics import nearest_mode_distance
from gancourse.models import build_models
from gancourse.models.build import CriticNormWarning
from gancourse.train import STAT_KEYS, Trainer, TrainingDiverged, train_gan


def _ring_trainer(seed=0, **cfg):
    return ring_trainer(width=None, **{"z_dim": 16, "batch_size": 128, "seed": seed, "lr_g": 1e-3, "lr_d": 1e-3, **cfg})


def _mean_distance_to_modes(trainer):
    z = torch.randn(2000, trainer.cfg.z_dim, generator=torch.Generator().manual_seed(99))
    return nearest_mode_distance(trainer.sample(z=z), ring_of_gaussians().centres)[0].mean().item()


def test_short_run_on_ring_moves_fakes_onto_the_modes():
    trainer = _ring_trainer(steps=600, lr_g=3e-4, lr_d=3e-4)
    before = _mean_distance_to_modes(trainer)
    trainer.train(progress=False)
    after = _mean_distance_to_modes(trainer)
    assert before > 0.5  # an untrained G puts its points near the origin, ~1 away from the ring
    assert after < 0.5 * before  # measured: 0.89 -> 0.31


def test_history_records_every_step_and_sensible_statistics():
    trainer = _ring_trainer(steps=25, log_every=7)
    outputs = []  # D's logits, in call order: real and fake of the D step, then the G step's fake
    trainer.D.register_forward_hook(lambda module, args, out: outputs.append(out.detach().clone()))
    hist = trainer.train(progress=False)
    assert hist["step"] == list(range(1, 26))
    assert set(STAT_KEYS) <= set(hist) and all(len(hist[k]) == 25 for k in STAT_KEYS)
    assert all(v == 0 for v in hist["gp"])
    assert len(outputs) == 3 * 25

    def softplus(t):
        return torch.log1p(torch.exp(t))

    # Every recorded statistic against its definition (Goodfellow et al. 2014, Eq. 1, on logits).
    for i in range(25):
        real, fake, fake_g = outputs[3 * i: 3 * i + 3]
        expected = {"loss_d": softplus(-real).mean() + softplus(fake).mean(), "loss_g": softplus(-fake_g).mean(),
                    "d_real": torch.sigmoid(real).mean(), "d_fake": torch.sigmoid(fake).mean(),
                    "w_estimate": real.mean() - fake.mean()}
        for key, value in expected.items():
            assert hist[key][i] == pytest.approx(value.item(), rel=1e-5, abs=1e-6), (i, key)


def test_n_critic_counts_discriminator_steps():
    trainer = _ring_trainer(steps=3, n_critic=4, optimizer="rmsprop")
    trainer.train(progress=False)
    assert trainer.opt_d.state[next(iter(trainer.D.parameters()))]["step"] == 12
    assert trainer.opt_g.state[next(iter(trainer.G.parameters()))]["step"] == 3


def test_clipping_holds_after_training():
    trainer = _ring_trainer(**{**preset("wgan").to_dict(), "z_dim": 16, "device": "cpu", "steps": 5})
    trainer.train(progress=False)
    assert max(p.abs().max().item() for p in trainer.D.parameters()) <= 0.01 + 1e-9


def test_wgan_gp_records_penalty_and_raw_critic_values():
    trainer = _ring_trainer(**{**preset("wgan-gp").to_dict(), "z_dim": 16, "device": "cpu", "steps": 5})
    hist = trainer.train(progress=False)
    assert all(v > 0 for v in hist["gp"])
    assert hist["w_estimate"][-1] == pytest.approx(hist["d_real"][-1] - hist["d_fake"][-1], abs=1e-5)
    assert hist["loss_d"][-1] == pytest.approx(-hist["w_estimate"][-1], abs=1e-5)


def test_callback_can_stop_training():
    seen = []

    def stop_at_ten(trainer):
        seen.append(trainer.step)
        return trainer.step >= 10

    trainer = _ring_trainer(steps=100)
    trainer.callbacks.append(stop_at_ten)
    trainer.callback_every = 5
    trainer.train(progress=False)
    assert seen == [5, 10] and trainer.step == 10 and len(trainer.history) == 10


def test_huge_learning_rate_raises_training_diverged_and_keeps_history():
    trainer = _ring_trainer(steps=200, lr_g=1e10, lr_d=1e10)
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+: \w+ = (nan|inf|-inf)") as info:
        trainer.train(progress=False)
    err = info.value
    assert err.key in STAT_KEYS and not math.isfinite(err.value)
    assert len(trainer.history) == err.step - 1  # every step before the bad one is kept
    assert all(math.isfinite(v) for k in STAT_KEYS for v in trainer.history[k])


def _image_trainer(seed=0, loss="nsgan", steps=6, **overrides):
    data = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(5))
    extra = preset("wgan-gp").to_dict() if loss == "wgan-gp" else {"loss": loss}
    cfg = TrainConfig(**{**extra, "z_dim": 8, "batch_size": 8, "device": "cpu", "seed": seed, "steps": steps,
                         "log_every": 2, "n_critic": 2, **overrides})
    torch.manual_seed(seed)
    G, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4, d_norm="none" if loss == "wgan-gp" else None)
    return Trainer(G, D, TensorSampler(data, 8, seed=seed), cfg)


@pytest.mark.parametrize("make", [
    lambda: _ring_trainer(steps=30, log_every=4),
    lambda: _ring_trainer(**{**preset("wgan-gp").to_dict(), "z_dim": 16, "device": "cpu", "steps": 12}),
    lambda: _image_trainer(loss="nsgan", steps=12),  # BN running stats, Adam state, epoch permutation
    lambda: _image_trainer(loss="wgan-gp", steps=12),
    lambda: _image_trainer(loss="nsgan", steps=12, reuse_fakes=True),
], ids=["ring-nsgan", "ring-wgan-gp", "dcgan-nsgan", "dcgan-wgan-gp", "dcgan-reuse-fakes"])
def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(make, tmp_path):
    full = make()
    full.train(progress=False)

    first = make()
    half = full.cfg.steps // 2 + 1  # an odd split, not aligned with log_every
    first.train(steps=half, progress=False)
    first.save(tmp_path / "ckpt.pt")
    resumed = make()
    resumed.load(tmp_path / "ckpt.pt")
    assert resumed.step == half
    resumed.train(progress=False)

    for a, b in zip(list(full.G.state_dict().values()) + list(full.D.state_dict().values()),
                    list(resumed.G.state_dict().values()) + list(resumed.D.state_dict().values())):
        assert torch.equal(a, b)
    assert full.history == resumed.history


def test_checkpoint_from_another_model_shape_is_refused(tmp_path):
    small = _ring_trainer(steps=1)
    small.train(progress=False)
    small.save(tmp_path / "c.pt")
    torch.manual_seed(0)
    G, D = build_models("mlp", (2,), z_dim=16, width=64)
    other = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 128), small.cfg)
    with pytest.raises(CheckpointError, match="different model shape"):
        other.load(tmp_path / "c.pt")


def test_corrupt_or_truncated_checkpoint_gives_clear_error(tmp_path):
    trainer = _ring_trainer(steps=1)
    path = trainer.save(tmp_path / "c.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt,? (or )?truncated"):
        trainer.load(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        trainer.load(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        trainer.load(tmp_path / "missing.pt")


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    trainer = _ring_trainer(steps=1)
    trainer.save(tmp_path / "c.pt")
    trainer.save(tmp_path / "c.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_seeded_runs_are_deterministic_on_cpu():
    a, b = _ring_trainer(seed=3, steps=15), _ring_trainer(seed=3, steps=15)
    a.train(progress=False)
    b.train(progress=False)
    assert a.history == b.history
    c = _ring_trainer(seed=4, steps=15)
    c.train(progress=False)
    assert c.history["loss_d"] != a.history["loss_d"]


def test_train_gan_by_name_and_sampler_device_mismatch():
    trainer = train_gan("grid", steps=3, z_dim=4, device="cpu", progress=False)
    assert trainer.step == 3 and trainer.setup["data"] == "grid"
    with pytest.raises(ValueError, match="unknown dataset 'grids'"):
        train_gan("grids", steps=3, device="cpu", progress=False)
    # A sampler that produces its batches on another device than the one training runs on.
    sampler = MixtureSampler(ring_of_gaussians(), 8)
    sampler.device = torch.device("meta")
    G, D = build_models("mlp", (2,), z_dim=4)
    with pytest.raises(ValueError, match=r"sampler is on meta.*device='cpu'"):
        Trainer(G, D, sampler, TrainConfig(z_dim=4, batch_size=8, device="cpu"))


def _trained_dcgan(**overrides):
    trainer = _image_trainer(steps=3, **overrides)
    trainer.train(progress=False)
    return trainer


def test_sample_changes_nothing_in_g_and_depends_on_each_z_only():
    trainer = _trained_dcgan()
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.G.modules())
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    z = torch.randn(16, 8, generator=torch.Generator().manual_seed(3))
    batch = trainer.sample(z=z)
    for key, value in trainer.G.state_dict().items():  # running statistics and their counters included
        assert torch.equal(value, before[key]), key
    # The same z gives the same image alone, in another batch, or in another order.
    assert torch.allclose(trainer.sample(z=z[:1]), batch[:1], atol=1e-5)
    assert torch.allclose(trainer.sample(z=z.flip(0))[-1], batch[0], atol=1e-5)
    assert trainer.sample(1).shape == (1, 1, 28, 28)
    assert torch.equal(trainer.sample(5), trainer.sample(5))
    # Batch norm runs on its running statistics: what G computes in eval mode.
    trainer.G.eval()
    assert torch.allclose(trainer.G(z).float(), batch, atol=1e-5)


def test_sample_restores_each_modules_train_or_eval_mode():
    trainer = _trained_dcgan()
    assert trainer.G.training
    trainer.sample(4)
    assert all(m.training for m in trainer.G.modules())  # training continues in train mode
    trainer.G.eval()
    bn = next(m for m in trainer.G.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.train()  # a mixed state (a learner's experiment) comes back as it was
    trainer.sample(4)
    assert bn.training and not trainer.G.training and not trainer.G.net[0].training
    # Training after sampling is the run it would have been without it.
    quiet, sampled = _image_trainer(steps=6), _image_trainer(steps=6)
    quiet.train(progress=False)
    sampled.callbacks.append(lambda t: t.sample(3) is None)
    sampled.callback_every = 1
    sampled.train(progress=False)
    assert quiet.history == sampled.history
    assert all(torch.equal(a, b) for a, b in zip(quiet.G.state_dict().values(), sampled.G.state_dict().values()))


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_from_names_gives_a_critic_loss_a_critic_without_batch_norm(loss):
    cfg = preset(loss, z_dim=8, batch_size=8, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default is right: no warning either
        trainer = Trainer.from_names("digits", "dcgan", cfg, width=4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.D.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.G.modules())  # G keeps DCGAN's batch norm
    assert (trainer.setup["g_norm"], trainer.setup["d_norm"]) == ("batch", "layer")
    x = trainer.sampler.sample(8)
    assert torch.allclose(trainer.D(x)[:2], trainer.D(x[:2]), atol=1e-5)  # one score per sample, batch or not
    # Asked for explicitly, batch norm in the critic is built (lesson 4's experiment), with a warning why not.
    with pytest.warns(CriticNormWarning, match=f"batch norm in a {loss} critic"):
        explicit = Trainer.from_names("digits", "dcgan", cfg, width=4, d_norm="batch")
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in explicit.D.modules())
    nsgan = Trainer.from_names("digits", "dcgan", cfg.replace(loss="nsgan", clip=None), width=4)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in nsgan.D.modules())  # DCGAN's own D is unchanged


def test_tensor_sampler_epochs_scale_and_resume():
    data = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1) * 25
    s = TensorSampler(data, 5, seed=0)
    epoch = torch.cat([s.sample(), s.sample()]).flatten()
    assert sorted(((epoch + 1) * 127.5 / 25).round().tolist()) == list(range(10))  # each item once
    assert epoch.min() >= -1 and epoch.max() <= 1 and -1.0 in epoch.tolist()
    state = s.state_dict()
    nxt = s.sample()
    s2 = TensorSampler(data, 5, seed=123)
    s2.load_state_dict(state)
    assert torch.equal(s2.sample(), nxt)
    with pytest.raises(ValueError, match="batch_size=11 is larger"):
        TensorSampler(data, 11)


@pytest.mark.parametrize("reuse", [False, True])
def test_reuse_fakes_trains_g_on_the_last_d_steps_batch_with_one_g_forward(reuse):
    trainer = _image_trainer(steps=1, reuse_fakes=reuse)  # n_critic = 2
    g_calls, d_inputs = [], []
    trainer.G.register_forward_hook(lambda module, args, out: g_calls.append(out.detach().clone()))
    trainer.D.register_forward_hook(lambda module, args, out: d_inputs.append(args[0].detach().clone()))
    trainer.train_step()
    # D sees (real, fake) twice, then the generator step's fake batch.
    assert len(d_inputs) == 5
    last_d_fake, g_step_fake = d_inputs[3], d_inputs[4]
    assert len(g_calls) == (2 if reuse else 3)  # one forward per D step, plus one for G unless reused
    assert torch.equal(last_d_fake, g_step_fake) == reuse
    assert not torch.equal(d_inputs[1], g_step_fake)  # the first D step always has its own batch


def test_reuse_fakes_cannot_be_combined_with_unrolling():
    with pytest.raises(ValueError, match="reuse_fakes=True cannot be combined with unroll_steps=3"):
        TrainConfig(reuse_fakes=True, unroll_steps=3)


# --- spectral normalisation as a build option (issue 18) ---------------------------------------------------------


@pytest.mark.parametrize("model, data", [("mlp", "ring"), ("dcgan", "digits")])
def test_spectral_norm_option_normalises_every_layer_of_d_and_is_recorded(model, data):
    cfg = TrainConfig(z_dim=4, batch_size=8, device="cpu", loss="hinge")
    trainer = Trainer.from_names(data, model, cfg, width=4, spectral_norm=True)
    assert trainer.setup["spectral_norm"] is True
    layers = [m for m in trainer.D.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    trainer.D.train()
    for _ in range(30):  # each forward in train mode takes one power-iteration step
        trainer.D(trainer.sampler.sample(8))
    for layer in layers:
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05), layer
    plain = Trainer.from_names(data, model, cfg, width=4)
    assert plain.setup["spectral_norm"] is False
    assert not any(hasattr(m, "parametrizations") for m in plain.D.modules())
    # G is the same network either way (the same seed builds the same weights).
    for a, b in zip(trainer.G.state_dict().values(), plain.G.state_dict().values()):
        assert torch.equal(a, b)


def test_spectral_norm_run_from_names_resumes_bit_for_bit(split_and_resume):
    def make():
        cfg = TrainConfig(loss="hinge", z_dim=4, batch_size=16, device="cpu", steps=7, log_every=3)
        return Trainer.from_names("grid", "mlp", cfg, width=16, spectral_norm=True)

    full, resumed = split_and_resume(make, 3)
    resumed.train(progress=False)
    assert any(k.endswith("_u") for k in full.D.state_dict())
    for a, b in zip(list(full.G.state_dict().values()) + list(full.D.state_dict().values()),
                    list(resumed.G.state_dict().values()) + list(resumed.D.state_dict().values())):
        assert torch.equal(a, b)
    assert full.history == resumed.history
