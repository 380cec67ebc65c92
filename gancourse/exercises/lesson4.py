"""Checks for lesson 4 (WGAN and WGAN-GP: Arjovsky et al. 2017, Gulrajani et al. 2017)."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._stub import explain_error

__all__ = ["check_wasserstein_1d", "check_gradient_penalty", "check_wgan_gp_critic"]


class _NotDone(Exception):
    """The learner's function is still a stub: it raised NotImplementedError or returned None / ``...``."""


def _answer(fn: Callable, *args):
    """``fn(*args)``, with a stub (``raise NotImplementedError``, a bare ``...`` or ``pass``) reported as
    not done rather than as an error in our code."""
    try:
        out = fn(*args)
    except NotImplementedError:
        raise _NotDone from None
    except Exception as err:  # the learner's bug, named in one line instead of a traceback through the checker
        raise AssertionError(explain_error(err)) from None
    if out is None or out is Ellipsis:
        raise _NotDone
    return out


def _not_done(what: str, hint: str) -> None:
    print(f"{what}: not done yet. Hint: {hint}")


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should return one number, got a tensor of shape {tuple(value.shape)}: "
                                 "average over the samples with .mean()")
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise AssertionError(f"{what} should return a number or a 0-d tensor, got {type(value).__name__}")


# --- exercise 1: W_1 between two samples --------------------------------------------------------------
def check_wasserstein_1d(fn: Callable[[torch.Tensor, torch.Tensor], object]) -> None:
    """Check ``fn(u, v)`` = W_1 between the empirical distributions of two 1-D samples of equal size.

    In 1-D the optimal transport plan never crosses: match the i-th smallest u with the i-th
    smallest v, so W_1 = mean_i |u_(i) - v_(i)|. A stub (``raise NotImplementedError``, or a body
    that returns nothing) is reported as not done yet; a wrong answer raises ``AssertionError``
    with a hint.

    Example:
        >>> check_wasserstein_1d(lambda u, v: (u.sort().values - v.sort().values).abs().mean())
        1-D Wasserstein distance: correct
        >>> def stub(u, v):
        ...     raise NotImplementedError
        >>> check_wasserstein_1d(stub)  # doctest: +ELLIPSIS
        1-D Wasserstein distance: not done yet. Hint: ...
    """
    try:
        _check_wasserstein_1d(fn)
    except _NotDone:
        _not_done("1-D Wasserstein distance", "in 1-D the cheapest plan never crosses: it sends the i-th smallest "
                  "point of u to the i-th smallest point of v (torch.sort), each carrying mass 1/n.")
        return
    print("1-D Wasserstein distance: correct")


def _check_wasserstein_1d(fn: Callable[[torch.Tensor, torch.Tensor], object]) -> None:
    from ..wasserstein import wasserstein_1d

    def t(*values: float) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float64)

    cases = [
        (t(0.0, 1.0), t(1.0, 2.0), "u = (0, 1), v = (1, 2): every point moves by 1"),
        (t(0.0, 3.0), t(2.0, 1.0), "u = (0, 3), v = (2, 1)"),
        (t(-1.0, 1.0), t(0.0, 0.0), "u = (-1, 1), v = (0, 0): equal means, but mass must still move"),
        (t(0.0, 0.0, 0.0, 1.0), t(1.0, 1.0, 1.0, 1.0), "u = (0, 0, 0, 1), v = (1, 1, 1, 1)"),
        (t(5.0, 2.0, 7.0), t(7.0, 5.0, 2.0), "v is a permutation of u"),
    ]
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(50, generator=gen, dtype=torch.float64)
    v = 2 * torch.randn(50, generator=gen, dtype=torch.float64) + 1
    cases.append((u, v, "two random samples of 50"))
    for u, v, what in cases:
        expected = wasserstein_1d(u, v)
        got = _number(_answer(fn, u.clone(), v.clone()), "your function")
        if abs(got - expected) <= 1e-6:
            continue
        hint = ""
        if abs(got - float((u - v).abs().mean())) <= 1e-9:
            hint = " You paired u[i] with v[i] as given: sort both samples first."
        elif abs(got - abs(float(u.mean() - v.mean()))) <= 1e-9:
            hint = " |mean(u) - mean(v)| is only a lower bound: compare the sorted samples point by point."
        elif abs(got - float((u.sort().values - v.sort().values).pow(2).mean())) <= 1e-9:
            hint = " That is the mean SQUARED gap (W_2 squared); W_1 uses absolute gaps."
        raise AssertionError(f"{what}: expected W_1 = {expected:.6f}, got {got:.6f}.{hint}")


