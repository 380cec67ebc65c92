import pytest
import torch
from torch import nn

from gancourse.models import DCGANDiscriminator, DCGANGenerator, build_models, dcgan_init_
from gancourse.models.build import CriticNormWarning, default_norms


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_dcgan_shapes_and_output_range(shape):
    G, D = build_models("dcgan", shape, z_dim=16, width=8)
    x = G(torch.randn(5, 16))
    assert x.shape == (5,) + shape
    assert x.min() >= -1 and x.max() <= 1  # Tanh output
    assert D(x).shape == (5,)


def test_dcgan_follows_paper_guidelines():
    G, D = DCGANGenerator(z_dim=16, width=8), DCGANDiscriminator(width=8)
    for net in (G, D):
        assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for m in net.modules())
    g_layers, d_layers = list(G.net), list(D.net)
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)  # no BN at output
    assert isinstance(d_layers[1], nn.LeakyReLU) and d_layers[1].negative_slope == 0.2  # no BN at input
    assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, nn.LeakyReLU))
    assert any(isinstance(m, nn.ReLU) for m in G.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


def test_dcgan_init_statistics():
    G = DCGANGenerator(z_dim=100, width=64)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert w.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert w.std().item() == pytest.approx(0.02, rel=0.02)
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)][0]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and bn.bias.abs().max() == 0
    assert bn.weight.std().item() == pytest.approx(0.02, rel=0.3)  # N(1, 0.02), not the constant 1
    # The layer-norm critic's scales get the same N(1, 0.02); every conv bias starts at 0.
    D = DCGANDiscriminator(width=64, norm="layer")
    scales = torch.cat([m.weight for m in D.modules() if isinstance(m, nn.GroupNorm)])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01) and scales.std().item() == pytest.approx(0.02, rel=0.3)
    assert all(m.bias.abs().max() == 0 for m in D.modules() if isinstance(m, nn.Conv2d) and m.bias is not None)
    d_conv = torch.cat([m.weight.flatten() for m in D.modules() if isinstance(m, nn.Conv2d)])
    assert d_conv.std().item() == pytest.approx(0.02, rel=0.02)
    # In place, on conv and norm layers only: the module comes back and a Linear is left as it was.
    lin = nn.Linear(3, 3)
    weights = lin.weight.clone()
    assert dcgan_init_(lin) is lin and torch.equal(lin.weight, weights)
    conv = nn.Conv2d(64, 64, 4)
    assert dcgan_init_(conv) is conv and conv.weight.std().item() == pytest.approx(0.02, rel=0.05)


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_build_models_gives_critic_losses_a_critic_without_batch_norm(loss):
    G, D = build_models("dcgan", (1, 28, 28), width=8, loss=loss)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in D.modules())  # layer norm, the paper's replacement
    assert any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    assert default_norms("dcgan", loss) == ("batch", "layer") and default_norms("dcgan", "nsgan") == ("batch", "batch")
    with pytest.warns(CriticNormWarning, match="layer' or 'none'"):
        _, D = build_models("dcgan", (1, 28, 28), width=8, loss=loss, d_norm="batch")
    assert any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    with pytest.raises(ValueError, match="unknown loss 'wgan_gp'"):
        build_models("dcgan", (1, 28, 28), loss="wgan_gp")


def test_critic_variants_have_no_batch_norm():
    for norm in ("none", "layer"):
        _, D = build_models("dcgan", (1, 28, 28), width=8, d_norm=norm)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
        # Per-sample independence (needed for the per-sample gradient penalty): a sample's score
        # must not depend on the other samples in the batch.
        D.train()
        x = torch.randn(4, 1, 28, 28)
        assert torch.allclose(D(x)[:1], D(x[:1]), atol=1e-5)
    _, D = build_models("dcgan", (1, 28, 28), width=8)
    D.train()
    x = torch.randn(4, 1, 28, 28)
    assert not torch.allclose(D(x)[:1], D(x[:1]), atol=1e-5)  # batch norm couples the batch


def test_mlp_for_points_and_images():
    G, D = build_models("mlp", (2,), z_dim=8)
    assert G(torch.randn(3, 8)).shape == (3, 2) and D(torch.randn(3, 2)).shape == (3,)
    G, D = build_models("mlp", (1, 28, 28), z_dim=8, width=32, g_norm="batch")
    x = G(torch.randn(3, 8))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (3,)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="'gan'.*mlp, dcgan"):
        build_models("gan", (2,))
    with pytest.raises(ValueError, match="image_size=48; valid sizes: 16, 28, 32, 64"):
        build_models("dcgan", (1, 48, 48))
    with pytest.raises(ValueError, match="use model='mlp'"):
        build_models("dcgan", (2,))
    with pytest.raises(ValueError, match="'group'.*batch, layer, none"):
        build_models("mlp", (2,), g_norm="group")
