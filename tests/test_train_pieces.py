"""The trainer as Algorithm 1 plus looked-up pieces (``gancourse.pieces``) and its named statistics record."""
from __future__ import annotations

import copy
import inspect
import re

import pytest
import torch
from helpers import ring_trainer

from gancourse import pieces, train
from gancourse.config import TrainConfig, preset
from gancourse.history import STAT_KEYS, StepStats
from gancourse.train import Trainer
from gancourse.unrolled import UnrolledCritic


def test_a_plain_config_fills_every_slot_with_algorithm_1_as_written():
    chosen = pieces.pieces_for(TrainConfig())
    assert isinstance(chosen.fakes, pieces.FreshFakes) and not isinstance(chosen.fakes, pieces.ReusedFakes)
    assert chosen.constrain_d is pieces.no_constraint
    assert chosen.critic_for_g is pieces.plain_critic
    assert chosen.after_g_step is pieces.no_average


@pytest.mark.parametrize("name, field, value, slot, kind", [
    ("weight_clipping", "clip", 0.05, "constrain_d", pieces.WeightClipping),
    ("reuse_fakes", "reuse_fakes", True, "fakes", pieces.ReusedFakes),
    ("unrolled_d", "unroll_steps", 3, "critic_for_g", UnrolledCritic),
])
def test_each_piece_fills_its_slot_when_its_field_is_set(name, field, value, slot, kind):
    piece = pieces.PIECES[name]
    assert (piece.field, piece.slot) == (field, slot)
    assert re.search(r"et al\. 20\d\d|tutorial", piece.reference)  # each names its source
    chosen = pieces.pieces_for(TrainConfig(**{field: value}))
    assert isinstance(getattr(chosen, slot), kind)
    others = [s for s in pieces.Pieces._fields if s != slot]
    plain = pieces.pieces_for(TrainConfig())
    assert all(getattr(chosen, s) is getattr(plain, s) or s == "fakes" for s in others)
    if name == "weight_clipping":
        assert chosen.constrain_d.c == 0.05
    if name == "unrolled_d":
        assert chosen.critic_for_g.steps == 3


def test_the_average_of_g_is_a_piece_too():
    assert pieces.pieces_for(TrainConfig(ema_half_life=10.0)).after_g_step is pieces.update_average
    assert {p.field for p in pieces.PIECES.values()} == {"clip", "reuse_fakes", "unroll_steps", "ema_half_life"}


def test_the_loop_never_branches_on_a_piece_setting():
    source = "".join(inspect.getsource(f) for f in (Trainer.train_step, Trainer._discriminator_step,
                                                      Trainer._generator_step))
    assert not re.search(r"cfg\.(clip|unroll_steps|reuse_fakes|ema_half_life)|self\.ema\b", source)
    assert len(inspect.getsource(train).splitlines()) < 400


def test_weight_clipping_keeps_every_weight_of_d_in_the_box_after_each_d_step():
    trainer = ring_trainer(**{**preset("wgan").to_dict(), "z_dim": 4, "batch_size": 16, "device": "cpu",
                              "clip": 0.02, "n_critic": 2, "steps": 3})
    trainer.train(progress=False)
    values = torch.cat([p.detach().flatten() for p in trainer.D.parameters()])
    assert values.abs().max() <= 0.02 and (values.abs() == 0.02).any()  # clipped, and the clip was reached


@pytest.mark.parametrize("reuse, draws", [(False, 3), (True, 2)])
def test_reused_fakes_save_the_generator_steps_own_draw(reuse, draws, monkeypatch):
    trainer = ring_trainer(z_dim=4, batch_size=8, n_critic=2, steps=1, reuse_fakes=reuse)
    calls = []
    original = trainer._generate
    monkeypatch.setattr(trainer, "_generate", lambda n: calls.append(n) or original(n))
    trainer.train_step()
    assert calls == [8] * draws  # n_critic D steps, plus G's own batch unless it reuses the last D step's


def _labelled_trainer(condition: str, **fields) -> Trainer:
    cfg = TrainConfig(**{"z_dim": 4, "batch_size": 16, "device": "cpu", "steps": 2, "lr_d": 1e-3,
                         "condition": condition, **fields})
    return Trainer.from_names("grid", "mlp", cfg, width=16)


@pytest.mark.parametrize("condition", ["acgan", "projection", "concat"])
def test_the_unrolled_critic_takes_k_real_optimiser_steps_of_a_conditional_d(condition):
    """The unroll piece passes labels through: theta_D^K equals K true Adam steps of a copy of D on the same
    labelled real batch and labelled fakes, AC-GAN's class terms included (a step the unroll got wrong, or a
    label it dropped, moves the parameters)."""
    trainer = _labelled_trainer(condition)
    trainer.train(progress=False)  # Adam has moment estimates to continue from
    sampler_state = copy.deepcopy(trainer.sampler.state_dict())
    fake, y = trainer._generate(16)
    unrolled = UnrolledCritic(3).parameters(trainer, fake, y)

    trainer.sampler.load_state_dict(sampler_state)
    real, y_real = trainer._real_batch()
    D = copy.deepcopy(trainer.D).requires_grad_(True)
    opt = trainer._optimizer(D, trainer.cfg.lr_d)
    opt.load_state_dict(trainer.opt_d.state_dict())
    for _ in range(3):
        loss, penalty, _, _ = trainer._discriminator_objective(D, D, real, fake.detach(), y_real, y)
        opt.zero_grad()
        (loss + penalty).backward()
        opt.step()
    for name, p in D.named_parameters():
        assert torch.allclose(unrolled[name], p, atol=1e-6, rtol=1e-5), name
    assert any(not torch.equal(p, q) for p, q in zip(trainer.D.parameters(), D.parameters()))  # D itself kept


@pytest.mark.parametrize("condition", ["acgan", "projection", "concat"])
def test_an_unrolled_conditional_run_trains_and_its_g_step_sees_the_unrolled_critic(condition):
    """Unrolling and labels together: the config accepts them, a short run stays finite, and G's update
    differs from the same run without unrolling (G's step really goes through the look-ahead critic)."""
    unrolled, plain = _labelled_trainer(condition, unroll_steps=2), _labelled_trainer(condition)
    unrolled.train(progress=False)
    plain.train(progress=False)
    assert all(torch.isfinite(torch.tensor(unrolled.history[key])).all() for key in ("loss_d", "loss_g"))
    assert any(not torch.equal(p, q) for p, q in zip(unrolled.G.parameters(), plain.G.parameters()))


def test_each_step_is_one_named_record_whose_fields_are_the_history_keys():
    assert StepStats._fields == STAT_KEYS
    trainer = ring_trainer(z_dim=4, batch_size=8, steps=1, loss="gan")
    d = trainer._discriminator_step()
    assert isinstance(d, StepStats) and float(d.loss_g) == 0.0 and float(d.loss_d) > 0
    g = trainer._generator_step()
    assert isinstance(g, StepStats) and float(g.loss_d) == 0.0 and float(g.loss_g) < 0  # minimax: log(1 - D(G(z)))
    trainer.train(progress=False)
    assert list(trainer.history) == ["step", *STAT_KEYS] and trainer.history["step"] == [1]
    assert 0 < trainer.history["d_real"][0] < 1  # the gan loss reports probabilities, sigmoid(logit)
