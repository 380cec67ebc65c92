import json
import math
import subprocess
import sys

import pytest
import torch

from gancourse.checkpoint import load_checkpoint
from gancourse.cli import SavePeriod, main
from gancourse.config import TrainConfig
from gancourse.data import make_mixture
from gancourse.metrics import mode_coverage
from gancourse.run_outputs import torch_randn
from gancourse.train import Trainer


def test_cli_end_to_end_writes_outputs_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "ring", "--steps", "30", "--out", str(out), "--no-progress",
                 "--batch-size", "64", "--z-dim", "8"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "losses.png", "metrics.json", "samples.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 30 and metrics["setup"]["data"] == "ring"
    assert metrics["config"]["batch_size"] == 64 and metrics["config"]["loss"] == "nsgan"
    # The scores are those of the checkpoint's generator on the CLI's fixed evaluation noise.
    trainer = Trainer.from_names("ring", "mlp", TrainConfig.from_dict(metrics["config"])).load(out / "checkpoint.pt")
    ring = make_mixture("ring")
    cov = mode_coverage(trainer.sample(z=torch_randn(2500, 8, 0)), ring.centres, ring.std)
    assert metrics["mode_coverage"]["modes_captured"] == cov.modes_captured
    assert metrics["mode_coverage"]["hq_fraction"] == pytest.approx(cov.hq_fraction)
    assert metrics["final"]["loss_d"] == pytest.approx(trainer.history.last("loss_d"))
    for png in ("samples.png", "losses.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    assert main(["train", "--data", "ring", "--steps", "30", "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing was overwritten

    assert main(["train", "--out", str(out), "--steps", "40", "--resume", "--no-progress"]) == 0
    assert json.loads((out / "metrics.json").read_text())["step"] == 40


def test_cli_loss_picks_the_papers_settings_unless_overridden(tmp_path):
    out = tmp_path / "gp"
    assert main(["train", "--data", "grid", "--loss", "wgan-gp", "--steps", "2", "--out", str(out), "--no-progress",
                 "--n-critic", "2"]) == 0
    cfg = json.loads((out / "metrics.json").read_text())["config"]
    assert (cfg["lr_d"], cfg["beta1"], cfg["beta2"], cfg["gp_lambda"], cfg["n_critic"]) == (1e-4, 0.0, 0.9, 10.0, 2)


def test_cli_r1_and_ema_reach_the_config_and_resume_checks_them(tmp_path):
    from gancourse.ema import half_life

    out = tmp_path / "r1"
    assert main(["train", "--data", "ring", "--loss", "hinge", "--r1-gamma", "2", "--ema", "0.9", "--steps", "3",
                 "--out", str(out), "--no-progress"]) == 0
    cfg = json.loads((out / "metrics.json").read_text())["config"]
    assert (cfg["loss"], cfg["r1_gamma"]) == ("hinge", 2.0)
    assert cfg["ema_half_life"] == pytest.approx(half_life(0.9)) == pytest.approx(math.log(0.5) / math.log(0.9))
    assert main(["train", "--out", str(out), "--resume", "--steps", "5", "--ema", "0.99", "--no-progress"]) == 2
    assert main(["train", "--out", str(out), "--resume", "--steps", "5", "--ema", "0.9", "--no-progress"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--lr-g", "0"], "lr_g=0.0"),
    (["--n-critic", "0"], "n_critic=0"),
    (["--clip", "-1"], "clip=-1.0"),
    (["--model", "dcgan"], "use --model mlp"),
    (["--r1-gamma", "-1"], "r1_gamma=-1.0"),
    (["--ema", "1.5"], "1.5"),
    (["--loss", "hinge", "--r1-gamma", "nan"], "r1_gamma=nan"),
])
def test_cli_bad_values_exit_2_with_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "bad"
    assert main(["train", "--steps", "5", "--out", str(out), "--no-progress"] + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_cli_divergence_exits_1(tmp_path, capsys):
    code = main(["train", "--steps", "50", "--out", str(tmp_path / "d"), "--no-progress", "--lr-g", "1e10",
                 "--lr-d", "1e10"])
    assert code == 1
    assert "diverged at step" in capsys.readouterr().err


def test_cli_unknown_choice_and_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gancourse", "train", "--data", "imagenet", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice: 'imagenet'" in proc.stderr and "ring" in proc.stderr


def test_cli_resume_without_checkpoint(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--resume", "--steps", "5"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_metrics_json_is_strict_json_even_when_a_statistic_is_infinite(tmp_path):
    # 3 steps cannot reach any ring mode: the reverse KL of an empty HQ histogram is inf.
    out = tmp_path / "run"
    assert main(["train", "--data", "ring", "--steps", "3", "--out", str(out), "--no-progress"]) == 0
    text = (out / "metrics.json").read_text()
    metrics = json.loads(text, parse_constant=lambda name: pytest.fail(f"metrics.json contains bare {name}"))
    assert metrics["mode_coverage"]["modes_captured"] == 0
    assert metrics["mode_coverage"]["reverse_kl"] is None


def test_cli_gan_on_2d_data_starts_from_lesson_1s_settings_unless_overridden(tmp_path):
    out = tmp_path / "moons"
    assert main(["train", "--data", "moons", "--steps", "2", "--out", str(out), "--no-progress", "--z-dim", "8"]) == 0
    cfg = json.loads((out / "metrics.json").read_text())["config"]
    assert (cfg["lr_g"], cfg["lr_d"], cfg["batch_size"], cfg["z_dim"]) == (1e-3, 1e-3, 256, 8)
    out = tmp_path / "digits"
    assert main(["train", "--data", "digits", "--steps", "1", "--out", str(out), "--no-progress",
                 "--batch-size", "8"]) == 0
    cfg = json.loads((out / "metrics.json").read_text())["config"]
    assert (cfg["lr_g"], cfg["z_dim"]) == (2e-4, 64)  # images keep TrainConfig's DCGAN-style defaults


def _has_batch_norm(weights: dict) -> bool:
    return any(key.endswith("running_mean") for key in weights)


def test_cli_critic_loss_on_dcgan_gets_a_critic_without_batch_norm(tmp_path, capsys):
    base = ["train", "--data", "digits", "--model", "dcgan", "--loss", "wgan-gp", "--steps", "1", "--width", "4",
            "--batch-size", "8", "--z-dim", "8", "--no-progress", "--checkpoint-every", "0"]
    assert main(base + ["--out", str(tmp_path / "gp")]) == 0
    captured = capsys.readouterr()
    assert "norm: G batch, D layer" in captured.out and "warning" not in captured.err
    state = load_checkpoint(tmp_path / "gp" / "checkpoint.pt")
    assert not _has_batch_norm(state["D"]) and _has_batch_norm(state["G"])
    assert (state["setup"]["g_norm"], state["setup"]["d_norm"]) == ("batch", "layer")
    # Asked for, batch norm in the critic is what trains, after a one-line warning.
    assert main(base + ["--out", str(tmp_path / "bn"), "--norm", "batch"]) == 0
    err = capsys.readouterr().err
    assert err.count("gancourse: warning: batch norm in a wgan-gp critic") == 1 and len(err.splitlines()) == 1
    assert _has_batch_norm(load_checkpoint(tmp_path / "bn" / "checkpoint.pt")["D"])


def _record_saves(monkeypatch):
    saved, original = [], Trainer.save

    def save(self, path):
        saved.append((self.step, sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("."))))
        return original(self, path)

    monkeypatch.setattr(Trainer, "save", save)
    return saved


@pytest.mark.parametrize("every, steps_saved", [("10", [10, 20, 25]), ("0.0001m", [10, 20, 25]), ("0", [25])])
def test_cli_saves_a_checkpoint_and_the_pictures_periodically(tmp_path, monkeypatch, every, steps_saved):
    saved = _record_saves(monkeypatch)
    out = tmp_path / "run"
    assert main(["train", "--steps", "25", "--out", str(out), "--no-progress", "--z-dim", "8",
                 "--checkpoint-every", every]) == 0
    assert [step for step, _ in saved] == steps_saved
    outputs = ["checkpoint.pt", "losses.png", "metrics.json", "samples.png"]
    assert all(files == outputs for _, files in saved[1:])  # each save after the first found the last one's files
    assert sorted(p.name for p in out.iterdir()) == outputs  # and no temporary file is left


def test_cli_periodic_saves_do_not_change_the_run(tmp_path):
    for name, every in (("quiet", "0"), ("saving", "3")):
        assert main(["train", "--steps", "14", "--out", str(tmp_path / name), "--no-progress", "--z-dim", "8",
                     "--batch-size", "32", "--checkpoint-every", every]) == 0
    quiet, saving = (load_checkpoint(tmp_path / name / "checkpoint.pt") for name in ("quiet", "saving"))
    assert quiet["history"] == saving["history"]
    assert all(torch.equal(quiet["G"][k], saving["G"][k]) for k in quiet["G"])


def test_checkpoint_every_values():
    assert SavePeriod.parse("500") == SavePeriod(steps=500)
    assert SavePeriod.parse("10m") == SavePeriod.parse("10min") == SavePeriod(minutes=10.0)
    assert not SavePeriod.parse("off").enabled
    for bad in ("-5", "5x", "0m", "m", ""):
        with pytest.raises(ValueError, match="not a period"):
            SavePeriod.parse(bad)


def test_cli_bad_checkpoint_every_exits_2(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "x"), "--checkpoint-every", "5x"]) == 2
    err = capsys.readouterr().err
    assert "'5x' is not a period" in err and len(err.strip().splitlines()) == 1


