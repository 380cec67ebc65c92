"""The branches a GPU takes in gancourse.train, run on the CPU by emulation (issue 13).

fp16 autocast + an enabled ``GradScaler("cpu")`` stands for a T4's fp16 path; monkeypatched CUDA
queries stand for the GPU generations; ``torch.compile`` runs with the aot_eager backend (dynamo and
AOTAutograd, where the double backward of the gradient penalty used to fail, without a C++ build);
a tensor subclass that refuses float64 stands for Apple's mps.
"""
from __future__ import annotations

import math

import pytest
import torch
from helpers import ring_trainer

from gancourse import losses
from gancourse.config import TrainConfig
from gancourse.data import MixtureSampler, ring_of_gaussians
from gancourse.device import autocast_dtype, canonical_device, pick_device
from gancourse.divergence import DIVERGENCE_BOUND
from gancourse.lipschitz import lipschitz_estimate, pair_slopes
from gancourse.metrics.images import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
    mean_confidence,
)
from gancourse.models import build_models
from gancourse.train import MAX_AMP_SKIPS_IN_A_ROW, Trainer, TrainingDiverged

# Compiled and eager training from the same seed, 4 steps: largest difference allowed in any weight
# and any recorded statistic. Measured on the CPU (2026-12-01): 0 for every setup with aot_eager (the
# same ATen kernels as eager); with inductor (fused C++ kernels, too slow to build here for a test)
# at most 4e-9 in a weight and 3e-8 in a statistic (nsgan, wgan-gp, unrolled).
COMPILE_ATOL = 1e-6
COMPILE_RTOL = 1e-5


def _trainer(seed: int = 0, **overrides) -> Trainer:
    return ring_trainer(**{"steps": 4, "z_dim": 4, "batch_size": 16, "log_every": 1, "seed": seed, **overrides})


def _weights(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in (*trainer.G.parameters(), *trainer.D.parameters())]


def _fp16(trainer: Trainer, **scaler_options) -> Trainer:
    trainer._set_precision(torch.float16, **scaler_options)  # the branch a GPU without bf16 takes
    return trainer


# ---------------------------------------------------------------------------- 1. torch.compile, every loss

LOSS_SETUPS = {
    "gan": {"loss": "gan"},
    "nsgan": {"loss": "nsgan"},
    "wgan": {"loss": "wgan", "optimizer": "rmsprop", "lr_g": 5e-4, "lr_d": 5e-4, "clip": 0.05, "n_critic": 2},
    "wgan-gp": {"loss": "wgan-gp", "n_critic": 2, "beta1": 0.0, "beta2": 0.9},
    "unrolled": {"loss": "nsgan", "unroll_steps": 2},
    "unrolled-wgan-gp": {"loss": "wgan-gp", "unroll_steps": 1, "beta1": 0.0, "beta2": 0.9},
}


@pytest.fixture
def counting_aot_eager(monkeypatch):
    """Compile with aot_eager and count the graphs it compiles (so a silent fallback to eager fails)."""
    from torch._dynamo.backends.registry import lookup_backend

    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return lookup_backend("aot_eager")(gm, example_inputs)

    torch._dynamo.reset()
    monkeypatch.setattr(Trainer, "compile_backend", staticmethod(backend))
    yield graphs
    torch._dynamo.reset()


@pytest.mark.parametrize("name", list(LOSS_SETUPS))
def test_compiled_training_matches_eager_for_every_loss(name, counting_aot_eager):
    eager = _trainer(**LOSS_SETUPS[name])
    eager.train(progress=False)
    compiled = _trainer(compile=True, **LOSS_SETUPS[name])
    compiled.train(progress=False)
    assert counting_aot_eager, "torch.compile compiled no graph: the test ran eager twice"
    assert compiled.step == eager.step == 4
    for a, b in zip(_weights(compiled), _weights(eager)):
        torch.testing.assert_close(a, b, atol=COMPILE_ATOL, rtol=COMPILE_RTOL)
    for key, values in eager.history.items():
        torch.testing.assert_close(torch.tensor(compiled.history[key]), torch.tensor(values),
                                   atol=COMPILE_ATOL, rtol=COMPILE_RTOL, equal_nan=True, msg=key)
    # The trainers did train: 4 steps moved the weights away from the shared start.
    start = _weights(_trainer(**LOSS_SETUPS[name]))
    assert max(float((a - b).abs().max()) for a, b in zip(_weights(eager), start)) > 1e-4


