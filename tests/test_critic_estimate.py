"""held_out_critic_estimate: a fresh WGAN-GP critic's E[f(real)] - E[f(fake)], scored on points it never saw."""
import math
import pickle

import pytest
import torch

from gancourse.critic_estimate import critic_estimate_job, held_out_critic_estimate


def gaussians(n, shift, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=gen), torch.randn(n, 2, generator=gen) + torch.tensor(shift)


@pytest.mark.parametrize("gp_lambda", [10.0, 50.0])
def test_shifted_gaussians_estimate_matches_the_penalised_optimum(gp_lambda):
    # W_1 between N(0, I) and N(m, I) is D = ||m|| = 5 (the transport is the shift). The best critic is a ramp
    # f(x) = k m.x / D: it gains k D and pays lambda (k - 1)^2 in penalty, so k = 1 + D / (2 lambda) and the
    # estimate is k D = D + D^2 / (2 lambda): 6.25 at lambda = 10, 5.25 at lambda = 50 (a soft penalty overshoots).
    real, fake = gaussians(1400, (3.0, 4.0), seed=0)
    result = held_out_critic_estimate(real, fake, held_out=600, steps=150, gp_lambda=gp_lambda)
    assert result.estimate == pytest.approx(5.0 + 25.0 / (2 * gp_lambda), rel=0.04)
    # var f = k^2 var(m.x / D) = k^2 on each side
    assert result.standard_error == pytest.approx((1 + 5.0 / (2 * gp_lambda)) * math.sqrt(2 / 600), rel=0.15)


def test_one_distribution_held_out_estimate_is_noise_and_training_points_are_optimistic():
    # 16 training points per side: the critic separates these particular points (train estimate well above 0),
    # but on 2,000 fresh points of the same distribution its difference is zero within sampling noise.
    real, other = gaussians(2016, (0.0, 0.0), seed=1)
    result = held_out_critic_estimate(real, other, held_out=2000, steps=300, batch_size=16, lr=1e-2)
    assert abs(result.estimate) < 3 * result.standard_error
    assert result.train_estimate > result.estimate + 4 * result.standard_error


def test_same_seed_same_result_and_the_job_form_matches():
    real, fake = gaussians(300, (1.0, 0.0), seed=2)
    options = {"held_out": 100, "steps": 5, "seed": 3}
    first = held_out_critic_estimate(real, fake, **options)
    assert held_out_critic_estimate(real, fake, **options) == first
    assert critic_estimate_job((real, fake, options)) == first
    assert held_out_critic_estimate(real, fake, **{**options, "seed": 4}) != first
    # map_jobs sends the function and its results between processes
    assert pickle.loads(pickle.dumps(first)) == first and pickle.loads(pickle.dumps(critic_estimate_job))


def test_only_the_training_rows_move_the_critic():
    # Changing a held-out point changes the score, not the critic: the estimate moves by exactly
    # (f(new) - f(old)) / held_out, which is small; changing a training point changes the critic.
    real, fake = gaussians(300, (1.0, 0.0), seed=5)
    options = {"held_out": 100, "steps": 20}
    base = held_out_critic_estimate(real, fake, **options)
    held = fake.clone()
    held[0] += 100.0
    moved_held = held_out_critic_estimate(real, held, **options)
    assert moved_held.train_estimate == pytest.approx(base.train_estimate, abs=1e-6)
    trained = fake.clone()
    trained[150] += 100.0
    assert held_out_critic_estimate(real, trained, **options).train_estimate != pytest.approx(
        base.train_estimate, abs=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"held_out": 300}, "held_out=300"),
    ({"held_out": 1}, "held_out=1"),
    ({"held_out": 100, "steps": 0}, "steps=0"),
])
def test_bad_arguments_are_named(kwargs, message):
    real, fake = gaussians(300, (1.0, 0.0), seed=0)
    with pytest.raises(ValueError, match=message):
        held_out_critic_estimate(real, fake, **{"steps": 1, **kwargs})


def test_points_of_different_dimension_are_refused():
    with pytest.raises(ValueError, match=r"\(300, 2\) and \(300, 3\)"):
        held_out_critic_estimate(torch.zeros(300, 2), torch.zeros(300, 3), held_out=100, steps=1)

