"""Bad arguments: a bad call or command line names the bad value and a valid choice.

Split from the robustness tests. Every message is checked for the value the user gave and one valid
choice, and the command line exits with status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys

import pytest
import torch
from helpers import small_cfg, small_ring_trainer

from gancourse.checkpoint import CheckpointError, load_checkpoint
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
from gancourse.data.torchvision_sets import load_torchvision
from gancourse.device import pick_device
from gancourse.metrics import images as im
from gancourse.metrics import mode_coverage
from gancourse.models import build_models
from gancourse.train import Trainer, train_gan


def _mlp_pair():
    return build_models("mlp", (2,), z_dim=8, width=16)


def _trainer_call(method: str, *args, **kwargs):
    def call():
        return getattr(small_ring_trainer(), method)(*args, **kwargs)
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
    ("trainer-sampler", lambda: Trainer(*_mlp_pair(), torch.zeros(8, 2), small_cfg()), TypeError,
     ["Tensor", "TensorSampler"]),
    ("trainer-G", lambda: Trainer("G", _mlp_pair()[1], make_sampler("ring", 8), small_cfg()), TypeError,
     ["str", "nn.Module"]),
    ("trainer-callback-every", lambda: Trainer(*_mlp_pair(), make_sampler("ring", 8), small_cfg(), callback_every=0),
     ValueError, ["callback_every=0", ">= 1"]),
    ("trainer-callback", lambda: Trainer(*_mlp_pair(), make_sampler("ring", 8), small_cfg(), callbacks=["stop"]),
     TypeError, ["'stop'", "callables"]),
    ("sample-n", _trainer_call("sample", -3), ValueError, ["n=-3", "positive"]),
    ("sample-z", _trainer_call("sample", z=torch.zeros(4, 3)), ValueError, ["(4, 3)", "z_dim=8"]),
    ("sample-n-vs-z", _trainer_call("sample", 5, z=torch.zeros(4, 8)), ValueError, ["n=5", "4 latent"]),
    ("train-steps", _trainer_call("train", steps=-5, progress=False), ValueError, ["steps=-5", ">= 0"]),
    ("from-names-data", lambda: Trainer.from_names("rings", "mlp", small_cfg()), ValueError, ["'rings'", "ring"]),
    ("from-names-model", lambda: Trainer.from_names("ring", "resnet", small_cfg()), ValueError, ["'resnet'", "dcgan"]),
    ("from-names-norm", lambda: Trainer.from_names("ring", "mlp", small_cfg(), g_norm="instance"), ValueError,
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