# ---------------------------------------------------------------------------- 2. fp16 + GradScaler

def test_fp16_scaler_skips_overflowing_steps_without_divergence_and_records_them():
    trainer = _fp16(_trainer(steps=40, n_critic=2), init_scale=2.0**24, growth_interval=10_000)
    start = _weights(trainer)
    trainer.train_step()
    trainer.flush()
    # At scale 2**24 every scaled gradient overflows fp16: all three updates of step 1 are skipped.
    assert trainer.history["amp_skips"] == [3.0]
    assert math.isnan(trainer.history["grad_norm_d"][0]) and math.isnan(trainer.history["grad_norm_g"][0])
    assert all(torch.equal(a, b) for a, b in zip(_weights(trainer), start))
    history = trainer.train(progress=False)
    skips = history["amp_skips"]
    assert len(history) == 40 and skips[-1] == 0 and sum(skips) >= 3
    # A NaN gradient norm appears exactly on the steps with a skip, and only there.
    for key in ("grad_norm_d", "grad_norm_g"):
        assert all(s > 0 for s, v in zip(skips, history[key]) if math.isnan(v))
    assert all(math.isfinite(v) for k in ("loss_d", "loss_g", "d_real", "d_fake") for v in history[k])
    # Every skip halved its own player's scale, once (one update per optimiser step, no growth here).
    halvings = sum(math.log2(2.0**24 / s.get_scale()) for s in (trainer.scaler_d, trainer.scaler_g))
    assert halvings == sum(skips)
    assert trainer.scaler_d.get_scale() < 2.0**24 and trainer.scaler_g.get_scale() < 2.0**24
    assert any(not torch.equal(a, b) for a, b in zip(_weights(trainer), start))


def test_fp16_scaler_updates_once_per_optimiser_step_one_scaler_per_player(monkeypatch):
    trainer = _fp16(_trainer(steps=3, n_critic=3))
    calls = []
    for name in ("scaler_d", "scaler_g"):
        scaler = getattr(trainer, name)
        monkeypatch.setattr(scaler, "update",
                            lambda *a, _f=scaler.update, _n=name, **k: (calls.append(_n), _f(*a, **k)))
    trainer.train(progress=False)
    assert calls == (["scaler_d"] * 3 + ["scaler_g"]) * 3


def test_fp16_run_that_really_diverges_still_raises():
    trainer = _fp16(_trainer(steps=200, lr_d=1e3, lr_g=1e3, optimizer="rmsprop", log_every=5))
    with pytest.raises(TrainingDiverged) as info:
        trainer.train(progress=False)
    # NaN/Inf in a loss, or (divergence.DIVERGENCE_BOUND) a finite loss or gradient norm far beyond a learning run's:
    # never the NaN gradient norm of an update the scaler skipped.
    value, key = info.value.value, info.value.key
    assert (not math.isfinite(value) and not key.startswith("grad_norm")) or abs(value) > DIVERGENCE_BOUND
    assert len(trainer.history) < 200


def test_fp16_gradients_that_overflow_at_every_scale_raise_after_the_limit():
    trainer = _fp16(_trainer(steps=MAX_AMP_SKIPS_IN_A_ROW + 20, log_every=7))
    first = next(trainer.D.parameters())
    first.register_hook(lambda grad: grad * math.inf)  # D's gradient is infinite whatever the scale
    with pytest.raises(TrainingDiverged, match="skipped an update in 51 steps in a row") as info:
        trainer.train(progress=False)
    assert info.value.step == MAX_AMP_SKIPS_IN_A_ROW + 1 and info.value.key == "grad_norm_d"
    assert trainer.history["amp_skips"] == [1.0] * MAX_AMP_SKIPS_IN_A_ROW


