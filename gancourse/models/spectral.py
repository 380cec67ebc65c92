"""Spectral normalisation (Miyato et al. 2018) and the Lipschitz bound it controls.

Spectral normalisation divides each weight matrix by its largest singular value sigma(W), estimated by
one step of power iteration per forward pass (Miyato et al. 2018, Algorithm 1):

    v <- W^T u / ||W^T u||,   u <- W v / ||W v||,   sigma(W) ~ u^T W v,   W_SN = W / sigma(W)

A network f = g_L o ... o g_1 is Lipschitz with constant at most the product of its layers' constants
(Eq. 7), and ReLU / LeakyReLU (slope <= 1) are 1-Lipschitz, so with every W_SN of norm 1 the critic is
(about) 1-Lipschitz, the constraint WGAN needs, without a penalty. The package uses PyTorch's own
parametrisation (``torch.nn.utils.parametrizations.spectral_norm``); ``power_iteration`` writes the
algorithm out for the lesson.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["with_spectral_norm", "power_iteration", "layer_lipschitz_constants", "lipschitz_upper_bound"]

_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_ONE_LIPSCHITZ = (nn.ReLU, nn.Identity, nn.Flatten, nn.Unflatten, nn.Tanh, nn.Dropout, nn.Softplus)


def with_spectral_norm(D: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """A copy of ``D`` with spectral normalisation on every Linear and (transposed) convolution layer.

    ``D`` is left as it is. Each normalised layer keeps its raw weight in
    ``parametrizations.weight.original`` and the power iteration's vectors u, v as buffers (so they
    are in checkpoints); in train mode every forward pass takes ``n_power_iterations`` steps.

    Example:
        >>> D = with_spectral_norm(nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)))
        >>> _ = D(torch.randn(2, 4)); round(torch.linalg.matrix_norm(D[0].weight, ord=2).item(), 1)
        1.0
    """
    if not isinstance(D, nn.Module):
        raise TypeError(f"D must be a torch.nn.Module, got {type(D).__name__}")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"n_power_iterations must be an integer >= 1, got n_power_iterations={n_power_iterations!r}")
    D = copy.deepcopy(D)
    layers = [m for m in D.modules() if isinstance(m, _WEIGHTED)]
    if not layers:
        raise ValueError(f"{type(D).__name__} has no Linear or Conv layer to normalise")
    for layer in layers:
        spectral_norm(layer, n_power_iterations=n_power_iterations)
    return D


def power_iteration(W: torch.Tensor, steps: int = 20, u: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Largest singular value of ``W`` (reshaped to (rows, -1), as for a conv kernel) by power iteration.

    Each step: v = W^T u / ||W^T u||, u = W v / ||W v||; the estimate sigma = u^T W v never exceeds the
    true sigma and approaches it geometrically, at rate (sigma_2 / sigma_1)^2 per step. ``u`` is the
    starting left vector (random by default, from ``generator``).

    Example:
        >>> W = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
        >>> round(power_iteration(W, steps=10).item(), 4), torch.linalg.matrix_norm(W, ord=2).item()
        (3.0, 3.0)
    """
    if not isinstance(W, torch.Tensor) or W.dim() < 2:
        raise ValueError(f"W must be a weight tensor with >= 2 dimensions, got {getattr(W, 'shape', type(W).__name__)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got steps={steps!r}")
    W = W.detach().reshape(W.shape[0], -1)
    if u is None:
        u = torch.randn(W.shape[0], generator=generator, dtype=W.dtype).to(W.device)
    u = u / u.norm()
    for _ in range(steps):
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
        u = u / u.norm()
    return u @ W @ v


def _conv_overlap(layer: nn.Module) -> int:
    # How many output positions one input position feeds, at most: per axis min(k, ceil((d (k-1) + 1) / s)).
    overlap = 1
    for k, s, d in zip(layer.kernel_size, layer.stride, layer.dilation):
        overlap *= min(k, math.ceil((d * (k - 1) + 1) / s))
    return overlap


