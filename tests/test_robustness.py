"""Robustness: bad arguments, interrupted runs, reproducibility across processes, partial caches, warnings.

Every check here would fail if the code were wrong: a bad call must name the bad value and a valid
choice, an interrupted run must leave a checkpoint that loads with ``weights_only=True`` and resumes,
two fresh interpreters must print the same numbers, and a partial cache must never be used.
"""
from __future__ import annotations

import dataclasses
import inspect
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import gancourse.data
from gancourse.checkpoint import CHECKPOINT_FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from gancourse.cli import main
from gancourse.config import TrainConfig, preset
from gancourse.data import (
    MixtureSampler,
    TensorSampler,
    load_images,
    make_mixture,
    make_sampler,
    ring_of_gaussians,
)
from gancourse.data.torchvision_sets import DatasetUnavailable, is_available, load_torchvision
from gancourse.device import pick_device
from gancourse.metrics import images as im
from gancourse.metrics import mode_coverage
from gancourse.models import build_models
from gancourse.train import Trainer, train_gan

REPO = Path(__file__).resolve().parents[1]


def _cfg(**changes) -> TrainConfig:
    return TrainConfig(**{"z_dim": 8, "batch_size": 32, "device": "cpu", "steps": 20, "log_every": 4, **changes})


def _ring_trainer(**changes) -> Trainer:
    cfg = _cfg(**changes)
    torch.manual_seed(cfg.seed)
    G, D = build_models("mlp", (2,), z_dim=cfg.z_dim, width=32)
    return Trainer(G, D, MixtureSampler(ring_of_gaussians(), cfg.batch_size, seed=cfg.seed), cfg)


def _weights(trainer: Trainer) -> list[torch.Tensor]:
    return [t.clone() for m in (trainer.G, trainer.D) for t in m.state_dict().values()]


# --------------------------------------------------------------------------------------- 1. bad arguments

def _mlp_pair():
    return build_models("mlp", (2,), z_dim=8, width=16)


def _trainer_call(method: str, *args, **kwargs):
    def call():
        return getattr(_ring_trainer(), method)(*args, **kwargs)
    return call


_centres = ring_of_gaussians().centres

