"""Checks for lesson 3 (DCGAN, Radford, Metz, Chintala 2015): convolution arithmetic, initialisation,
and the two networks themselves.

Each check compares the learner's function with PyTorch itself (or with the package's own DCGAN) on
hand-computable cases, so the expected numbers are never typed in twice. A function that is still
its stub (raises ``NotImplementedError`` or returns ``None``/``...``) gets "not done yet" and a hint,
printed, not raised; a wrong answer raises ``AssertionError`` naming what is wrong.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules import activation as _activation

from ..models import DCGANDiscriminator, DCGANGenerator
from ._stub import explain_error

__all__ = ["check_conv_output_size", "check_conv_transpose_output_size", "check_conv_parameters", "check_dcgan_init",
           "check_dcgan_generator", "check_dcgan_discriminator"]

# (input size, kernel, stride, padding): DCGAN's own layers first, then awkward sizes that expose
# a missing floor or a missing "+ 1".
_CONV_CASES = [(28, 4, 2, 1), (14, 4, 2, 1), (7, 7, 1, 0), (32, 4, 2, 1), (5, 3, 2, 0), (10, 3, 3, 1), (6, 5, 1, 2),
                (28, 3, 2, 1)]
_TRANSPOSE_CASES = [(1, 7, 1, 0), (7, 4, 2, 1), (14, 4, 2, 1), (1, 4, 1, 0), (4, 3, 2, 1), (3, 5, 3, 0)]


class _NotDone(Exception):
    """The learner's function is still its stub; carries the hint to print."""


def _call(fn: Callable, args: tuple, hint: str):
    """``fn(*args)``, or ``_NotDone(hint)`` if ``fn`` is still a stub (NotImplementedError, None, ...)."""
    try:
        value = fn(*args)
    except NotImplementedError:
        raise _NotDone(hint) from None
    except Exception as err:  # the learner's bug, named in one line instead of a traceback through the checker
        raise AssertionError(explain_error(err)) from None
    if value is None or value is Ellipsis:
        raise _NotDone(f"your function returned {value!r}; {hint}")
    return value


def _report_not_done(what: str, err: _NotDone) -> None:
    print(f"{what}: not done yet. Hint: {err}")


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
    what = "convolution output size"
    hint = ("pad the input to size + 2 * padding pixels and count the positions of a kernel-wide window "
            "that moves stride pixels at a time (the first position counts too)")
    try:
        for n, k, s, p in _CONV_CASES:
            expected = nn.Conv2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
            got = _as_int(_call(fn, (n, k, s, p), hint), f"size={n}, kernel={k}, stride={s}, padding={p}")
            if got != expected:
                extra = " (did you forget the + 1? the first window position counts too)" if got == expected - 1 else ""
                raise AssertionError(f"size={n}, kernel={k}, stride={s}, padding={p}: nn.Conv2d gives {expected}, "
                                     f"you gave {got}{extra}")
    except _NotDone as err:
        return _report_not_done(what, err)
    print(f"{what}: correct")


def check_conv_transpose_output_size(fn: Callable[[int, int, int, int], int]) -> None:
    """Check ``fn(size, kernel, stride, padding)`` = (size - 1) stride - 2 padding + kernel, the output
    size of ``nn.ConvTranspose2d`` (output_padding 0, dilation 1): the input size of the
    ``nn.Conv2d`` with the same settings that maps back to ``size``.

    Example:
        >>> check_conv_transpose_output_size(lambda n, k, s, p: (n - 1) * s - 2 * p + k)
        transposed convolution output size: correct
    """
    what = "transposed convolution output size"
    hint = ("each of the size input pixels stamps a kernel-wide copy of the kernel, stride pixels after the previous "
            "one; then padding pixels are cropped from each side")
    try:
        for n, k, s, p in _TRANSPOSE_CASES:
            expected = nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
            got = _as_int(_call(fn, (n, k, s, p), hint), f"size={n}, kernel={k}, stride={s}, padding={p}")
            if got != expected:
                extra = ""
                if got == (n + 2 * p - k) // s + 1:
                    extra = " (that is the formula of an ordinary convolution; a transposed one runs it backwards)"
                elif got == n * s - 2 * p + k:
                    extra = " (n input pixels are n - 1 strides apart: use (size - 1) * stride)"
                raise AssertionError(f"size={n}, kernel={k}, stride={s}, padding={p}: nn.ConvTranspose2d gives "
                                     f"{expected}, you gave {got}{extra}")
    except _NotDone as err:
        return _report_not_done(what, err)
    print(f"{what}: correct")


