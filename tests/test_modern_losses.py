"""Hinge loss, R1 penalty and the loss / penalty registry the training loop looks up (issue 18)."""
from __future__ import annotations

import dataclasses
import inspect
import math
import re

import pytest
import torch
from helpers import ring_trainer
from torch import nn

from gancourse import losses
from gancourse import train as train_module
from gancourse.config import CRITIC_LOSSES, LOSSES, TrainConfig
from gancourse.data import MixtureSampler, ring_of_gaussians
from gancourse.models import build_models
from gancourse.train import Trainer


def test_hinge_losses_match_hand_computation():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 0.25])
    # relu(1 - real) = 0, 0.5, 2  -> mean 2.5/3; relu(1 + fake) = 0, 1, 1.25 -> mean 2.25/3
    assert losses.discriminator_loss_hinge(real, fake).item() == pytest.approx(2.5 / 3 + 2.25 / 3)
    assert losses.generator_loss_hinge(fake).item() == pytest.approx(-(-3.0 + 0.0 + 0.25) / 3)


def test_hinge_gives_no_gradient_beyond_the_margin():
    real = torch.tensor([1.5, 0.5], requires_grad=True)
    fake = torch.tensor([-1.5, -0.5], requires_grad=True)
    losses.discriminator_loss_hinge(real, fake).backward()
    assert real.grad.tolist() == [0.0, -0.5] and fake.grad.tolist() == [0.0, 0.5]


class _Linear(nn.Module):
    """D(x) = w . x (+ b): grad_x D = w for every x, so ||grad||^2 = ||w||^2."""

    def __init__(self, w, bias=0.0):
        super().__init__()
        self.lin = nn.Linear(len(w), 1)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([w]))
            self.lin.bias.fill_(bias)

    def forward(self, x):
        return self.lin(x).squeeze(1)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 10.0])
def test_r1_of_a_linear_discriminator_is_gamma_over_two_times_the_squared_weight_norm(gamma):
    D = _Linear([3.0, -4.0], bias=7.0)
    r1 = losses.r1_penalty(D, torch.randn(16, 2), gamma)
    assert r1.item() == pytest.approx(gamma / 2 * 25.0)


def test_r1_is_differentiable_in_ds_weights_and_looks_at_real_data_only():
    D = _Linear([1.0, 2.0])
    real = torch.randn(8, 2)
    losses.r1_penalty(D, real, 4.0).backward()
    # d/dw (gamma/2 ||w||^2) = gamma w
    torch.testing.assert_close(D.lin.weight.grad, 4.0 * torch.tensor([[1.0, 2.0]]))
    assert D.lin.bias.grad is None or D.lin.bias.grad.abs().max() == 0
    # The registry's entry ignores fakes and draws no random numbers.
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state()
    a = losses.PENALTIES["r1"].compute(D, real, torch.zeros(8, 2), 4.0, gen)
    b = losses.PENALTIES["r1"].compute(D, real, 100 * torch.ones(8, 2), 4.0, gen)
    assert a.item() == b.item() and torch.equal(gen.get_state(), state)


def test_r1_of_an_image_discriminator_sums_over_all_pixels():
    w = torch.randn(1, 3, 4, 4)
    r1 = losses.r1_penalty(lambda x: (x * w).flatten(1).sum(1), torch.randn(5, 3, 4, 4), 2.0)
    assert r1.item() == pytest.approx(w.square().sum().item(), rel=1e-5)


def test_r1_refuses_a_negative_gamma():
    with pytest.raises(ValueError, match="gamma=-1"):
        losses.r1_penalty(_Linear([1.0]), torch.zeros(2, 1), -1.0)


def test_every_configurable_loss_is_one_registry_entry():
    assert LOSSES == tuple(losses.GAME_LOSSES) and "hinge" in LOSSES
    assert CRITIC_LOSSES == ("wgan", "wgan-gp")  # hinge keeps its default norms: it is no Wasserstein critic
    assert losses.game_loss("gan").g_loss is losses.generator_loss_minimax
    assert losses.game_loss("nsgan").g_loss is losses.generator_loss_nonsaturating
    assert losses.game_loss("hinge").d_loss is losses.discriminator_loss_hinge
    assert [n for n, e in losses.GAME_LOSSES.items() if e.logits] == ["gan", "nsgan"]
    with pytest.raises(ValueError, match="'lsgan'.*gan, nsgan, wgan, wgan-gp, hinge"):
        losses.game_loss("lsgan")
    with pytest.raises(dataclasses.FrozenInstanceError):  # frozen: an entry cannot be changed under a running trainer
        losses.GAME_LOSSES["gan"].logits = False