# (id, call, exception type, substrings the message must contain: the bad value, then a valid choice)
BAD_CALLS = [
    ("config-loss", lambda: TrainConfig(loss="lsgan"), ValueError, ["'lsgan'", "nsgan"]),
    ("config-optimizer", lambda: TrainConfig(optimizer="sgd"), ValueError, ["'sgd'", "rmsprop"]),
    ("config-device", lambda: TrainConfig(device="tpu"), ValueError, ["'tpu'", "cuda"]),
    ("config-device-index", lambda: TrainConfig(device="cuda:first"), ValueError, ["'cuda:first'", "cuda:N"]),
    ("config-amp", lambda: TrainConfig(amp="yes"), ValueError, ["amp='yes'", "True or False"]),
    ("config-seed", lambda: TrainConfig(seed=2**64), ValueError, [f"seed={2**64}", "2**63 - 1"]),
    ("config-huge-lr", lambda: TrainConfig(lr_d=10**400), ValueError, ["lr_d=1000", "positive finite"]),
    ("config-bool-lr", lambda: TrainConfig(lr_g=True), ValueError, ["lr_g=True", "positive finite"]),
    ("config-unknown-field", lambda: TrainConfig(learning_rate=1e-3), TypeError, ["learning_rate", "lr_g"]),
    ("config-from-dict", lambda: TrainConfig.from_dict({"lr": 1e-3}), ValueError, ["'lr'", "lr_d"]),
    ("config-replace", lambda: TrainConfig().replace(ncritic=5), TypeError, ["ncritic", "n_critic"]),
    ("preset-name", lambda: preset("began"), ValueError, ["'began'", "wgan-gp"]),
    ("preset-override", lambda: preset("wgan", clipping=0.1), TypeError, ["clipping", "clip"]),
    ("trainer-cfg-dict", lambda: Trainer(*_mlp_pair(), make_sampler("ring", 8), {"loss": "gan"}), TypeError,
     ["dict", "TrainConfig"]),
    ("trainer-sampler", lambda: Trainer(*_mlp_pair(), torch.zeros(8, 2), _cfg()), TypeError,
     ["Tensor", "TensorSampler"]),
    ("trainer-G", lambda: Trainer("G", _mlp_pair()[1], make_sampler("ring", 8), _cfg()), TypeError,
     ["str", "nn.Module"]),
    ("trainer-callback-every", lambda: Trainer(*_mlp_pair(), make_sampler("ring", 8), _cfg(), callback_every=0),
     ValueError, ["callback_every=0", ">= 1"]),
    ("trainer-callback", lambda: Trainer(*_mlp_pair(), make_sampler("ring", 8), _cfg(), callbacks=["stop"]),
     TypeError, ["'stop'", "callables"]),
    ("sample-n", _trainer_call("sample", -3), ValueError, ["n=-3", "positive"]),
    ("sample-z", _trainer_call("sample", z=torch.zeros(4, 3)), ValueError, ["(4, 3)", "z_dim=8"]),
    ("sample-n-vs-z", _trainer_call("sample", 5, z=torch.zeros(4, 8)), ValueError, ["n=5", "4 latent"]),
    ("train-steps", _trainer_call("train", steps=-5, progress=False), ValueError, ["steps=-5", ">= 0"]),
    ("from-names-data", lambda: Trainer.from_names("rings", "mlp", _cfg()), ValueError, ["'rings'", "ring"]),
    ("from-names-model", lambda: Trainer.from_names("ring", "resnet", _cfg()), ValueError, ["'resnet'", "dcgan"]),
    ("from-names-norm", lambda: Trainer.from_names("ring", "mlp", _cfg(), g_norm="instance"), ValueError,
     ["'instance'", "batch"]),
    ("from-names-cfg", lambda: Trainer.from_names("ring", "mlp", None), TypeError, ["NoneType", "TrainConfig"]),
    ("train-gan-field", lambda: train_gan("ring", steps=1, lr=1e-3), TypeError, ["'lr'", "lr_g"]),
    ("train-gan-cfg", lambda: train_gan("ring", cfg={"steps": 1}), TypeError, ["dict", "TrainConfig"]),
    ("train-gan-data", lambda: train_gan("circle", steps=1, progress=False), ValueError, ["'circle'", "moons"]),
    ("make-sampler-name", lambda: make_sampler("rings", 8), ValueError, ["'rings'", "digits"]),
    ("make-sampler-batch", lambda: make_sampler("ring", 0), ValueError, ["batch_size=0", ">= 1"]),
    ("make-mixture", lambda: make_mixture("circle"), ValueError, ["'circle'", "spiral"]),
    ("mixture-std", lambda: make_mixture("ring", std=-0.1), ValueError, ["std=-0.1", "positive"]),
    ("make-mixture-keyword", lambda: make_mixture("ring", sd=0.1), TypeError, ["'sd'", "num_modes, radius, std"]),
    ("mixture-sample-float", lambda: ring_of_gaussians().sample(2.5), ValueError, ["n=2.5", "integer >= 1"]),
    ("mixture-sampler-float-batch", lambda: MixtureSampler(ring_of_gaussians(), 2.5), ValueError,
     ["batch_size=2.5", "integer >= 1"]),
    ("mixture-sampler-zero-batch", lambda: MixtureSampler(ring_of_gaussians(), 0), ValueError,
     ["batch_size=0", "integer >= 1"]),
    ("mixture-sampler-n", lambda: MixtureSampler(ring_of_gaussians(), 8).sample(0), ValueError,
     ["n=0", "integer >= 1"]),
    ("tensor-sampler-float-batch", lambda: TensorSampler(torch.zeros(10, 2), 2.5), ValueError,
     ["batch_size=2.5", "integer >= 1"]),
    ("tensor-sampler-negative-batch", lambda: TensorSampler(torch.zeros(10, 2), -4), ValueError,
     ["batch_size=-4", "integer >= 1"]),
    ("tensor-sampler-n-float", lambda: TensorSampler(torch.zeros(10, 2), 4).sample(2.5), ValueError,
     ["n=2.5", "integer >= 1"]),
    ("tensor-sampler-n-too-big", lambda: TensorSampler(torch.zeros(10, 2), 4).sample(11), ValueError,
     ["n=11", "n <= 10"]),
    ("load-images-2d", lambda: load_images("ring"), ValueError, ["'ring'", "digits"]),
    ("load-images-name", lambda: load_images("imagenet"), ValueError, ["'imagenet'", "mnist"]),
    ("load-torchvision", lambda: load_torchvision("svhn"), ValueError, ["'svhn'", "cifar10"]),
    ("build-models-name", lambda: build_models("resnet", (2,)), ValueError, ["'resnet'", "mlp"]),
    ("build-models-norm", lambda: build_models("mlp", (2,), d_norm="group"), ValueError, ["'group'", "layer"]),
    ("build-models-activation", lambda: build_models("mlp", (2,), activation="gelu"), ValueError,
     ["'gelu'", "leaky_relu"]),
    ("build-models-dcgan-2d", lambda: build_models("dcgan", (2,)), ValueError, ["(2,)", "mlp"]),
    ("build-models-dcgan-size", lambda: build_models("dcgan", (1, 30, 30)), ValueError,
     ["image_size=30", "valid sizes: 16, 28, 32, 64"]),
    ("build-models-width-zero", lambda: build_models("mlp", (2,), width=0), ValueError, ["width=0", "integer >= 1"]),
    ("build-models-width-negative", lambda: build_models("dcgan", (1, 28, 28), width=-8), ValueError,
     ["width=-8", "integer >= 1"]),
    ("build-models-width-float", lambda: build_models("mlp", (2,), width=2.5), ValueError,
     ["width=2.5", "integer >= 1"]),
    ("build-models-width-bool", lambda: build_models("mlp", (2,), width=True), ValueError,
     ["width=True", "integer >= 1"]),
    ("build-models-z-dim-str", lambda: build_models("mlp", (2,), z_dim="8"), ValueError,
     ["z_dim='8'", "integer >= 1"]),
    ("build-models-depth", lambda: build_models("mlp", (2,), depth=0), ValueError, ["depth=0", "integer >= 1"]),
    ("mode-coverage-shape", lambda: mode_coverage(torch.zeros(5, 3), _centres, 0.01), ValueError,
     ["(5, 3)", "(N, 2)"]),
    ("mode-coverage-std", lambda: mode_coverage(torch.zeros(5, 2), _centres, 0.0), ValueError,
     ["std=0.0", "positive"]),
    ("mode-coverage-nan-std", lambda: mode_coverage(torch.zeros(5, 2), _centres, float("nan")), ValueError,
     ["std=nan", "positive"]),
    ("mode-coverage-1d-centres", lambda: mode_coverage(torch.zeros(5, 2), _centres[:, 0], 0.01), ValueError,
     ["(8,)", "(K, d)"]),
    ("mode-coverage-dimensions", lambda: mode_coverage(torch.zeros(5, 2), torch.zeros(8, 3), 0.01), ValueError,
     ["(5, 2)", "(N, 3)"]),
    ("mode-coverage-empty", lambda: mode_coverage(torch.zeros(0, 2), _centres, 0.01), ValueError,
     ["(0, 2)", "N >= 1"]),
    ("class-histogram-1d", lambda: im.class_histogram(torch.tensor([0.2, 0.8])), ValueError, ["(2,)", "(N, K)"]),
    ("predict-proba-channels", lambda: im.predict_proba(im.DigitClassifier(), torch.zeros(2, 3, 28, 28)),
     ValueError, ["(3, 28, 28)", "(N, 1, 28, 28)"]),
    ("predict-proba-size", lambda: im.predict_proba(im.DigitClassifier(), torch.zeros(2, 1, 32, 32)), ValueError,
     ["(1, 32, 32)", "(N, 1, 28, 28)"]),
    ("predict-proba-unbatched", lambda: im.predict_proba(im.DigitClassifier(), torch.zeros(1, 28, 28)), ValueError,
     ["shape (1, 28, 28)", "(N, 1, 28, 28)"]),
    ("evaluate-images-shape", lambda: im.evaluate_images(torch.zeros(4, 3, 32, 32), im.DigitClassifier(),
                                                         real_features=torch.zeros(4, 128)), ValueError,
     ["(3, 32, 32)", "(1, 28, 28)"]),
    ("frechet-features", lambda: im.frechet_distance_from_features(torch.zeros(4, 3), torch.zeros(4, 2)), ValueError,
     ["(4, 2)", "same d"]),
    ("class-coverage-threshold", lambda: im.class_coverage(torch.ones(2, 2) / 2, threshold=2.0), ValueError,
     ["threshold=2.0", "(0, 1]"]),
    ("classifier-dataset", lambda: im.load_classifier("grid"), ValueError, ["'grid'", "digits"]),
    ("pick-device", lambda: pick_device("tpu"), ValueError, ["'tpu'", "cpu"]),
    ("load-checkpoint-missing", lambda: load_checkpoint("/nonexistent/ckpt.pt"), CheckpointError,
     ["/nonexistent/ckpt.pt", "no checkpoint"]),
]