def check_conv_parameters(fn: Callable[[int, int, int, bool], int]) -> None:
    """Check ``fn(in_channels, out_channels, kernel, bias)`` = in * out * kernel^2 (+ out if bias),
    the parameter count of a square ``nn.Conv2d`` or ``nn.ConvTranspose2d`` (groups 1).

    Example:
        >>> check_conv_parameters(lambda i, o, k, b: i * o * k * k + (o if b else 0))
        convolution parameter count: correct
    """
    what = "convolution parameter count"
    hint = ("one kernel x kernel grid of weights per (input channel, output channel) pair, plus one bias per "
            "output channel")
    cases = [(100, 64, 7, False), (64, 32, 4, False), (32, 1, 4, True), (1, 32, 4, True), (3, 5, 3, True)]
    try:
        for i, o, k, b in cases:
            expected = sum(p.numel() for p in nn.Conv2d(i, o, k, bias=b).parameters())
            got = _as_int(_call(fn, (i, o, k, b), hint), f"in={i}, out={o}, kernel={k}, bias={b}")
            if got != expected:
                extra = ""
                if got == i * o * k * k and b:
                    extra = " (with bias=True each output channel has one bias)"
                elif got == i * o * k + (o if b else 0):
                    extra = " (the kernel is k x k: square it)"
                elif got == i * o * k * k + (i if b else 0):
                    extra = " (there is one bias per OUTPUT channel)"
                raise AssertionError(f"in={i}, out={o}, kernel={k}, bias={b}: PyTorch counts {expected}, "
                                     f"you gave {got}{extra}")
    except _NotDone as err:
        return _report_not_done(what, err)
    print(f"{what}: correct")


def check_dcgan_init(fn: Callable[[nn.Module], object]) -> None:
    """Check that ``fn(module)`` initialises in place as in DCGAN (Radford et al. 2015, Sec. 4) and returns
    the module: every (transposed) convolution's weights ~ N(0, 0.02^2) (std 0.02) with zero bias where it
    has one (the test network, like DCGAN, has convolutions built with ``bias=False``); batch-norm scales
    ~ N(1, 0.02^2) and shifts 0; other layers untouched.

    Example:
        >>> from gancourse.models import dcgan_init_
        >>> check_dcgan_init(dcgan_init_)
        DCGAN initialisation: correct
    """
    what = "DCGAN initialisation"
    with torch.random.fork_rng(devices=[]):  # the learner's global random stream is left as it was
        torch.manual_seed(0)
        try:
            _check_init_on_fresh_net(fn)
        except _NotDone as err:
            return _report_not_done(what, err)
    print(f"{what}: correct")


