"""Lesson 1's checkers, each run three ways: on the worked solution (passes), on the stub (reports
"not done yet" without raising) and on plausible wrong answers (fails with a hint naming the mistake)."""
import math

import pytest
import torch

from gancourse import exercises, losses
from gancourse.exercises import lesson1


def _raise_not_implemented(*args):
    raise NotImplementedError


STUBS = [_raise_not_implemented, lambda *args: None, lambda *args: ...]
CHECKS = [lesson1.check_optimal_discriminator, lesson1.check_js_divergence, lesson1.check_nonsaturating_loss]


def test_checks_are_reachable_from_the_package():
    assert exercises.check_optimal_discriminator is lesson1.check_optimal_discriminator
    assert exercises.check_js_divergence is lesson1.check_js_divergence
    assert exercises.check_nonsaturating_loss is lesson1.check_nonsaturating_loss
    with pytest.raises(AttributeError):
        exercises.check_nothing_here  # noqa: B018


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("stub", STUBS, ids=["NotImplementedError", "None", "Ellipsis"])
def test_a_stub_is_reported_as_not_done_without_an_exception(check, stub, capsys):
    check(stub)  # must not raise
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint:" in out
    assert "correct" not in out


def test_the_package_versions_match_hand_computed_values():
    d = lesson1.optimal_discriminator(torch.tensor([3.0, 0.0, 1.0]), torch.tensor([1.0, 2.0, 1.0]))
    assert torch.allclose(d, torch.tensor([0.75, 0.0, 0.5]))
    # p = (1, 0), q = (1/2, 1/2): JS = 3/4 log(4/3) (worked out in check_js_divergence)
    js = lesson1.js_divergence(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]))
    assert float(js) == pytest.approx(0.75 * math.log(4 / 3))
    t = torch.tensor([-2.0, 0.0, 3.0])
    assert float(lesson1.nonsaturating_loss(t)) == pytest.approx(float(-torch.sigmoid(t).log().mean()))
    assert torch.equal(lesson1.nonsaturating_loss(t), losses.generator_loss_nonsaturating(t))


def test_optimal_discriminator_accepts_right_and_rejects_wrong(capsys):
    lesson1.check_optimal_discriminator(lesson1.optimal_discriminator)
    assert "optimal discriminator: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="DATA density"):
        lesson1.check_optimal_discriminator(lambda p, q: q / (p + q))
    with pytest.raises(AssertionError, match="expected D"):
        lesson1.check_optimal_discriminator(lambda p, q: p / (p + q + 1))
    with pytest.raises(AssertionError, match="expected D"):  # the ratio p / q is the density ratio, not D*
        lesson1.check_optimal_discriminator(lambda p, q: p / q.clamp_min(1e-12))
    with pytest.raises(AssertionError, match="torch.Tensor"):
        lesson1.check_optimal_discriminator(lambda p, q: 0.5)


def test_js_check(capsys):
    lesson1.check_js_divergence(lesson1.js_divergence)
    assert "Jensen-Shannon divergence: correct" in capsys.readouterr().out

    def kl_only(p, q):
        m = (p + q) / 2
        return torch.where(p > 0, p * (p / m).log(), torch.zeros_like(p)).sum()

    with pytest.raises(AssertionError, match="expected"):
        lesson1.check_js_divergence(kl_only)
    with pytest.raises(AssertionError, match="0 \\* log 0"):
        lesson1.check_js_divergence(lambda p, q: (p * (2 * p / (p + q)).log()).sum() / 2
                                    + (q * (2 * q / (p + q)).log()).sum() / 2)
    with pytest.raises(AssertionError, match="base 2"):
        lesson1.check_js_divergence(lambda p, q: lesson1.js_divergence(p, q) / math.log(2))


def test_nonsaturating_check(capsys):
    lesson1.check_nonsaturating_loss(lesson1.nonsaturating_loss)
    assert "non-saturating generator loss: correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="saturating \\(minimax\\)"):
        lesson1.check_nonsaturating_loss(lambda t: torch.log(1 - torch.sigmoid(t)).mean())
    with pytest.raises(AssertionError, match="softplus"):
        lesson1.check_nonsaturating_loss(lambda t: -torch.log(torch.sigmoid(t)).mean())
    with pytest.raises(AssertionError, match="wrong sign"):
        lesson1.check_nonsaturating_loss(lambda t: -torch.nn.functional.softplus(-t).mean())
    with pytest.raises(AssertionError, match="summed"):
        lesson1.check_nonsaturating_loss(lambda t: torch.nn.functional.softplus(-t).sum())


# --- mistakes that used to end in a traceback through the checker: now one line saying what went wrong ------

@pytest.mark.parametrize("wrong, message", [
    (lambda t: torch.nn.functional.softplus(-t),
     r"one number \(the mean over the batch\), got a tensor of shape \(4,\)"),
    (lambda t: torch.nn.functional.softplus(-t.detach()).mean(), "not connected to the logits"),
    (lambda t: torch.nn.functional.softplus(-t).mean().item(), "torch.Tensor"),
    (lambda t: torch.nn.functional.softplus(-t).mean() + torch.ones(1) @ torch.ones(1, dtype=torch.float64),
     "mixes float32 and float64"),
])
def test_nonsaturating_check_names_the_mistake_without_a_traceback(wrong, message):
    with pytest.raises(AssertionError, match=message):
        lesson1.check_nonsaturating_loss(wrong)


def test_js_check_names_an_unreduced_divergence_and_an_error_inside():
    def per_entry(p, q):  # forgot the sums: one term per entry
        m = (p + q) / 2
        return torch.where(p > 0, p * (p / m).log(), 0 * p) / 2 + torch.where(q > 0, q * (q / m).log(), 0 * q) / 2

    with pytest.raises(AssertionError, match="one number"):
        lesson1.check_js_divergence(per_entry)
    with pytest.raises(AssertionError, match="your function raised NameError"):
        lesson1.check_js_divergence(lambda p, q: kl(p, q))  # noqa: F821


def test_optimal_discriminator_names_a_shape_mismatch():
    with pytest.raises(AssertionError, match=r"D\* should have one value per point: .* shape \(5,\), got \(\)"):
        lesson1.check_optimal_discriminator(lambda p, q: (p / (p + q)).mean())