@pytest.mark.parametrize("call, error, needles", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_call_names_the_bad_value_and_a_valid_choice(call, error, needles):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} missing from: {message}"


# The same for the command line: exit status 2, one line on stderr with the value and a choice.
BAD_COMMAND_LINES = [
    (["--data", "imagenet"], ["'imagenet'", "'ring'"]),
    (["--loss", "lsgan"], ["'lsgan'", "'wgan-gp'"]),
    (["--norm", "group"], ["'group'", "'batch'"]),
    (["--steps", "ten"], ["'ten'", "int"]),
    (["--lr-g", "fast"], ["'fast'", "float"]),
    (["--lr-d", "nan"], ["lr_d=nan", "positive finite"]),
    (["--beta2", "1"], ["beta2=1.0", "[0, 1)"]),
    (["--seed", "-1"], ["seed=-1", "[0, 2**63 - 1]"]),
    (["--width", "0"], ["--width 0", "positive"]),
    (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "tpu"], ["cuda", "cpu"]),
    (["--model", "dcgan"], ["--data ring", "--model mlp"]),
    (["--gp-lambda", "-inf"], ["gp_lambda=-inf", "finite number >= 0"]),  # plain argparse takes -inf for a flag
    (["--lr-g", "-1e-3"], ["lr_g=-0.001", "positive"]),
    (["--frobnicate"], ["--frobnicate", "--help"]),
]


