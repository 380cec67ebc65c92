"""Checkpoints: a bad or foreign file is refused with a clear error and leaves the trainer as it was;
settings, optimiser and random states load as documented (split from the robustness tests).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import cli_args, read_checkpoint, small_cfg, small_ring_trainer, weights

from gancourse.checkpoint import CHECKPOINT_FORMAT, CheckpointError, save_checkpoint
from gancourse.cli import main
from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, make_sampler, ring_of_gaussians
from gancourse.models import build_models
from gancourse.train import Trainer


def test_failed_load_leaves_the_trainer_as_it_was(tmp_path):
    small = small_ring_trainer(steps=2)
    small.train(progress=False)
    path = small.save(tmp_path / "small.pt")
    torch.manual_seed(1)
    G, D = build_models("mlp", (2,), z_dim=8, width=32, depth=3)  # one more hidden layer: D's first layers match
    other = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 32), small_cfg())
    before = weights(other)
    with pytest.raises(CheckpointError, match="different model"):
        other.load(path)
    assert all(torch.equal(a, b) for a, b in zip(before, weights(other)))
    assert other.step == 0


def test_checkpoint_from_another_optimizer_is_refused_before_training_breaks(tmp_path):
    path = small_ring_trainer(steps=2).save(tmp_path / "adam.pt")
    rmsprop = small_ring_trainer(optimizer="rmsprop")
    with pytest.raises(CheckpointError, match="optimizer='adam'.*optimizer='rmsprop'"):
        rmsprop.load(path)
    assert len(rmsprop.train(steps=2, progress=False)) == 2  # untouched, still trains


def test_loaded_trainer_uses_its_own_learning_rates(tmp_path):
    path = small_ring_trainer(steps=2).save(tmp_path / "c.pt")
    faster = small_ring_trainer(lr_g=1e-3, lr_d=3e-3, beta1=0.0).load(path)
    assert faster.opt_g.param_groups[0]["lr"] == 1e-3 and faster.opt_d.param_groups[0]["lr"] == 3e-3
    assert faster.opt_d.param_groups[0]["betas"] == (0.0, 0.999)


def test_a_file_without_training_state_is_not_a_training_checkpoint(tmp_path):
    path = save_checkpoint({"format": CHECKPOINT_FORMAT, "kind": "classifier", "model": {}}, tmp_path / "clf.pt")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        small_ring_trainer().load(path)
    (tmp_path / "run").mkdir()
    save_checkpoint({"format": CHECKPOINT_FORMAT, "step": 3}, tmp_path / "run" / "checkpoint.pt")
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "9"]) == 2


def test_cli_resume_of_a_corrupt_checkpoint_exits_2(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"PK\x03\x04 half a zip")
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "9"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "corrupt" in err and "truncated" in err


def test_cli_resume_refuses_a_changed_setting_but_accepts_the_same_command(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(cli_args(out, "--steps", "4", "--lr-g", "1e-3")) == 0
    assert main(cli_args(out, "--steps", "8", "--lr-g", "2e-3", "--resume")) == 2
    assert "--lr-g 0.002 differs from the checkpoint's lr_g=0.001" in capsys.readouterr().err
    assert main(cli_args(out, "--steps", "8", "--loss", "wgan", "--resume")) == 2
    assert main(cli_args(out, "--steps", "8", "--lr-g", "1e-3", "--resume")) == 0  # the first command, repeated
    assert json.loads((out / "metrics.json").read_text())["step"] == 8


def test_config_with_numpy_values_gives_a_checkpoint_that_loads_weights_only(tmp_path):
    lrs = np.logspace(-4, -3, 3)  # np.float64: a sweep over learning rates
    cfg = small_cfg(lr_g=lrs[1], batch_size=np.int64(32), beta1=np.float32(0.5), amp=np.bool_(False))
    assert [type(v) for v in (cfg.lr_g, cfg.batch_size, cfg.beta1, cfg.amp)] == [float, int, float, bool]
    torch.manual_seed(0)
    trainer = Trainer(*build_models("mlp", (2,), z_dim=8, width=32), make_sampler("ring", 32), cfg)
    state = read_checkpoint(trainer.save(tmp_path / "c.pt"))
    assert state["config"]["lr_g"] == pytest.approx(10**-3.5)


def test_rng_state_from_another_device_type_warns_and_continues(tmp_path):
    trainer = small_ring_trainer(steps=3)
    trainer.train(progress=False)
    state = trainer.state_dict()
    state["noise_rng"] = torch.zeros(16, dtype=torch.uint8)  # the size of a CUDA (Philox) generator state
    state["sampler"] = {"generator": torch.zeros(16, dtype=torch.uint8)}
    path = save_checkpoint(state, tmp_path / "from-gpu.pt")
    resumed = small_ring_trainer(steps=6)
    with pytest.warns(UserWarning, match="random-number state cannot be restored") as caught:
        resumed.load(path)
    assert sorted(str(w.message).split(": the ")[1].split()[0] for w in caught) == ["noise", "sampler"]
    assert resumed.step == 3 and all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(trainer)))
    assert resumed.train(progress=False)["step"] == list(range(1, 7))


def test_checkpoint_from_a_disabled_grad_scaler_loads_into_an_enabled_one(tmp_path):
    # CPU and bf16 runs save an empty scaler state; an fp16 GPU (e.g. a Colab T4) has an enabled scaler.
    path = small_ring_trainer(steps=2).save(tmp_path / "cpu.pt")
    trainer = small_ring_trainer()
    trainer._set_precision(torch.float16, init_scale=1024.0)  # the branch an fp16 GPU takes
    assert trainer.scaler_d.is_enabled() and trainer.scaler_g.is_enabled()
    assert trainer.load(path).step == 0
    # the empty saved state leaves each player's enabled scaler as it was, not disabled or reset to 65536
    assert trainer.scaler_d.is_enabled() and trainer.scaler_g.is_enabled()
    assert trainer.scaler_d.get_scale() == trainer.scaler_g.get_scale() == 1024.0


OLD_CHECKPOINT = Path(__file__).parent / "fixtures" / "checkpoint_v1_edd028b.pt"
"""Written by this package at commit edd028b (before the trainer was split into pieces) after 3 steps of
``TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=3, log_every=1, ema_half_life=2.0, lr_g=1e-3,
lr_d=1e-3)`` on ``from_names("ring", "mlp", width=8)``; that code then trained 2 more steps to the numbers below."""


def test_a_checkpoint_from_an_earlier_version_loads_and_continues_its_trajectory():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as when the numbers were recorded
    try:
        cfg = TrainConfig(z_dim=4, batch_size=16, device="cpu", steps=3, log_every=1, ema_half_life=2.0,
                          lr_g=1e-3, lr_d=1e-3)
        trainer = Trainer.from_names("ring", "mlp", cfg, width=8).load(OLD_CHECKPOINT)
        assert trainer.step == 3 and trainer.ema.updates == 3
        trainer.train(steps=2, progress=False)
    finally:
        torch.set_num_threads(threads)
    # What the old code printed after the same two steps.
    assert trainer.history["loss_d"][-2:] == pytest.approx([1.398762822151184, 1.393233060836792], rel=1e-6)
    assert trainer.history["loss_g"][-2:] == pytest.approx([0.6320242881774902, 0.634353756904602], rel=1e-6)
    sums = [float(sum(p.detach().double().sum() for p in m.parameters())) for m in (trainer.G, trainer.D,
                                                                                    trainer.ema.module)]
    assert sums == pytest.approx([-2.631136982701719, -1.3353298385045491, -2.654500327538699], rel=1e-6)
