"""Checks for lesson 6 (the stabilisers of modern GANs), and the package's worked solutions of its exercises.

1. ``hinge_d_loss``: the hinge loss of D (Lim & Ye 2017; Miyato et al. 2018, Eq. 16);
2. ``r1``: the R1 penalty on real data (Mescheder, Geiger & Nowozin 2018, Eq. 9);
3. ``spectral_norm_estimate``: sigma(W) by power iteration (Miyato et al. 2018, Algorithm 1).

Each ``check_*`` calls your function on small inputs whose answers are known (computed by the package's
own ``gancourse.losses`` or by construction). It prints one line when they all pass, prints "not done
yet" and a hint while your function is still the stub (it raises ``NotImplementedError`` or returns
``None`` / ``...``), and raises ``AssertionError`` with a hint naming the mistake otherwise, as the other
lessons' checks do; an error raised inside your function is reported the same way, as a hint, not as a
traceback through our code. The notebook's later cells use the package's versions (``gancourse.losses``,
``gancourse.models.spectral``), never the learner's.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import losses
from ..models.spectral import power_iteration
from ._stub import call_reporting_errors, reports_stub

__all__ = ["check_hinge_d_loss", "check_r1", "check_spectral_norm_estimate",
           "hinge_d_loss", "r1", "spectral_norm_estimate"]


# --- worked solutions -------------------------------------------------------------------------------------

def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Worked solution 1: L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))] (Miyato et al. 2018, Eq. 16).

    D's raw scores (no sigmoid) are pushed above +1 on real data and below -1 on fakes; a score already
    beyond its margin contributes 0 and no gradient.

    Example:
        >>> float(hinge_d_loss(torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])))  # (0 + 0.5)/2 + (0 + 1)/2
        0.75
    """
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def r1(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, gamma: float) -> torch.Tensor:
    """Worked solution 2: R1 = gamma / 2 * E_x~p_data ||grad_x D(x)||^2 (Mescheder et al. 2018, Eq. 9).

    The gradient is taken with respect to the *real* inputs (a detached copy that requires grad), one
    squared norm per sample, averaged over the batch; ``create_graph=True`` keeps the penalty a function
    of D's weights, so that ``backward()`` trains D with it.

    Example:
        >>> lin = nn.Linear(2, 1, bias=False); _ = lin.weight.data.copy_(torch.tensor([[3.0, 4.0]]))
        >>> r1(lin, torch.randn(5, 2), gamma=2.0).item()  # grad_x = (3, 4) everywhere: 2/2 * 25
        25.0
    """
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.flatten(1).pow(2).sum(1).mean()