@pytest.mark.parametrize("extra, needles", BAD_COMMAND_LINES, ids=[" ".join(c[0]) for c in BAD_COMMAND_LINES])
def test_bad_command_line_exits_2_with_one_line(tmp_path, capsys, extra, needles):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "5", "--no-progress", *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("gancourse") and "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from: {err}"
    assert not out.exists()


def test_cli_usage_error_from_the_real_entry_point_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gancourse", "train", "--out", str(tmp_path / "r"), "--n-critic"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "gancourse train: error: argument --n-critic: expected one argument (see: gancourse train --help)"]


def test_train_config_signature_still_lists_its_fields():
    # help(TrainConfig) and notebook tooltips show this; the unknown-field check must not hide it.
    assert list(inspect.signature(TrainConfig).parameters) == [f.name for f in dataclasses.fields(TrainConfig)]


def test_cli_output_folder_that_cannot_be_created_exits_2(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    assert main(["train", "--out", str(tmp_path / "a-file" / "run"), "--steps", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a-file" in err and "Traceback" not in err


def test_cli_dry_run_checks_everything_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    assert main(["train", "--out", str(out), "--loss", "wgan", "--device", "cpu", "--steps", "7", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == f"ring / mlp / wgan, steps 0 -> 7 on cpu, into {out}"
    settings = json.loads(printed.split("\n", 1)[1])
    assert (settings["optimizer"], settings["clip"], settings["n_critic"], settings["steps"]) == ("rmsprop", 0.01, 5, 7)
    assert not (tmp_path / "new").exists()


# --------------------------------------------------------------------------------------- 3. interruptions

def _cli(out: Path, *extra: str) -> list[str]:
    return ["train", "--data", "ring", "--out", str(out), "--no-progress", "--device", "cpu", "--z-dim", "8",
            "--batch-size", "64", "--width", "32", *extra]


def _read_checkpoint(path: Path) -> dict:
    # Plain torch.load with weights_only=True: what a learner (or a newer torch) would do.
    return torch.load(path, map_location="cpu", weights_only=True)


def test_cli_ctrl_c_stops_after_the_step_and_resume_repeats_the_uninterrupted_run(tmp_path, capsys, monkeypatch):
    assert main(_cli(tmp_path / "full", "--steps", "30")) == 0
    original = Trainer.train_step

    def train_step_then_ctrl_c(self):
        original(self)
        if self.step == 13:
            os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, handled by the CLI's handler

    monkeypatch.setattr(Trainer, "train_step", train_step_then_ctrl_c)
    capsys.readouterr()
    assert main(_cli(tmp_path / "cut", "--steps", "30")) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 13" in err and "--resume" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == ["checkpoint.pt", "losses.png", "metrics.json",
                                                                    "samples.png"]
    assert json.loads((tmp_path / "cut" / "metrics.json").read_text())["step"] == 13
    state = _read_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert state["step"] == 13 and state["history"]["step"] == list(range(1, 14))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler was put back

    monkeypatch.setattr(Trainer, "train_step", original)
    assert main(_cli(tmp_path / "cut", "--steps", "30", "--resume")) == 0
    full, resumed = (_read_checkpoint(tmp_path / name / "checkpoint.pt") for name in ("full", "cut"))
    assert resumed["step"] == 30
    for net in ("G", "D"):  # stopped on a step boundary, so the resumed run is the same run
        for key, value in full[net].items():
            assert torch.equal(value, resumed[net][key]), (net, key)
    assert full["history"] == resumed["history"]


def test_cli_second_ctrl_c_mid_step_still_saves_a_usable_checkpoint(tmp_path, capsys, monkeypatch):
    original = Trainer._generator_step
    calls = {"n": 0}

    def generator_step_interrupted_on_the_eighth(self):
        calls["n"] += 1
        if calls["n"] == 8:  # D already took its step 8; G has not
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "_generator_step", generator_step_interrupted_on_the_eighth)
    assert main(_cli(tmp_path / "run", "--steps", "500")) == 130
    assert "interrupted at step 7" in capsys.readouterr().err
    state = _read_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["step"] == 7 and state["history"]["step"] == list(range(1, 8))
    assert all(torch.isfinite(v).all() for net in ("G", "D") for v in state[net].values())
    monkeypatch.setattr(Trainer, "_generator_step", original)
    assert main(_cli(tmp_path / "run", "--steps", "12", "--resume")) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["step"] == 12
    assert _read_checkpoint(tmp_path / "run" / "checkpoint.pt")["history"]["step"] == list(range(1, 13))


def test_cli_sigint_from_outside_leaves_a_checkpoint_that_resumes(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gancourse", *_cli(out, "--steps", "100000000")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        first = proc.stdout.readline()
        assert first.startswith("gancourse: training ring / mlp / nsgan"), first + proc.stderr.read()
        time.sleep(1.0)  # let it take some steps; the assertions below hold for any number of them
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    step = int(re.search(r"interrupted at step (\d+)", err).group(1))
    state = _read_checkpoint(out / "checkpoint.pt")
    assert step >= 1 and state["step"] == step and state["history"]["step"] == list(range(1, step + 1))
    assert main(_cli(out, "--steps", str(step + 5), "--resume")) == 0
    assert json.loads((out / "metrics.json").read_text())["step"] == step + 5


def test_cli_sigterm_saves_like_ctrl_c_and_resume_continues_the_same_run(tmp_path):
    # What `timeout`, a closed terminal or a batch scheduler does: SIGTERM to a running `gancourse train`.
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gancourse", *_cli(out, "--steps", "100000000",
                                                                       "--checkpoint-every", "25")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        first = proc.stdout.readline()
        assert first.startswith("gancourse: training ring / mlp / nsgan"), first + proc.stderr.read()
        deadline = time.monotonic() + 120
        while not (out / "metrics.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the periodic save at step 25 writes the pictures (metrics.json last) as it goes on
        assert all((out / name).exists() for name in ("checkpoint.pt", "samples.png", "losses.png"))
        assert proc.poll() is None
        assert _read_checkpoint(out / "checkpoint.pt")["step"] % 25 == 0
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    step = int(re.search(r"stopped by SIGTERM at step (\d+)", err).group(1))
    state = _read_checkpoint(out / "checkpoint.pt")
    assert step >= 25 and state["step"] == step and state["history"]["step"] == list(range(1, step + 1))
    assert json.loads((out / "metrics.json").read_text())["step"] == step
    # --resume continues exactly: the same weights and history as one uninterrupted run.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the subprocess: float sums can depend on the thread count
    try:
        assert main(_cli(out, "--steps", str(step + 6), "--resume")) == 0
        assert main(_cli(tmp_path / "straight", "--steps", str(step + 6))) == 0
    finally:
        torch.set_num_threads(threads)
    resumed, straight = (_read_checkpoint(p / "checkpoint.pt") for p in (out, tmp_path / "straight"))
    assert resumed["history"] == straight["history"]
    for net in ("G", "D"):
        assert all(torch.equal(value, resumed[net][key]) for key, value in straight[net].items()), net


def test_request_stop_from_another_thread_leaves_an_exact_resumable_state(tmp_path):
    trainer = _ring_trainer(steps=100_000)

    def press_stop():
        while trainer.step < 5:
            time.sleep(0.001)
        trainer.request_stop()

    button = threading.Thread(target=press_stop)
    button.start()
    trainer.train(progress=False)
    button.join()
    stopped = trainer.step
    assert 5 <= stopped < 100_000 and trainer.history["step"] == list(range(1, stopped + 1))
    path = trainer.save(tmp_path / "stopped.pt")
    assert _read_checkpoint(path)["step"] == stopped

    resumed = _ring_trainer(steps=stopped + 3).load(path)
    resumed.train(progress=False)
    straight = _ring_trainer(steps=stopped + 3)
    straight.train(progress=False)
    assert resumed.step == stopped + 3 and resumed.history == straight.history
    assert all(torch.equal(a, b) for a, b in zip(_weights(resumed), _weights(straight)))


def test_a_stop_request_between_runs_does_not_cancel_the_next_run():
    trainer = _ring_trainer(steps=6)
    trainer.request_stop()
    assert len(trainer.train(progress=False)) == 6


def test_keyboard_interrupt_in_a_callback_keeps_history_and_a_loadable_checkpoint(tmp_path):
    def interrupt_at_9(trainer):
        if trainer.step == 9:
            raise KeyboardInterrupt

    trainer = Trainer(*build_models("mlp", (2,), z_dim=8, width=32), make_sampler("ring", 32), _cfg(steps=50),
                      callbacks=[interrupt_at_9], callback_every=3)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert trainer.step == 9 and len(trainer.history) == 9
    resumed = _ring_trainer(steps=12).load(trainer.save(tmp_path / "c.pt"))
    assert resumed.train(progress=False)["step"] == list(range(1, 13))


# --------------------------------------------------------------------------------------- checkpoints

def test_failed_load_leaves_the_trainer_as_it_was(tmp_path):
    small = _ring_trainer(steps=2)
    small.train(progress=False)
    path = small.save(tmp_path / "small.pt")
    torch.manual_seed(1)
    G, D = build_models("mlp", (2,), z_dim=8, width=32, depth=3)  # one more hidden layer: D's first layers match
    other = Trainer(G, D, MixtureSampler(ring_of_gaussians(), 32), _cfg())
    before = _weights(other)
    with pytest.raises(CheckpointError, match="different model"):
        other.load(path)
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(other)))
    assert other.step == 0


def test_checkpoint_from_another_optimizer_is_refused_before_training_breaks(tmp_path):
    path = _ring_trainer(steps=2).save(tmp_path / "adam.pt")
    rmsprop = _ring_trainer(optimizer="rmsprop")
    with pytest.raises(CheckpointError, match="optimizer='adam'.*optimizer='rmsprop'"):
        rmsprop.load(path)
    assert len(rmsprop.train(steps=2, progress=False)) == 2  # untouched, still trains


def test_loaded_trainer_uses_its_own_learning_rates(tmp_path):
    path = _ring_trainer(steps=2).save(tmp_path / "c.pt")
    faster = _ring_trainer(lr_g=1e-3, lr_d=3e-3, beta1=0.0).load(path)
    assert faster.opt_g.param_groups[0]["lr"] == 1e-3 and faster.opt_d.param_groups[0]["lr"] == 3e-3
    assert faster.opt_d.param_groups[0]["betas"] == (0.0, 0.999)


def test_a_file_without_training_state_is_not_a_training_checkpoint(tmp_path):
    path = save_checkpoint({"format": CHECKPOINT_FORMAT, "kind": "classifier", "model": {}}, tmp_path / "clf.pt")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        _ring_trainer().load(path)
    (tmp_path / "run").mkdir()
    save_checkpoint({"format": CHECKPOINT_FORMAT, "step": 3}, tmp_path / "run" / "checkpoint.pt")
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "9"]) == 2


