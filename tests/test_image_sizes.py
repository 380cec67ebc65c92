"""The size-generic DCGAN: every supported size against a hand computation, and today's 28x28 / 32x32
networks unchanged, layer for layer and weight for weight."""
import pytest
import torch
from torch import nn

from gancourse.models import DCGAN_SIZES, DCGANDiscriminator, DCGANGenerator, build_models, dcgan_plan, describe_plan
from gancourse.models.norm import norm_2d
from gancourse.models.summary import count_parameters, layer_rows, layer_table

# --- the builders as they were before sizes other than 28 and 32 (copied unchanged, the reference) -------
_OLD_PLANS = {28: (7, [2, 1]), 32: (4, [4, 2, 1])}


@torch.no_grad()
def _old_init_(module):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


class _OldGenerator(nn.Module):
    def __init__(self, z_dim=100, channels=1, image_size=28, width=64, norm="batch"):
        super().__init__()
        self.z_dim = z_dim
        first, mults = _OLD_PLANS[image_size]
        layers = []
        in_ch = z_dim
        for i, m in enumerate(mults):
            out_ch = m * width
            if i == 0:
                layers.append(nn.ConvTranspose2d(in_ch, out_ch, first, 1, 0, bias=False))
            else:
                layers.append(nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False))
            size = first * 2 ** i
            layers += [norm_2d(norm, out_ch, size), nn.ReLU(inplace=True)]
            in_ch = out_ch
        layers += [nn.ConvTranspose2d(in_ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _old_init_(self)


class _OldDiscriminator(nn.Module):
    def __init__(self, channels=1, image_size=28, width=64, norm="batch"):
        super().__init__()
        first, mults = _OLD_PLANS[image_size]
        layers = []
        in_ch, size = channels, image_size
        for i, m in enumerate(reversed(mults)):
            out_ch = m * width
            size //= 2
            layers.append(nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=(i == 0 or norm == "none")))
            if i > 0:
                layers.append(norm_2d(norm, out_ch, size))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, first, 1, 0))
        self.net = nn.Sequential(*layers)
        _old_init_(self)


def _same(new: nn.Module, old: nn.Module) -> None:
    assert repr(new.net) == repr(old.net)  # the same layers with the same settings, in the same order
    a, b = new.state_dict(), old.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (28, 3), (32, 1)])
@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_28_and_32_networks_are_bit_for_bit_the_old_ones(size, channels, norm):
    for seed, width in ((0, 8), (3, 32)):
        torch.manual_seed(seed)
        new_g, new_d = DCGANGenerator(16, channels, size, width, norm), DCGANDiscriminator(channels, size, width, norm)
        torch.manual_seed(seed)
        old_g, old_d = _OldGenerator(16, channels, size, width, norm), _OldDiscriminator(channels, size, width, norm)
        _same(new_g, old_g)
        _same(new_d, old_d)


def test_build_models_keeps_the_lesson_3_networks_at_the_default_width():
    # The lesson's DCGAN (width 64, z 100) through build_models, as Trainer.from_names builds it.
    torch.manual_seed(0)
    G, D = build_models("dcgan", (1, 28, 28), z_dim=100)
    torch.manual_seed(0)
    _same(G, _OldGenerator(100, 1, 28, 64))
    _same(D, _OldDiscriminator(1, 28, 64))


# --- every supported size against a hand computation ---------------------------------------------------
# G's channels per stage at width 4, written out by hand: the first projects z to first x first, every
# later one doubles the side; channels halve towards the image, from at most 8 x width = 32.
HAND_PLANS = {
    16: (4, [8, 4]),                       # 1 -> 4 -> 8 -> (image) 16
    28: (7, [8, 4]),                       # 1 -> 7 -> 14 -> 28
    32: (4, [16, 8, 4]),                   # 1 -> 4 -> 8 -> 16 -> 32
    64: (4, [32, 16, 8, 4]),               # 1 -> 4 -> ... -> 32 -> 64: the DCGAN paper's G
    128: (4, [32, 32, 16, 8, 4]),          # capped at 8 x width
    256: (4, [32, 32, 32, 16, 8, 4]),
}
Z, C, W = 8, 3, 4


def _hand_params_g(first, chans, z=Z, c=C):
    total = z * chans[0] * first * first + 2 * chans[0]  # projection (no bias) + batch-norm scale and shift
    for a, b in zip(chans, chans[1:]):
        total += a * b * 4 * 4 + 2 * b  # k4 s2 transposed conv (no bias) + batch norm
    return total + chans[-1] * c * 4 * 4 + c  # output layer: k4 s2 with a bias, no norm


