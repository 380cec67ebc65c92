"""GAN losses, each next to the formula it implements.

Conventions: ``D`` returns raw logits (or critic values) of shape (N,); ``sigma`` is the logistic
sigmoid, so D(x) = sigma(logit). Working on logits with ``softplus`` is the numerically stable
form of the log-probabilities: log sigma(t) = -softplus(-t), log(1 - sigma(t)) = -softplus(t).
Every loss is something to *minimise*.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating",
    "critic_loss_wasserstein", "generator_loss_wasserstein", "gradient_penalty", "clip_weights_",
]


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator BCE loss = -V(D, G) (Goodfellow et al. 2014, Eq. 1):

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]
            = E[softplus(-D_logit(x))] + E[softplus(D_logit(G(z)))]

    Example:
        >>> round(float(discriminator_loss(torch.zeros(3), torch.zeros(3))), 4)  # 2 log 2
        1.3863
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """Saturating (minimax) generator loss, the G side of Eq. 1 in Goodfellow et al. 2014:

        L_G = E_z[log(1 - D(G(z)))] = -E[softplus(D_logit(G(z)))]

    Its gradient vanishes when D confidently rejects fakes (D(G(z)) -> 0): early training stalls.

    Example:
        >>> round(float(generator_loss_minimax(torch.zeros(2))), 4)  # log(1/2)
        -0.6931
    """
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss (Goodfellow et al. 2014, Sec. 3): maximise log D(G(z)):

        L_G = -E_z[log D(G(z))] = E[softplus(-D_logit(G(z)))]

    Same fixed point as the minimax loss, much stronger gradients when D(G(z)) is small.

    Example:
        >>> round(float(generator_loss_nonsaturating(torch.zeros(2))), 4)  # -log(1/2)
        0.6931
    """
    return F.softplus(-fake_logits).mean()


def critic_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN critic loss (Arjovsky et al. 2017, Algorithm 1, line 6, as a minimisation):

        L_critic = E_z[f(G(z))] - E_x[f(x)]

    By Kantorovich-Rubinstein duality (Eq. 2), max over 1-Lipschitz f of -L_critic is W_1(P_r, P_g),
    so ``-L_critic`` is the run's Wasserstein estimate (up to the Lipschitz constant).

    Example:
        >>> float(critic_loss_wasserstein(torch.tensor([2.0, 4.0]), torch.tensor([1.0])))
        -2.0
    """
    return fake_scores.mean() - real_scores.mean()


def generator_loss_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN generator loss (Arjovsky et al. 2017, Algorithm 1, line 10): L_G = -E_z[f(G(z))].

    Example:
        >>> float(generator_loss_wasserstein(torch.tensor([1.0, 3.0])))
        -2.0
    """
    return -fake_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """Two-sided gradient penalty of WGAN-GP (Gulrajani et al. 2017, Eq. 3 and Algorithm 1):

        x_hat = eps * x + (1 - eps) * x_fake,   eps ~ U[0, 1] per sample
        GP    = lambda * E[(||grad_x_hat f(x_hat)||_2 - 1)^2]

    The optimal critic has gradient norm 1 on lines between coupled real and fake points
    (Proposition 1), so the penalty pushes toward it softly instead of clipping weights.
    ``create_graph=True`` lets the penalty itself be differentiated w.r.t. the critic's weights.

    Example:
        >>> lin = nn.Linear(2, 1, bias=False); _ = lin.weight.data.copy_(torch.tensor([[3.0, 4.0]]))  # ||grad|| = 5
        >>> gradient_penalty(lambda x: lin(x).squeeze(1), torch.zeros(4, 2), torch.ones(4, 2), 10.0).item()
        160.0
    """
    if weight < 0:
        raise ValueError(f"gradient penalty weight lambda must be >= 0, got {weight}")
    if eps is None:
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    grad_norm = grad.flatten(1).norm(2, dim=1)
    return weight * (grad_norm - 1).pow(2).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """WGAN weight clipping (Arjovsky et al. 2017, Algorithm 1, line 7): w <- clip(w, -c, c) for
    every parameter, after each critic update. A crude way to keep f K-Lipschitz for some K(c).

    Example:
        >>> lin = nn.Linear(3, 3); clip_weights_(lin, 0.01); lin.weight.abs().max().item() <= 0.01
        True
    """
    if c < 0:
        raise ValueError(f"clipping value c must be >= 0, got c={c}")
    for p in module.parameters():
        p.clamp_(-c, c)
