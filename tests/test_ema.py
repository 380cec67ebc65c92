"""The exponential moving average of G's weights (gancourse.ema) and its place in the Trainer (issue 18)."""
from __future__ import annotations

import math

import pytest
import torch
from helpers import ring_trainer
from torch import nn

from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, TensorSampler, ring_of_gaussians
from gancourse.ema import EMA, decay_from_half_life, half_life, recompute_batch_norm_
from gancourse.models import build_models
from gancourse.train import Trainer


def _net(bn: bool = True) -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(3, 4)] + ([nn.BatchNorm1d(4)] if bn else []) + [nn.ReLU(), nn.Linear(4, 2)]
    return nn.Sequential(*layers)


def _fill(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)


def test_constant_weights_stay_exactly_constant_after_many_updates():
    G = _net()
    ema = EMA(G, decay=0.999)
    for _ in range(50):
        ema.update(G)
    for a, b in zip(ema.module.parameters(), G.parameters()):
        assert torch.equal(a, b)
    assert ema.updates == 50


def test_decay_zero_follows_g_exactly():
    G = _net()
    ema = EMA(G, decay=0.0)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(torch.randn_like(p))
    ema.update(G)
    assert all(torch.equal(a, b) for a, b in zip(ema.module.parameters(), G.parameters()))


def test_two_updates_match_the_hand_computed_average():
    G = _net(bn=False)
    _fill(G, 1.0)
    ema = EMA(G, decay=0.75)  # theta_ema starts at 1
    _fill(G, 3.0)
    ema.update(G)  # 0.75 * 1 + 0.25 * 3 = 1.5
    _fill(G, -1.0)
    ema.update(G)  # 0.75 * 1.5 + 0.25 * (-1) = 0.875
    assert {p.unique().item() for p in ema.module.parameters()} == {0.875}
    ema.update(G, decay=0.5)  # an explicit decay: 0.5 * 0.875 + 0.5 * (-1) = -0.0625
    assert {p.unique().item() for p in ema.module.parameters()} == {-0.0625}


def test_buffers_are_copied_not_averaged_and_the_copy_is_independent():
    G = _net()
    ema = EMA(G, decay=0.9)
    G.train()
    for _ in range(3):
        G(torch.randn(16, 3) * 5 + 2)  # moves the running statistics
    before = [p.clone() for p in ema.module.parameters()]
    assert not torch.equal(ema.module[1].running_mean, G[1].running_mean)  # not aliased
    ema.update(G)
    for name, b in G.named_buffers():
        assert torch.equal(dict(ema.module.named_buffers())[name], b), name  # incl. num_batches_tracked
    assert all(torch.equal(a, b) for a, b in zip(ema.module.parameters(), before))  # weights unchanged: G's were
    assert not ema.module.training and not any(p.requires_grad for p in ema.module.parameters())


def test_recomputed_batch_norm_statistics_are_those_of_the_averaged_weights():
    G = _net()
    ema = EMA(G, decay=0.5)
    z = [torch.randn(32, 3) for _ in range(3)]
    recompute_batch_norm_(ema.module, z)
    with torch.no_grad():
        pre = torch.cat([ema.module[0](batch) for batch in z])
    # momentum=None: the cumulative average of the per-batch means (equal batch sizes: the overall mean).
    torch.testing.assert_close(ema.module[1].running_mean, pre.mean(0))
    assert ema.module[1].momentum == G[1].momentum == 0.1 and not ema.module.training


def test_half_life_and_decay_are_inverse():
    for h in (1.0, 10.0, 693.0, 5000.0):
        assert half_life(decay_from_half_life(h)) == pytest.approx(h)
        assert decay_from_half_life(h) ** h == pytest.approx(0.5)  # half the weight is older than h steps
    assert decay_from_half_life(0) == 0.0 and half_life(0.0) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: EMA(nn.Linear(1, 1), 1.5), "decay=1.5"),
    (lambda: EMA(nn.Linear(1, 1), -0.1), "decay=-0.1"),
    (lambda: EMA(nn.Linear(1, 1), 0.9).update(nn.Linear(1, 1), decay=2), "decay=2"),
    (lambda: EMA(nn.Linear(1, 1), 0.9).update(nn.Linear(2, 2, bias=False)), "these differ"),
    (lambda: half_life(1.0), "decay=1.0"),
    (lambda: decay_from_half_life(-3), "-3"),
])
def test_bad_values_are_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _ring_trainer(**overrides):
    return ring_trainer(**{"z_dim": 4, "batch_size": 32, "steps": 10, "log_every": 3, "ema_half_life": 3.0,
                           **overrides})