def spectral_norm_estimate(W: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Worked solution 3: the largest singular value sigma(W) by ``steps`` rounds of power iteration.

    Miyato et al. 2018, Algorithm 1: start from a random unit u, then repeat

        v <- W^T u / ||W^T u||,   u <- W v / ||W v||,

    and return sigma ~ u^T W v (= ||W v|| for the last, unit-length v). Both vectors are kept at length 1,
    so the estimate never exceeds sigma(W) and approaches it at the rate (sigma_2 / sigma_1)^2 per step.

    Example:
        >>> W = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
        >>> round(float(spectral_norm_estimate(W, steps=20)), 4)
        3.0
    """
    # The package's version (written out there) from a fixed start, so the answer is reproducible.
    return power_iteration(W, steps, u=torch.randn(W.shape[0], generator=torch.Generator().manual_seed(0),
                                                    dtype=W.dtype))


# --- helpers ----------------------------------------------------------------------------------------------



def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should return one number, got a tensor of shape {tuple(value.shape)}; "
                                 "average over the batch with .mean()")
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise AssertionError(f"{what} should return a number or a 0-d tensor, got {type(value).__name__}")


def _near(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(b))


# --- exercise 1: the hinge loss of D ----------------------------------------------------------------------

@reports_stub("the formula above, term by term: max(0, .) is F.relu; average each batch's term on its own, "
               "then add the two.")
def check_hinge_d_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(real_scores, fake_scores)`` = mean(relu(1 - real)) + mean(relu(1 + fake)) against
    ``gancourse.losses.discriminator_loss_hinge``, on random scores and at the margins.

    Example:
        >>> check_hinge_d_loss(hinge_d_loss)
        hinge loss of D: correct
        >>> def stub(real_scores, fake_scores):
        ...     raise NotImplementedError
        >>> check_hinge_d_loss(stub)  # doctest: +ELLIPSIS
        check_hinge_d_loss: not done yet (your function still raises NotImplementedError). Hint: ...
    """
    gen = torch.Generator().manual_seed(6)
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    cases = [
        (t(2.0, 1.5, 3.0), t(-2.0, -1.0, -4.0), "every score beyond its margin (reals >= +1, fakes <= -1): loss 0"),
        (t(0.0, 0.0), t(0.0, 0.0), "all scores 0: 1 + 1 = 2"),
        (t(2.0, 0.5), t(-3.0, 0.0), "reals (2, 0.5), fakes (-3, 0): 0.5 / 2 + 1 / 2 = 0.75"),
        (t(-1.0, 4.0, 0.5, 0.9), t(0.5, -0.5), "reals (-1, 4, 0.5, 0.9), fakes (0.5, -0.5): batches of unequal size"),
        (2 * torch.randn(64, generator=gen, dtype=torch.float64),
         2 * torch.randn(32, generator=gen, dtype=torch.float64), "64 random real and 32 random fake scores"),
    ]
    for real, fake, what in cases:
        expected = float(losses.discriminator_loss_hinge(real, fake))
        got = _number(call_reporting_errors(fn, real.clone(), fake.clone()), "your loss")
        if _near(got, expected):
            continue
        hint = ""
        if _near(got, float((1 - real).mean() + (1 + fake).mean())):
            hint = ("You forgot the max(0, .) (the relu): without it this is a linear (WGAN-like) loss, and a sample "
                    "beyond its margin still pulls on D.")
        elif _near(got, float(F.relu(1 - real).mean() + F.relu(1 - fake).mean())):
            hint = "Wrong sign on the fakes: D wants fake scores BELOW -1, so their term is max(0, 1 + score)."
        elif _near(got, float(F.relu(1 + real).mean() + F.relu(1 - fake).mean())):
            hint = "Real and fake are swapped: reals should score above +1 (max(0, 1 - score))."
        elif _near(got, float(F.relu(1 - real).sum() + F.relu(1 + fake).sum())):
            hint = "You summed over the batch; take the mean of each term, as every loss in gancourse.losses does."
        elif _near(got, float(F.relu(1 - torch.cat([real, -fake])).mean())):
            hint = "You averaged reals and fakes together; average each batch on its own, then add the two means."
        raise AssertionError(f"{what}: expected {expected:.6f}, got {got:.6f}." + (f" {hint}" if hint else ""))
    real = torch.tensor([0.5, 2.0], requires_grad=True)
    fake = torch.tensor([-0.5, -3.0], requires_grad=True)
    out = call_reporting_errors(fn, real, fake)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError("return the loss as a tensor connected to the scores (no .item() or float()): "
                             "D is trained by calling backward() on it")
    out.backward()
    expected_real, expected_fake = [-0.5, 0.0], [0.5, 0.0]
    if real.grad is None or fake.grad is None or real.grad.tolist() != expected_real or \
            fake.grad.tolist() != expected_fake:
        raise AssertionError(f"gradients: for reals (0.5, 2) and fakes (-0.5, -3) expected d loss / d real = "
                             f"{expected_real} and d loss / d fake = {expected_fake} (a score beyond its margin gets "
                             f"none); got {real.grad} and {fake.grad}")
    print("hinge loss of D: correct")


# --- exercise 2: the R1 penalty ---------------------------------------------------------------------------

def _mlp(seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return net


class _Flat(nn.Module):
    """D(x) = relu(x_0): flat (gradient 0) wherever x_0 < 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x[:, :1])


@reports_stub("torch.autograd.grad gives D's gradient with respect to the real inputs once they require grad "
               "(create_graph=True keeps it trainable); then the formula above.")
def check_r1(fn: Callable[[Callable[[torch.Tensor], torch.Tensor], torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(critic, real, gamma)`` = gamma / 2 * mean_i ||grad_x D(real_i)||^2 against
    ``gancourse.losses.r1_penalty`` on a small MLP, then that it trains D (it depends on D's weights).

    Example:
        >>> check_r1(r1)
        R1 penalty: correct
        >>> check_r1(lambda critic, real, gamma: None)  # doctest: +ELLIPSIS
        check_r1: not done yet (your function returns None). Hint: ...
    """
    gen = torch.Generator().manual_seed(60)
    real = torch.randn(16, 2, generator=gen, dtype=torch.float64)
    critic = _mlp(61)
    for gamma in (10.0, 1.0):
        expected = float(losses.r1_penalty(critic, real, gamma).detach())
        got = _number(call_reporting_errors(fn, critic, real.clone(), gamma), "your penalty")
        if _near(got, expected):
            continue
        x = real.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x)
        norms = g.norm(dim=1)
        hint = ""
        if _near(got, 2 * expected):
            hint = "You forgot the 1/2: R1 is gamma / 2 * E||grad||^2 (Mescheder et al. 2018, Eq. 9)."
        elif _near(got, gamma / 2 * float(norms.mean())):
            hint = "That uses the gradient's norm; R1 penalises the SQUARED norm ||grad||^2."
        elif _near(got, gamma / 2 * float((norms - 1).pow(2).mean())):
            hint = ("That is WGAN-GP's (||grad|| - 1)^2; R1 pushes D's gradient on real data towards 0, "
                    "not 1: gamma / 2 * ||grad||^2.")
        elif _near(got, len(real) * expected):
            hint = "You summed over the batch; average the squared norms over the samples."
        elif _near(got, expected / real.shape[1]):
            hint = ("You averaged the squared gradient over the input's coordinates too; sum them per sample "
                    "(that is ||grad||^2), then average over samples.")
        raise AssertionError(f"on a 2-16-1 MLP and 16 real points with gamma={gamma:g}: expected {expected:.6f}, "
                             f"got {got:.6f}." + (f" {hint}" if hint else ""))
    flat_real = -torch.rand(8, 2, generator=gen, dtype=torch.float64) - 0.1  # x_0 < 0: D is flat there
    got = _number(call_reporting_errors(fn, _Flat(), flat_real, 10.0), "your penalty")
    if abs(got) > 1e-12:
        raise AssertionError(f"D(x) = relu(x_0) is flat on real points with x_0 < 0, so R1 must be 0 there, got "
                             f"{got:.6f}. R1 only looks at the gradient on REAL data (not on fakes or interpolates).")
    lin = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
    out = call_reporting_errors(fn, lin, real.clone(), 2.0)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError("the penalty does not depend on D's weights, so it cannot train D: pass "
                             "create_graph=True to torch.autograd.grad and return a tensor (no .item())")
    out.backward()
    grad = lin.weight.grad
    if grad is None or not torch.allclose(grad, torch.tensor([[6.0, 8.0]], dtype=torch.float64)):
        raise AssertionError(f"for D(x) = w.x with w = (3, 4) and gamma = 2, R1 = ||w||^2 = 25 and its gradient "
                             f"with respect to w is gamma * w = (6, 8); got {None if grad is None else grad.tolist()}")
    print("R1 penalty: correct")


# --- exercise 3: spectral norm by power iteration ----------------------------------------------------------

def _with_spectrum(rows: int, cols: int, s: list[float], seed: int) -> torch.Tensor:
    """W = U diag(s) V^T with random orthonormal U (rows x k) and V (cols x k): singular values exactly s."""
    gen = torch.Generator().manual_seed(seed)
    k = len(s)
    U = torch.linalg.qr(torch.randn(rows, k, generator=gen, dtype=torch.float64)).Q
    V = torch.linalg.qr(torch.randn(cols, k, generator=gen, dtype=torch.float64)).Q
    return U @ torch.diag(torch.tensor(s, dtype=torch.float64)) @ V.T


@reports_stub("from a random unit vector, repeat section 2's two normalised updates (v from u, then u from v) "
               "`steps` times, then read sigma off as section 2 does.")
def check_spectral_norm_estimate(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(W, steps)`` ~ sigma_max(W) on float32 matrices W = U diag(s) V^T whose singular values s are
    known (and equal ``torch.linalg.matrix_norm(W, ord=2)``): close after many steps, never above sigma_max;
    and that it is an iteration: on a matrix with many singular values near the top, the estimate after 1
    step is clearly below sigma_max and rises by step 3 (an exact SVD would be right from the start).

    Example:
        >>> check_spectral_norm_estimate(spectral_norm_estimate)
        spectral norm by power iteration: correct
    """
    # float32, the dtype of torch.randn and of every weight a learner meets (its own vectors must match it)
    cases = [
        (_with_spectrum(4, 4, [5.0, 2.0, 1.0, 0.5], 1).float(), "a 4 x 4 matrix with singular values (5, 2, 1, 0.5)"),
        (_with_spectrum(6, 3, [2.0, 1.5, 0.1], 2).float(), "a 6 x 3 matrix with singular values (2, 1.5, 0.1)"),
        (_with_spectrum(3, 8, [1.0, 0.9, 0.2], 3).float(), "a 3 x 8 matrix with singular values (1, 0.9, 0.2)"),
    ]
    for W, what in cases:
        sigma = float(torch.linalg.matrix_norm(W, ord=2))
        got = _number(call_reporting_errors(fn, W.clone(), 200), "your estimate")
        early = max(_number(call_reporting_errors(fn, W.clone(), steps), "your estimate") for steps in (1, 3))
        too_big = ("With unit vectors, u^T W v and ||W v|| can never exceed sigma_max: normalise v (and u) after "
                   "every multiplication.")
        if _near(got, sigma, 1e-4):
            if early > sigma * (1 + 1e-5):
                raise AssertionError(f"{what}: after 1 or 3 steps your estimate is {early:.4f}, above sigma_max = "
                                     f"{sigma:.4f}. {too_big}")
            continue
        if _near(got, float(torch.linalg.matrix_norm(W, ord="fro")), 1e-4):
            hint = ("That is the Frobenius norm sqrt(sum of all W_ij^2) = sqrt(sum of all sigma_i^2), an upper "
                    "bound; the spectral norm is the largest singular value alone.")
        elif _near(got, sigma ** 2, 1e-4):
            hint = ("That is sigma^2, the top eigenvalue of W^T W: return ||W v|| (or u^T W v) with v of length 1, "
                    "not ||W^T W v||. " + too_big)
        elif W.shape[0] == W.shape[1] and _near(got, float(torch.linalg.eigvals(W).abs().max()), 1e-4):
            hint = ("That is W's largest |eigenvalue|: iterating v <- W v finds eigenvectors of W, which for a "
                    "non-symmetric W are not its singular vectors. Alternate W^T and W.")
        elif max(got, early) > sigma:
            hint = too_big
        else:
            hint = "Your estimate is still below sigma_max after 200 steps: does your loop really run `steps` times?"
        raise AssertionError(f"{what}: expected sigma_max = {sigma:.4f} after 200 steps, got {got:.4f}. {hint}")
    _check_it_iterates(fn)
    print("spectral norm by power iteration: correct")


def _check_it_iterates(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
    """Power iteration's own signature: from a random start its estimate is below sigma_max and rises with steps.

    On W with 64 singular values evenly spread over [0.1, 1], a random start has components of similar size
    along every singular direction, so after k steps the estimate is about sqrt(sum s^(4k) / sum s^(4k-2)) over
    the spectrum: well below 1 after 1 step and clearly higher after 3, whatever the start (each is a mean over
    3 calls). An exact method gives 1 at every step.
    """
    W = _with_spectrum(64, 64, torch.linspace(1.0, 0.1, 64).tolist(), 4).float()
    sigma = 1.0
    with torch.random.fork_rng(devices=[]):  # the learner's random stream is left as it was
        torch.manual_seed(0)
        after = {steps: sum(_number(call_reporting_errors(fn, W.clone(), steps), "your estimate")
                            for _ in range(3)) / 3 for steps in (1, 3)}
    what = "a 64 x 64 matrix with singular values spread evenly over [0.1, 1]"
    if after[1] > sigma * (1 - 1e-3):
        raise AssertionError(f"{what}: after 1 step your estimate is already {after[1]:.4f} = sigma_max. That is an "
                             "exact method (an SVD, matrix_norm or svdvals); the exercise is power iteration, whose "
                             "estimate starts below sigma_max and rises with every step.")
    if not after[1] < after[3] - 0.02:
        raise AssertionError(f"{what}: your estimate after 1 step is {after[1]:.4f} and after 3 steps {after[3]:.4f}; "
                             "power iteration's estimate rises with the steps. Does your loop run `steps` times?")

