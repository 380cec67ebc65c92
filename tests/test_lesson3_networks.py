"""Lesson 3, Exercise 5: the checkers of a learner's DCGAN generator and discriminator.

Each plausible mistake below changes one thing in an otherwise correct network; the checker must reject
it with a message that names that thing, and accept the correct networks however they are written.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.exercises.lesson3 import check_dcgan_discriminator, check_dcgan_generator
from gancourse.models import DCGANDiscriminator, DCGANGenerator


def generator(z_dim: int = 100, width: int = 32, *, out_bn=False, act=nn.ReLU, out_act=nn.Tanh, hidden_bias=False,
              out_bias=True, first_kernel=7, widths=(2, 1), hidden_bn=True, upsample=False) -> nn.Module:
    c1, c2 = widths[0] * width, widths[1] * width
    first = nn.ConvTranspose2d(z_dim, c1, first_kernel, 1, 0, bias=hidden_bias)
    second = (nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c1, c2, 3, 1, 1, bias=hidden_bias)) if upsample
              else nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=hidden_bias))
    layers = [first, nn.BatchNorm2d(c1) if hidden_bn else nn.Identity(), act(),
              second, nn.BatchNorm2d(c2), act(),
              nn.ConvTranspose2d(c2, 1, 4, 2, 1, bias=out_bias)]
    if out_bn:
        layers.append(nn.BatchNorm2d(1))
    layers.append(out_act())
    return nn.Sequential(*(m for m in layers if not isinstance(m, nn.Identity)))


def discriminator(width: int = 32, *, in_bn=False, act=lambda: nn.LeakyReLU(0.2), pool=False, sigmoid=False,
                  hidden_bias=False, in_bias=True, linear_head=False) -> nn.Module:
    first = (nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=in_bias), nn.MaxPool2d(2)) if pool
             else nn.Conv2d(1, width, 4, 2, 1, bias=in_bias))
    layers = [first] + ([nn.BatchNorm2d(width)] if in_bn else []) + [act(),
              nn.Conv2d(width, 2 * width, 4, 2, 1, bias=hidden_bias), nn.BatchNorm2d(2 * width), act()]
    layers += [nn.Flatten(), nn.Linear(2 * width * 49, 1)] if linear_head else [nn.Conv2d(2 * width, 1, 7, 1, 0)]
    if sigmoid:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class ClassGenerator(nn.Module):
    """The same generator written as a class with its own forward() and z of shape (N, z_dim)."""

    def __init__(self, z_dim: int, width: int) -> None:
        super().__init__()
        self.project = nn.ConvTranspose2d(z_dim, 2 * width, 7, 1, 0, bias=False)
        self.bn1, self.bn2 = nn.BatchNorm2d(2 * width), nn.BatchNorm2d(width)
        self.up = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)
        self.out = nn.ConvTranspose2d(width, 1, 4, 2, 1)
        self.relu, self.tanh = nn.ReLU(), nn.Tanh()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.project(z.view(len(z), -1, 1, 1))))
        return self.tanh(self.out(self.relu(self.bn2(self.up(x)))))


@pytest.mark.parametrize("make", [
    generator,
    ClassGenerator,
    lambda z_dim, width: DCGANGenerator(z_dim, 1, 28, width),
])
def test_generator_check_accepts_correct_networks(make, capsys):
    check_dcgan_generator(make)
    out = capsys.readouterr().out
    # 100*64*49 + (64*32 + 32*1)*16 + 1 weights and biases, plus 2*(64 + 32) batch-norm parameters
    assert f"{100 * 64 * 49 + (64 * 32 + 32) * 16 + 1 + 2 * 96:,} parameters: correct" in out


@pytest.mark.parametrize("make", [discriminator, lambda width: DCGANDiscriminator(1, 28, width)])
def test_discriminator_check_accepts_correct_networks(make, capsys):
    check_dcgan_discriminator(make)
    out = capsys.readouterr().out
    # (1*32*16 + 32) + 32*64*16 + 2*64 + (64*49 + 1)
    assert f"{(16 * 32 + 32) + 32 * 64 * 16 + 128 + 64 * 49 + 1:,} parameters: correct" in out


@pytest.mark.parametrize("make, hint", [
    (lambda z, w: generator(z, w, out_bn=True), "output layer"),
    (lambda z, w: generator(z, w, hidden_bn=False), "needs nn.BatchNorm2d"),
    (lambda z, w: generator(z, w, act=lambda: nn.LeakyReLU(0.2)), "ReLU"),
    (lambda z, w: generator(z, w, out_act=nn.Sigmoid), "Tanh"),
    (lambda z, w: generator(z, w, hidden_bias=True), "bias=False"),
    (lambda z, w: generator(z, w, out_bias=False), "keeps its bias"),
    (lambda z, w: generator(z, w, first_kernel=4), "1 -> 7 -> 14 -> 28"),
    (lambda z, w: generator(z, w, widths=(1, 2)), "channels"),
    (lambda z, w: generator(z, w, upsample=True), "nn.Upsample"),
    (lambda z, w: generator(100, 32), "z_dim=16, width=8"),  # ignores its arguments
    (lambda z, w: "a generator", "nn.Module"),
    (lambda z, w: nn.Sequential(nn.ConvTranspose2d(z, 2 * w, 7), nn.Conv2d(3, 1, 1)), "failed on an input"),
])
def test_generator_check_names_the_mistake(make, hint):
    with pytest.raises(AssertionError) as err:
        check_dcgan_generator(make)
    assert hint in str(err.value)


@pytest.mark.parametrize("make, hint", [
    (lambda w: discriminator(w, in_bn=True), "input layer"),
    (lambda w: discriminator(w, act=nn.ReLU), "LeakyReLU(0.2)"),
    (lambda w: discriminator(w, act=nn.LeakyReLU), "slope 0.01"),
    (lambda w: discriminator(w, pool=True), "no pooling"),
    (lambda w: discriminator(w, sigmoid=True), "logit"),
    (lambda w: discriminator(w, hidden_bias=True), "bias=False"),
    (lambda w: discriminator(w, in_bias=False), "keeps its bias"),
    (lambda w: discriminator(w, linear_head=True), "fully connected"),
    (lambda w: discriminator(32), "width=8"),  # ignores its argument
])
def test_discriminator_check_names_the_mistake(make, hint):
    with pytest.raises(AssertionError) as err:
        check_dcgan_discriminator(make)
    assert hint in str(err.value)


def test_network_checks_leave_the_random_stream_and_batch_norm_statistics_alone():
    net = discriminator(32)
    net.train()
    torch.manual_seed(5)
    expected = torch.randn(3)
    torch.manual_seed(5)
    check_dcgan_discriminator(lambda width: net if width == 32 else discriminator(width))
    assert torch.equal(torch.randn(3), expected)
    # eval-mode tracing: the running statistics of the learner's batch norm are untouched, and the
    # network is handed back in the mode it came in
    assert torch.equal(net[3].running_mean, torch.zeros(64)) and int(net[3].num_batches_tracked) == 0
    assert net.training