def test_trainer_updates_the_average_after_every_generator_step_and_samples_from_it():
    trainer = _ring_trainer(steps=6)
    replay = EMA(trainer.G, decay_from_half_life(3.0))
    original = trainer._generator_step

    def step_then_replay():
        out = original()
        replay.update(trainer.G)
        return out

    trainer._generator_step = step_then_replay
    trainer.train(progress=False)
    assert trainer.ema.updates == 6 and trainer.ema.decay == pytest.approx(0.5 ** (1 / 3))
    assert all(torch.equal(a, b) for a, b in zip(trainer.ema.module.parameters(), replay.module.parameters()))
    z = torch.randn(5, 4)
    with torch.no_grad():
        assert torch.equal(trainer.sample(z=z, ema=True), trainer.ema.module(z))
    assert not torch.equal(trainer.sample(z=z, ema=True), trainer.sample(z=z))


def test_sampling_from_the_average_needs_one():
    trainer = _ring_trainer(ema_half_life=0.0)
    assert trainer.ema is None
    with pytest.raises(ValueError, match="ema_half_life"):
        trainer.sample(4, ema=True)
    with pytest.raises(ValueError, match="ema=1"):
        _ring_trainer().sample(4, ema=1)


def _image_trainer(steps=8):
    data = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(5))
    cfg = TrainConfig(z_dim=8, batch_size=8, device="cpu", steps=steps, log_every=2, ema_half_life=2.0)
    torch.manual_seed(0)
    G, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4)  # batch norm in G: buffers in the average
    return Trainer(G, D, TensorSampler(data, 8, seed=0), cfg)


@pytest.mark.parametrize("make", [lambda: _ring_trainer(steps=9), lambda: _image_trainer(steps=7)],
                         ids=["ring", "dcgan-batch-norm"])
def test_checkpoints_carry_the_average_and_resume_bit_for_bit(make, split_and_resume):
    full, resumed = split_and_resume(make, 4)
    assert resumed.ema.updates == 4
    resumed.train(progress=False)
    for a, b in zip(full.ema.module.state_dict().values(), resumed.ema.module.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(full.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    assert full.history == resumed.history


def test_a_checkpoint_without_an_average_restarts_it_from_its_g(tmp_path):
    plain = _ring_trainer(ema_half_life=0.0, steps=3)
    plain.train(progress=False)
    plain.save(tmp_path / "plain.pt")
    with pytest.warns(UserWarning, match="restarts from the checkpoint's G"):
        averaged = _ring_trainer().load(tmp_path / "plain.pt")
    assert all(torch.equal(a, b) for a, b in zip(averaged.ema.module.parameters(), plain.G.parameters()))
    # And the other way: a run without an average ignores one in the checkpoint.
    with_average = _ring_trainer(steps=2)
    with_average.train(progress=False)
    with_average.save(tmp_path / "ema.pt")
    assert _ring_trainer(ema_half_life=0.0).load(tmp_path / "ema.pt").step == 2


def test_a_checkpoint_from_another_shape_leaves_the_average_as_it_was(tmp_path):
    other = Trainer(*build_models("mlp", (2,), z_dim=4, width=32), MixtureSampler(ring_of_gaussians(), 32),
                    TrainConfig(z_dim=4, batch_size=32, device="cpu", ema_half_life=3.0))
    other.save(tmp_path / "wide.pt")
    trainer = _ring_trainer()
    before = [t.clone() for t in trainer.ema.module.state_dict().values()]
    with pytest.raises(RuntimeError, match="different model shape"):
        trainer.load(tmp_path / "wide.pt")
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.ema.module.state_dict().values()))
    assert math.isfinite(trainer.sample(2, ema=True).sum().item())
