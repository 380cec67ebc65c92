"""Lesson 8's checkers, each run three ways: on the worked solution (passes), on stubs (prints "not done yet"
without raising) and on plausible wrong answers (AssertionError whose message names the mistake)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises.lesson8 import (
    check_gumbel_softmax,
    check_phase_shuffle,
    check_reinforce_loss,
    gumbel_softmax,
    phase_shuffle,
    reinforce_loss,
)
from gancourse.models.sequence import gumbel_softmax as package_gumbel_softmax
from gancourse.models.wave import phase_shuffle as package_phase_shuffle

CHECKS = [check_gumbel_softmax, check_reinforce_loss, check_phase_shuffle]


def _raises(*args):
    raise NotImplementedError


def test_worked_solutions_agree_with_the_package_and_with_hand_values():
    # reinforce: probabilities (0.5, 0.5) and (0.25, 1): log-prob sums log .25 each; rewards (1, 0), b = 0.5
    logp = torch.log(torch.tensor([[0.5, 0.5], [0.25, 1.0]]))
    expected = -(0.5 * torch.log(torch.tensor(0.25)) - 0.5 * torch.log(torch.tensor(0.25))) / 2
    assert float(reinforce_loss(logp, torch.tensor([1.0, 0.0]), 0.5)) == pytest.approx(float(expected), abs=1e-7)
    # phase shuffle: the ramp 0..4 shifted by +2 reads 2 1 0 1 2 (reflection, edge not repeated)
    x = torch.arange(5.0).view(1, 1, 5).repeat(2, 1, 1)
    expected = [[[2.0, 1.0, 0.0, 1.0, 2.0]], [[2.0, 3.0, 4.0, 3.0, 2.0]]]
    assert phase_shuffle(x, torch.tensor([2, -2])).tolist() == expected
    assert torch.equal(phase_shuffle(x, torch.tensor([2, -2])), package_phase_shuffle(x, torch.tensor([2, -2])))
    # gumbel-softmax: with the same uniform draws the worked solution and the package agree
    logits = torch.randn(5, 4)
    torch.manual_seed(3)
    mine = gumbel_softmax(logits, 0.7)
    torch.manual_seed(3)
    u = torch.rand_like(logits)
    assert torch.allclose(mine, torch.softmax((logits - torch.log(-torch.log(u))) / 0.7, -1))
    assert package_gumbel_softmax(logits, 0.7).shape == mine.shape


@pytest.mark.parametrize("check", CHECKS)
def test_each_check_passes_the_worked_solution(check, capsys):
    solution = {check_gumbel_softmax: gumbel_softmax, check_reinforce_loss: reinforce_loss,
                check_phase_shuffle: phase_shuffle}[check]
    check(solution)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("stub", [_raises, lambda *a: None, lambda *a: ...])
def test_each_check_reports_a_stub_without_raising(check, stub, capsys):
    check(stub)
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint:" in out


# --- wrong answers --------------------------------------------------------------------------------------------

def _no_noise(logits, tau):
    return torch.softmax(logits / tau, -1)


def _uniform_noise(logits, tau):
    return torch.softmax((logits + torch.rand_like(logits)) / tau, -1)


def _negative_gumbel(logits, tau):
    return torch.softmax((logits + torch.log(-torch.log(torch.rand_like(logits)))) / tau, -1)


def _times_tau(logits, tau):
    return torch.softmax((logits - torch.log(-torch.log(torch.rand_like(logits)))) * tau, -1)


def _hard_argmax(logits, tau):
    y = gumbel_softmax(logits, tau)
    return F.one_hot(y.argmax(-1), y.shape[-1]).float()


@pytest.mark.parametrize("wrong, words", [
    (_no_noise, "add Gumbel noise"),
    (_uniform_noise, "wrong distribution"),
    (_negative_gumbel, "wrong distribution"),
    (_times_tau, "divide (logits + g) by tau"),
    (_hard_argmax, "not connected"),
])
def test_gumbel_check_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError, match=None) as err:
        check_gumbel_softmax(wrong)
    assert words in str(err.value)


@pytest.mark.parametrize("wrong, words", [
    (lambda lp, r, b: ((r - b) * lp.sum(1)).mean(), "sign is flipped"),
    (lambda lp, r, b: -(r * lp.sum(1)).mean(), "baseline is missing"),
    (lambda lp, r, b: -((r + b) * lp.sum(1)).mean(), "do not add it"),
    (lambda lp, r, b: -((r - b) * lp.mean(1)).mean(), "SUM"),
    (lambda lp, r, b: -((r - b) * lp.sum(1)).sum(), "mean over sequences"),
    (lambda lp, r, b: -((r - b) * lp.sum(1)).mean().item(), "0-d tensor"),
    (lambda lp, r, b: -((r - b) * lp.sum(1)).mean() + 0 * r.sum() + (r - r.detach()).sum(), "rewards.detach()"),
])
def test_reinforce_check_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError) as err:
        check_reinforce_loss(wrong)
    assert words in str(err.value)


def _rolled(x, shifts):
    return torch.stack([torch.roll(x[i], int(k), -1) for i, k in enumerate(shifts)])


def _zero_padded(x, shifts):
    n = int(shifts.abs().max())
    padded = F.pad(x, (n, n))
    return torch.stack([padded[i, :, n - int(k): n - int(k) + x.shape[-1]] for i, k in enumerate(shifts)])


def _replicate_padded(x, shifts):
    n = int(shifts.abs().max())
    padded = F.pad(x, (n, n), mode="replicate")
    return torch.stack([padded[i, :, n - int(k): n - int(k) + x.shape[-1]] for i, k in enumerate(shifts)])


@pytest.mark.parametrize("wrong, words", [
    (lambda x, k: phase_shuffle(x, -k), "wrong way"),
    (_rolled, "torch.roll"),
    (_zero_padded, "reflection"),
    (_replicate_padded, "edge not repeated"),
    (lambda x, k: x, "differs"),
])
def test_phase_shuffle_check_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError) as err:
        check_phase_shuffle(wrong)
    assert words in str(err.value)
