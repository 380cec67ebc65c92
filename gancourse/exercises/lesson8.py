"""Checks for lesson 8 (GANs for text and sound), and the package's worked solutions of its exercises.

1. ``gumbel_softmax``: a relaxed sample y = softmax((logits + g) / tau), g Gumbel(0, 1) (Jang et al. 2017);
2. ``reinforce_loss``: the policy-gradient loss with a baseline (Williams 1992; SeqGAN, Yu et al. 2017);
3. ``phase_shuffle``: WaveGAN's random time shift with reflect padding (Donahue et al. 2019).

Each ``check_*`` calls your function on inputs whose answers are known (computed by the package's own
``gancourse.models.sequence``, ``gancourse.experiments.text`` and ``gancourse.models.wave``, or by hand). It prints
one line when they all pass, prints "not done yet" and a hint while your function is still the stub, and raises
``AssertionError`` with a hint naming the mistake otherwise; an error raised inside your function is reported the
same way. The notebook's later cells use the package's versions, never the learner's.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..experiments.text import reinforce_loss as _package_reinforce_loss
from ..models.wave import phase_shuffle as _package_phase_shuffle
from ._stub import call_reporting_errors, reports_stub

__all__ = ["check_gumbel_softmax", "check_reinforce_loss", "check_phase_shuffle",
           "gumbel_softmax", "reinforce_loss", "phase_shuffle"]


# --- worked solutions -------------------------------------------------------------------------------------

def gumbel_softmax(logits: torch.Tensor, tau: float) -> torch.Tensor:
    """Worked solution 1: y = softmax((logits + g) / tau) with g = -log(-log u), u ~ U(0, 1) (Jang et al. 2017).

    Example:
        >>> y = gumbel_softmax(torch.zeros(4, 3), tau=1.0)
        >>> torch.allclose(y.sum(-1), torch.ones(4))
        True
    """
    u = torch.rand_like(logits)
    g = -torch.log(-torch.log(u))
    return torch.softmax((logits + g) / tau, dim=-1)


def reinforce_loss(log_probs: torch.Tensor, rewards: torch.Tensor, baseline: float) -> torch.Tensor:
    """Worked solution 2: L = -mean_i (R_i - b) sum_t log p(x_it | x_i,<t), the rewards held constant.

    Example:
        >>> round(float(reinforce_loss(torch.log(torch.tensor([[0.5, 0.5]])), torch.tensor([1.0]), 0.0)), 4)
        1.3863
    """
    return -((rewards.detach() - baseline) * log_probs.sum(dim=1)).mean()


def phase_shuffle(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Worked solution 3: out[i, :, t] = x[i, :, t - k_i], reflecting at both ends.

    Example:
        >>> phase_shuffle(torch.arange(4.0).view(1, 1, 4), torch.tensor([1])).tolist()
        [[[1.0, 0.0, 1.0, 2.0]]]
    """
    n = int(shifts.abs().max())
    padded = F.pad(x, (n, n), mode="reflect")
    length = x.shape[-1]
    return torch.stack([padded[i, :, n - int(k): n - int(k) + length] for i, k in enumerate(shifts)])


# --- helpers ----------------------------------------------------------------------------------------------