def test_cli_resume_of_a_corrupt_checkpoint_exits_2(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"PK\x03\x04 half a zip")
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "9"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "corrupt or truncated" in err


def test_cli_resume_refuses_a_changed_setting_but_accepts_the_same_command(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_cli(out, "--steps", "4", "--lr-g", "1e-3")) == 0
    assert main(_cli(out, "--steps", "8", "--lr-g", "2e-3", "--resume")) == 2
    assert "--lr-g 0.002 differs from the checkpoint's lr_g=0.001" in capsys.readouterr().err
    assert main(_cli(out, "--steps", "8", "--loss", "wgan", "--resume")) == 2
    assert main(_cli(out, "--steps", "8", "--lr-g", "1e-3", "--resume")) == 0  # the first command, repeated
    assert json.loads((out / "metrics.json").read_text())["step"] == 8


def test_config_with_numpy_values_gives_a_checkpoint_that_loads_weights_only(tmp_path):
    lrs = np.logspace(-4, -3, 3)  # np.float64: a sweep over learning rates
    cfg = _cfg(lr_g=lrs[1], batch_size=np.int64(32), beta1=np.float32(0.5), amp=np.bool_(False))
    assert [type(v) for v in (cfg.lr_g, cfg.batch_size, cfg.beta1, cfg.amp)] == [float, int, float, bool]
    torch.manual_seed(0)
    trainer = Trainer(*build_models("mlp", (2,), z_dim=8, width=32), make_sampler("ring", 32), cfg)
    state = _read_checkpoint(trainer.save(tmp_path / "c.pt"))
    assert state["config"]["lr_g"] == pytest.approx(10**-3.5)