# --- exercise 2: the gradient penalty -----------------------------------------------------------------
class _LinearCritic(nn.Module):
    """f(x) = w . x with w = (3, 4): gradient norm 5 everywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w


def _quadratic_critic(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x.pow(2).sum(1)  # gradient x, so the gradient norm at x_hat is ||x_hat||


def check_gradient_penalty(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(critic, real, fake, eps, lam)`` = lam * mean_i (||grad f(x_hat_i)|| - 1)^2 with
    x_hat_i = eps_i real_i + (1 - eps_i) fake_i (Gulrajani et al. 2017, Eq. 3), and that the
    result can be differentiated with respect to the critic's weights (``create_graph=True``).

    Example:
        >>> def gp(critic, real, fake, eps, lam):
        ...     x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        ...     (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        ...     return lam * (g.norm(dim=1) - 1).pow(2).mean()
        >>> check_gradient_penalty(gp)
        gradient penalty: correct
        >>> check_gradient_penalty(lambda critic, real, fake, eps, lam: ...)  # doctest: +ELLIPSIS
        gradient penalty: not done yet. Hint: ...
    """
    try:
        _check_gradient_penalty(fn)
    except _NotDone:
        _not_done("gradient penalty", "Eq. 3 at the interpolates x_hat; torch.autograd.grad gives the critic's "
                  "gradient with respect to x_hat once x_hat requires grad.")
        return
    print("gradient penalty: correct")


