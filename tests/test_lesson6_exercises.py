"""Lesson 6's checkers, each run three ways: on the worked solution (passes), on stubs (prints "not done yet"
without raising) and on plausible wrong answers (AssertionError whose message names the mistake)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse import exercises, losses
from gancourse.exercises import lesson6
from gancourse.exercises.lesson6 import (
    check_hinge_d_loss,
    check_r1,
    check_spectral_norm_estimate,
    hinge_d_loss,
    r1,
    spectral_norm_estimate,
)
from gancourse.models.spectral import power_iteration

CHECKS = [check_hinge_d_loss, check_r1, check_spectral_norm_estimate]


def _raises(*args):
    raise NotImplementedError


def test_checkers_are_reachable_from_the_exercises_package():
    assert "lesson6" in exercises.LESSON_MODULES
    assert exercises.check_hinge_d_loss is check_hinge_d_loss
    assert exercises.check_r1 is check_r1
    assert exercises.check_spectral_norm_estimate is check_spectral_norm_estimate


# --- the worked solutions: right by hand, and they pass ---------------------------------------------------

def test_worked_solutions_match_hand_computed_values():
    # reals (2, 0.5), fakes (-3, 0): (0 + 0.5) / 2 + (0 + 1) / 2 = 0.75
    assert float(hinge_d_loss(torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0]))) == pytest.approx(0.75)
    lin = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 2.0]]))  # ||w||^2 = 9
    assert float(r1(lin, torch.randn(7, 3), gamma=4.0).detach()) == pytest.approx(4 / 2 * 9)
    W = torch.diag(torch.tensor([0.5, 7.0, 2.0], dtype=torch.float64))
    assert float(spectral_norm_estimate(W, steps=30)) == pytest.approx(7.0, rel=1e-6)


@pytest.mark.parametrize("check, solution, verdict", [
    (check_hinge_d_loss, hinge_d_loss, "hinge loss of D: correct"),
    (check_hinge_d_loss, losses.discriminator_loss_hinge, "hinge loss of D: correct"),
    (check_r1, r1, "R1 penalty: correct"),
    (check_r1, losses.r1_penalty, "R1 penalty: correct"),
    (check_spectral_norm_estimate, spectral_norm_estimate, "spectral norm by power iteration: correct"),
    (check_spectral_norm_estimate, lambda W, steps: power_iteration(W, steps=steps),
     "spectral norm by power iteration: correct"),
    (check_spectral_norm_estimate, lambda W, steps: float(spectral_norm_estimate(W, steps)),  # a float is fine
     "spectral norm by power iteration: correct"),
])
def test_correct_answers_pass(check, solution, verdict, capsys):
    check(solution)
    assert capsys.readouterr().out.strip() == verdict


# --- stubs: "not done yet" and a hint, never an exception ---------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("stub, why", [(_raises, "still raises NotImplementedError"), (lambda *a: None, "returns None"),
                                       (lambda *a: ..., "returns Ellipsis")])
def test_a_stub_is_reported_as_not_done(check, stub, why, capsys):
    check(stub)  # must not raise
    out = capsys.readouterr().out
    assert out.startswith(f"{check.__name__}: not done yet (your function {why}). Hint: ")
    assert "correct" not in out


# --- wrong answers: an AssertionError naming the mistake ------------------------------------------------------

@pytest.mark.parametrize("wrong, message", [
    (lambda r, f: (1 - r).mean() + (1 + f).mean(), "forgot the max"),  # no relu: the linear loss
    (lambda r, f: F.relu(1 - r).mean() + F.relu(1 - f).mean(), "Wrong sign on the fakes"),
    (lambda r, f: F.relu(1 + r).mean() + F.relu(1 - f).mean(), "swapped"),
    (lambda r, f: F.relu(1 - r).sum() + F.relu(1 + f).sum(), "summed"),
    (lambda r, f: F.relu(1 - torch.cat([r, -f])).mean(), "averaged reals and fakes together"),
    (lambda r, f: torch.tensor((F.relu(1 - r).mean() + F.relu(1 + f).mean()).item()), "connected to the scores"),
    (lambda r, f: F.relu(1 - r) + F.relu(1 + f).mean(), "one number"),  # forgot the mean on the reals
    (lambda r, f: F.relu(-r).mean() + F.relu(f).mean(), "expected"),  # margin 0 instead of 1
])
def test_hinge_check_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_hinge_d_loss(wrong)


def _grad(critic, real, create_graph=True):
    x = real.detach().requires_grad_(True)
    return torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)[0].flatten(1)


@pytest.mark.parametrize("wrong, message", [
    (lambda D, x, g: g * _grad(D, x).pow(2).sum(1).mean(), "forgot the 1/2"),
    (lambda D, x, g: g / 2 * _grad(D, x).norm(dim=1).mean(), "SQUARED norm"),
    (lambda D, x, g: g / 2 * (_grad(D, x).norm(dim=1) - 1).pow(2).mean(), "WGAN-GP"),
    (lambda D, x, g: g / 2 * _grad(D, x).pow(2).sum(1).sum(), "summed over the batch"),
    (lambda D, x, g: g / 2 * _grad(D, x).pow(2).mean(), "averaged the squared gradient over the input's coord"),
    (lambda D, x, g: g / 2 * _grad(D, x, create_graph=False).pow(2).sum(1).mean(), "create_graph=True"),
    # forgets requires_grad: autograd's own error becomes the verdict, not a traceback through the checker
    (lambda D, x, g: g / 2 * torch.autograd.grad(D(x).sum(), x)[0].pow(2).sum(1).mean(), "raised RuntimeError"),
])
def test_r1_check_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_r1(wrong)


def test_r1_check_rejects_a_penalty_on_points_other_than_the_real_ones():
    # "penalising fakes": the penalty taken at points that are not the real batch (here the real points
    # shifted, as fakes or interpolates would be) is caught on D = relu(x_0), which is flat on the reals only.
    def shifted(D, x, gamma):
        return r1(D, x + 1.0, gamma)

    with pytest.raises(AssertionError, match="expected|REAL data"):
        check_r1(shifted)


def _frobenius(W, steps):
    return torch.linalg.matrix_norm(W, ord="fro")


def _unnormalised_v(W, steps):
    u = torch.ones(W.shape[0], dtype=W.dtype) / W.shape[0] ** 0.5
    for _ in range(steps):
        v = W.T @ u  # v never rescaled to length 1
        u = W @ v
        u = u / u.norm()
    return (W @ v).norm()


def _eigen_iteration(W, steps):
    v = torch.ones(W.shape[1], dtype=W.dtype)
    for _ in range(steps):
        v = W @ v
        v = v / v.norm()
    return (W @ v).norm()


def _squared(W, steps):
    return spectral_norm_estimate(W, steps) ** 2


def _one_step_only(W, steps):
    return spectral_norm_estimate(W, 1)


@pytest.mark.parametrize("wrong, message", [
    (_frobenius, "Frobenius"),
    (_unnormalised_v, "normalise v"),
    (_eigen_iteration, "largest \\|eigenvalue\\|"),
    (_squared, "above sigma_max|sigma\\^2"),
    (_one_step_only, "really run `steps` times"),
    (lambda W, steps: W.abs().max(), "expected sigma_max"),
])
def test_spectral_norm_check_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_spectral_norm_estimate(wrong)


def test_the_test_matrices_have_the_spectrum_they_claim():
    W = lesson6._with_spectrum(6, 3, [2.0, 1.5, 0.1], seed=2)
    assert torch.linalg.svdvals(W).tolist() == pytest.approx([2.0, 1.5, 0.1])
    assert float(torch.linalg.matrix_norm(W, ord=2)) == pytest.approx(2.0)


# --- issue 25: the dtype a learner uses, and an exact method passed off as the iteration ------------------------

def _notebook_style(W, steps=50):
    # float32 start, as a learner (and section 2 of the notebook) writes it
    return power_iteration(W, steps, u=torch.randn(W.shape[0]))


def test_a_float32_power_iteration_passes(capsys):
    check_spectral_norm_estimate(_notebook_style)
    assert capsys.readouterr().out.strip() == "spectral norm by power iteration: correct"


@pytest.mark.parametrize("wrong, message", [
    (lambda W, steps: torch.linalg.svdvals(W)[0], "exact method"),
    (lambda W, steps: torch.linalg.matrix_norm(W, ord=2), "exact method"),
    # a float64 vector against the float32 matrix: one line, not PyTorch's "expected both vectors to have same dtype"
    (lambda W, steps: _notebook_style(W.double(), steps).float() + torch.ones(1, dtype=torch.float64) @ W[:1, 0],
     r"^your function mixes float32 and float64 tensors: make every new tensor in the input's dtype"),
])
def test_spectral_norm_check_rejects_an_exact_method_and_explains_a_dtype_mismatch(wrong, message):
    with pytest.raises(AssertionError, match=message) as err:
        check_spectral_norm_estimate(wrong)
    assert "\n" not in str(err.value)


def test_the_iteration_check_leaves_the_learners_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.randn(4)
    torch.manual_seed(3)
    lesson6._check_it_iterates(_notebook_style)
    assert torch.equal(torch.randn(4), expected)
