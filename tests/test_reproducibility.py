"""Reproducibility across processes: a lesson run in two fresh interpreters prints the same numbers and
reads its data cache instead of rebuilding it (split from the robustness tests).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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