def _check_gradient_penalty(fn: Callable[..., torch.Tensor]) -> None:
    def d(*rows: list[float]) -> torch.Tensor:
        return torch.tensor(rows, dtype=torch.float64)

    # Quadratic critic: x_hat = (1, 0) and (3, 0) -> norms 1 and 3 -> mean((0, 2)^2) = 2.
    real, fake, eps = d([4.0, 0.0], [4.0, 0.0]), d([0.0, 0.0], [0.0, 0.0]), d([0.25], [0.75])
    cases = [(_quadratic_critic, real, fake, eps, 1.0, 2.0, "f(x) = ||x||^2 / 2 with lambda = 1"),
             (_quadratic_critic, real, fake, eps, 10.0, 20.0, "the same with lambda = 10")]
    # x_hat = (0.4, 0): norm 0.4 < 1 costs (0.4 - 1)^2 = 0.36 with the two-sided penalty; this case
    # also tells apart a swapped eps (x_hat = (1.2, 0), 0.04) and a squared norm ((0.16 - 1)^2).
    cases.append((_quadratic_critic, d([1.6, 0.0]), d([0.0, 0.0]), d([0.25]), 1.0, 0.36,
                  "gradient norm 0.4 (< 1) at x_hat"))
    for critic, real, fake, eps, lam, expected, what in cases:
        try:
            out = _answer(fn, critic, real.clone(), fake.clone(), eps.clone(), lam)
        except AssertionError as err:
            if "does not require grad" not in str(err):
                raise
            raise AssertionError(f"{what}: {err}. Did you call requires_grad_(True) on x_hat before evaluating "
                                 "the critic?") from None
        got = _number(out, "your function")
        if abs(got - expected) <= 1e-6:
            continue
        x_swap = (1 - eps) * real + eps * fake
        hints = {
            "interpolate the other way round: x_hat = eps * real + (1 - eps) * fake":
                lam * float((x_swap.norm(dim=1) - 1).pow(2).mean()),
            "take one norm per sample (dim=1), not one norm of the whole batch's gradient":
                lam * (float((eps * real + (1 - eps) * fake).norm()) - 1) ** 2,
            "the penalty is two-sided: (||g|| - 1)^2 also when ||g|| < 1":
                lam * float(((eps * real + (1 - eps) * fake).norm(dim=1) - 1).clamp(min=0).pow(2).mean()),
            "use the norm ||g||, not the squared norm ||g||^2":
                lam * float(((eps * real + (1 - eps) * fake).pow(2).sum(1) - 1).pow(2).mean()),
        }
        hint = next((h for h, v in hints.items() if abs(got - v) <= 1e-6 and abs(v - expected) > 1e-6), "")
        raise AssertionError(f"{what}: expected {expected:.4f}, got {got:.4f}." + (f" Hint: {hint}." if hint else ""))
    # The penalty must be part of the critic's graph, or it never changes the critic.
    critic = _LinearCritic()
    out = _answer(fn, critic, d([1.0, 2.0], [0.0, 1.0]), d([0.0, 0.0], [3.0, 1.0]), d([0.3], [0.6]), 10.0)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError("the penalty does not depend on the critic's weights: pass create_graph=True to "
                             "torch.autograd.grad so the optimiser can differentiate through the gradient")
    (grad,) = torch.autograd.grad(out, critic.w)
    # d/dw lambda (||w|| - 1)^2 = 2 lambda (||w|| - 1) w / ||w|| = 2 * 10 * 4 * (0.6, 0.8)
    if not torch.allclose(grad, torch.tensor([48.0, 64.0], dtype=torch.float64), atol=1e-6):
        raise AssertionError(f"for f(x) = w.x with w = (3, 4) the penalty's gradient w.r.t. w is (48, 64), "
                             f"got {grad.tolist()}")


# --- exercise 3: spot the bug in a WGAN-GP critic -----------------------------------------------------
def _flat(out: torch.Tensor) -> torch.Tensor:
    if out.dim() == 2 and out.shape[1] == 1:
        return out[:, 0]
    return out


class _ShapedLinear(nn.Module):
    """f(x) = (3, 4) . x, returned in the same shape convention as the learner's critic."""

    def __init__(self, column: bool) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([3.0, 4.0]))
        self.column = column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.w
        return out[:, None] if self.column else out


_SQUASHING = ("Sigmoid", "Tanh", "Softmax", "Hardtanh", "Hardsigmoid", "LogSigmoid")
_BUGS = {
    "squashed": "the critic ends in {name} (module {where!r}): a WGAN critic outputs an unbounded score f(x), not "
                "a probability; a squashed output caps the W_1 estimate (here W_1 = 2, a sigmoid's gap is at most "
                "1) and kills the gradients where it saturates. Remove it.",
    "mixing": "f(x) for a sample changes when the OTHER samples of the batch change: the critic mixes samples "
              "(batch norm?). The gradient penalty constrains each sample's gradient on its own, so WGAN-GP critics "
              "use no batch norm (layer norm, or none; Gulrajani et al. 2017, Sec. 4).",
    "no penalty": "critic_loss has no Lipschitz constraint: nothing stops f from growing without bound. Add the "
                  "gradient penalty 10 * E[(||grad f(x_hat)|| - 1)^2] on interpolates x_hat.",
}
_COLLEAGUE = set(_BUGS)  # the three bugs of the code the exercise starts from