def _check_init_on_fresh_net(fn: Callable[[nn.Module], object]) -> None:
    # Layer 0 has a bias, layer 3 is built with bias=False as DCGAN's hidden convolutions are (m.bias is None).
    net = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                        nn.Conv2d(128, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                        nn.Linear(10, 10))
    with torch.no_grad():
        for m in (net[1], net[4]):  # non-default values, so "left at the default" is detectable
            m.bias.fill_(0.5)
    before = [p.detach().clone() for p in net.parameters()]
    hint = ("visit every layer (nn.Module.modules walks them all) and branch on its type with isinstance; the "
            "functions of nn.init change a tensor in place")
    try:
        returned = fn(net)
    except NotImplementedError:
        raise _NotDone(hint) from None
    except AttributeError as err:
        if "NoneType" not in str(err):
            raise AssertionError(explain_error(err)) from None
        raise AssertionError(f"your function raised AttributeError ({err}) on a layer without a bias: layer 3, "
                             "Conv2d(128 -> 128, bias=False), has m.bias = None, as DCGAN's convolutions before a "
                             "batch norm do. Zero a bias only where there is one: if m.bias is not None") from None
    except Exception as err:
        raise AssertionError(explain_error(err)) from None
    unchanged = all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    if unchanged and (returned is None or returned is Ellipsis):
        raise _NotDone(f"your function changed no weight (every layer still has PyTorch's default init); {hint}")
    for index in (0, 3):
        conv = net[index]
        w = conv.weight.detach()
        name = f"layer {index} ({type(conv).__name__})"
        if abs(float(w.mean())) > 0.002 or abs(float(w.std()) - 0.02) > 0.001:
            raise AssertionError(f"{name}: weights should be N(0, 0.02^2) (mean 0, std 0.02): mean "
                                 f"{float(w.mean()):.4f}, std {float(w.std()):.4f}. nn.init.normal_ takes the mean "
                                 "and the standard deviation")
        if conv.bias is not None and conv.bias.detach().abs().max() > 0:
            raise AssertionError(f"{name}: biases should be 0 (nn.init.zeros_)")
    for index in (1, 4):
        bn = net[index]
        scale = bn.weight.detach()
        if abs(float(scale.mean()) - 1) > 0.01 or abs(float(scale.std()) - 0.02) > 0.005:
            raise AssertionError(f"layer {index} (BatchNorm2d): scales (weight) should be N(1, 0.02^2): mean "
                                 f"{float(scale.mean()):.4f}, std {float(scale.std()):.4f}. Batch-norm layers need "
                                 "their own branch: isinstance(m, nn.BatchNorm2d)")
        if bn.bias.detach().abs().max() > 0:
            raise AssertionError(f"layer {index} (BatchNorm2d): shifts (bias) should be 0")
    if not torch.equal(net[6].weight, before[-2]):
        raise AssertionError("the Linear layer changed: initialise only convolutions and batch norm "
                             "(loop over module.modules() and check isinstance)")
    if returned is None:
        raise AssertionError("the layers are initialised, but your function returns None: the exercise asks you to "
                             "return the module (return module), so that net = dcgan_init(net) works")
    if returned is not net:
        raise AssertionError(f"return the module you were given, initialised in place; yours returns "
                             f"{type(returned).__name__}")


# --- building the networks ---------------------------------------------------------------------
# The learner's network is traced, not parsed: forward hooks on every leaf module record the calls of
# one real forward pass in order, so a network written as nn.Sequential or as a class with its own
# forward() is judged the same way. The layer plan is the package's DCGAN for 28x28 (gancourse.models.dcgan).

_POOLING = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
            nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._LPPoolNd)
_OTHER_NORMS = (nn.modules.instancenorm._InstanceNorm, nn.GroupNorm, nn.LayerNorm, nn.BatchNorm1d)
_CONVS = (nn.Conv2d, nn.ConvTranspose2d)
# (z_dim, width): the notebook's setting and a small one, so that a hard-coded width is caught.
_BUILD_CASES = [(100, 32), (16, 8)]


@dataclass
class _Call:
    index: int
    module: nn.Module
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"layer {self.index} {_describe(self.module)}"


def _describe(m: nn.Module) -> str:
    if isinstance(m, _CONVS):
        bias = "" if m.bias is not None else ", bias=False"
        return (f"{type(m).__name__}({m.in_channels} -> {m.out_channels}, k{m.kernel_size[0]}, s{m.stride[0]}, "
                f"p{m.padding[0]}{bias})")
    if isinstance(m, nn.LeakyReLU):
        return f"LeakyReLU({m.negative_slope:g})"
    return type(m).__name__


def _shape(s: tuple[int, ...]) -> str:
    return " x ".join(str(d) for d in s)


def _trace(net: nn.Module, x: torch.Tensor, who: str) -> tuple[torch.Tensor, list[_Call]]:
    calls: list[_Call] = []
    handles = []
    for module in net.modules():
        if next(module.children(), None) is not None:
            continue  # containers: their leaves are recorded instead

        def hook(mod, inputs, output):
            in_shape = tuple(inputs[0].shape[1:]) if inputs and isinstance(inputs[0], torch.Tensor) else ()
            out_shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else ()
            calls.append(_Call(len(calls), mod, in_shape, out_shape))

        handles.append(module.register_forward_hook(hook))
    was_training = net.training
    net.eval()  # batch norm uses its running statistics, so nothing the checker does changes them
    try:
        with torch.no_grad():
            out = net(x)
    except Exception as err:  # the learner's own bug: say where in the network it happened
        done = "; ".join(f"{c} -> {_shape(c.out_shape)}" for c in calls[-3:]) or "no layer ran"
        raise AssertionError(f"{who} failed on an input of shape {tuple(x.shape)}: {type(err).__name__}: {err}. "
                             f"Last layers that ran: {done}") from None
    finally:
        net.train(was_training)
        for handle in handles:
            handle.remove()
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{who} should return a tensor, got {type(out).__name__}")
    return out, calls


