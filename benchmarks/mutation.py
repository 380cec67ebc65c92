"""Hand-written mutation testing: break the code one way at a time and check that a test notices.

Each mutation replaces one exact piece of source text (it must occur exactly once) in a private
copy of the working tree, runs the tests named for it there, and counts as *killed* when they fail
and *survived* when they pass. The working tree itself is never touched, so this can run while
someone else works in it. Not part of ``make test``: it runs pytest once per mutation (about 10 to
60 s each on 2 CPU cores).

Sets:
  listed  the weak tests of issue 16, each with the breakage that the old test let through
  fixes   the fixes of issue 16 reverted one at a time: each defect's test must fail without its fix
  hunt    further mutations of losses.py, metrics/, remedies/ and experiments/ against their own tests

    .venv/bin/python benchmarks/mutation.py --set listed
    .venv/bin/python benchmarks/mutation.py --set all --only gp    # the mutations whose name contains "gp"

Exit status 1 when a mutation survives (or no longer applies), 0 when every one was killed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str      # file, relative to the repository root
    old: str       # exact text, found exactly once
    new: str
    tests: tuple[str, ...]  # pytest node ids that must fail


LISTED = [
    Mutation("gp-eps-swapped", "gancourse/losses.py", "eps * real.detach() + (1 - eps) * fake.detach()",
             "(1 - eps) * real.detach() + eps * fake.detach()",
             ("tests/test_losses.py::test_gradient_penalty_uses_interpolates_of_images",)),
    Mutation("gp-eps-per-element", "gancourse/losses.py", "shape = (real.shape[0],) + (1,) * (real.dim() - 1)",
             "shape = tuple(real.shape)",
             ("tests/test_losses.py::test_gradient_penalty_draws_one_uniform_eps_per_sample_from_its_generator",)),
    Mutation("gp-eps-global-rng", "gancourse/losses.py",
             "eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)",
             "eps = torch.rand(shape, device=real.device, dtype=real.dtype)",
             ("tests/test_losses.py::test_gradient_penalty_draws_one_uniform_eps_per_sample_from_its_generator",)),
    Mutation("sampler-device-unchecked", "gancourse/train.py", 'if canonical_device(getattr(sampler, "device"',
             'if False and canonical_device(getattr(sampler, "device"',
             ("tests/test_train.py::test_train_gan_by_name_and_sampler_device_mismatch",)),
    Mutation("history-d-real-fake-swapped", "gancourse/train.py",
             "d_real, d_fake = torch.sigmoid(real_out).mean(), torch.sigmoid(fake_out).mean()",
             "d_fake, d_real = torch.sigmoid(real_out).mean(), torch.sigmoid(fake_out).mean()",
             ("tests/test_train.py::test_history_records_every_step_and_sensible_statistics",)),
    Mutation("history-loss-d-includes-a-constant", "gancourse/losses.py",
             "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
             "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean() + 0.01",
             ("tests/test_train.py::test_history_records_every_step_and_sensible_statistics",)),
    Mutation("history-w-estimate-sign", "gancourse/train.py", "w_estimate = real_out.mean() - fake_out.mean()",
             "w_estimate = fake_out.mean() - real_out.mean()",
             ("tests/test_train.py::test_history_records_every_step_and_sensible_statistics",)),
    Mutation("dcgan-init-returns-none", "gancourse/models/dcgan.py",
             "            nn.init.zeros_(m.bias)\n    return module",
             "            nn.init.zeros_(m.bias)\n    return None",
             ("tests/test_models.py::test_dcgan_init_statistics",)),
    Mutation("dcgan-init-skips-layer-norm", "gancourse/models/dcgan.py", "(nn.BatchNorm2d, nn.GroupNorm)",
             "(nn.BatchNorm2d,)", ("tests/test_models.py::test_dcgan_init_statistics",)),
    Mutation("dcgan-init-touches-linear", "gancourse/models/dcgan.py", "(nn.Conv2d, nn.ConvTranspose2d)):",
             "(nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):", ("tests/test_models.py::test_dcgan_init_statistics",)),
    Mutation("cli-modes-captured-wrong", "gancourse/cli.py", '{"modes_captured": cov.modes_captured',
             '{"modes_captured": cov.num_modes',
             ("tests/test_cli.py::test_cli_end_to_end_writes_outputs_and_refuses_to_overwrite",)),
    Mutation("workers-threads-not-restored", "gancourse/experiments/workers.py",
             "    finally:\n        torch.set_num_threads(threads)", "    finally:\n        pass",
             ("tests/test_workers.py",)),
    Mutation("evaluation-other-codes", "gancourse/experiments/core.py", "EVALUATION_SEED = 12345",
             "EVALUATION_SEED = 12346", ("tests/test_experiments_pinned.py::test_lesson2_benchmark_rows_are_pinned",)),
    Mutation("device-auto-skips-mps", "gancourse/device.py", 'return canonical_device("mps")',
             'return torch.device("cpu")', ("tests/test_quick_paths_device.py",)),
    Mutation("device-auto-prefers-mps", "gancourse/device.py",
             "        if torch.cuda.is_available():\n            return canonical_device(\"cuda\")\n"
             "        if _mps_available():\n            return canonical_device(\"mps\")",
             "        if _mps_available():\n            return canonical_device(\"mps\")\n"
             "        if torch.cuda.is_available():\n            return canonical_device(\"cuda\")",
             ("tests/test_quick_paths_device.py",)),
]

FIXES = [
    Mutation("revert-sample-eval-mode", "gancourse/train.py", "        self.G.eval()\n        try:\n",
             "        try:\n",
             ("tests/test_train.py::test_sample_changes_nothing_in_g_and_depends_on_each_z_only",)),
    Mutation("revert-sample-mode-restore", "gancourse/train.py",
             "            for module, training in modes:\n                module.training = training\n",
             "            pass\n", ("tests/test_train.py::test_sample_restores_each_modules_train_or_eval_mode",)),
    Mutation("revert-critic-default-norm", "gancourse/models/build.py",
             'return "batch", "layer" if _is_critic_loss(loss) else "batch"', 'return "batch", "batch"',
             ("tests/test_models.py::test_build_models_gives_critic_losses_a_critic_without_batch_norm",
              "tests/test_train.py::test_from_names_gives_a_critic_loss_a_critic_without_batch_norm",
              "tests/test_cli.py::test_cli_critic_loss_on_dcgan_gets_a_critic_without_batch_norm")),
    Mutation("revert-dashboard-untick", "gancourse/widgets/dashboard.py",
             'self.controls["batch_norm"].value = False if loss in CRITIC_LOSSES else self._initial["batch_norm"]',
             "pass", ("tests/test_widgets.py::test_critic_loss_unticks_batch_norm_and_a_tick_is_run_with_a_note",)),
    Mutation("revert-explorer-divisors", "gancourse/widgets/mode_collapse.py",
             "[v for v in values if batch_size % v == 0] if remedy in _SPLITS_THE_BATCH else list(values)",
             "list(values)",
             ("tests/test_lesson2_widget.py::test_every_pack_and_group_size_offered_divides_the_batch_and_trains",)),
    Mutation("revert-sigterm-handler", "gancourse/cli.py", "SIGNALS = (signal.SIGINT, signal.SIGTERM)",
             "SIGNALS = (signal.SIGINT,)",
             ("tests/test_robustness.py::test_cli_sigterm_saves_like_ctrl_c_and_resume_continues_the_same_run",)),
    Mutation("revert-periodic-save", "gancourse/cli.py", "        if due:\n", "        if False:\n",
             ("tests/test_cli.py::test_cli_saves_a_checkpoint_and_the_pictures_periodically",
              "tests/test_robustness.py::test_cli_sigterm_saves_like_ctrl_c_and_resume_continues_the_same_run")),
    Mutation("revert-exit-1-after-start", "gancourse/cli.py", "    except Exception as err:\n        raise _RunFailed(",
             "    except ZeroDivisionError as err:\n        raise _RunFailed(",
             ("tests/test_cli.py::test_cli_failure_after_training_started_exits_1_with_the_real_message",)),
]

_MIX = "tests/test_metrics_mixtures.py"
_REM = "tests/test_remedies.py"
_IMG = "tests/test_metrics_images.py"
HUNT = [
    # losses.py
    Mutation("minimax-sign", "gancourse/losses.py", "return -F.softplus(fake_logits).mean()",
             "return F.softplus(fake_logits).mean()", ("tests/test_losses.py",)),
    Mutation("critic-loss-sign", "gancourse/losses.py", "return fake_scores.mean() - real_scores.mean()",
             "return real_scores.mean() - fake_scores.mean()", ("tests/test_losses.py",)),
    Mutation("gp-one-sided", "gancourse/losses.py", "weight * (grad_norm - 1).pow(2).mean()",
             "weight * (grad_norm - 1).clamp(min=0).pow(2).mean()", ("tests/test_losses.py",)),
    Mutation("gp-no-create-graph", "gancourse/losses.py", "x_hat, create_graph=True)", "x_hat, create_graph=False)",
             ("tests/test_losses.py",)),
    Mutation("gp-batch-norm-of-grad", "gancourse/losses.py", "grad_norm = grad.flatten(1).norm(2, dim=1)",
             "grad_norm = grad.flatten(1).norm(2)", ("tests/test_losses.py",)),
    Mutation("clip-one-sided", "gancourse/losses.py", "p.clamp_(-c, c)", "p.clamp_(max=c)", ("tests/test_losses.py",)),
    Mutation("clip-negative-allowed", "gancourse/losses.py", "    if c < 0:\n", "    if c < -1:\n",
             ("tests/test_losses.py",)),
    # metrics/mixtures.py
    Mutation("hq-default-2-std", "gancourse/metrics/mixtures.py", "hq_stds: float = 3.0) -> ModeCoverage",
             "hq_stds: float = 2.0) -> ModeCoverage", (_MIX,)),
    Mutation("captured-needs-2-samples", "gancourse/metrics/mixtures.py", "int((counts > 0).sum())",
             "int((counts > 1).sum())", (_MIX, "tests/test_lesson2_metrics.py")),
    Mutation("reverse-kl-is-forward", "gancourse/metrics/mixtures.py", "float((q[nz] * (q[nz] * k).log()).sum())",
             "float(((1 / k) * (1 / (q[nz] * k)).log()).sum())", (_MIX,)),
    Mutation("standard-error-population", "gancourse/experiments/core.py", "/ (n - 1)", "/ n",
             ("tests/test_lesson2_metrics.py::test_mean_and_standard_error_by_hand",)),
    # metrics/images.py
    Mutation("frechet-cross-once", "gancourse/metrics/images.py", "- 2 * torch.trace(cross)", "- torch.trace(cross)",
             (_IMG,)),
    Mutation("frechet-cross-ignores-sigma1", "gancourse/metrics/images.py",
             "cross = _sqrt_psd(root1 @ sigma2 @ root1)", "cross = _sqrt_psd(sigma2)", (_IMG,)),
    Mutation("sqrt-psd-no-root", "gancourse/metrics/images.py", "vals.clamp(min=0).sqrt()", "vals.clamp(min=0)",
             (_IMG,)),
    Mutation("covariance-biased", "gancourse/metrics/images.py", "torch.cov(x.T)", "torch.cov(x.T, correction=0)",
             (_IMG,)),
    Mutation("class-coverage-ignores-confidence", "gancourse/metrics/images.py", "pred[top >= threshold]", "pred",
             (_IMG,)),
    Mutation("kl-uniform-wrong-k", "gancourse/metrics/images.py", "(q[nz] * (q[nz] * len(q)).log()).sum()",
             "(q[nz] * (q[nz] * nz.sum()).log()).sum()", (_IMG,)),
    # remedies
    Mutation("pack-wrong-axis", "gancourse/remedies/packing.py",
             "return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])",
             "return x.reshape(pack, x.shape[0] // pack, *x.shape[1:]).transpose(0, 1).reshape("
             "x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])", (_REM,)),
    Mutation("mbstd-biased-var", "gancourse/remedies/minibatch_std.py", "y.var(dim=0, correction=0)",
             "y.var(dim=0, correction=1)", (_REM,)),
    Mutation("mbstd-new-weight-not-zero", "gancourse/remedies/minibatch_std.py", "        new.weight.zero_()\n",
             "        new.weight.normal_()\n", (_REM,)),
    Mutation("lr-decay-no-hold", "gancourse/experiments/mixtures.py",
             "frac = max(0.0, (trainer.step / steps - start) / (1 - start))",
             "frac = max(0.0, (trainer.step / steps) / (1 - start))", (_REM,)),
    Mutation("rescale-inverted", "gancourse/experiments/mixtures.py",
             "G, D = nn.Sequential(G, Rescale(extent)), nn.Sequential(Rescale(1 / extent), D)",
             "G, D = nn.Sequential(G, Rescale(1 / extent)), nn.Sequential(Rescale(extent), D)", (_REM,)),
    Mutation("verdict-one-standard-error", "gancourse/experiments/core.py", "k: float = 2.0) -> str:",
             "k: float = 1.0) -> str:", ("tests/test_lesson2_collapse.py", "tests/test_conditional_runs.py")),
    Mutation("latent-log-sigma-not-exp", "gancourse/remedies/mixture_latent.py",
             "self.means[i] + self.log_sigma[i].exp() * z[:, 1:]", "self.means[i] + self.log_sigma[i] * z[:, 1:]",
             (_REM,)),
    Mutation("latent-component-skips-last", "gancourse/remedies/mixture_latent.py",
             "(u * self.components).long()", "(u * (self.components - 1)).long()", (_REM,)),
]

SETS = {"listed": LISTED, "fixes": FIXES, "hunt": HUNT}


def copy_tree(source: Path, dest: Path) -> None:
    """Copy the files git would see (tracked and untracked, not ignored) of ``source`` into ``dest``."""
    if not (source / ".git").exists():  # a plain copy: everything but the virtual environment
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
        return
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = source / name
        if src.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def run_mutation(tree: Path, mutation: Mutation, timeout: float) -> str:
    path = tree / mutation.path
    if not path.is_file():
        return "missing file"
    if mutation.tests not in _BASELINE:  # a failure must come from the mutation, not from the tree
        _BASELINE[mutation.tests] = _passes(tree, mutation.tests, timeout)
    if not _BASELINE[mutation.tests]:
        return "baseline fails"
    original = path.read_text()
    count = original.count(mutation.old)
    if count != 1:
        return f"does not apply ({count} matches)"
    path.write_text(original.replace(mutation.old, mutation.new))
    try:
        return "survived" if _passes(tree, mutation.tests, timeout) else "killed"
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    finally:
        path.write_text(original)


_BASELINE: dict[tuple[str, ...], bool] = {}


def _passes(tree: Path, tests: tuple[str, ...], timeout: float) -> bool:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "GANCOURSE_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    return proc.returncode == 0  # 1: a test failed; 2: collection failed, e.g. a mutation broke an import


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--only", default="", help="run the mutations whose name contains this text")
    parser.add_argument("--source", type=Path, default=ROOT, help="tree to copy (default: this repository)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per mutation's tests")
    args = parser.parse_args(argv)
    mutations = [m for name, ms in SETS.items() if args.set in (name, "all") for m in ms if args.only in m.name]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="gancourse-mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(args.source, tree)
        for mutation in mutations:
            start = time.perf_counter()
            result = run_mutation(tree, mutation, args.timeout)
            failures += not result.startswith("killed")
            print(f"{result:28s} {mutation.name:36s} {mutation.path:34s} {time.perf_counter() - start:6.0f}s",
                  flush=True)
    print(f"{len(mutations) - failures} of {len(mutations)} mutations killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