def check_wgan_gp_critic(make_critic: Callable[[], nn.Module],
                         critic_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
                         train_steps: int = 200) -> None:
    """Check a WGAN-GP critic for 2-D data: ``make_critic()`` builds it, ``critic_loss(critic, real,
    fake)`` is the loss its optimiser minimises (Gulrajani et al. 2017, Algorithm 1, lambda = 10):

        L = E[f(fake)] - E[f(real)] + 10 * E[(||grad f(x_hat)|| - 1)^2]

    The checks: no Sigmoid or other squashing output (a critic outputs unbounded scores, not
    probabilities); nothing that mixes samples, such as batch norm (the penalty is per sample); a
    loss with the right sign and a differentiable penalty; and finally the critic, trained for
    ``train_steps`` steps with Adam (1e-3, betas (0.5, 0.9)) between N((0, 0), 0.1 I) and
    N((2, 0), 0.1 I), estimates their W_1 = 2 with gradient norms near 1 between them.

    The exercise starts from a colleague's code with three bugs (a Sigmoid, batch norm, no
    penalty): while all three are there, or while either function is a stub, the check reports
    "not done yet". Once some are fixed, it raises ``AssertionError`` naming every problem left.

    Example:
        >>> from gancourse.losses import gradient_penalty
        >>> def make():
        ...     return nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
        ...                          nn.Linear(64, 1), nn.Flatten(0))
        >>> def loss(critic, real, fake):
        ...     return critic(fake).mean() - critic(real).mean() + gradient_penalty(critic, real, fake, 10.0)
        >>> check_wgan_gp_critic(make, loss)  # doctest: +ELLIPSIS
        WGAN-GP critic: correct (W_1 estimate ..., true 2; mean gradient norm ...)
        >>> def colleague():
        ...     return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Linear(8, 1), nn.Sigmoid())
        >>> check_wgan_gp_critic(colleague, lambda c, real, fake: c(fake).mean() - c(real).mean())
        ... # doctest: +ELLIPSIS
        WGAN-GP critic: not done yet. Hint: this is still the colleague's code, with all three bugs...
    """
    try:
        torch.manual_seed(0)
        critic = _answer(make_critic)
        problems = _critic_problems(critic, critic_loss)
    except _NotDone:
        _not_done("WGAN-GP critic", "make_critic() should return the repaired nn.Module and critic_loss(critic, "
                  "real, fake) the loss to minimise; start from the colleague's code shown above.")
        return
    if set(problems) == _COLLEAGUE:
        _not_done("WGAN-GP critic", "this is still the colleague's code, with all three bugs. Look at what the "
                  "critic's last layer does to its output, at what its normalisation layers do with a batch, and "
                  "at what in the loss keeps f Lipschitz.")
        return
    if problems:
        fixed = len(_COLLEAGUE - set(problems))
        raise AssertionError(f"{fixed} of the 3 bugs fixed; still wrong:\n- " + "\n- ".join(problems.values()))
    estimate, mean_norm = _train_critic(critic, critic_loss, train_steps)
    print(f"WGAN-GP critic: correct (W_1 estimate {estimate:.3f}, true 2; mean gradient norm {mean_norm:.3f})")


