import json
import subprocess
import sys

import pytest

from gancourse.cli import main


def test_cli_end_to_end_writes_outputs_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "ring", "--steps", "30", "--out", str(out), "--no-progress",
                 "--batch-size", "64", "--z-dim", "8"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "losses.png", "metrics.json", "samples.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 30 and metrics["setup"]["data"] == "ring"
    assert metrics["config"]["batch_size"] == 64 and metrics["config"]["loss"] == "nsgan"
    assert 0 <= metrics["mode_coverage"]["modes_captured"] <= 8
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


@pytest.mark.parametrize("args, message", [
    (["--lr-g", "0"], "lr_g=0.0"),
    (["--n-critic", "0"], "n_critic=0"),
    (["--clip", "-1"], "clip=-1.0"),
    (["--model", "dcgan"], "use --model mlp"),
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
