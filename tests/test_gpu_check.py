"""benchmarks/gpu_check.py reports failures as failures: a FAIL row and exit status 1 (the full CPU smoke
run is ``make gpu-smoke``)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_check  # noqa: E402


def test_a_diverging_run_is_a_failed_row_and_a_healthy_one_passes():
    cfg = gpu_check.loss_config("nsgan", "mlp", 3, "cpu", smoke=True)
    bad = gpu_check.one_run("diverges", "ring", "mlp", cfg.replace(lr_d=1e6, lr_g=1e6, optimizer="rmsprop"),
                            True, 16, {})
    assert not bad.ok and bad.note.startswith("TrainingDiverged: training diverged at step")
    good = gpu_check.one_run("healthy", "ring", "mlp", cfg, True, 16, {})
    assert good.ok and good.note.startswith("fp16+scaler") and good.steps_per_s > 0
    assert "| FAIL |" in gpu_check.format_row(bad) and "| pass |" in gpu_check.format_row(good)


@pytest.mark.parametrize("failing, status", [(False, 0), (True, 1)])
def test_exit_status_is_one_when_any_check_failed(monkeypatch, capsys, failing, status):
    row = gpu_check.Row("train", "stand-in", 0.1, ok=not failing, note="boom" if failing else "")
    monkeypatch.setattr(gpu_check, "training_runs", lambda args, device: [row])
    monkeypatch.setattr(gpu_check, "checkpoint_run", lambda args, device: gpu_check.Row("checkpoint", "ok", 0.1))
    monkeypatch.setattr(gpu_check, "throughput_runs", lambda args, device: [])
    monkeypatch.setattr(gpu_check.Trainer, "compile_backend", gpu_check.Trainer.compile_backend)  # main() sets it
    assert gpu_check.main(["--device", "cpu", "--smoke"]) == status
    out = capsys.readouterr().out
    assert ("FAILED: train stand-in: boom" in out) is failing and "device cpu" in out


def test_a_missing_gpu_is_a_usage_error_naming_the_smoke_option():
    with pytest.raises(SystemExit) as info:
        gpu_check.main(["--device", "mps" if not gpu_check.torch.backends.mps.is_available() else "tpu"])
    assert info.value.code == 2