def test_rng_state_from_another_device_type_warns_and_continues(tmp_path):
    trainer = _ring_trainer(steps=3)
    trainer.train(progress=False)
    state = trainer.state_dict()
    state["noise_rng"] = torch.zeros(16, dtype=torch.uint8)  # the size of a CUDA (Philox) generator state
    state["sampler"] = {"generator": torch.zeros(16, dtype=torch.uint8)}
    path = save_checkpoint(state, tmp_path / "from-gpu.pt")
    resumed = _ring_trainer(steps=6)
    with pytest.warns(UserWarning, match="random-number state cannot be restored") as caught:
        resumed.load(path)
    assert sorted(str(w.message).split(": the ")[1].split()[0] for w in caught) == ["noise", "sampler"]
    assert resumed.step == 3 and all(torch.equal(a, b) for a, b in zip(_weights(resumed), _weights(trainer)))
    assert resumed.train(progress=False)["step"] == list(range(1, 7))


def test_checkpoint_from_a_disabled_grad_scaler_loads_into_an_enabled_one(tmp_path):
    # CPU and bf16 runs save an empty scaler state; an fp16 GPU (e.g. a Colab T4) has an enabled scaler.
    path = _ring_trainer(steps=2).save(tmp_path / "cpu.pt")
    trainer = _ring_trainer()
    trainer._set_precision(torch.float16, init_scale=1024.0)  # the branch an fp16 GPU takes
    assert trainer.scaler_d.is_enabled() and trainer.scaler_g.is_enabled()
    assert trainer.load(path).step == 0
    # the empty saved state leaves each player's enabled scaler as it was, not disabled or reset to 65536
    assert trainer.scaler_d.is_enabled() and trainer.scaler_g.is_enabled()
    assert trainer.scaler_d.get_scale() == trainer.scaler_g.get_scale() == 1024.0


