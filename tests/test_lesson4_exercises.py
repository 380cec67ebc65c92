"""Lesson 4 checkers: each accepts a correct answer and rejects plausible wrong ones with a useful message."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import gancourse.exercises as exercises
from gancourse.exercises.lesson4 import check_gradient_penalty, check_wasserstein_1d, check_wgan_gp_critic
from gancourse.losses import gradient_penalty as package_penalty


def _stub_raises(*args):
    raise NotImplementedError


def _stub_ellipsis(*args):
    ...


STUBS = pytest.mark.parametrize("stub", [_stub_raises, _stub_ellipsis], ids=["NotImplementedError", "ellipsis"])


def test_checkers_are_reachable_from_the_package():
    assert exercises.check_wgan_gp_critic is check_wgan_gp_critic
    assert exercises.check_gradient_penalty is check_gradient_penalty
    assert exercises.check_wasserstein_1d is check_wasserstein_1d


# --- exercise 1 --------------------------------------------------------------------------------------
def test_wasserstein_1d_accepts_the_sorted_matching(capsys):
    check_wasserstein_1d(lambda u, v: (u.sort().values - v.sort().values).abs().mean())
    assert "correct" in capsys.readouterr().out
    check_wasserstein_1d(lambda u, v: float((u.sort().values - v.sort().values).abs().mean()))  # a float is fine


@STUBS
def test_wasserstein_1d_stub_is_not_done_yet(stub, capsys):
    check_wasserstein_1d(stub)  # no exception
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint:" in out and "correct" not in out


@pytest.mark.parametrize("wrong, hint", [
    (lambda u, v: (u - v).abs().mean(), "sort both"),
    (lambda u, v: (u.mean() - v.mean()).abs(), "lower bound"),
    (lambda u, v: (u.sort().values - v.sort().values).pow(2).mean(), "SQUARED"),
    (lambda u, v: (u.sort().values - v.sort().values).abs().sum(), None),
])
def test_wasserstein_1d_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError) as err:
        check_wasserstein_1d(wrong)
    if hint:
        assert hint in str(err.value)


# --- exercise 2 --------------------------------------------------------------------------------------
def _penalty(critic, real, fake, eps, lam, *, swap=False, batch_norm=False, one_sided=False, squared=False,
             create_graph=True):
    x_hat = ((1 - eps) * real + eps * fake) if swap else (eps * real + (1 - eps) * fake)
    x_hat = x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    if batch_norm:
        norm = grad.norm()
    elif squared:
        norm = grad.flatten(1).pow(2).sum(1)
    else:
        norm = grad.flatten(1).norm(dim=1)
    gap = (norm - 1).clamp(min=0) if one_sided else (norm - 1)
    return lam * gap.pow(2).mean()


def test_gradient_penalty_accepts_the_reference_and_the_package_version(capsys):
    check_gradient_penalty(_penalty)
    check_gradient_penalty(lambda critic, real, fake, eps, lam: package_penalty(critic, real, fake, lam, eps=eps))
    assert capsys.readouterr().out.count("gradient penalty: correct") == 2


@STUBS
def test_gradient_penalty_stub_is_not_done_yet(stub, capsys):
    check_gradient_penalty(stub)
    out = capsys.readouterr().out
    assert "not done yet" in out and "autograd.grad" in out and "correct" not in out


@pytest.mark.parametrize("option, hint", [
    ("swap", "other way round"),
    ("batch_norm", "one norm per sample"),
    ("one_sided", "two-sided"),
    ("squared", "not the squared norm"),
    ("create_graph", "create_graph=True"),
])
def test_gradient_penalty_rejects_common_slips(option, hint):
    kwargs = {option: option != "create_graph"} if option != "create_graph" else {"create_graph": False}
    with pytest.raises(AssertionError, match=hint):
        check_gradient_penalty(lambda *args: _penalty(*args, **kwargs))


def test_gradient_penalty_rejects_a_missing_lambda():
    with pytest.raises(AssertionError, match="lambda = 10"):
        check_gradient_penalty(lambda critic, real, fake, eps, lam: _penalty(critic, real, fake, eps, 1.0))


# --- exercise 3: spot the bug ------------------------------------------------------------------------
def _mlp(norm=None, out=None, flatten=False):
    layers = []
    for i in range(2):
        layers += [nn.Linear(2 if i == 0 else 64, 64)] + ([norm(64)] if norm else []) + [nn.LeakyReLU(0.2)]
    layers.append(nn.Linear(64, 1))
    if out:
        layers.append(out())
    if flatten:
        layers.append(nn.Flatten(0))
    return nn.Sequential(*layers)


def _good_loss(critic, real, fake):
    return critic(fake).mean() - critic(real).mean() + package_penalty(critic, real, fake, 10.0)


def test_spot_the_bug_accepts_fixed_critics(capsys):
    check_wgan_gp_critic(lambda: _mlp(), _good_loss)                              # (N, 1) output, no norm
    check_wgan_gp_critic(lambda: _mlp(nn.LayerNorm, flatten=True), _good_loss)    # (N,) output, layer norm
    assert capsys.readouterr().out.count("WGAN-GP critic: correct") == 2


def _no_penalty(critic, real, fake):
    return critic(fake).mean() - critic(real).mean()


def test_spot_the_bug_colleagues_code_is_not_done_yet(capsys):
    # the notebook's starter: batch norm, a Sigmoid and no penalty, exactly as the exercise shows it
    def colleague():
        return nn.Sequential(nn.Linear(2, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.2),
                             nn.Linear(128, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.2),
                             nn.Linear(128, 1), nn.Sigmoid())

    check_wgan_gp_critic(colleague, _no_penalty)
    out = capsys.readouterr().out
    assert "not done yet" in out and "colleague's code" in out and "correct" not in out


@STUBS
def test_spot_the_bug_stubs_are_not_done_yet(stub, capsys):
    check_wgan_gp_critic(stub, _good_loss)                 # make_critic is the stub
    check_wgan_gp_critic(lambda: _mlp(), stub)             # critic_loss is the stub
    out = capsys.readouterr().out
    assert out.count("not done yet") == 2 and "correct" not in out


@pytest.mark.parametrize("make, loss, fixed, named, not_named", [
    # one bug fixed, two left: the message names exactly the two
    (lambda: _mlp(nn.BatchNorm1d), _no_penalty, 1, ("batch norm", "no Lipschitz constraint"), ("Sigmoid",)),
    (lambda: _mlp(out=nn.Sigmoid), _no_penalty, 1, ("Sigmoid", "no Lipschitz constraint"), ("batch norm",)),
    (lambda: _mlp(nn.BatchNorm1d, out=nn.Sigmoid), _good_loss, 1, ("Sigmoid", "batch norm"), ("Lipschitz",)),
    # two fixed, one left
    (lambda: _mlp(out=nn.Sigmoid), _good_loss, 2, ("Sigmoid",), ("batch norm", "Lipschitz")),
    (lambda: _mlp(nn.BatchNorm1d), _good_loss, 2, ("batch norm",), ("Sigmoid", "Lipschitz")),
    (lambda: _mlp(), _no_penalty, 2, ("no Lipschitz constraint",), ("Sigmoid", "batch norm")),
    # the Sigmoid swapped for another squashing function is still the same bug
    (lambda: _mlp(out=nn.Tanh), _good_loss, 2, ("Tanh",), ("batch norm",)),
])
def test_spot_the_bug_names_every_bug_left(make, loss, fixed, named, not_named):
    with pytest.raises(AssertionError) as err:
        check_wgan_gp_critic(make, loss)
    message = str(err.value)
    assert message.startswith(f"{fixed} of the 3 bugs fixed")
    for word in named:
        assert word in message
    for word in not_named:
        assert word not in message


def test_spot_the_bug_rejects_batch_norm_anywhere_even_after_the_last_layer():
    make = lambda: nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1), nn.BatchNorm1d(1))  # noqa: E731
    with pytest.raises(AssertionError, match="mixes samples"):
        check_wgan_gp_critic(make, _good_loss)


def test_spot_the_bug_rejects_a_wrong_sign_and_a_detached_penalty():
    with pytest.raises(AssertionError, match="wrong sign"):
        check_wgan_gp_critic(lambda: _mlp(), lambda c, r, f: c(r).mean() - c(f).mean() + package_penalty(c, r, f, 10.0))

    def detached(critic, real, fake):
        x_hat = (0.5 * real + 0.5 * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)  # no create_graph
        return critic(fake).mean() - critic(real).mean() + 10 * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()

    with pytest.raises(AssertionError, match="create_graph"):
        check_wgan_gp_critic(lambda: _mlp(), detached)


def test_spot_the_bug_training_check_catches_a_too_weak_penalty():
    # Structure and loss formula look right at lambda = 10 for the probe... but this loss uses a
    # penalty that vanishes once trained on (one-sided with a huge target): the behaviour check fails.
    def weak(critic, real, fake):
        w = critic(fake).mean() - critic(real).mean()
        x_hat = torch.cat([real, fake]).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        norms = g.flatten(1).norm(dim=1)
        # exactly 10 (||g|| - 1)^2 for the probe (norm 5 everywhere), but only a tiny pull elsewhere
        return w + torch.where((norms - 5).abs() < 1e-4, 10 * (norms - 1) ** 2, 1e-3 * (norms - 1) ** 2).mean()

    with pytest.raises(AssertionError, match="estimates W_1|gradient norm"):
        check_wgan_gp_critic(lambda: _mlp(), weak)


# --- mistakes that used to end in a traceback through the checker: now one line saying what went wrong ------

def test_gradient_penalty_names_an_unreduced_penalty_and_a_missing_requires_grad():
    def unreduced(critic, real, fake, eps, lam):
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return lam * (g.flatten(1).norm(dim=1) - 1).pow(2)  # one value per sample, never averaged

    def no_requires_grad(critic, real, fake, eps, lam):
        x_hat = eps * real + (1 - eps) * fake
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return lam * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()

    with pytest.raises(AssertionError, match=r"one number, got a tensor of shape \(2,\)"):
        check_gradient_penalty(unreduced)
    with pytest.raises(AssertionError, match="requires_grad_"):
        check_gradient_penalty(no_requires_grad)


@pytest.mark.parametrize("loss, message", [
    # the whole loss detached: backward() used to raise inside the checker
    (lambda c, r, f: _good_loss(c, r, f).detach(), "not connected to the critic"),
    (lambda c, r, f: c(f) - c(r) + package_penalty(c, r, f, 10.0), r"single-number tensor .*got \(2, 1\)"),
    (lambda c, r, f: _good_loss(c, r, f) + undefined_name, "your function raised NameError"),  # noqa: F821
])
def test_spot_the_bug_names_a_detached_or_unreduced_loss(loss, message):
    with pytest.raises(AssertionError, match=message):
        check_wgan_gp_critic(lambda: _mlp(), loss)
