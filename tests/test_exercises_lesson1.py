import math

import pytest
import torch

from gancourse import exercises
from gancourse.exercises import lesson1


def test_checks_are_reachable_from_the_package():
    assert exercises.check_optimal_discriminator is lesson1.check_optimal_discriminator
    with pytest.raises(AttributeError):
        exercises.check_nothing_here  # noqa: B018


def test_optimal_discriminator_accepts_right_and_rejects_wrong(capsys):
    lesson1.check_optimal_discriminator(lambda p, q: p / (p + q))
    assert "correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="DATA density"):
        lesson1.check_optimal_discriminator(lambda p, q: q / (p + q))
    with pytest.raises(AssertionError, match="expected D"):
        lesson1.check_optimal_discriminator(lambda p, q: p / (p + q + 1))
    with pytest.raises(AssertionError, match="torch.Tensor"):
        lesson1.check_optimal_discriminator(lambda p, q: 0.5)


def test_js_check(capsys):
    lesson1.check_js_divergence(lesson1._reference_js)
    assert "correct" in capsys.readouterr().out

    def kl_only(p, q):
        m = (p + q) / 2
        return torch.where(p > 0, p * (p / m).log(), torch.zeros_like(p)).sum()

    with pytest.raises(AssertionError):
        lesson1.check_js_divergence(kl_only)
    with pytest.raises(AssertionError, match="0 \\* log 0"):
        lesson1.check_js_divergence(lambda p, q: (p * (2 * p / (p + q)).log()).sum() / 2
                                    + (q * (2 * q / (p + q)).log()).sum() / 2)
    with pytest.raises(AssertionError, match="base 2"):
        lesson1.check_js_divergence(lambda p, q: lesson1._reference_js(p, q) / math.log(2))


def test_nonsaturating_check(capsys):
    lesson1.check_nonsaturating_loss(lesson1._reference_nonsaturating)
    assert "correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="saturating"):
        lesson1.check_nonsaturating_loss(lambda t: torch.log(1 - torch.sigmoid(t)).mean())
    with pytest.raises(AssertionError, match="softplus"):
        lesson1.check_nonsaturating_loss(lambda t: -torch.log(torch.sigmoid(t)).mean())
