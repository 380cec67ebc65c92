"""layer_table / layer_rows: traced shapes and parameter counts, checked against hand computation."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.models.summary import count_parameters, layer_rows, layer_table


def test_dcgan_generator_28_shapes_and_parameters():
    rows = layer_rows(DCGANGenerator(z_dim=100, width=32), (100,))
    convs = [r for r in rows if r.kind.startswith("ConvTranspose2d")]
    assert [r.out_shape for r in convs] == [(64, 7, 7), (32, 14, 14), (1, 28, 28)]
    # bias-free convs before batch norm: in * out * k * k; the output layer has a bias of 1
    assert [r.params for r in convs] == [100 * 64 * 7 * 7, 64 * 32 * 4 * 4, 32 * 1 * 4 * 4 + 1]
    assert rows[-1].kind == "Tanh"


def test_dcgan_discriminator_32_colour_shapes():
    rows = layer_rows(DCGANDiscriminator(channels=3, image_size=32, width=16), (3, 32, 32))
    convs = [r for r in rows if r.kind.startswith("Conv2d")]
    assert [r.out_shape for r in convs] == [(16, 16, 16), (32, 8, 8), (64, 4, 4), (1, 1, 1)]
    assert convs[0].params == 3 * 16 * 4 * 4 + 16  # input layer keeps its bias (no norm after it)
    assert rows[0].in_shape == (3, 32, 32)


def test_table_totals_and_layout():
    model = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 14 * 14, 1))
    text = layer_table(model, (1, 28, 28))
    lines = text.splitlines()
    assert lines[1].split() == ["input", "1", "x", "28", "x", "28"]
    assert "LeakyReLU(0.2)" in text and "Conv2d(k4, s2, p1)" in text
    total = 1 * 4 * 16 + 4 + 4 * 14 * 14 + 1
    assert lines[-1].split() == ["total", f"{total:,}"]
    assert count_parameters(model) == total


def test_tracing_leaves_the_model_unchanged():
    G = DCGANGenerator(z_dim=8, width=4)
    G.train()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    layer_table(G, (8,))
    assert G.training  # mode restored
    after = G.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # batch-norm running stats untouched
    assert not any(m._forward_hooks for m in G.modules())  # hooks removed


def test_frozen_parameters_are_not_counted():
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert count_parameters(layer) == 6


@pytest.mark.parametrize("shape", [(), (0, 28, 28), (1, -1)])
def test_bad_input_shape_raises_value_error(shape):
    with pytest.raises(ValueError, match="input_shape"):
        layer_rows(nn.Linear(3, 2), shape)