def _build(factory: Callable, args: tuple, hint: str, who: str) -> nn.Module:
    net = _call(factory, args, hint)
    if not isinstance(net, nn.Module):
        raise AssertionError(f"{who}: return an nn.Module (e.g. an nn.Sequential), got {type(net).__name__}")
    return net


def _check_common(calls: list[_Call], who: str) -> list[_Call]:
    """Pooling, upsampling layers and other norms are not DCGAN; returns the convolution calls."""
    for c in calls:
        if isinstance(c.module, _POOLING):
            raise AssertionError(f"{who}, {c}: DCGAN uses no pooling; a stride-2 convolution "
                                 "(Conv2d k4 s2 p1) halves the size and learns how (guideline 1)")
        if isinstance(c.module, nn.Upsample):
            raise AssertionError(f"{who}, {c}: DCGAN upsamples with ConvTranspose2d(k4, s2, p1), which learns "
                                 "its upsampling, not with a fixed nn.Upsample (guideline 1)")
        if isinstance(c.module, nn.Linear):
            raise AssertionError(f"{who}, {c}: DCGAN has no fully connected layers; here the 'project and reshape' "
                                 "and the final logit are convolutions with a 7 x 7 kernel (guideline 3)")
        if isinstance(c.module, _OTHER_NORMS):
            raise AssertionError(f"{who}, {c}: the DCGAN normalisation is nn.BatchNorm2d")
    convs = [c for c in calls if isinstance(c.module, _CONVS)]
    if len(convs) != 3:
        raise AssertionError(f"{who} has {len(convs)} convolution layers; the 28 x 28 DCGAN has 3 "
                             f"(found: {', '.join(str(c) for c in convs) or 'none'})")
    return convs


def _after(calls: list[_Call], conv: _Call) -> nn.Module | None:
    """The layer called right after ``conv``, or None if it was the last one."""
    return calls[conv.index + 1].module if conv.index + 1 < len(calls) else None


def _check_batch_norm(calls: list[_Call], convs: list[_Call], wanted: list[bool], roles: list[str], who: str) -> None:
    for conv, want, role in zip(convs, wanted, roles):
        has = isinstance(_after(calls, conv), nn.BatchNorm2d)
        if has and not want:
            why = ("batch norm on G's output layer made samples oscillate (Sec. 3); the Tanh follows the conv directly"
                   if role == "output layer" and who == "generator" else
                   "batch norm on D's input layer made training unstable (Sec. 3)" if role == "input layer" else
                   "it would normalise the single logit of every image")
            raise AssertionError(f"{who}, {conv} ({role}) is followed by BatchNorm2d: no batch norm there; {why}")
        if want and not has:
            raise AssertionError(f"{who}, {conv} ({role}) needs nn.BatchNorm2d({conv.module.out_channels}) right "
                                 "after it, before the activation (guideline 2)")
    norms = [c for c in calls if isinstance(c.module, nn.BatchNorm2d)]
    if len(norms) != sum(wanted):
        raise AssertionError(f"{who} has {len(norms)} BatchNorm2d layers; it needs exactly {sum(wanted)}, "
                             "one after each hidden convolution")


def _activations(calls: list[_Call]) -> list[_Call]:
    return [c for c in calls if type(c.module).__module__ == _activation.__name__ and not isinstance(c.module, (
        nn.MultiheadAttention, nn.Softmax, nn.Softmin, nn.LogSoftmax))]