def layer_lipschitz_constants(D: nn.Module) -> list[tuple[str, float]]:
    """(name, Lipschitz bound) of each weighted or activation layer of ``D``, in order, with respect to
    the Euclidean norm.

    Linear: sigma(W), exact. Convolution: sigma(W reshaped to (out, in * kh * kw)) * sqrt(overlap), where
    overlap is how many output positions one input pixel feeds (4 for a 4x4 kernel at stride 2): the conv
    is that matrix applied to all patches at once, and stacking the patches multiplies a norm by at most
    sqrt(overlap). So spectral normalisation (which sets the reshaped sigma to 1) bounds a conv layer by
    sqrt(overlap), not 1 (Gouk et al. 2021; Tsuzuku et al. 2018). LeakyReLU: max(1, |slope|); ReLU, Tanh,
    Identity, Flatten: 1; Sigmoid: 1/4. Normalisation layers are refused: batch norm in train mode mixes
    the batch, and layer norm has no bound in its weights. A spectral-normalised layer counts with the
    weight it applies in eval mode (nothing in ``D`` changes). The conv factor ignores the input size, so a
    last layer whose kernel covers the whole image (the DCGAN critic's) is overcounted.

    Example:
        >>> D = nn.Sequential(nn.Linear(2, 2, bias=False), nn.LeakyReLU(0.2))
        >>> _ = D[0].weight.data.copy_(torch.diag(torch.tensor([3.0, -2.0])))
        >>> layer_lipschitz_constants(D)
        [('0', 3.0), ('1', 1.0)]
    """
    if not isinstance(D, nn.Module):
        raise TypeError(f"D must be a torch.nn.Module, got {type(D).__name__}")
    # In eval mode a spectral-normalised weight is W / (u^T W v) with the stored u, v; in train mode reading
    # it would take a power-iteration step and change those buffers (and so the training run).
    modes = [(m, m.training) for m in D.modules()]
    D.eval()
    try:
        return _layer_constants(D)
    finally:
        for m, training in modes:
            m.training = training


def _layer_constants(D: nn.Module) -> list[tuple[str, float]]:
    found = []
    for name, m in D.named_modules():
        if any(True for _ in m.children()) and not isinstance(m, _WEIGHTED):
            continue  # a container: its leaves are visited; a parametrised layer is handled as its layer
        if isinstance(m, _WEIGHTED):
            sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1).float(), ord=2).item()
            found.append((name, sigma if isinstance(m, nn.Linear) else sigma * math.sqrt(_conv_overlap(m))))
        elif isinstance(m, nn.LeakyReLU):
            found.append((name, max(1.0, abs(m.negative_slope))))
        elif isinstance(m, nn.Sigmoid):
            found.append((name, 0.25))
        elif isinstance(m, _ONE_LIPSCHITZ):
            found.append((name, 1.0))
        elif ".parametrizations." in f".{name}.":
            continue  # the spectral_norm parametrisation itself: its layer above was counted
        else:
            known = ", ".join(t.__name__ for t in _WEIGHTED + _ONE_LIPSCHITZ + (nn.LeakyReLU, nn.Sigmoid))
            raise ValueError(f"no Lipschitz bound for layer {name!r} ({type(m).__name__}); the bound covers a chain "
                             f"of these layers: {known} (build D with norm 'none')")
    return found


def lipschitz_upper_bound(D: nn.Module) -> float:
    """Upper bound on the Lipschitz constant of ``D``: the product of ``layer_lipschitz_constants``.

    Valid when ``D`` applies its layers one after another in the order they are registered (the
    course's MLP and DCGAN discriminators do), as Miyato et al. 2018, Eq. 7 assume.

    Example:
        >>> D = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
        >>> _ = D[0].weight.data.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> _ = D[2].weight.data.copy_(torch.tensor([[3.0, 4.0]]))
        >>> lipschitz_upper_bound(D)  # 2 * 1 * 5
        10.0
    """
    return math.prod(c for _, c in layer_lipschitz_constants(D))
