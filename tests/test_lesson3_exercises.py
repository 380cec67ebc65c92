"""Lesson 3 checkers: each accepts a correct answer and rejects plausible wrong ones with a useful message."""
from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import gancourse.exercises as exercises
from gancourse.exercises import lesson3
from gancourse.exercises.lesson3 import (
    check_conv_output_size,
    check_conv_parameters,
    check_conv_transpose_output_size,
    check_dcgan_discriminator,
    check_dcgan_generator,
    check_dcgan_init,
)
from gancourse.models import dcgan_init_


def test_checkers_are_reachable_from_the_package():
    assert exercises.check_conv_output_size is check_conv_output_size
    assert exercises.check_conv_transpose_output_size is check_conv_transpose_output_size
    assert exercises.check_conv_parameters is check_conv_parameters
    assert exercises.check_dcgan_init is check_dcgan_init
    assert exercises.check_dcgan_generator is check_dcgan_generator
    assert exercises.check_dcgan_discriminator is check_dcgan_discriminator


def test_reference_sizes_match_hand_computation():
    # DCGAN's 28x28 discriminator: 28 -> 14 -> 7 -> 1; its generator: 1 -> 7 -> 14 -> 28.
    assert [lesson3._reference_conv_output_size(n, 4, 2, 1) for n in (28, 14)] == [14, 7]
    assert lesson3._reference_conv_output_size(7, 7, 1, 0) == 1
    assert lesson3._reference_conv_transpose_output_size(1, 7, 1, 0) == 7
    assert [lesson3._reference_conv_transpose_output_size(n, 4, 2, 1) for n in (7, 14)] == [14, 28]
    assert lesson3._reference_conv_parameters(100, 64, 7, False) == 313_600


@pytest.mark.parametrize("check, reference", [
    (check_conv_output_size, lesson3._reference_conv_output_size),
    (check_conv_transpose_output_size, lesson3._reference_conv_transpose_output_size),
    (check_conv_parameters, lesson3._reference_conv_parameters),
    (check_dcgan_init, dcgan_init_),
])
def test_checkers_accept_the_reference(check, reference, capsys):
    check(reference)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda n, k, s, p: (n + 2 * p - k) // s, "+ 1"),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "integer division"),
    (lambda n, k, s, p: (n + p - k) // s + 1, None),
    (lambda n, k, s, p: (n - 1) * s - 2 * p + k, None),
])
def test_conv_output_size_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError) as err:
        check_conv_output_size(wrong)
    if hint:
        assert hint in str(err.value)


@pytest.mark.parametrize("wrong, hint", [
    (lambda n, k, s, p: (n + 2 * p - k) // s + 1, "ordinary convolution"),
    (lambda n, k, s, p: n * s - 2 * p + k, "(size - 1) * stride"),
    (lambda n, k, s, p: n * s, None),  # "stride 2 doubles the size" is right for k4 s2 p1 only
])
def test_conv_transpose_output_size_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError) as err:
        check_conv_transpose_output_size(wrong)
    if hint:
        assert hint in str(err.value)


@pytest.mark.parametrize("wrong, hint", [
    (lambda i, o, k, b: i * o * k * k, "one bias"),
    (lambda i, o, k, b: i * o * k + (o if b else 0), "square it"),
    (lambda i, o, k, b: i * o * k * k + (i if b else 0), "OUTPUT"),
])
def test_conv_parameters_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError) as err:
        check_conv_parameters(wrong)
    assert hint in str(err.value)


def _init(std=0.02, bn=True, linear=False, conv_bias_zero=True, guard_bias=True, returns=True):
    def fn(module):
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) or (linear and isinstance(m, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, std)
                if (m.bias is not None or not guard_bias) and conv_bias_zero:
                    nn.init.zeros_(m.bias)
            elif bn and isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
        return module if returns else None
    return fn


@pytest.mark.parametrize("wrong, hint", [
    (_init(std=0.2), "N(0, 0.02^2) (mean 0, std 0.02)"),
    (_init(std=0.02 ** 2), "std 0.02"),  # the variance passed where nn.init.normal_ wants the std
    (_init(bn=False), "BatchNorm2d"),
    (_init(linear=True), "Linear"),
    (_init(conv_bias_zero=False), "biases should be 0"),
    (lambda module: module, "N(0, 0.02^2)"),  # returns the net but leaves PyTorch's default init, not DCGAN's
    # nn.init.zeros_(m.bias) on a convolution built with bias=False (m.bias is None): explained, not a traceback
    (_init(guard_bias=False), r"bias=False\), has m.bias = None.*if m.bias is not None"),
    (_init(returns=False), r"returns None: the exercise asks you to return the module"),
    (lambda module: [_init()(module)], "return the module you were given"),
])
def test_dcgan_init_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError) as err:
        check_dcgan_init(wrong)
    assert re.search(hint, str(err.value)) or hint in str(err.value), str(err.value)


def test_dcgan_init_check_does_not_reseed_the_learners_random_stream():
    torch.manual_seed(123)
    expected = torch.randn(3)
    torch.manual_seed(123)
    check_dcgan_init(dcgan_init_)
    assert torch.equal(torch.randn(3), expected)


def _raise_not_implemented(*args):
    raise NotImplementedError


def _ellipsis_body(*args):
    ...


@pytest.mark.parametrize("check", [check_conv_output_size, check_conv_transpose_output_size, check_conv_parameters,
                                   check_dcgan_init, check_dcgan_generator, check_dcgan_discriminator])
@pytest.mark.parametrize("stub", [_raise_not_implemented, _ellipsis_body, lambda *args: ...])
def test_checkers_report_a_stub_as_not_done_without_raising(check, stub, capsys):
    check(stub)  # must not raise
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint:" in out
    assert "correct" not in out


def test_dcgan_init_accepts_the_package_version_which_returns_the_module(capsys):
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    assert dcgan_init_(net) is net
    check_dcgan_init(dcgan_init_)
    assert "DCGAN initialisation: correct" in capsys.readouterr().out


@pytest.mark.parametrize("check, wrong", [
    (check_conv_output_size, lambda n, k, s, p: (n + 2 * p - k) // s + 1 + undefined_name),  # noqa: F821
    (check_conv_parameters, lambda i, o, k, b: i * o * k ** 2 + (o if b else 0) + [][0]),
])
def test_an_error_inside_the_learners_function_is_named_not_a_traceback(check, wrong):
    with pytest.raises(AssertionError, match="your function raised (NameError|IndexError)"):
        check(wrong)