# --------------------------------------------------------------------------------------- 4. reproducibility

_LESSON = textwrap.dedent("""
    import hashlib
    import torch
    torch.set_num_threads(1)
    from gancourse.config import TrainConfig
    from gancourse.data import TensorSampler, load_digits
    from gancourse.models import build_models
    from gancourse.train import Trainer

    images, labels = load_digits(n_train=256, n_test=64, seed=3)
    cfg = TrainConfig(steps=4, batch_size=32, z_dim=8, device="cpu", seed=5, log_every=2)
    torch.manual_seed(cfg.seed)
    G, D = build_models("dcgan", (1, 28, 28), z_dim=cfg.z_dim, width=8)
    trainer = Trainer(G, D, TensorSampler(images, cfg.batch_size, seed=cfg.seed), cfg)
    history = trainer.train(progress=False)
    print("images", hashlib.sha256(images.numpy().tobytes()).hexdigest())
    print("loss_d", [float(v).hex() for v in history["loss_d"]])
    print("loss_g", [float(v).hex() for v in history["loss_g"]])
    print("sample", hashlib.sha256(trainer.sample(16).numpy().tobytes()).hexdigest())
""")


def test_a_lesson_repeats_exactly_after_a_kernel_restart_and_reuses_the_cache(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "GANCOURSE_DATA": str(data), "GANCOURSE_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

    def fresh_kernel() -> str:
        proc = subprocess.run([sys.executable, "-c", _LESSON], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    first = fresh_kernel()
    cache = data / "digits_v1_seed3_256_64.npz"
    stamp = (cache.stat().st_ino, cache.stat().st_mtime_ns)
    second = fresh_kernel()
    assert (cache.stat().st_ino, cache.stat().st_mtime_ns) == stamp  # read, not rebuilt (rebuilds are renamed in)
    assert [p.name for p in data.iterdir()] == [cache.name]
    assert "digits:" not in first + second  # no "cache is corrupt" line either time
    assert first == second
    lines = dict(line.split(" ", 1) for line in first.splitlines())
    assert set(lines) == {"images", "loss_d", "loss_g", "sample"} and len(eval(lines["loss_d"])) == 4


# --------------------------------------------------------------------------------------- 5. partial caches

@pytest.fixture
def tiny_images(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (120, 1, 28, 28), dtype=torch.uint8, generator=gen)
    y = torch.arange(120) % 10
    monkeypatch.setattr(gancourse.data, "load_images", lambda name, train=True, root=None: (x, y))
    return x


def test_truncated_classifier_cache_is_retrained_and_replaced(tiny_images, capsys):
    first = im.load_classifier("digits", device="cpu", steps=3)
    path = im.classifier_path("digits", steps=3)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])  # what a full disk or a killed copy leaves
    capsys.readouterr()
    again = im.load_classifier("digits", device="cpu", steps=3)
    assert "classifier cache unusable" in capsys.readouterr().out
    assert len(path.read_bytes()) == len(whole)  # rewritten whole, atomically
    probe = tiny_images[:8]
    assert torch.equal(im.predict_proba(first, probe), im.predict_proba(again, probe))  # same seed, same model
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def _drop_in_shape(state: dict) -> str:
    del state["in_shape"]
    return "KeyError"


def _shrink_the_head(state: dict) -> str:
    state["model"]["head.weight"] = torch.zeros(5, state["model"]["head.weight"].shape[1])  # 5 classes, not 10
    return "size mismatch"


@pytest.mark.parametrize("damage", [_drop_in_shape, _shrink_the_head], ids=["missing-key", "wrong-weight-shape"])
def test_readable_classifier_cache_with_damaged_contents_is_retrained_and_replaced(tiny_images, capsys, damage):
    first = im.load_classifier("digits", device="cpu", steps=3)
    path = im.classifier_path("digits", steps=3)
    state = load_checkpoint(path)
    reason = damage(state)
    save_checkpoint(state, path)  # readable, right kind and version: only its contents are wrong
    assert load_checkpoint(path)["kind"] == "classifier"
    capsys.readouterr()
    again = im.load_classifier("digits", device="cpu", steps=3)
    printed = capsys.readouterr().out
    assert "classifier cache unusable" in printed and reason in printed and "retraining" in printed
    rebuilt = load_checkpoint(path)
    assert rebuilt["in_shape"] == [1, 28, 28] and rebuilt["model"]["head.weight"].shape == (10, 128)
    probe = tiny_images[:8]
    assert torch.equal(im.predict_proba(first, probe), im.predict_proba(again, probe))  # same seed, same model
    capsys.readouterr()
    im.load_classifier("digits", device="cpu", steps=3)
    assert "unusable" not in capsys.readouterr().out  # the rebuilt cache is used as it is