def _check_parameters(net: nn.Module, reference: nn.Module, convs: list[_Call], who: str, setting: str) -> int:
    got = sum(p.numel() for p in net.parameters() if p.requires_grad)
    expected = sum(p.numel() for p in reference.parameters() if p.requires_grad)
    if got == expected:
        return got
    ref_convs = [m for m in reference.modules() if isinstance(m, _CONVS)]
    for c, ref in zip(convs, ref_convs):
        m = c.module
        if (m.in_channels, m.out_channels) != (ref.in_channels, ref.out_channels):
            raise AssertionError(f"{who} ({setting}), {c}: the package's layer maps {ref.in_channels} -> "
                                 f"{ref.out_channels} channels; you have {m.in_channels} -> {m.out_channels}")
        if m.kernel_size != ref.kernel_size:
            raise AssertionError(f"{who} ({setting}), {c}: kernel {m.kernel_size[0]}, the package's has "
                                 f"{ref.kernel_size[0]}")
        if (m.bias is None) != (ref.bias is None):
            why = ("a batch norm follows it and subtracts the mean, which would cancel a bias: bias=False"
                   if ref.bias is None else "no batch norm follows it, so it keeps its bias (bias=True)")
            raise AssertionError(f"{who} ({setting}), {c}: {why}")
    raise AssertionError(f"{who} ({setting}) has {got:,} parameters, the package's has {expected:,}")


def check_dcgan_generator(make_generator: Callable[[int, int], nn.Module]) -> None:
    """Check ``make_generator(z_dim, width)``: a DCGAN generator for 28 x 28 grey images that maps
    z of shape (N, z_dim, 1, 1) to (N, 1, 28, 28), built by the paper's guidelines (Radford et al.
    2015, Sec. 3): transposed convolutions 1 -> 7 -> 14 -> 28 with 2*width, width, 1 channels, no
    pooling, batch norm after every layer but the output, ReLU, Tanh output; and as many parameters as
    ``gancourse.models.DCGANGenerator`` with the same z_dim and width.

    Example:
        >>> from gancourse.models import DCGANGenerator
        >>> check_dcgan_generator(lambda z_dim, width: DCGANGenerator(z_dim, 1, 28, width))
        generator (z_dim 100, width 32): 1 -> 7 -> 14 -> 28, BN + ReLU, Tanh output, 347,073 parameters: correct
    """
    with torch.random.fork_rng(devices=[]):  # the learner's global random stream is left as it was
        torch.manual_seed(0)
        _check_generator(make_generator)


def _check_generator(make_generator: Callable[[int, int], nn.Module]) -> None:
    what = "generator"
    hint = ("read section 2's layer table of G from top to bottom: three transposed convolutions, 1 -> 7 -> 14 -> 28 "
            "pixels; Exercise 2 gives each one's kernel, stride and padding")
    try:
        for z_dim, width in _BUILD_CASES:
            setting = f"z_dim={z_dim}, width={width}"
            G = _build(make_generator, (z_dim, width), hint, what)
            out, calls = _trace(G, torch.randn(4, z_dim, 1, 1), f"the generator ({setting})")
            convs = _check_common(calls, what)
            if tuple(out.shape) != (4, 1, 28, 28):
                plan = ", ".join(f"{_shape(c.in_shape)} -> {_shape(c.out_shape)}" for c in convs)
                raise AssertionError(f"generator ({setting}): a batch of 4 latent vectors should give images "
                                     f"of shape (4, 1, 28, 28), got {tuple(out.shape)}; your convolutions do "
                                     f"{plan}; the plan is 1 -> 7 -> 14 -> 28 pixels")
            if not all(isinstance(c.module, nn.ConvTranspose2d) for c in convs):
                raise AssertionError("generator: every layer of G grows the image, so all three are ConvTranspose2d")
            _check_batch_norm(calls, convs, [True, True, False], ["hidden layer", "hidden layer", "output layer"],
                              what)
            if not isinstance(calls[-1].module, nn.Tanh):
                raise AssertionError(f"generator: the last layer is {_describe(calls[-1].module)}; G's output "
                                     "needs nn.Tanh, so that images lie in [-1, 1] like the scaled real data")
            for c in _activations(calls)[:-1]:
                if type(c.module) is not nn.ReLU:
                    raise AssertionError(f"generator, {c}: G's hidden activations are nn.ReLU (LeakyReLU is D's)")
            hidden = _activations(calls)[:-1]
            if len(hidden) != 2:
                raise AssertionError(f"generator: found {len(hidden)} ReLU layers; one after each hidden batch norm")
            params = _check_parameters(G, DCGANGenerator(z_dim, 1, 28, width), convs, what, setting)
            if (z_dim, width) == _BUILD_CASES[0]:
                first_params = params
    except _NotDone as err:
        return _report_not_done(what, err)
    z_dim, width = _BUILD_CASES[0]
    print(f"{what} (z_dim {z_dim}, width {width}): 1 -> 7 -> 14 -> 28, BN + ReLU, Tanh output, "
          f"{first_params:,} parameters: correct")