def _hand_params_d(first, chans, c=C):
    rev = chans[::-1]
    total = c * rev[0] * 4 * 4 + rev[0]  # input layer: k4 s2 with a bias, no norm
    for a, b in zip(rev, rev[1:]):
        total += a * b * 4 * 4 + 2 * b  # k4 s2 conv (no bias) + batch norm
    return total + rev[-1] * first * first + 1  # first x first -> one logit, with a bias


def test_the_hand_plans_cover_exactly_the_supported_sizes():
    assert tuple(sorted(HAND_PLANS)) == DCGAN_SIZES == (16, 28, 32, 64, 128, 256)


@pytest.mark.parametrize("size", sorted(HAND_PLANS))
def test_every_size_matches_the_hand_computation(size):
    first, chans = HAND_PLANS[size]
    assert dcgan_plan(size) == (first, [ch // W for ch in chans])
    torch.manual_seed(0)
    G, D = build_models("dcgan", (C, size, size), z_dim=Z, width=W)
    assert count_parameters(G) == _hand_params_g(first, chans)
    assert count_parameters(D) == _hand_params_d(first, chans)
    g_rows = [r for r in layer_rows(G, (Z,)) if r.kind.startswith("ConvTranspose2d")]
    sides = [first * 2 ** i for i in range(len(chans))] + [size]
    assert [r.out_shape for r in g_rows] == [(ch, s, s) for ch, s in zip(chans + [C], sides)]
    d_rows = [r for r in layer_rows(D, (C, size, size)) if r.kind.startswith("Conv2d")]
    assert [r.out_shape for r in d_rows] == [(ch, s, s) for ch, s in zip(chans[::-1] + [1], sides[-2::-1] + [1])]
    G.eval()  # batch norm on its running statistics: a batch of 2 is then fine at any size
    x = G(torch.randn(2, Z))
    assert x.shape == (2, C, size, size) and x.abs().max() <= 1
    assert D(x).shape == (2,)


def test_64x64_at_the_tutorial_width_is_the_pytorch_dcgan_tutorials_network_plus_its_biases():
    # The PyTorch DCGAN tutorial (nz 100, ngf = ndf = 64, 3 channels) prints 3,576,704 parameters for its G
    # and 2,765,568 for its D. Ours differ only by biases the tutorial leaves out: G's output layer (3),
    # D's input layer (64) and D's last layer (1).
    G, D = build_models("dcgan", (3, 64, 64), z_dim=100, width=64)
    assert count_parameters(G) == 3_576_704 + 3
    assert count_parameters(D) == 2_765_568 + 64 + 1


def test_layer_table_and_describe_plan_show_the_64x64_plan():
    G, _ = build_models("dcgan", (3, 64, 64), z_dim=8, width=4)
    table = layer_table(G, (8,))
    for shape in ("32 x 4 x 4", "16 x 8 x 8", "8 x 16 x 16", "4 x 32 x 32", "3 x 64 x 64"):
        assert shape in table
    assert describe_plan(64, 4) == ("z -(k4,s1)-> 32@4x4 -(k4,s2)-> 16@8x8 -(k4,s2)-> 8@16x16 -(k4,s2)-> 4@32x32 "
                                    "-(k4,s2)-> C@64x64")
    assert describe_plan(28, 4).startswith("z -(k7,s1)-> 8@7x7 -(k4,s2)-> 4@14x14")


@pytest.mark.parametrize("bad", [48, 30, 8, 512, 64.0, True, "64"])
def test_a_size_it_cannot_build_is_a_clear_error_naming_the_valid_sizes(bad):
    with pytest.raises(ValueError, match=r"image_size=.*valid sizes: 16, 28, 32, 64, 128, 256"):
        dcgan_plan(bad)
    if isinstance(bad, int) and not isinstance(bad, bool):
        with pytest.raises(ValueError, match=rf"image_size={bad}; valid sizes: 16, 28, 32, 64, 128, 256"):
            build_models("dcgan", (1, bad, bad))


def test_numpy_and_torch_integers_are_sizes():
    import numpy as np

    assert dcgan_plan(np.int64(64)) == dcgan_plan(64) == dcgan_plan(torch.tensor(64).item())