def _idx(kind: int, *dims: int, payload: bytes) -> bytes:
    return struct.pack(">I" + "I" * len(dims), 0x800 + kind, *dims) + payload


def _write_mnist(root: Path, n: int = 4, folder: str = "MNIST") -> Path:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(_idx(3, n, 28, 28, payload=bytes(n * 28 * 28)))
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(_idx(1, n, payload=bytes(range(n))))
    return raw


def test_complete_fake_mnist_loads(tmp_path):
    _write_mnist(tmp_path)
    images, labels = load_torchvision("mnist", root=tmp_path, download=False)
    assert images.shape == (4, 1, 28, 28) and labels.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("damage", ["empty-labels", "truncated-labels", "header-only-images"])
def test_partial_mnist_files_raise_dataset_unavailable_and_are_left_alone(tmp_path, damage):
    raw = _write_mnist(tmp_path)
    target = raw / ("train-images-idx3-ubyte" if damage == "header-only-images" else "train-labels-idx1-ubyte")
    blob = target.read_bytes()
    target.write_bytes({"empty-labels": b"", "truncated-labels": blob[:10], "header-only-images": blob[:16]}[damage])
    before = {p: p.read_bytes() for p in raw.iterdir()}
    with pytest.raises(DatasetUnavailable, match="incomplete or corrupted.*delete that folder"):
        load_torchvision("mnist", root=tmp_path, download=False)
    assert {p: p.read_bytes() for p in raw.iterdir()} == before


def test_missing_mnist_file_is_reported_offline_without_a_download(tmp_path):
    raw = _write_mnist(tmp_path)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    assert not is_available("mnist", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="no MNIST/raw/t10k-labels-idx1-ubyte"):
        load_torchvision("mnist", root=tmp_path)  # GANCOURSE_OFFLINE=1 (conftest): no download is tried


def test_a_leftover_download_folder_is_not_taken_for_the_dataset(tmp_path):
    _write_mnist(tmp_path / ".download-mnist-abc123")  # a download killed before its files were moved in
    assert not is_available("mnist", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="not in the dataset cache"):
        load_torchvision("mnist", root=tmp_path)
    assert (tmp_path / ".download-mnist-abc123" / "MNIST" / "raw").is_dir()  # offline: nothing swept or written
    assert sorted(p.name for p in tmp_path.iterdir()) == [".download-mnist-abc123"]


def test_truncated_legacy_processed_mnist_raises_dataset_unavailable(tmp_path):
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    for name in ("training.pt", "test.pt"):
        buffer = io.BytesIO()
        torch.save((torch.zeros(4, 28, 28, dtype=torch.uint8), torch.arange(4)), buffer)
        (processed / name).write_bytes(buffer.getvalue()[:100])
    assert is_available("mnist", root=tmp_path)  # presence only; the read must then fail cleanly
    with pytest.raises(DatasetUnavailable, match="incomplete or corrupted"):
        load_torchvision("mnist", root=tmp_path, download=False)


def test_truncated_cifar_batch_raises_dataset_unavailable(tmp_path):
    import pickle

    import torchvision.datasets as tvd

    folder = tmp_path / tvd.CIFAR10.base_folder
    folder.mkdir()
    for name, _ in tvd.CIFAR10.train_list + tvd.CIFAR10.test_list:
        batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}
        (folder / name).write_bytes(pickle.dumps(batch)[:50])
    (folder / tvd.CIFAR10.meta["filename"]).write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))
    assert is_available("cifar10", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="CIFAR-10 .* incomplete or corrupted"):
        load_torchvision("cifar10", root=tmp_path, download=False)


# --------------------------------------------------------------------------------------- 6. our own warnings

def _warn_from(module: str, category: type[Warning]) -> None:
    # warnings attribute a warning to the module whose globals the warning frame runs in.
    namespace = {"__name__": module}
    exec("import warnings\ndef warn(category):\n    warnings.warn('probe', category)\n", namespace)
    namespace["warn"](category)


@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning])
def test_deprecation_and_future_warnings_from_gancourse_fail_the_suite(category):
    with pytest.raises(category, match="probe"):
        _warn_from("gancourse.train", category)
    with warnings.catch_warnings(record=True) as caught:  # someone else's warning is only a warning
        warnings.simplefilter("always")
        _warn_from("some_other_library", category)
    assert [w.category for w in caught] == [category]

