"""The unrolled GAN's look-ahead discriminator (Metz et al. 2017), split from ``gancourse.train``.

Metz et al. 2017, Sec. 2.2: with f(theta_G, theta_D) the GAN value function,

    theta_D^0     = theta_D
    theta_D^{k+1} = theta_D^k + eta^k * df(theta_G, theta_D^k) / dtheta_D^k        (Eq. 4)
    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D))               (Eq. 6)
    theta_G <- theta_G - eta * df_K(theta_G, theta_D) / dtheta_G                  (Eq. 7)

The K steps are built with ``create_graph=True``, so the generator's gradient includes the term
through dtheta_D^K / dtheta_G: G is rewarded for moves that D cannot answer within K steps, which is
what discourages hopping onto a single mode. ``UnrolledCritic`` is the piece the training loop looks up
(``pieces.PIECES["unrolled_d"]``, on when ``TrainConfig.unroll_steps = K > 0``); it works with every
loss, penalty and conditioning (a conditional D is unrolled on labelled real batches and the fakes' labels).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["unrolled_parameters", "UnrolledCritic"]

Critic = Callable[..., torch.Tensor]


def unrolled_parameters(D: nn.Module, opt: torch.optim.Optimizer, objective: Callable[[Critic], torch.Tensor], *,
                        steps: int, betas: tuple[float, float], clip: float | None = None) -> dict[str, torch.Tensor]:
    """D's parameters after ``steps`` differentiable steps of its optimiser ``opt`` (Adam or RMSprop).

    ``objective(critic)`` is D's loss (penalties included) with D evaluated by ``critic(x)`` (``critic(x, y)``
    for a D that takes labels; its outputs in float32) at the current unrolled parameters; the training loop
    passes the same objective as in its D step, on one real and one fake batch. As in the authors' code, the
    steps continue ``opt``'s moment estimates; unlike their code, the second moment is a constant
    preconditioner (detached): its derivative adds little and its square root is not differentiable at zero.
    ``betas`` are Adam's (beta1, beta2); RMSprop uses its own ``alpha``. ``clip`` applies WGAN's clipping
    after each step. D itself is left untouched: the unroll updates copies of batch-norm statistics, and
    ``torch.func.functional_call(D, result, (x,))`` evaluates D with the returned parameters.

    Example:
        >>> D = nn.Linear(1, 1, bias=False); _ = nn.init.ones_(D.weight)
        >>> opt = torch.optim.RMSprop(D.parameters(), lr=0.01)  # alpha 0.99: first step g / sqrt(0.01 g^2) = 10
        >>> params = unrolled_parameters(D, opt, lambda critic: critic(torch.ones(1, 1)).sum(), steps=1, betas=(0, 0))
        >>> round(params["weight"].item(), 4), D.weight.item()  # 1 - 0.01 * 10; D itself unchanged
        (0.9, 1.0)
    """
    names = [name for name, _ in D.named_parameters()]
    originals = [p for _, p in D.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for p in originals]
    # Batch-norm running statistics are updated in place: give the unroll its own copies.
    buffers = {name: b.clone() for name, b in D.named_buffers()}
    adam = isinstance(opt, torch.optim.Adam)
    beta1, beta2 = betas if adam else (0.0, opt.defaults["alpha"])
    eps = opt.defaults["eps"]
    lr = opt.param_groups[0]["lr"]  # the current rate, so a schedule applies to the unroll too
    moments = []
    for p in originals:
        state = opt.state.get(p, {})
        m = state.get("exp_avg", torch.zeros_like(p)).detach()
        v = state.get("exp_avg_sq" if adam else "square_avg", torch.zeros_like(p)).detach()
        moments.append((m, v))
    t0 = float(opt.state.get(originals[0], {}).get("step", 0)) if originals else 0.0

    def critic(inputs: tuple, current: list[torch.Tensor]):
        out = torch.func.functional_call(D, {**dict(zip(names, current)), **buffers}, inputs)
        return out.float() if isinstance(out, torch.Tensor) else tuple(o.float() for o in out)  # AC-GAN: two heads

    for k in range(steps):
        loss = objective(lambda *inputs, now=params: critic(inputs, now))
        grads = torch.autograd.grad(loss, params, create_graph=True)
        t = t0 + k + 1
        updated, new_moments = [], []
        for p, g, (m, v) in zip(params, grads, moments):
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g.detach().square()
            if adam:
                step = (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps)
            else:
                step = g / (v.sqrt() + eps)
            p = p - lr * step
            if clip is not None:
                p = p.clamp(-clip, clip)
            updated.append(p)
            new_moments.append((m, v))
        params, moments = updated, new_moments
    return dict(zip(names, params))


class UnrolledCritic:
    """The unrolled GAN's generator step (Metz et al. 2017, Eq. 7): G is scored by D after ``steps`` = K
    differentiable look-ahead steps on one real batch and G's own fakes, f_K(theta_G, theta_D) (Eq. 6).

    ``critic = UnrolledCritic(K)(trainer, fake, y)`` is D evaluated at theta_D^K (``parameters``), called as
    D is (``critic(x)`` or ``critic(x, y)``). Weight clipping, the penalties and the conditioning's extra
    terms apply inside the unroll, precision as in the D step. Cost: about K extra forward-backward passes of D
    per generator step, plus the backward pass through them.

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, batch_size=8, device="cpu", unroll_steps=2))
        >>> fake = t.G(torch.randn(8, 4))
        >>> UnrolledCritic(2)(t, fake, None)(fake).shape
        torch.Size([8])
    """

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def parameters(self, trainer, fake: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """theta_D^K after ``steps`` optimiser steps on the trainer's next real batch and ``fake`` (labels ``y``).

        Example:
            >>> from gancourse.train import Trainer, TrainConfig
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, batch_size=8, device="cpu"))
            >>> params = UnrolledCritic(1).parameters(t, t.G(torch.randn(8, 4)))
            >>> sorted(params) == sorted(name for name, _ in t.D.named_parameters())
            True
        """
        cfg = trainer.cfg
        real, y_real = trainer._real_batch()

        def objective(critic):
            loss, penalty, _, _ = trainer._discriminator_objective(critic, critic, real, fake, y_real, y)
            return loss + penalty

        return unrolled_parameters(trainer.D, trainer.opt_d, objective, steps=self.steps,
                                   betas=(cfg.beta1, cfg.beta2), clip=cfg.clip)

    def __call__(self, trainer, fake: torch.Tensor, y: torch.Tensor | None) -> Critic:
        params = self.parameters(trainer, fake, y)
        # Parameters from the unroll, buffers (batch-norm statistics) D's own: the final pass counts once.
        return lambda *inputs: torch.func.functional_call(trainer.D, params, inputs)
