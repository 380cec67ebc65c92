"""Checks for lesson 3 (DCGAN, Radford, Metz, Chintala 2015): convolution arithmetic and initialisation.

Each check compares the learner's function with PyTorch itself on hand-computable cases, so the
expected numbers are never typed in twice.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["check_conv_output_size", "check_conv_transpose_output_size", "check_conv_parameters", "check_dcgan_init"]

# (input size, kernel, stride, padding): DCGAN's own layers first, then awkward sizes that expose
# a missing floor or a missing "+ 1".
_CONV_CASES = [(28, 4, 2, 1), (14, 4, 2, 1), (7, 7, 1, 0), (32, 4, 2, 1), (5, 3, 2, 0), (10, 3, 3, 1), (6, 5, 1, 2),
                (28, 3, 2, 1)]
_TRANSPOSE_CASES = [(1, 7, 1, 0), (7, 4, 2, 1), (14, 4, 2, 1), (1, 4, 1, 0), (4, 3, 2, 1), (3, 5, 3, 0)]


def _as_int(value, what: str) -> int:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        raise AssertionError(f"{what}: return an int, got the float {value}; use integer division //")
    if not isinstance(value, int) or isinstance(value, bool):
        raise AssertionError(f"{what}: expected an int, got {type(value).__name__} {value!r}")
    return value


def check_conv_output_size(fn: Callable[[int, int, int, int], int]) -> None:
    """Check ``fn(size, kernel, stride, padding)`` = floor((size + 2 padding - kernel) / stride) + 1,
    the output height (or width) of ``nn.Conv2d`` (dilation 1; Dumoulin & Visin 2016, relationship 6).

    Example:
        >>> check_conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1)
        convolution output size: correct
    """
    for n, k, s, p in _CONV_CASES:
        expected = nn.Conv2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = _as_int(fn(n, k, s, p), f"size={n}, kernel={k}, stride={s}, padding={p}")
        if got != expected:
            hint = " (did you forget the + 1? the first window position counts too)" if got == expected - 1 else ""
            raise AssertionError(f"size={n}, kernel={k}, stride={s}, padding={p}: nn.Conv2d gives {expected}, "
                                 f"you gave {got}{hint}")
    print("convolution output size: correct")


def check_conv_transpose_output_size(fn: Callable[[int, int, int, int], int]) -> None:
    """Check ``fn(size, kernel, stride, padding)`` = (size - 1) stride - 2 padding + kernel, the output
    size of ``nn.ConvTranspose2d`` (output_padding 0, dilation 1): the input size of the
    ``nn.Conv2d`` with the same settings that maps back to ``size``.

    Example:
        >>> check_conv_transpose_output_size(lambda n, k, s, p: (n - 1) * s - 2 * p + k)
        transposed convolution output size: correct
    """
    for n, k, s, p in _TRANSPOSE_CASES:
        expected = nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = _as_int(fn(n, k, s, p), f"size={n}, kernel={k}, stride={s}, padding={p}")
        if got != expected:
            hint = ""
            if got == (n + 2 * p - k) // s + 1:
                hint = " (that is the formula of an ordinary convolution; a transposed one runs it backwards)"
            elif got == n * s - 2 * p + k:
                hint = " (n input pixels are n - 1 strides apart: use (size - 1) * stride)"
            raise AssertionError(f"size={n}, kernel={k}, stride={s}, padding={p}: nn.ConvTranspose2d gives "
                                 f"{expected}, you gave {got}{hint}")
    print("transposed convolution output size: correct")


def check_conv_parameters(fn: Callable[[int, int, int, bool], int]) -> None:
    """Check ``fn(in_channels, out_channels, kernel, bias)`` = in * out * kernel^2 (+ out if bias),
    the parameter count of a square ``nn.Conv2d`` or ``nn.ConvTranspose2d`` (groups 1).

    Example:
        >>> check_conv_parameters(lambda i, o, k, b: i * o * k * k + (o if b else 0))
        convolution parameter count: correct
    """
    cases = [(100, 64, 7, False), (64, 32, 4, False), (32, 1, 4, True), (1, 32, 4, True), (3, 5, 3, True)]
    for i, o, k, b in cases:
        expected = sum(p.numel() for p in nn.Conv2d(i, o, k, bias=b).parameters())
        got = _as_int(fn(i, o, k, b), f"in={i}, out={o}, kernel={k}, bias={b}")
        if got != expected:
            hint = ""
            if got == i * o * k * k and b:
                hint = " (with bias=True each output channel has one bias)"
            elif got == i * o * k + (o if b else 0):
                hint = " (the kernel is k x k: square it)"
            elif got == i * o * k * k + (i if b else 0):
                hint = " (there is one bias per OUTPUT channel)"
            raise AssertionError(f"in={i}, out={o}, kernel={k}, bias={b}: PyTorch counts {expected}, "
                                 f"you gave {got}{hint}")
    print("convolution parameter count: correct")


def check_dcgan_init(fn: Callable[[nn.Module], object]) -> None:
    """Check that ``fn(module)`` initialises in place as in DCGAN (Radford et al. 2015, Sec. 4):
    every (transposed) convolution's weights ~ N(0, 0.02) with zero bias; batch-norm scales
    ~ N(1, 0.02) and shifts 0; other layers untouched.

    Example:
        >>> from gancourse.models import dcgan_init_
        >>> check_dcgan_init(dcgan_init_)
        DCGAN initialisation: correct
    """
    with torch.random.fork_rng(devices=[]):  # the learner's global random stream is left as it was
        torch.manual_seed(0)
        _check_init_on_fresh_net(fn)
    print("DCGAN initialisation: correct")


def _check_init_on_fresh_net(fn: Callable[[nn.Module], object]) -> None:
    net = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                        nn.Conv2d(128, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                        nn.Linear(10, 10))
    with torch.no_grad():
        for m in (net[1], net[4]):  # non-default values, so "left at the default" is detectable
            m.bias.fill_(0.5)
    linear_before = net[6].weight.clone()
    fn(net)
    for index in (0, 3):
        conv = net[index]
        w = conv.weight.detach()
        name = f"layer {index} ({type(conv).__name__})"
        if abs(float(w.mean())) > 0.002 or abs(float(w.std()) - 0.02) > 0.001:
            raise AssertionError(f"{name}: weights should be N(0, 0.02): mean {float(w.mean()):.4f}, "
                                 f"std {float(w.std()):.4f}. Use nn.init.normal_(weight, 0.0, 0.02)")
        if conv.bias is not None and conv.bias.detach().abs().max() > 0:
            raise AssertionError(f"{name}: biases should be 0 (nn.init.zeros_)")
    for index in (1, 4):
        bn = net[index]
        scale = bn.weight.detach()
        if abs(float(scale.mean()) - 1) > 0.01 or abs(float(scale.std()) - 0.02) > 0.005:
            raise AssertionError(f"layer {index} (BatchNorm2d): scales (weight) should be N(1, 0.02): mean "
                                 f"{float(scale.mean()):.4f}, std {float(scale.std()):.4f}. Batch-norm layers need "
                                 "their own branch: isinstance(m, nn.BatchNorm2d)")
        if bn.bias.detach().abs().max() > 0:
            raise AssertionError(f"layer {index} (BatchNorm2d): shifts (bias) should be 0")
    if not torch.equal(net[6].weight, linear_before):
        raise AssertionError("the Linear layer changed: initialise only convolutions and batch norm "
                             "(loop over module.modules() and check isinstance)")


# Reference solutions used by the tests (the notebook shows them in collapsible cells).
def _reference_conv_output_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _reference_conv_transpose_output_size(n: int, k: int, s: int, p: int) -> int:
    return (n - 1) * s - 2 * p + k


def _reference_conv_parameters(i: int, o: int, k: int, bias: bool) -> int:
    return i * o * k * k + (o if bias else 0)
