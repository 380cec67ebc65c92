"""A layer-by-layer table of a network: what each layer does to the shape, and what it costs.

Shapes are traced, not computed from formulas: forward hooks on every leaf module record the
input and output of one real forward pass, so the table is right for any model by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LayerRow", "layer_rows", "layer_table", "count_parameters"]


@dataclass
class LayerRow:
    """One leaf layer of a forward pass: its name, type, input and output shapes (one example,
    batch dimension dropped) and its number of trainable parameters.

    Example:
        >>> layer_rows(nn.Linear(4, 3), (4,))[0]  # 4*3 weights + 3 biases
        LayerRow(name='', kind='Linear', in_shape=(4,), out_shape=(3,), params=15)
    """

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (elements of every ``requires_grad`` tensor).

    Example:
        >>> count_parameters(nn.Linear(3, 2))  # 3*2 weights + 2 biases
        8
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _describe(module: nn.Module) -> str:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        k, s, p = module.kernel_size[0], module.stride[0], module.padding[0]
        return f"{type(module).__name__}(k{k}, s{s}, p{p})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope:g})"
    return type(module).__name__


@torch.no_grad()
def layer_rows(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """Trace one forward pass of a batch of 2 inputs of ``input_shape`` (one example, no batch dim)
    and return a ``LayerRow`` per leaf module call, in call order.

    The model is run in eval mode (so batch norm does not update its running statistics) on the
    device of its parameters, and restored to its previous mode afterwards.

    Example:
        >>> rows = layer_rows(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (4,))
        >>> [(r.kind, r.out_shape, r.params) for r in rows]
        [('Linear', (3,), 15), ('ReLU', (3,), 0)]
    """
    if not input_shape or any(int(d) < 1 for d in input_shape):
        raise ValueError(f"input_shape must be one example's shape with positive sizes, got input_shape={input_shape}")
    rows: list[LayerRow] = []
    handles = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # containers: their leaves are reported instead

        def hook(mod, inputs, output, name=name):
            rows.append(LayerRow(name, _describe(mod), tuple(inputs[0].shape[1:]), tuple(output.shape[1:]),
                                 count_parameters(mod)))

        handles.append(module.register_forward_hook(hook))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(2, *input_shape, device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> str:
    """A printable table: layer, type, output shape (C x H x W) and parameters, plus the total.

    Example:
        >>> print(layer_table(nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.ReLU()), (1, 28, 28)))
        layer  type                output       params
        input                      1 x 28 x 28
        0      Conv2d(k4, s2, p1)  4 x 14 x 14      68
        1      ReLU                4 x 14 x 14       0
        total                                       68
    """
    rows = layer_rows(model, input_shape)

    def shape(s: tuple[int, ...]) -> str:
        return " x ".join(str(d) for d in s)

    table = [("layer", "type", "output", "params"), ("input", "", shape(tuple(input_shape)), "")]
    table += [(r.name, r.kind, shape(r.out_shape), f"{r.params:,}") for r in rows]
    table.append(("total", "", "", f"{count_parameters(model):,}"))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>{widths[3]}}".rstrip()
             for a, b, c, d in table]
    return "\n".join(lines)