def test_fp16_scaler_states_are_checkpointed_per_player(tmp_path):
    trainer = _fp16(_trainer(steps=6), init_scale=2.0**24)
    trainer.train(progress=False)
    path = trainer.save(tmp_path / "fp16.pt")
    resumed = _fp16(_trainer(steps=6)).load(path)
    assert resumed.scaler_d.get_scale() == trainer.scaler_d.get_scale() < 2.0**24
    assert resumed.scaler_g.get_scale() == trainer.scaler_g.get_scale()
    # A checkpoint from before the scaler per player has one "scaler": both players continue from it.
    state = torch.load(path, weights_only=True)
    state["scaler"] = state.pop("scaler_d")
    del state["scaler_g"]
    torch.save(state, tmp_path / "old.pt")
    old = _fp16(_trainer(steps=6)).load(tmp_path / "old.pt")
    assert old.scaler_d.get_scale() == old.scaler_g.get_scale() == trainer.scaler_d.get_scale()
    # and a checkpoint of a float32 run (empty scaler state) loads into an fp16 trainer with fresh scalers
    fresh = _fp16(_trainer()).load(_trainer(steps=2).save(tmp_path / "fp32.pt"))
    assert fresh.scaler_d.get_scale() == fresh.scaler_g.get_scale() == 65536.0


# ---------------------------------------------------------------------------- 3. bf16 or fp16 by capability

@pytest.mark.parametrize("capability, expected", [((7, 5), torch.float16), ((8, 0), torch.bfloat16),
                                                  ((9, 0), torch.bfloat16), ((6, 1), torch.float16)])
def test_autocast_dtype_follows_compute_capability_not_is_bf16_supported(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what a T4 answers
    assert autocast_dtype("cuda") == autocast_dtype("cuda:0") == expected
    assert autocast_dtype("cpu") is None and autocast_dtype("mps") is None


@pytest.mark.parametrize("amp, dtype", [(True, torch.float16), (False, None)])
def test_trainer_takes_the_dtype_autocast_dtype_chooses(monkeypatch, amp, dtype):
    import gancourse.train as train

    monkeypatch.setattr(train, "autocast_dtype", lambda device: torch.float16)  # as for a T4
    trainer = _trainer(amp=amp)
    assert trainer.amp_dtype is dtype
    assert trainer.scaler_d.is_enabled() is trainer.scaler_g.is_enabled() is (dtype is torch.float16)
    trainer.train(progress=False)
    assert len(trainer.history) == 4


# ---------------------------------------------------------------------------- 4. one name per device

@pytest.mark.parametrize("name, expected", [("cuda", "cuda:0"), ("cuda:0", "cuda:0"), ("cuda:1", "cuda:1"),
                                            ("mps", "mps:0"), ("mps:0", "mps:0"), ("cpu", "cpu")])
def test_device_names_round_trip_to_one_canonical_form(name, expected):
    device = canonical_device(name)
    assert str(device) == expected
    assert canonical_device(str(device)) == canonical_device(device) == device
    assert canonical_device(torch.device(name)) == device
    assert TrainConfig(device=str(device)).device == expected  # the canonical name is a valid config value


def test_cuda_without_index_means_the_current_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert canonical_device("cuda") == torch.device("cuda:1") != canonical_device("cuda:0")
    assert pick_device("cuda") == pick_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="'cuda:2'.*2 CUDA device.*cuda:0 to cuda:1"):
        pick_device("cuda:2")
    with pytest.raises(ValueError, match="'cuda:x'.*valid choices"):
        pick_device("cuda:x")


class _IndexedSampler:
    """A sampler from elsewhere that names its device with an index, as ``cuda:0`` against ``cuda``."""

    def __init__(self, inner: MixtureSampler, device: torch.device) -> None:
        self.inner, self.device = inner, device
        self.sample, self.state_dict, self.load_state_dict = inner.sample, inner.state_dict, inner.load_state_dict


def test_cpu_matches_what_a_tensor_reports_and_a_sampler_with_an_index_is_accepted():
    assert canonical_device("cpu") == torch.zeros(1).device == canonical_device(torch.device("cpu", 0))
    assert MixtureSampler(ring_of_gaussians(), 8, device=torch.device("cpu", 0)).device == torch.device("cpu")
    cfg = TrainConfig(steps=2, z_dim=4, batch_size=8, device="cpu")
    sampler = _IndexedSampler(MixtureSampler(ring_of_gaussians(), 8), torch.device("cpu", 0))
    G, D = build_models("mlp", (2,), z_dim=4, width=8)
    assert len(Trainer(G, D, sampler, cfg).train(progress=False)) == 2
    with pytest.raises(ValueError, match="sampler is on meta but training runs on cpu"):
        Trainer(G, D, _IndexedSampler(sampler.inner, torch.device("meta")), cfg)


# ---------------------------------------------------------------------------- 5. no float64 on the device