def _critic_problems(critic: nn.Module, critic_loss: Callable) -> dict[str, str]:
    """Every problem found without training, keyed by name (the colleague's bugs use the keys of _BUGS)."""
    if not isinstance(critic, nn.Module):
        raise AssertionError(f"make_critic() should return an nn.Module, got {type(critic).__name__}")
    problems: dict[str, str] = {}
    for where, module in critic.named_modules():
        name = type(module).__name__
        if name in _SQUASHING:
            problems["squashed"] = _BUGS["squashed"].format(name=name, where=where or "the critic itself")
            break
    x = torch.randn(8, 2)
    critic.train()
    with torch.no_grad():
        out = _answer(critic, x)
    if not isinstance(out, torch.Tensor) or out.shape not in ((8,), (8, 1)):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"for 8 points of shape (2,) the critic should return shape (8,) or (8, 1), got {shape}")
    with torch.no_grad():
        alone = _flat(critic(torch.cat([x[:4], torch.zeros(4, 2)])))[:4]
        other = _flat(critic(torch.cat([x[:4], 10 + 5 * torch.randn(4, 2)])))[:4]
    if not torch.allclose(alone, other, atol=1e-5):
        problems["mixing"] = _BUGS["mixing"]

    # The loss on a critic we can compute by hand: gradient norm 5 everywhere.
    real, fake = torch.tensor([[1.0, 1.0], [2.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    probe = _ShapedLinear(column=out.dim() == 2)
    loss = _answer(critic_loss, probe, real, fake)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise AssertionError(f"critic_loss should return a single-number tensor to minimise, got {shape}: average "
                             "each term over its batch with .mean()")
    if not loss.requires_grad:
        raise AssertionError("critic_loss returns a tensor that is not connected to the critic (a .detach(), .item() "
                             "or torch.no_grad() on the way?): the optimiser trains the critic through backward()")
    w_part = float((fake @ probe.w.detach()).mean() - (real @ probe.w.detach()).mean())  # -0.5 - 6.5 = -7
    expected = w_part + 10 * (5 - 1) ** 2
    got = float(loss.detach())
    if abs(got - expected) > 1e-3:
        if abs(got - w_part) < 1e-3:
            problems["no penalty"] = _BUGS["no penalty"]
        elif abs(got + w_part) < 1e-3 or abs(got - (-w_part + 160)) < 1e-3:
            problems["sign"] = ("wrong sign: the critic MINIMISES E[f(fake)] - E[f(real)] (it raises f on real data "
                                "and lowers it on generated data)")
        else:
            problems["loss"] = (f"for f(x) = (3, 4).x the loss should be E[f(fake)] - E[f(real)] + 10 * (5 - 1)^2 = "
                                f"{expected:.3f}, got {got:.3f} (lambda should be 10)")
        return problems
    probe.zero_grad()
    loss.backward()
    grad_w = probe.w.grad
    expected_grad = (fake.mean(0) - real.mean(0)) + 2 * 10 * (5 - 1) * torch.tensor([0.6, 0.8])
    if grad_w is None or not torch.allclose(grad_w, expected_grad, atol=1e-3):
        problems["detached"] = ("the penalty does not reach the critic's weights: use create_graph=True in "
                                "torch.autograd.grad (or gancourse.losses.gradient_penalty)")
    return problems


def _train_critic(critic: nn.Module, critic_loss: Callable, train_steps: int) -> tuple[float, float]:
    """Train the critic between two Gaussians 2 apart; its W_1 estimate and mean gradient norm between them."""
    from ..lipschitz import gradient_norms_on_interpolates

    gen = torch.Generator().manual_seed(1)
    shift = torch.tensor([2.0, 0.0])

    def sample_p(n: int) -> torch.Tensor:
        return 0.1 ** 0.5 * torch.randn(n, 2, generator=gen)

    def sample_q(n: int) -> torch.Tensor:
        return 0.1 ** 0.5 * torch.randn(n, 2, generator=gen) + shift

    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(train_steps):
        loss = _answer(critic_loss, critic, sample_p(256), sample_q(256))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    real, fake = sample_p(2000), sample_q(2000)
    with torch.no_grad():
        estimate = float(_flat(critic(real)).mean() - _flat(critic(fake)).mean())
    norms = gradient_norms_on_interpolates(lambda v: _flat(critic(v)), real, fake, generator=gen)
    if not (1.5 <= estimate <= 2.5):
        raise AssertionError(f"after {train_steps} steps the critic estimates W_1 = {estimate:.3f} between two "
                             "Gaussians exactly 2 apart; a correct WGAN-GP critic gets close to 2 (is its output "
                             "squashed, or its penalty too weak?)")
    if not (0.7 <= float(norms.mean()) <= 1.4):
        raise AssertionError(f"the trained critic's mean gradient norm on interpolates is {float(norms.mean()):.3f}; "
                             "the penalty should hold it near 1")
    return estimate, float(norms.mean())
