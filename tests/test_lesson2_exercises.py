"""Lesson-2 exercise checkers accept correct answers and reject plausible wrong ones."""
import pytest
import torch

from gancourse import exercises
from gancourse.exercises.lesson2 import check_coverage, check_minibatch_std, check_pack
from gancourse.metrics.mixtures import mode_coverage
from gancourse.remedies import minibatch_std, pack_samples


def _reference_coverage(samples, centres, std):
    cov = mode_coverage(samples, centres, std)
    return cov.modes_captured, cov.hq_fraction


def test_checkers_are_reachable_from_the_exercises_package():
    assert exercises.check_coverage is check_coverage
    assert exercises.check_pack is check_pack
    assert exercises.check_minibatch_std is check_minibatch_std


def test_check_coverage_accepts_the_reference(capsys):
    check_coverage(_reference_coverage)
    assert "all 4 cases pass" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    # counts every nearest centre, HQ or not
    (lambda x, c, s: (torch.cdist(x, c).argmin(1).unique().numel(), _reference_coverage(x, c, s)[1]), "modes captured"),
    # 1-D style threshold 3 * std on each coordinate... here: strict "<" at the boundary
    (lambda x, c, s: _strict(x, c, s), "modes captured|HQ fraction"),
    # HQ fraction over HQ samples only (always 1)
    (lambda x, c, s: (_reference_coverage(x, c, s)[0], 1.0), "HQ fraction"),
    # returns a ModeCoverage object instead of the tuple
    (lambda x, c, s: mode_coverage(x, c, s), "tuple"),
])
def test_check_coverage_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_coverage(wrong)


def _strict(samples, centres, std):
    d, i = torch.cdist(samples, centres).min(1)
    hq = d < 3 * std - 0.015  # a threshold that is a bit too tight (e.g. 2.85 std)
    return i[hq].unique().numel(), hq.float().mean().item()


def test_check_pack_accepts_the_reference(capsys):
    check_pack(pack_samples)
    assert "all 4 cases pass" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda x, m: x.reshape(m, -1).T.reshape(x.shape[0] // m, -1), "pack 0 must hold samples 0, 1, 2"),  # strided packs
    (lambda x, m: x[: x.shape[0] // m * m].reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:]), "ValueError"),
    (lambda x, m: x.reshape(x.shape[0] // m, -1), "should give"),  # images flattened, not channel-stacked
    # no divisibility check: reshape's own error for 5 samples, named instead of a traceback
    (lambda x, m: x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:]) if len(x) % m == 0 else x.view(-1, 3),
     "expected a ValueError, but your function raised RuntimeError"),
])
def test_check_pack_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_pack(wrong)


def test_check_minibatch_std_accepts_the_reference(capsys):
    check_minibatch_std(lambda x: minibatch_std(x, group_size=None))
    assert "all 4 cases pass" in capsys.readouterr().out


def test_check_minibatch_std_accepts_a_float64_answer(capsys):
    # the right numbers in float64 used to end in "RuntimeError: Double did not match Float" inside the checker
    check_minibatch_std(lambda x: minibatch_std(x.double(), group_size=None))
    assert "all 4 cases pass" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda x: x.flatten(1).std(0).mean().expand(x.shape[0]), "unbiased"),  # n - 1
    (lambda x: x.flatten().std(unbiased=False).expand(x.shape[0]), "pooled"),  # one std of all entries
    (lambda x: x.flatten(1).std(1, unbiased=False), "expected sqrt"),  # per sample over features
    (lambda x: x.flatten(1).var(0, unbiased=False).mean().expand(x.shape[0]), "expected sqrt"),  # variance, no sqrt
    # the std of the per-sample means: equal to the right answer on a batch with a constant feature
    (lambda x: x.flatten(1).mean(1).std(correction=0).expand(len(x)), "std of the per-sample MEANS"),
    (lambda x: x.flatten(1).std(0, correction=0).mean(), r"one value per sample.*expected shape \(4,\), got \(\)"),
    (lambda x: x.flatten(1).std(0, correction=0).mean().expand(len(x)) + y, "your function raised NameError"),  # noqa: F821
])
def test_check_minibatch_std_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_minibatch_std(wrong)


# --- stubs: "not done yet" and a hint, never a traceback ------------------------------------------------

def _raises(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [check_coverage, check_pack, check_minibatch_std])
@pytest.mark.parametrize("stub, why", [(_raises, "still raises NotImplementedError"), (lambda *a: None, "returns None"),
                                       (lambda *a: ..., "returns Ellipsis")])
def test_every_checker_reports_a_stub_as_not_done_without_raising(check, stub, why, capsys):
    check(stub)
    out = capsys.readouterr().out
    assert out.startswith(f"{check.__name__}: not done yet (your function {why}). Hint: ")
    assert "pass" not in out


def test_package_versions_of_the_answers_pass_their_checks(capsys):
    from gancourse.exercises.lesson2 import batch_std, coverage, pack

    check_coverage(coverage)
    check_pack(pack)
    check_minibatch_std(batch_std)
    out = capsys.readouterr().out
    assert out.count("pass") == 3 and "not done" not in out