def _tensor(value, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should be a tensor, got {type(value).__name__}")
    if tuple(value.shape) != shape:
        raise AssertionError(f"{what} should have shape {shape}, got {tuple(value.shape)}")
    return value


# --- exercise 1: Gumbel-softmax ---------------------------------------------------------------------------

@reports_stub("draw u with torch.rand_like, turn it into Gumbel noise, add it to the logits, divide by tau, "
               "softmax over the last dimension.")
def check_gumbel_softmax(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(logits, tau)``: rows of probabilities, differentiable in the logits, whose argmax is distributed as
    softmax(logits) (the Gumbel-max trick), near one-hot at small tau and near uniform at large tau.

    Example:
        >>> check_gumbel_softmax(gumbel_softmax)
        Gumbel-softmax: correct
        >>> check_gumbel_softmax(lambda logits, tau: None)  # doctest: +ELLIPSIS
        check_gumbel_softmax: not done yet (your function returns None). Hint: ...
    """
    probs = torch.tensor([0.6, 0.3, 0.1])
    n = 20000
    torch.manual_seed(8)
    logits = probs.log().repeat(n, 1).requires_grad_(True)
    y = _tensor(call_reporting_errors(fn, logits, 0.5), "your y", (n, 3))
    if not torch.allclose(y.detach().sum(-1), torch.ones(n), atol=1e-4) or bool((y.detach() < 0).any()):
        raise AssertionError("each row of y should be a probability vector (non-negative, summing to 1): "
                             "end with a softmax over the last dimension")
    if not y.requires_grad:
        raise AssertionError("y is not connected to the logits: no gradient could reach G. Keep it a softmax "
                             "(an argmax or a one-hot built from it has no gradient)")
    (grad,) = torch.autograd.grad(y[:, 0].sum(), logits)
    if float(grad.abs().sum()) == 0:
        raise AssertionError("the gradient of y with respect to the logits is zero everywhere: y must be a smooth "
                             "function of the logits (a softmax), not a one-hot")
    freq = torch.bincount(y.detach().argmax(-1), minlength=3).float() / n
    if (freq - probs).abs().max() > 0.02:
        hint = ("Without noise the argmax is always the most likely token: add Gumbel noise g = -log(-log u)."
                if freq[0] > 0.999 else
                "The noise has the wrong distribution: uniform u must become g = -log(-log u) (Gumbel(0, 1)); "
                "only that makes the argmax a sample of softmax(logits).")
        shares = [round(v, 3) for v in freq.tolist()]
        raise AssertionError("with probabilities [0.6, 0.3, 0.1] the argmax of your y should land on token k with "
                             f"probability p_k; in {n} draws it did with {shares}. {hint}")
    torch.manual_seed(9)
    cold = _tensor(call_reporting_errors(fn, probs.log().repeat(2000, 1), 0.02), "your y", (2000, 3)).detach()
    hot = _tensor(call_reporting_errors(fn, probs.log().repeat(2000, 1), 100.0), "your y", (2000, 3)).detach()
    cold_top, hot_top = float(cold.max(-1).values.mean()), float(hot.max(-1).values.mean())
    if cold_top < 0.95 or hot_top > 0.4:
        raise AssertionError(f"at tau = 0.02 y should be nearly one-hot (mean largest entry {cold_top:.3f}, expected "
                             f"> 0.95) and at tau = 100 nearly uniform ({hot_top:.3f}, expected < 0.4): divide "
                             "(logits + g) by tau")
    print("Gumbel-softmax: correct")


# --- exercise 2: REINFORCE with a baseline ----------------------------------------------------------------

@reports_stub("sum each sequence's log-probabilities over its tokens, weight the sum by (reward - baseline) "
               "held constant, average over the batch, and minimise the negative.")
def check_reinforce_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(log_probs, rewards, baseline)`` against ``gancourse.experiments.text.reinforce_loss`` and that the
    rewards are treated as constants (no gradient flows into D through them).

    Example:
        >>> check_reinforce_loss(reinforce_loss)
        REINFORCE loss: correct
    """
    logp = torch.log(torch.tensor([[0.5, 0.5, 0.8], [0.25, 1.0, 0.1]], dtype=torch.float64))
    rewards = torch.tensor([0.9, 0.2], dtype=torch.float64)
    for baseline in (0.5, 0.0):
        expected = float(_package_reinforce_loss(logp, rewards, baseline))
        got_t = call_reporting_errors(fn, logp.clone(), rewards.clone(), baseline)
        if not isinstance(got_t, torch.Tensor) or got_t.numel() != 1:
            raise AssertionError("return the loss as one number in a 0-d tensor (average over the batch)")
        got = float(got_t.detach())
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        adv, total = rewards - baseline, logp.sum(1)
        hint = ""
        if math.isclose(got, -expected, rel_tol=1e-6):
            hint = ("The sign is flipped: G maximises E[R], so the loss to minimise is MINUS the weighted "
                    "log-probability.")
        elif math.isclose(got, float(-(rewards * total).mean()), rel_tol=1e-6):
            hint = "The baseline is missing: weight by (reward - baseline), not by the reward alone."
        elif math.isclose(got, float(-((rewards + baseline) * total).mean()), rel_tol=1e-6):
            hint = "Subtract the baseline from the reward; do not add it."
        elif math.isclose(got, float(-(adv * logp.mean(1)).mean()), rel_tol=1e-6):
            hint = ("You averaged the log-probabilities over the tokens: a sequence's log-probability is their SUM "
                    "(log p(x) = sum_t log p(x_t | x_<t)).")
        elif math.isclose(got, float(-(adv * total).sum()), rel_tol=1e-6):
            hint = "You summed over the batch; take the mean over sequences."
        raise AssertionError(f"probabilities {logp.exp().tolist()}, rewards {rewards.tolist()}, baseline {baseline}: "
                             f"expected {expected:.6f}, got {got:.6f}." + (f" {hint}" if hint else ""))
    logp = logp.clone().requires_grad_(True)
    rewards = rewards.clone().requires_grad_(True)
    out = call_reporting_errors(fn, logp, rewards, 0.5)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError("return the loss as a tensor connected to the log-probabilities (no .item()): G is "
                             "trained by calling backward() on it")
    out.backward()
    if rewards.grad is not None and float(rewards.grad.abs().sum()) > 0:
        raise AssertionError("gradient flows into the rewards: hold them constant with rewards.detach(). In REINFORCE "
                             "the reward only weighs the log-probabilities; D is trained by its own loss")
    print("REINFORCE loss: correct")


# --- exercise 3: phase shuffle ----------------------------------------------------------------------------

@reports_stub("pad the time axis by n = the largest |shift| on both sides with F.pad(..., mode='reflect'), then "
               "cut each example's window of the original length, starting n - k_i samples in.")
def check_phase_shuffle(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(x, shifts)`` against ``gancourse.models.wave.phase_shuffle``: out[i, :, t] = x[i, :, t - k_i] with
    reflection at the ends, on a ramp (where mistakes are easy to read) and on random activations.

    Example:
        >>> check_phase_shuffle(phase_shuffle)
        phase shuffle: correct
    """
    ramp = torch.arange(6.0).view(1, 1, 6).repeat(5, 2, 1)
    shifts = torch.tensor([-2, -1, 0, 1, 2])
    x = torch.randn(4, 3, 16, generator=torch.Generator().manual_seed(8))
    cases = [(ramp, shifts, "the ramp 0..5, shifts -2..2"), (x, torch.tensor([2, -2, 1, 0]), "random activations")]
    for inputs, k, what in cases:
        expected = _package_phase_shuffle(inputs, k)
        got = _tensor(call_reporting_errors(fn, inputs.clone(), k.clone()), "your output", tuple(inputs.shape))
        if torch.allclose(got, expected):
            continue
        hint = ""
        rolled = torch.stack([torch.roll(inputs[i], int(s), -1) for i, s in enumerate(k)])
        if torch.allclose(got, _package_phase_shuffle(inputs, -k)):
            hint = "The shift goes the wrong way: a positive k moves the signal to the RIGHT (later in time)."
        elif torch.allclose(got, rolled):
            hint = ("torch.roll wraps the end of the clip round to its start; WaveGAN fills the gap by reflection "
                    "(F.pad(..., mode='reflect')), so no sound jumps from one end to the other.")
        elif what.startswith("the ramp"):
            hint = (f"for shift +2 expected {expected[4, 0].tolist()}, got {got[4, 0].tolist()}; for -2 expected "
                    f"{expected[0, 0].tolist()}, got {got[0, 0].tolist()} (reflection: 2 1 0 1 2 ..., edge not "
                    "repeated)")
        raise AssertionError(f"{what}: your output differs from the expected shuffle." + (f" {hint}" if hint else ""))
    print("phase shuffle: correct")