def test_cli_failure_after_training_started_exits_1_with_the_real_message(tmp_path, capsys, monkeypatch):
    original = Trainer.train_step

    def fails_at_step_6(self):
        if self.step == 5:  # what torch.compile does when its backend fails inside the loop
            raise RuntimeError("backend='inductor' raised:\nRuntimeError: compiled double backward is not supported")
        original(self)

    monkeypatch.setattr(Trainer, "train_step", fails_at_step_6)
    out = tmp_path / "run"
    assert main(["train", "--steps", "50", "--out", str(out), "--no-progress", "--z-dim", "8",
                 "--checkpoint-every", "3"]) == 1
    err = capsys.readouterr().err
    assert "training failed at step 5: RuntimeError: backend='inductor' raised:" in err
    assert "compiled double backward is not supported" in err  # the cause, on the message's second line
    assert "the last checkpoint (step 3)" in err and "--resume" in err
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 3  # the failed state did not overwrite it


def test_cli_spectral_norm_reaches_the_setup_and_resume_rebuilds_it(tmp_path, capsys):
    out = tmp_path / "sn"
    assert main(["train", "--data", "ring", "--loss", "hinge", "--spectral-norm", "--steps", "3", "--width", "8",
                 "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["setup"]["spectral_norm"] is True
    assert any("parametrizations" in k for k in state["D"])
    # --resume rebuilds the normalised D from the setup (its state dict would not load into a plain D).
    assert main(["train", "--out", str(out), "--resume", "--steps", "5", "--no-progress", "--device", "cpu"]) == 0
    assert json.loads((out / "metrics.json").read_text())["step"] == 5
    plain = tmp_path / "plain"
    assert main(["train", "--data", "ring", "--steps", "2", "--width", "8", "--out", str(plain), "--no-progress",
                 "--device", "cpu"]) == 0
    assert load_checkpoint(plain / "checkpoint.pt")["setup"]["spectral_norm"] is False
    capsys.readouterr()
    assert main(["train", "--out", str(plain), "--resume", "--steps", "4", "--spectral-norm", "--no-progress"]) == 2
    assert "--spectral-norm True differs from the checkpoint's spectral_norm=False" in capsys.readouterr().err


def test_cli_resumes_a_checkpoint_whose_setup_predates_spectral_norm(tmp_path):
    out = tmp_path / "old"
    assert main(["train", "--data", "ring", "--steps", "2", "--width", "8", "--out", str(out), "--no-progress",
                 "--device", "cpu"]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    del state["setup"]["spectral_norm"]
    torch.save(state, out / "checkpoint.pt")
    assert main(["train", "--out", str(out), "--resume", "--steps", "4", "--no-progress", "--device", "cpu"]) == 0


def test_cli_r1_is_the_short_name_of_r1_gamma(tmp_path):
    from gancourse.cli import parse_and_check

    for flag in ("--r1", "--r1-gamma"):
        plan = parse_and_check(["train", "--out", str(tmp_path / "run"), flag, "3", "--loss", "hinge",
                                "--device", "cpu"])
        assert (plan.cfg.r1_gamma, plan.cfg.loss) == (3.0, "hinge")
    assert parse_and_check(["train", "--out", str(tmp_path / "run"), "--device", "cpu"]).cfg.r1_gamma == 0.0
