"""Interrupted runs: Ctrl-C, SIGINT, SIGTERM, a stop request or an exception in a callback leaves a
checkpoint that loads with ``weights_only=True`` and resumes the same run (split from the robustness tests).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from helpers import cli_args, read_checkpoint, small_cfg, small_ring_trainer, weights

from gancourse.cli import main
from gancourse.data import make_sampler
from gancourse.models import build_models
from gancourse.train import Trainer


def test_cli_ctrl_c_stops_after_the_step_and_resume_repeats_the_uninterrupted_run(tmp_path, capsys, monkeypatch):
    assert main(cli_args(tmp_path / "full", "--steps", "30")) == 0
    original = Trainer.train_step

    def train_step_then_ctrl_c(self):
        original(self)
        if self.step == 13:
            os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, handled by the CLI's handler

    monkeypatch.setattr(Trainer, "train_step", train_step_then_ctrl_c)
    capsys.readouterr()
    assert main(cli_args(tmp_path / "cut", "--steps", "30")) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 13" in err and "--resume" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == ["checkpoint.pt", "losses.png", "metrics.json",
                                                                    "samples.png"]
    assert json.loads((tmp_path / "cut" / "metrics.json").read_text())["step"] == 13
    state = read_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert state["step"] == 13 and state["history"]["step"] == list(range(1, 14))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler was put back

    monkeypatch.setattr(Trainer, "train_step", original)
    assert main(cli_args(tmp_path / "cut", "--steps", "30", "--resume")) == 0
    full, resumed = (read_checkpoint(tmp_path / name / "checkpoint.pt") for name in ("full", "cut"))
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
    assert main(cli_args(tmp_path / "run", "--steps", "500")) == 130
    assert "interrupted at step 7" in capsys.readouterr().err
    state = read_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["step"] == 7 and state["history"]["step"] == list(range(1, 8))
    assert all(torch.isfinite(v).all() for net in ("G", "D") for v in state[net].values())
    monkeypatch.setattr(Trainer, "_generator_step", original)
    assert main(cli_args(tmp_path / "run", "--steps", "12", "--resume")) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["step"] == 12
    assert read_checkpoint(tmp_path / "run" / "checkpoint.pt")["history"]["step"] == list(range(1, 13))


def test_cli_sigint_from_outside_leaves_a_checkpoint_that_resumes(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gancourse", *cli_args(out, "--steps", "100000000")],
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
    state = read_checkpoint(out / "checkpoint.pt")
    assert step >= 1 and state["step"] == step and state["history"]["step"] == list(range(1, step + 1))
    assert main(cli_args(out, "--steps", str(step + 5), "--resume")) == 0
    assert json.loads((out / "metrics.json").read_text())["step"] == step + 5


def test_cli_sigterm_saves_like_ctrl_c_and_resume_continues_the_same_run(tmp_path):
    # What `timeout`, a closed terminal or a batch scheduler does: SIGTERM to a running `gancourse train`.
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gancourse", *cli_args(out, "--steps", "100000000",
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
        assert read_checkpoint(out / "checkpoint.pt")["step"] % 25 == 0
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    step = int(re.search(r"stopped by SIGTERM at step (\d+)", err).group(1))
    state = read_checkpoint(out / "checkpoint.pt")
    assert step >= 25 and state["step"] == step and state["history"]["step"] == list(range(1, step + 1))
    assert json.loads((out / "metrics.json").read_text())["step"] == step
    # --resume continues exactly: the same weights and history as one uninterrupted run.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the subprocess: float sums can depend on the thread count
    try:
        assert main(cli_args(out, "--steps", str(step + 6), "--resume")) == 0
        assert main(cli_args(tmp_path / "straight", "--steps", str(step + 6))) == 0
    finally:
        torch.set_num_threads(threads)
    resumed, straight = (read_checkpoint(p / "checkpoint.pt") for p in (out, tmp_path / "straight"))
    assert resumed["history"] == straight["history"]
    for net in ("G", "D"):
        assert all(torch.equal(value, resumed[net][key]) for key, value in straight[net].items()), net


def test_request_stop_from_another_thread_leaves_an_exact_resumable_state(tmp_path):
    trainer = small_ring_trainer(steps=100_000)

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
    assert read_checkpoint(path)["step"] == stopped

    resumed = small_ring_trainer(steps=stopped + 3).load(path)
    resumed.train(progress=False)
    straight = small_ring_trainer(steps=stopped + 3)
    straight.train(progress=False)
    assert resumed.step == stopped + 3 and resumed.history == straight.history
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(straight)))


def test_a_stop_request_between_runs_does_not_cancel_the_next_run():
    trainer = small_ring_trainer(steps=6)
    trainer.request_stop()
    assert len(trainer.train(progress=False)) == 6


def test_keyboard_interrupt_in_a_callback_keeps_history_and_a_loadable_checkpoint(tmp_path):
    def interrupt_at_9(trainer):
        if trainer.step == 9:
            raise KeyboardInterrupt

    trainer = Trainer(*build_models("mlp", (2,), z_dim=8, width=32), make_sampler("ring", 32), small_cfg(steps=50),
                      callbacks=[interrupt_at_9], callback_every=3)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert trainer.step == 9 and len(trainer.history) == 9
    resumed = small_ring_trainer(steps=12).load(trainer.save(tmp_path / "c.pt"))
    assert resumed.train(progress=False)["step"] == list(range(1, 13))