class NoFloat64(torch.Tensor):
    """Stands for a tensor on Apple's mps: float64 is refused there; ``.cpu()`` gives a plain CPU tensor."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.cpu:
            with torch._C.DisableTorchFunctionSubclass():
                return args[0].as_subclass(torch.Tensor).clone()
        out = super().__torch_function__(func, types, args, kwargs)
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(tensor, cls) and tensor.dtype == torch.float64:
                raise TypeError("Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't "
                                "support float64. Please use float32 instead.")
        return out


def _on_mps(t: torch.Tensor) -> NoFloat64:
    return t.as_subclass(NoFloat64)


def test_the_stand_in_for_mps_refuses_float64():
    with pytest.raises(TypeError, match="float64"):
        _on_mps(torch.ones(2)).double()
    assert _on_mps(torch.ones(2)).cpu().double().dtype == torch.float64


def test_image_metrics_compute_float64_on_the_cpu():
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(200, 3, generator=gen), torch.randn(200, 3, generator=gen) + 0.5
    mu, sigma = feature_statistics(_on_mps(real))
    assert mu.dtype == torch.float64 and type(mu) is torch.Tensor
    torch.testing.assert_close(mu, real.double().mean(0))
    expected = frechet_distance_from_features(real, fake)
    assert frechet_distance_from_features(_on_mps(real), _on_mps(fake)) == pytest.approx(expected, rel=1e-12)
    args = [_on_mps(t.float()) for t in (*feature_statistics(real), *feature_statistics(fake))]
    assert frechet_distance(*args) == pytest.approx(expected, rel=1e-6)
    probs = torch.tensor([[0.9, 0.1], [0.4, 0.6]])
    assert mean_confidence(_on_mps(probs)) == pytest.approx(0.75)


def test_lipschitz_slopes_are_float64_on_the_cpu():
    x, y = torch.zeros(3, 2), torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    critic = lambda v: 2 * v[:, 0]  # noqa: E731  slope 2 along x: |f(x) - f(y)| / ||x - y|| = 2|dx| / ||d||
    slopes = pair_slopes(critic, _on_mps(x), _on_mps(y))
    assert slopes.dtype == torch.float64 and type(slopes) is torch.Tensor
    torch.testing.assert_close(slopes, torch.tensor([1.2, 2.0, 0.0], dtype=torch.float64))
    assert lipschitz_estimate(critic, _on_mps(x), _on_mps(y)) == pytest.approx(2.0)


# ---------------------------------------------------------------------------- 6. penalty precision, unrolled

def test_penalty_and_inner_gradients_run_in_float32_outside_autocast_in_d_step_and_unroll(monkeypatch):
    penalties, grads = [], []
    real_penalty, real_grad = losses.gradient_penalty, torch.autograd.grad

    def penalty(critic, real, fake, *args, **kwargs):
        penalties.append((torch.is_autocast_enabled("cpu"), real.dtype, fake.dtype))
        return real_penalty(critic, real, fake, *args, **kwargs)

    def grad(*args, **kwargs):
        grads.append(torch.is_autocast_enabled("cpu"))
        return real_grad(*args, **kwargs)

    trainer = _fp16(_trainer(steps=2, loss="wgan-gp", unroll_steps=2, beta1=0.0, beta2=0.9))
    monkeypatch.setattr(losses, "gradient_penalty", penalty)
    monkeypatch.setattr(torch.autograd, "grad", grad)
    trainer.train(progress=False)
    # Per step: 1 penalty in the D step, 2 in the unroll; autograd.grad: 1 per penalty + 2 unroll steps.
    assert len(penalties) == 2 * 3 and len(grads) == 2 * (3 + 2)
    assert set(penalties) == {(False, torch.float32, torch.float32)}
    assert set(grads) == {False}
    assert math.isfinite(trainer.history.last("gp"))


def test_unrolled_forward_passes_do_run_under_fp16_autocast(monkeypatch):
    # The other half of the consistency: D's forward passes in the unroll are in half precision, as in the D step.
    trainer = _fp16(_trainer(steps=1, unroll_steps=2))
    dtypes = []
    trainer.D.register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    trainer.train(progress=False)
    # D step: 2 forwards; unroll: 2 per inner step; generator step: 1 through the unrolled weights.
    assert dtypes == [torch.float16] * (2 + 2 * 2 + 1)
