"""Lesson 5's checkers, each run three ways: on the worked solution (passes), on stubs (prints "not done yet"
without raising) and on plausible wrong answers (AssertionError whose message names the mistake)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse import exercises
from gancourse.exercises.lesson5 import (
    acgan_losses,
    check_acgan_losses,
    check_concat_condition,
    check_projection_output,
    concat_condition,
    projection_output,
)
from gancourse.models.conditional import ProjectionDiscriminator, discriminator_trunk
from gancourse.models.mlp import MLPDiscriminator

CHECKS = [check_concat_condition, check_projection_output, check_acgan_losses]


def _raises(*args):
    raise NotImplementedError


def test_checkers_are_reachable_from_the_exercises_package():
    assert "lesson5" in exercises.LESSON_MODULES
    assert exercises.check_concat_condition is check_concat_condition
    assert exercises.check_projection_output is check_projection_output
    assert exercises.check_acgan_losses is check_acgan_losses


# --- the worked solutions: right by hand, and they pass ---------------------------------------------------

def test_worked_solutions_match_hand_computed_values():
    out = concat_condition(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([1, 0]), 2)
    assert out.tolist() == [[1.0, 2.0, 0.0, 1.0], [3.0, 4.0, 1.0, 0.0]]
    # The package's projection D on an MLP trunk: our formula on its parts gives its output.
    torch.manual_seed(0)
    D = ProjectionDiscriminator(*discriminator_trunk(MLPDiscriminator(hidden=8)), num_classes=3)
    x, y = torch.randn(5, 2), torch.tensor([0, 2, 1, 1, 0])
    assert torch.allclose(projection_output(D.trunk(x), D.head, D.embed, y), D(x, y), atol=1e-6)
    # Zero logits: softplus(0) = log 2, CE over K uniform classes = log K.
    d, g = acgan_losses(torch.zeros(3), torch.zeros(3), torch.zeros(3, 5), torch.zeros(3, 5), torch.tensor([0, 1, 2]),
                        torch.tensor([4, 4, 0]))
    log2, log5 = torch.log(torch.tensor(2.0)).item(), torch.log(torch.tensor(5.0)).item()
    assert d.item() == pytest.approx(2 * log2 + 2 * log5) and g.item() == pytest.approx(log2 + log5)


@pytest.mark.parametrize("check, solution, verdict", [
    (check_concat_condition, concat_condition, "concatenation with the one-hot label: correct"),
    (check_concat_condition, lambda x, y, k: torch.cat([x.reshape(len(x), -1), torch.eye(k)[y]], 1),
     "concatenation with the one-hot label: correct"),
    (check_projection_output, projection_output, "projection discriminator: correct"),
    (check_projection_output, lambda phi, psi, e, y: (psi(phi) + (e(y) * phi).sum(1, keepdim=True)).flatten(),
     "projection discriminator: correct"),
    (check_acgan_losses, acgan_losses, "AC-GAN losses: correct"),
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

def _acgan_wrong(drop_fake_d=False, no_class_d=False, g_minus=False, g_no_class=False, g_real=False):
    def fn(sr, sf, cr, cf, yr, yf):
        ce_r, ce_f = F.cross_entropy(cr, yr), F.cross_entropy(cf, yf)
        d = F.softplus(-sr).mean() + F.softplus(sf).mean()
        if not no_class_d:
            d = d + ce_r + (0 if drop_fake_d else ce_f)
        g = F.softplus(-sf).mean() + (-ce_f if g_minus else 0 if g_no_class else ce_f) + (ce_r if g_real else 0)
        return d, g
    return fn


@pytest.mark.parametrize("check, wrong, message", [
    (check_concat_condition, lambda x, y, k: torch.cat([x.flatten(1), y[:, None].to(x.dtype)], 1), "as one number"),
    (check_concat_condition, lambda x, y, k: torch.cat([F.one_hot(y, k).to(x.dtype), x.flatten(1)], 1),
     "Wrong order"),
    (check_concat_condition, lambda x, y, k: 1 / 0, "raised ZeroDivisionError"),
    (check_projection_output, lambda phi, psi, e, y: psi(phi).squeeze(1), "label's term"),
    (check_projection_output, lambda phi, psi, e, y: psi(phi) + (e(y) * phi).sum(1, keepdim=True), "squeeze"),
    (check_projection_output, lambda phi, psi, e, y: psi(phi).squeeze(1) + (phi @ e.weight.T).sum(1),
     "every class's embedding"),
    (check_projection_output, lambda phi, psi, e, y: (e(y) * phi).sum(1), "add psi"),
    (check_projection_output, lambda phi, psi, e, y: (psi(phi).squeeze(1) + (e(y) * phi).sum(1)).detach(),
     "connected to psi"),
    (check_acgan_losses, _acgan_wrong(drop_fake_d=True), "classify the fakes"),
    (check_acgan_losses, _acgan_wrong(no_class_d=True), "missing the class terms"),
    (check_acgan_losses, _acgan_wrong(g_minus=True), "G maximises L_C too"),
    (check_acgan_losses, _acgan_wrong(g_no_class=True), "missing the class term"),
    (check_acgan_losses, _acgan_wrong(g_real=True), r"leave CE\(class_real"),
    (check_acgan_losses, lambda *a: acgan_losses(*a)[0], "return two numbers"),
])
def test_wrong_answers_are_named(check, wrong, message):
    with pytest.raises(AssertionError, match=message):
        check(wrong)


def test_projection_checker_wants_the_gradient_to_reach_the_embedding():
    def frozen(phi, psi, e, y):  # the right numbers, but the embedding would never be trained
        return psi(phi).squeeze(1) + (e.weight.detach()[y] * phi).sum(1)
    with pytest.raises(AssertionError, match="gradient should reach the embedding"):
        check_projection_output(frozen)


# --- issue 25: answers the checkers used to accept, and shapes named in the messages ------------------------

def test_one_hot_without_num_classes_is_rejected_on_a_batch_without_the_largest_class():
    # F.one_hot(y) sizes the code by the largest label in the batch; every old case contained the largest class
    with pytest.raises(AssertionError, match=r"labels \(1, 3, 3\), K = 10.*shape \(3, 12\).*got \(3, 6\).*num_classes"):
        check_concat_condition(lambda x, y, k: torch.cat([x.flatten(1), F.one_hot(y).to(x.dtype)], 1))


@pytest.mark.parametrize("check, wrong, message", [
    (check_concat_condition, lambda x, y, k: torch.cat([x.flatten(1), F.one_hot(y, k + 1).to(x.dtype)], 1),
     r"concatenated input \[x, onehot\(y\)\] should have shape \(2, 5\) \(N, features \+ K\), got \(2, 6\)"),
    (check_projection_output, lambda phi, psi, e, y: psi(phi) + (e(y) * phi).sum(1, keepdim=True),
     r"the scores D\(x, y\) should have shape \(6,\), one per example, got \(6, 1\)"),
    (check_acgan_losses, lambda *a: (acgan_losses(*a)[0].expand(3), acgan_losses(*a)[1]),
     r"loss_D should be one number \(a batch mean\), shape \(\), got a tensor of shape \(3,\)"),
])
def test_shape_mistakes_name_the_tensor_and_both_shapes(check, wrong, message):
    with pytest.raises(AssertionError, match=message):
        check(wrong)


def test_acgan_losses_computed_on_detached_logits_are_rejected():
    def detached(sr, sf, cr, cf, yr, yf):
        return acgan_losses(sr.detach(), sf.detach(), cr.detach(), cf.detach(), yr, yf)

    with pytest.raises(AssertionError, match="loss_D is not connected to the logits"):
        check_acgan_losses(detached)