def test_penalties_for_each_loss():
    def fields(loss, gamma=0.0):
        return [p.weight_field for p in losses.penalties_for(loss, gamma)]
    assert fields("nsgan") == [] and fields("wgan") == [] and fields("hinge") == []
    assert fields("wgan-gp") == ["gp_lambda"]
    assert fields("nsgan", 10.0) == ["r1_gamma"] and fields("hinge", 0.1) == ["r1_gamma"]
    assert fields("wgan-gp", 1.0) == ["gp_lambda", "r1_gamma"]
    for entry in losses.PENALTIES.values():
        assert entry.weight_field in TrainConfig().to_dict()


@pytest.mark.parametrize("field, value, message", [
    ("r1_gamma", -0.5, "r1_gamma=-0.5"), ("r1_gamma", math.inf, "r1_gamma=inf"), ("r1_gamma", "1", "r1_gamma='1'"),
    ("ema_half_life", -1, "ema_half_life=-1"), ("ema_half_life", math.nan, "ema_half_life=nan"),
    ("loss", "hing", "'hing'"),
])
def test_config_refuses_bad_new_values_by_name(field, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**{field: value})


def test_config_holds_the_new_fields_and_allows_ttur():
    cfg = TrainConfig(loss="hinge", r1_gamma=10, ema_half_life=693, lr_d=4e-4, lr_g=1e-4)
    assert (cfg.r1_gamma, cfg.ema_half_life) == (10.0, 693.0) and type(cfg.r1_gamma) is float
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig().r1_gamma == 0.0 and TrainConfig().ema_half_life == 0.0  # off by default


def _ring(**overrides):
    return ring_trainer(**{"z_dim": 4, "batch_size": 32, "steps": 8, "log_every": 3, **overrides})


def test_r1_through_the_loop_matches_the_hand_computation():
    torch.manual_seed(0)
    G, _ = build_models("mlp", (2,), z_dim=4, width=8)
    D = _Linear([0.6, -0.8])
    cfg = TrainConfig(loss="nsgan", r1_gamma=3.0, z_dim=4, batch_size=16, device="cpu", steps=3, log_every=1)
    trainer = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 16, seed=0), cfg)
    expected = []
    for _ in range(3):
        expected.append(3.0 / 2 * D.lin.weight.detach().square().sum().item())  # before this step's D update
        trainer.train_step()
    trainer.flush()
    assert trainer.history["gp"] == pytest.approx(expected, rel=1e-6)
    assert expected[0] == pytest.approx(1.5)


def test_the_loop_uses_the_hinge_losses_and_reports_raw_scores():
    trainer = _ring(loss="hinge", steps=1, log_every=1)
    calls = []
    entry = losses.GAME_LOSSES["hinge"]
    trainer.game = losses.GameLoss(lambda r, f: calls.append("d") or entry.d_loss(r, f),
                                   lambda f: calls.append("g") or entry.g_loss(f), False, False)
    trainer.train(progress=False)
    assert calls == ["d", "g"]
    h = trainer.history
    assert h["gp"] == [0.0]
    assert h.last("w_estimate") == pytest.approx(h.last("d_real") - h.last("d_fake"), abs=1e-6)  # raw, no sigmoid


@pytest.mark.parametrize("overrides", [dict(loss="hinge"), dict(loss="nsgan", r1_gamma=1.0),
                                       dict(loss="hinge", r1_gamma=1.0, n_critic=2),
                                       dict(loss="hinge", r1_gamma=1.0, unroll_steps=2),
                                       dict(loss="gan", r1_gamma=0.5, reuse_fakes=True)],
                         ids=["hinge", "nsgan-r1", "hinge-r1-k2", "hinge-r1-unrolled", "gan-r1-reuse"])
def test_new_losses_and_penalties_train_with_finite_statistics(overrides):
    trainer = _ring(**overrides)
    history = trainer.train(progress=False)
    assert len(history) == 8 and all(math.isfinite(v) for k in history for v in history[k])
    assert (min(history["gp"]) > 0) == (overrides.get("r1_gamma", 0) > 0)


def test_hinge_and_r1_resume_bit_for_bit(split_and_resume):
    full, resumed = split_and_resume(lambda: _ring(loss="hinge", r1_gamma=2.0, steps=9), 4)
    resumed.train(progress=False)
    for a, b in zip(list(full.G.state_dict().values()) + list(full.D.state_dict().values()),
                    list(resumed.G.state_dict().values()) + list(resumed.D.state_dict().values())):
        assert torch.equal(a, b)
    assert full.history == resumed.history


def test_the_trainer_never_branches_on_the_loss_name():
    source = inspect.getsource(train_module)
    assert not re.search(r"cfg\.loss\s*(==|!=|in\b|not in)", source)
    assert "wgan" not in inspect.getsource(Trainer.train_step) + inspect.getsource(Trainer._generator_step)
    assert len(source.splitlines()) <= 600
