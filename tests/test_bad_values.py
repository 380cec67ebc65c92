"""Issue 26's probe of bad values, as property-style tests: every family of bad input gets a clear error
naming it, a run that diverges with finite numbers stops, broken files are skipped, and conditional runs on
2-D data write their pictures."""
from __future__ import annotations

import math
import os

import pytest
import torch

from gancourse import TrainConfig
from gancourse.cli import main
from gancourse.train import Trainer, TrainingDiverged

TINY = ["--device", "cpu", "--no-progress"]


# --- numbers that pass the usual checks and then fail deep inside torch (item 8) -----------------------------

@pytest.mark.parametrize("flag, value, extra", [
    ("--lr-g", "1e300", []), ("--lr-d", "1e39", []), ("--clip", "1e300", ["--loss", "wgan"]),
    ("--gp-lambda", "1e300", ["--loss", "wgan-gp"]), ("--r1-gamma", "1e300", []),
    ("--batch-size", "1000000000000", []), ("--z-dim", "1000000000000", []), ("--width", "1000000000000", []),
])
def test_a_number_too_large_is_refused_naming_its_flag_before_anything_runs(tmp_path, capsys, flag, value, extra):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "3", flag, value, *extra, *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gancourse: error: {flag} ") and "too large: the largest allowed is" in err, err
    assert len(err.splitlines()) == 1 and not out.exists()


def test_the_largest_allowed_values_are_accepted(tmp_path):
    from gancourse._checks import SETTING_LIMITS
    from gancourse.cli import parse_and_check

    plan = parse_and_check(["train", "--out", str(tmp_path / "r"), "--lr-g", repr(SETTING_LIMITS["lr_g"]),
                            "--batch-size", str(SETTING_LIMITS["batch_size"]), "--device", "cpu"])
    assert plan.cfg.batch_size == 2**16 and plan.cfg.lr_g == SETTING_LIMITS["lr_g"]


# --- divergence with finite numbers (item 4) ------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["nsgan", "hinge"])
def test_a_run_whose_numbers_explode_but_stay_finite_stops_as_diverged(loss):
    from gancourse.divergence import BOUNDED_STATS, DIVERGENCE_BOUND

    # The case: lr 1e3 gave a G loss of 1e13 and gradient norms of 5e10, and the run "finished".
    cfg = TrainConfig(loss=loss, lr_g=1e3, lr_d=1e3, steps=200, z_dim=4, batch_size=32, device="cpu", log_every=1)
    trainer = Trainer.from_names("ring", "mlp", cfg, width=16)
    with pytest.raises(TrainingDiverged) as info:
        trainer.train(progress=False)
    err = info.value
    # Stopped by the bound, on a finite number, before anything became NaN or Inf.
    assert err.key in BOUNDED_STATS and math.isfinite(err.value) and abs(err.value) > DIVERGENCE_BOUND
    assert f"training diverged at step {err.step}: {err.key} = {err.value}" in str(err) and err.step < 200
    assert len(trainer.history) == err.step - 1  # the steps before it are kept


def test_the_bound_reports_the_statistic_that_passed_it_and_ignores_the_rest():
    from gancourse.divergence import DIVERGENCE_BOUND, check_bounded

    fine = {"loss_d": -DIVERGENCE_BOUND, "loss_g": DIVERGENCE_BOUND, "grad_norm_d": 0.0, "grad_norm_g": math.nan,
            "d_real": 1e9, "w_estimate": -1e9}  # at the bound is fine; NaN is the finite-check's; scores unbounded
    check_bounded(3, fine)
    with pytest.raises(TrainingDiverged) as info:
        check_bounded(4, dict(fine, grad_norm_g=5.6e10))
    assert (info.value.step, info.value.key, info.value.value) == (4, "grad_norm_g", 5.6e10)
    assert "|grad_norm_g| > 1e+06" in str(info.value)


def test_the_cli_reports_finite_divergence_with_exit_status_1(tmp_path, capsys):
    code = main(["train", "--out", str(tmp_path / "d"), "--steps", "300", "--lr-g", "1e3", "--lr-d", "1e3",
                 "--checkpoint-every", "0", *TINY])
    assert code == 1
    assert "training diverged at step" in capsys.readouterr().err


# --- the Dashboard keeps the user's values or says why not (item 3) ----------------------------------------------

@pytest.mark.parametrize("name, value, message", [
    ("lr_g", -1.0, "lr_g must be a positive finite learning rate, got lr_g=-1.0"),
    ("lr_d", "abc", "lr_d must be a positive finite learning rate, got lr_d='abc'"),
    ("lr_g", 1e300, "lr_g=1e+300 is too large"),
    ("beta1", 1.5, "beta1 must be in [0, 1), got beta1=1.5"),
    ("beta2", -0.1, "beta2 must be in [0, 1)"),
    ("n_critic", 0, "n_critic must be an integer >= 1"),
    ("n_critic", 2.5, "n_critic must be an integer >= 1"),
    ("gp_lambda", -1.0, "gp_lambda must be a finite number >= 0"),
    ("clip", 0.0, "clip must be None (no clipping) or a positive number c"),
    ("clip", None, "clip must be a positive number c"),
    ("batch_size", "64", "batch_size must be an integer >= 1"),
    ("batch_size", 10**12, "batch_size=1000000000000 is too large"),
    ("steps", -5, "steps must be an integer >= 1"),
    ("seed", -1, "seed must be an integer in [0, 2**63 - 1]"),
    ("model", "bogus", "unknown model 'bogus'; valid choices: mlp, dcgan"),
    ("loss", "bogus", "unknown loss 'bogus'; valid choices: gan, nsgan"),
    ("optimizer", "sgd", "unknown optimizer 'sgd'; valid choices: adam, rmsprop"),
    ("condition", "cgan", "unknown condition 'cgan'; valid choices: none, concat"),
    ("batch_norm", "yes", "batch_norm must be True or False"),
    ("z_dim", 0, "z_dim must be an integer >= 1"),
    ("width", 2**20, "width=1048576 is too large"),
])
def test_dashboard_refuses_a_bad_value_naming_it(name, value, message):
    from gancourse.widgets import Dashboard

    with pytest.raises(ValueError) as info:
        Dashboard(device="cpu", **{name: value})
    assert message in str(info.value)


