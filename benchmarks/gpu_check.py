"""One command that checks the GPU path of the course and prints one table (issue 13).

Runs, on one device: every loss (gan, nsgan, wgan, wgan-gp) x AMP on/off x torch.compile on/off x
{MLP on ``ring``, DCGAN on ``digits``} for ``--steps`` generator steps each (on a bf16 GPU also
eager runs with fp16 + GradScaler forced, the branch of a Colab T4); a checkpoint save and
resume against the uninterrupted run; every notebook in quick mode (nbval, as ``make notebooks``);
and the throughput benchmark (``train_throughput.py``). The table lists the GPU's name and compute
capability, the torch / CUDA / cuDNN versions, steps/s and images/s per run, and pass/fail; the exit
status is 1 when anything failed. Sized for under 8 minutes on one current GPU at the defaults (an
estimate: it has not run on a GPU yet; every compile-on run pays its compilation, measured in the
"s" column).

A run passes when it trains to the end without an exception (``TrainingDiverged`` included), every
recorded loss is finite, and, for a compiled run, its first ``AGREE_STEPS`` steps agree with the
eager run of the same setting (same seed) to ``AGREE_RTOL`` (float32) or ``AGREE_RTOL_AMP`` (AMP).
On the CPU, "amp on" is the emulation the tests use: fp16 autocast with ``GradScaler("cpu")``.

    python benchmarks/gpu_check.py                                   # the GPU check, about 8 minutes
    python benchmarks/gpu_check.py --device cpu --smoke              # seconds: the smoke test in make test
    python benchmarks/gpu_check.py --only dcgan --steps 500          # one setup, longer
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from train_throughput import measure  # noqa: E402

from gancourse.config import LOSSES, TrainConfig, preset  # noqa: E402
from gancourse.device import autocast_dtype, pick_device  # noqa: E402
from gancourse.train import Trainer  # noqa: E402

AGREE_STEPS = 5
SMOKE_COMPILED = ("mlp", "wgan-gp", True)  # the one compiled run of --smoke: penalty + fp16 + compile
AGREE_RTOL = 1e-3  # float32: inductor's fused kernels reorder sums (1e-8 measured on the CPU, tests/test_gpu_paths.py)
AGREE_RTOL_AMP = 5e-2  # half precision: a fused kernel may round an intermediate differently (3 digits in fp16)


@dataclass
class Row:
    check: str
    setting: str
    seconds: float
    steps_per_s: float = math.nan
    images_per_s: float = math.nan
    ok: bool = True
    note: str = ""


def loss_config(loss: str, model: str, steps: int, device: str, smoke: bool) -> TrainConfig:
    """The paper settings of each loss (``config.PRESETS``), on the course's two setups."""
    if loss in ("wgan", "wgan-gp"):
        cfg = preset(loss)
    elif model == "dcgan":
        cfg = preset("dcgan", loss=loss)
    else:
        cfg = TrainConfig(loss=loss, batch_size=512, z_dim=64)
    cfg = cfg.replace(steps=steps, device=device, log_every=1 if smoke else 10, seed=0)
    if smoke:
        cfg = cfg.replace(batch_size=16, n_critic=min(cfg.n_critic, 2), z_dim=8)
    return cfg


def build(data: str, model: str, cfg: TrainConfig, amp: bool | str, width: int | None) -> Trainer:
    """``amp``: False (float32), True (what the trainer picks for the device), "fp16" (fp16 + scaler forced)."""
    trainer = Trainer.from_names(data, model, cfg.replace(amp=bool(amp)), width=width)
    if amp == "fp16" or (amp and trainer.amp_dtype is None):  # a T4's branch, or its emulation on the CPU
        trainer._set_precision(torch.float16)
    return trainer


def precision_name(trainer: Trainer) -> str:
    return {None: "fp32", torch.float16: "fp16+scaler", torch.bfloat16: "bf16"}[trainer.amp_dtype]


def sync(trainer: Trainer) -> None:
    if trainer.is_cuda:
        torch.cuda.synchronize(trainer.device)


