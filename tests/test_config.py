import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gancourse.config import LOSSES, OPTIMIZERS, PRESETS, TrainConfig, preset


def test_presets_carry_the_papers_settings():
    wgan, gp, dcgan = preset("wgan"), preset("wgan-gp"), preset("dcgan")
    assert (wgan.optimizer, wgan.lr_d, wgan.clip, wgan.n_critic, wgan.batch_size) == ("rmsprop", 5e-5, 0.01, 5, 64)
    assert (gp.optimizer, gp.lr_d, gp.beta1, gp.beta2, gp.gp_lambda, gp.n_critic) == ("adam", 1e-4, 0.0, 0.9, 10.0, 5)
    assert (dcgan.lr_g, dcgan.beta1, dcgan.batch_size) == (2e-4, 0.5, 128)
    assert preset("wgan", steps=7).steps == 7


def test_round_trip_dict():
    cfg = TrainConfig(loss="wgan", clip=0.02, optimizer="rmsprop")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="bogus"):
        TrainConfig.from_dict({"bogus": 1})


@pytest.mark.parametrize("field, value, pattern", [
    ("loss", "lsgan", "'lsgan'.*gan, nsgan, wgan, wgan-gp"),
    ("optimizer", "sgd", "'sgd'.*adam, rmsprop"),
    ("lr_g", 0.0, "lr_g=0.0"),
    ("lr_d", -1e-3, "lr_d=-0.001"),
    ("lr_d", math.nan, "lr_d=nan"),
    ("n_critic", 0, "n_critic=0"),
    ("steps", 0, "steps=0"),
    ("batch_size", 2.5, "batch_size=2.5"),
    ("clip", -0.01, "clip=-0.01"),
    ("gp_lambda", -1.0, "gp_lambda=-1.0"),
    ("beta1", 1.0, "beta1=1.0"),
    ("device", "tpu", "'tpu'.*auto, cuda, mps, cpu"),
])
def test_bad_values_name_field_value_and_choices(field, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        TrainConfig(**{field: value})


def test_unknown_preset():
    with pytest.raises(ValueError, match="'began'.*" + ", ".join(PRESETS)):
        preset("began")


_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10))


@settings(max_examples=300, deadline=None)
@given(loss=st.one_of(st.sampled_from(LOSSES), st.text(max_size=8)),
       optimizer=st.one_of(st.sampled_from(OPTIMIZERS), st.text(max_size=8)),
       lr_g=_numbers, lr_d=_numbers, beta1=_numbers, n_critic=st.integers(-3, 10), clip=st.one_of(st.none(), _numbers),
       gp_lambda=_numbers, steps=st.integers(-5, 10), batch_size=st.integers(-5, 10))
def test_validation_accepts_exactly_the_valid_configs(loss, optimizer, lr_g, lr_d, beta1, n_critic, clip, gp_lambda,
                                                      steps, batch_size):
    valid = (loss in LOSSES and optimizer in OPTIMIZERS
             and all(math.isfinite(v) and v > 0 for v in (lr_g, lr_d))
             and 0 <= beta1 < 1 and n_critic >= 1 and steps >= 1 and batch_size >= 1
             and (clip is None or (math.isfinite(clip) and clip > 0))
             and math.isfinite(gp_lambda) and gp_lambda >= 0)
    kwargs = dict(loss=loss, optimizer=optimizer, lr_g=lr_g, lr_d=lr_d, beta1=beta1, n_critic=n_critic, clip=clip,
                  gp_lambda=gp_lambda, steps=steps, batch_size=batch_size)
    if valid:
        assert TrainConfig(**kwargs).loss == loss
    else:
        with pytest.raises(ValueError):
            TrainConfig(**kwargs)