@pytest.mark.parametrize("name, value", [("lr_g", 3e-7), ("lr_d", 5.0), ("n_critic", 50), ("beta1", 0.995),
                                         ("beta2", 0.3), ("gp_lambda", 100.0), ("clip", 5.0), ("batch_size", 17)])
def test_dashboard_keeps_a_valid_value_beyond_its_sliders_usual_range(name, value):
    from gancourse.widgets import Dashboard

    dash = Dashboard(device="cpu", loss="wgan" if name == "clip" else "nsgan", **{name: value})
    assert dash.values()[name] == value  # exactly: no clamping, no rounding
    assert getattr(dash.config(), name) == value


# --- Trainer.sample, GANCOURSE_DATA, checkpoints, folders (items 10, 9, 6, 5) ---------------------------------

def test_sample_refuses_integer_latent_codes_and_accepts_any_float():
    trainer = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"), width=8)
    with pytest.raises(ValueError, match="z must be a floating-point tensor .* got torch.int64"):
        trainer.sample(z=torch.zeros(3, 4, dtype=torch.long))
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    expected = trainer.sample(z=z)
    assert torch.allclose(trainer.sample(z=z.double()), expected)
    assert torch.allclose(trainer.sample(z=z.half()), trainer.sample(z=z.half().float()))


def test_gancourse_data_pointing_at_a_file_names_the_variable(tmp_path, monkeypatch, capsys):
    from gancourse.paths import data_dir

    afile = tmp_path / "cache"
    afile.write_text("not a folder")
    monkeypatch.setenv("GANCOURSE_DATA", str(afile))
    with pytest.raises(ValueError, match="GANCOURSE_DATA=.* names a file, not a folder"):
        data_dir()
    monkeypatch.setenv("GANCOURSE_DATA", str(afile / "below"))  # a folder inside a file cannot be made
    with pytest.raises(ValueError, match="GANCOURSE_DATA=.* cannot be created"):
        data_dir()
    assert afile.read_text() == "not a folder"


class _RunsCode:
    """Unpickling this calls os.system: what a malicious checkpoint would carry."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("content", ["malicious", "truncated", "text"])
def test_a_bad_checkpoint_is_named_and_never_invites_weights_only_false(tmp_path, content):
    from gancourse.checkpoint import CheckpointError, load_checkpoint

    path = tmp_path / "checkpoint.pt"
    if content == "malicious":
        torch.save({"format": "gancourse-checkpoint-v1", "x": _RunsCode(tmp_path / "ran")}, path)
    elif content == "truncated":
        torch.save({"format": "gancourse-checkpoint-v1", "w": torch.zeros(1000)}, path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_text("hello")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert f"{path} is not a checkpoint this package wrote" in message
    assert "never loaded with weights_only=False" in message
    assert not (tmp_path / "ran").exists()  # no code ran
    assert "Re-running" not in message and "set to `False`" not in message and "trust the source" not in message


@pytest.mark.parametrize("link", ["dangling", "loop"])
def test_a_broken_symlink_in_a_folder_dataset_is_skipped_and_counted(tmp_path, capsys, link):
    from PIL import Image

    from gancourse.data.folder import load_folder

    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(2):
        Image.new("RGB", (20, 20), (60 * i, 0, 0)).save(pics / f"{i}.png")
    bad = pics / "bad.png"
    os.symlink(pics / "missing.png" if link == "dangling" else bad, bad)
    images, labels = load_folder(pics, 16, root=tmp_path / "cache")
    assert tuple(images.shape) == (2, 3, 16, 16) and labels.tolist() == [0, 0]
    printed = capsys.readouterr().out
    assert "skipped 1 of 3 files" in printed and "bad.png (broken symlink)" in printed


# --- conditional runs on 2-D data write their pictures (item 2) -------------------------------------------------

@pytest.mark.parametrize("data, condition", [("ring", "acgan"), ("grid", "concat"),
                                             ("overlapping_classes", "projection")])
def test_a_conditional_2d_run_writes_its_outputs(tmp_path, data, condition):
    from gancourse.run_outputs import heatmap_critic, write_outputs

    cfg = TrainConfig(condition=condition, steps=2, z_dim=4, batch_size=16, device="cpu")
    trainer = Trainer.from_names(data, "mlp", cfg, width=8)
    trainer.train(progress=False)
    metrics = write_outputs(trainer, tmp_path, seconds=0.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["losses.png", "metrics.json", "samples.png"]
    assert metrics["step"] == 2
    # The heatmap's D is the mean over the K labels of D's source score, computed here label by label.
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        by_hand = torch.stack([trainer.condition.discriminate(trainer.D, x, torch.full((5,), c))[0]
                               for c in range(trainer.num_classes)]).mean(0)
        assert torch.allclose(heatmap_critic(trainer)(x), by_hand)


def test_a_conditional_2d_cli_run_saves_periodically_and_resumes(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--condition", "acgan", "--steps", "4", "--checkpoint-every", "2", "--out", str(out),
                 "--z-dim", "4", "--width", "8", *TINY]) == 0
    assert main(["train", "--out", str(out), "--steps", "6", "--resume", *TINY]) == 0