def training_runs(args, device: str) -> list[Row]:
    setups = [("ring", "mlp", None if not args.smoke else 16), ("digits", "dcgan", None if not args.smoke else 8)]
    rows, eager_history = [], {}
    # On a bf16 GPU, also the fp16 + GradScaler branch of older GPUs (a Colab T4), eager only.
    amps = (False, True, "fp16") if autocast_dtype(device) == torch.bfloat16 else (False, True)
    for data, model, width in setups:
        if args.only and args.only not in (data, model):
            continue
        for loss in LOSSES:
            for amp in amps:
                for compiled in (False, True):  # eager first: the compiled run is compared with it
                    if compiled and ((args.smoke and (model, loss, amp) != SMOKE_COMPILED) or amp == "fp16"):
                        continue  # compiling costs seconds even with aot_eager; tests/test_gpu_paths.py has each loss
                    cfg = loss_config(loss, model, args.steps, device, args.smoke).replace(compile=compiled)
                    label = (f"{model}/{data} {loss:7s} amp={ {False: 'off', True: 'on '}.get(amp, amp)} "
                             f"compile={'on ' if compiled else 'off'}")
                    rows.append(one_run(label, data, model, cfg, amp, width, eager_history))
                    print(format_row(rows[-1]), flush=True)
    return rows


def one_run(label: str, data: str, model: str, cfg: TrainConfig, amp: bool | str, width: int | None,
            eager_history: dict) -> Row:
    key = (data, model, cfg.loss, amp)
    start = time.perf_counter()
    try:
        if cfg.compile:
            torch._dynamo.reset()  # a fresh trainer per run would otherwise exhaust dynamo's recompile limit
        trainer = build(data, model, cfg, amp, width)
        trainer.train(progress=False)
        sync(trainer)
    except Exception as err:  # noqa: BLE001  every failure is a row of the table, then exit 1
        return Row("train", label, time.perf_counter() - start, ok=False, note=first_line(err))
    seconds = time.perf_counter() - start
    history = trainer.history
    note = f"{precision_name(trainer)}, {int(sum(history['amp_skips']))} scaler skips"
    ok = len(history) == cfg.steps and all(math.isfinite(v) for k in ("loss_d", "loss_g") for v in history[k])
    if not ok:
        note += "; non-finite loss recorded"
    if not cfg.compile:
        eager_history[key] = history
    elif key in eager_history:
        rtol = AGREE_RTOL_AMP if trainer.amp_dtype is not None else AGREE_RTOL
        diff = max(abs(a - b) / max(abs(b), 1e-3) for k in ("loss_d", "loss_g")
                   for a, b in zip(history[k][:AGREE_STEPS], eager_history[key][k][:AGREE_STEPS]))
        ok = ok and diff <= rtol
        note += f"; vs eager {diff:.1e} (tol {rtol:.0e})"
    steps = history["step"][-1] if len(history) else 0
    per_step_images = cfg.batch_size * (cfg.n_critic + 1)
    return Row("train", label, seconds, steps / seconds, steps * per_step_images / seconds, ok, note)


def checkpoint_run(args, device: str) -> Row:
    """Save at step n, resume in a fresh trainer, continue n more: the uninterrupted run's weights."""
    n = 3 if args.smoke else 50
    cfg = loss_config("nsgan", "mlp", 2 * n, device, args.smoke)
    start = time.perf_counter()
    try:
        straight = build("ring", "mlp", cfg, False, 16 if args.smoke else None)
        straight.train(progress=False)
        first = build("ring", "mlp", cfg, False, 16 if args.smoke else None)
        first.train(steps=n, progress=False)
        with tempfile.TemporaryDirectory() as tmp:
            path = first.save(Path(tmp) / "run.pt")
            resumed = build("ring", "mlp", cfg, False, 16 if args.smoke else None).load(path)
        resumed.train(progress=False)
        diff = max(float((a - b).abs().max()) for a, b in zip(resumed.G.state_dict().values(),
                                                               straight.G.state_dict().values()))
    except Exception as err:  # noqa: BLE001
        return Row("checkpoint", f"save at {n}, resume to {2 * n}", time.perf_counter() - start, ok=False,
                   note=first_line(err))
    # Exact on the CPU; on a GPU the same kernels on the same inputs repeat, but allow for atomics.
    tol = 0.0 if device == "cpu" else 1e-4
    return Row("checkpoint", f"save at {n}, resume to {2 * n}", time.perf_counter() - start,
               ok=resumed.step == 2 * n and diff <= tol, note=f"max |G weight diff| {diff:.1e} (tol {tol:.0e})")