def check_dcgan_discriminator(make_discriminator: Callable[[int], nn.Module]) -> None:
    """Check ``make_discriminator(width)``: a DCGAN discriminator for 28 x 28 grey images that maps
    (N, 1, 28, 28) to one logit per image (shape (N,) or (N, 1, 1, 1), no sigmoid: the loss applies
    it), built by the paper's guidelines (Sec. 3): strided convolutions 28 -> 14 -> 7 -> 1 with width,
    2*width, 1 channels, no pooling, batch norm on the hidden layer only (not on the input layer),
    LeakyReLU(0.2); and as many parameters as ``gancourse.models.DCGANDiscriminator``.

    Example:
        >>> from gancourse.models import DCGANDiscriminator
        >>> check_dcgan_discriminator(lambda width: DCGANDiscriminator(1, 28, width))
        discriminator (width 32): 28 -> 14 -> 7 -> 1, BN on layer 2 only, LeakyReLU(0.2), 36,577 parameters: correct
    """
    with torch.random.fork_rng(devices=[]):  # the learner's global random stream is left as it was
        torch.manual_seed(0)
        _check_discriminator(make_discriminator)


def _check_discriminator(make_discriminator: Callable[[int], nn.Module]) -> None:
    what = "discriminator"
    hint = ("read section 2's layer table of D from top to bottom: three convolutions, 28 -> 14 -> 7 -> 1 pixels; "
            "Exercise 1 gives each one's kernel, stride and padding")
    try:
        for _, width in _BUILD_CASES:
            setting = f"width={width}"
            D = _build(make_discriminator, (width,), hint, what)
            out, calls = _trace(D, torch.randn(4, 1, 28, 28), f"the discriminator ({setting})")
            convs = _check_common(calls, what)
            if out.numel() != 4 or tuple(out.shape) not in ((4,), (4, 1), (4, 1, 1, 1)):
                raise AssertionError(f"discriminator ({setting}): a batch of 4 images should give 4 logits, shape "
                                     f"(4,) or (4, 1, 1, 1); got {tuple(out.shape)}. The plan is 28 -> 14 -> 7 -> 1 "
                                     "pixels and 1 output channel")
            if isinstance(calls[-1].module, nn.Sigmoid):
                raise AssertionError("discriminator: the last layer is a Sigmoid; return the logit (the course's "
                                     "losses apply the sigmoid themselves, in a numerically stable way)")
            if not all(isinstance(c.module, nn.Conv2d) for c in convs):
                raise AssertionError("discriminator: every layer of D shrinks the image, so all three are Conv2d")
            _check_batch_norm(calls, convs, [False, True, False], ["input layer", "hidden layer", "output layer"],
                              what)
            acts = _activations(calls)
            for c in acts:
                if not isinstance(c.module, nn.LeakyReLU):
                    raise AssertionError(f"discriminator, {c}: D's activations are nn.LeakyReLU(0.2), so that "
                                         "gradients also flow for negative inputs (ReLU is G's)")
                if abs(c.module.negative_slope - 0.2) > 1e-9:
                    raise AssertionError(f"discriminator, {c}: slope {c.module.negative_slope:g}; the paper uses "
                                         "0.2 (PyTorch's default is 0.01): nn.LeakyReLU(0.2)")
            if len(acts) != 2:
                raise AssertionError(f"discriminator: found {len(acts)} LeakyReLU layers; one after each of the first "
                                     "two convolutions, none after the logit")
            params = _check_parameters(D, DCGANDiscriminator(1, 28, width), convs, what, setting)
            if width == _BUILD_CASES[0][1]:
                first_params = params
    except _NotDone as err:
        return _report_not_done(what, err)
    print(f"{what} (width {_BUILD_CASES[0][1]}): 28 -> 14 -> 7 -> 1, BN on layer 2 only, LeakyReLU(0.2), "
          f"{first_params:,} parameters: correct")


# Reference solutions used by the tests (the notebook shows them in collapsible cells).
def _reference_conv_output_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _reference_conv_transpose_output_size(n: int, k: int, s: int, p: int) -> int:
    return (n - 1) * s - 2 * p + k


def _reference_conv_parameters(i: int, o: int, k: int, bias: bool) -> int:
    return i * o * k * k + (o if bias else 0)