def notebook_runs() -> list[Row]:
    rows = []
    env = {**os.environ, "GANCOURSE_QUICK": "1", "GANCOURSE_OFFLINE": "1", "MPLBACKEND": "Agg"}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                               "--nbval-current-env", str(notebook)], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        tail = (proc.stdout.strip().splitlines() or [""])[-1]
        rows.append(Row("notebook", f"{notebook.name} (quick mode)", time.perf_counter() - start,
                        ok=proc.returncode == 0, note=tail[:80]))
        print(format_row(rows[-1]), flush=True)
    return rows


def throughput_runs(args, device: str) -> list[Row]:
    rows = []
    steps = 8 if args.smoke else 200
    setups = [("ring", "mlp", TrainConfig(batch_size=512, z_dim=64, steps=steps, device=device)),
              ("digits", "dcgan", preset("dcgan", steps=steps, device=device))]
    for data, model, cfg in setups:
        if args.smoke:
            cfg = cfg.replace(batch_size=16)
        start = time.perf_counter()
        try:
            steps_per_s, images_per_s = measure(data, model, cfg, warmup=3 if args.smoke else 10,
                                                width=8 if args.smoke else None)
            rows.append(Row("throughput", f"train_throughput.py {model}/{data} batch {cfg.batch_size}",
                            time.perf_counter() - start, steps_per_s, images_per_s))
        except Exception as err:  # noqa: BLE001
            rows.append(Row("throughput", f"{model}/{data}", time.perf_counter() - start, ok=False,
                            note=first_line(err)))
        print(format_row(rows[-1]), flush=True)
    return rows


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"[:160]


def format_row(row: Row) -> str:
    return (f"| {row.check} | {row.setting} | {row.seconds:.1f} | {row.steps_per_s:.1f} | {row.images_per_s:.0f} | "
            f"{'pass' if row.ok else 'FAIL'} | {row.note} |")


def machine(device: torch.device) -> list[str]:
    lines = [f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
             f"Python {platform.python_version()}"]
    if device.type == "cuda":
        name, capability = torch.cuda.get_device_name(device), torch.cuda.get_device_capability(device)
        memory = torch.cuda.get_device_properties(device).total_memory / 2**30
        lines.append(f"GPU {name}, compute capability {capability[0]}.{capability[1]}, autocast "
                     f"{autocast_dtype(device)}, {memory:.0f} GiB")
    else:
        lines.append(f"device {device} ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                     f"{torch.get_num_threads()} threads); amp on = fp16 autocast + GradScaler('cpu') emulation")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, mps or cpu")
    parser.add_argument("--steps", type=int, default=300, help="generator steps per training run (default 300)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny models, 3 steps, aot_eager compile, no notebooks: the CPU smoke test of make test")
    parser.add_argument("--skip-notebooks", action="store_true", help="leave out the notebooks")
    parser.add_argument("--only", choices=["mlp", "ring", "dcgan", "digits"], help="one training setup only")
    parser.add_argument("--compile-backend", default=None,
                        help="torch.compile backend (default inductor; aot_eager with --smoke)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.skip_notebooks = 3, True
    Trainer.compile_backend = args.compile_backend or ("aot_eager" if args.smoke else "inductor")
    try:
        device = pick_device(args.device)
    except ValueError as err:
        parser.error(f"{err} (this check is for a GPU machine; --device cpu --smoke checks the script itself)")
    print("\n".join(machine(device)))
    print(f"compile backend {Trainer.compile_backend}, {args.steps} steps per run\n")
    print("| check | setting | s | steps/s | images/s | result | note |\n|---|---|---|---|---|---|---|", flush=True)
    start = time.perf_counter()
    rows = training_runs(args, str(device))
    rows.append(checkpoint_run(args, str(device)))
    print(format_row(rows[-1]), flush=True)
    if not args.skip_notebooks:
        rows += notebook_runs()
    rows += throughput_runs(args, str(device))
    failed = [row for row in rows if not row.ok]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} passed in {time.perf_counter() - start:.0f} s"
          + "".join(f"\nFAILED: {row.check} {row.setting}: {row.note}" for row in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
