"""GAN losses, each next to the formula it implements.

Conventions: ``D`` returns raw logits (or critic values) of shape (N,); ``sigma`` is the logistic
sigmoid, so D(x) = sigma(logit). Working on logits with ``softplus`` is the numerically stable
form of the log-probabilities: log sigma(t) = -softplus(-t), log(1 - sigma(t)) = -softplus(t).
Every loss is something to *minimise*.

The training loop looks losses and penalties up by name instead of branching on them: ``GAME_LOSSES``
maps each ``TrainConfig.loss`` to a ``GameLoss`` (D's loss, G's loss, how to read D's output), and
``PENALTIES`` maps each penalty to the function adding it to D's loss and the config field holding its
weight; ``penalties_for(loss, r1_gamma)`` lists the ones a run uses. A new loss is one entry here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating",
    "critic_loss_wasserstein", "generator_loss_wasserstein", "gradient_penalty", "clip_weights_",
    "discriminator_loss_hinge", "generator_loss_hinge", "r1_penalty",
    "GameLoss", "GAME_LOSSES", "game_loss", "Penalty", "PENALTIES", "penalties_for",
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


def discriminator_loss_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018, Eq. 16):

        L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]

    D's raw score is pushed above +1 on real data and below -1 on fakes, and no further: a sample already
    beyond its margin gives no gradient, so D stops spending capacity on points it classifies well.

    Example:
        >>> float(discriminator_loss_hinge(torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])))  # .5/2 + 1/2
        0.75
    """
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def generator_loss_hinge(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator loss of the hinge GAN (Miyato et al. 2018, Eq. 17): L_G = -E_z[D(G(z))].

    The same formula as WGAN's generator loss; only D's loss (and so what D's score means) differs.

    Example:
        >>> float(generator_loss_hinge(torch.tensor([1.0, -3.0])))
        1.0
    """
    return -fake_scores.mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 regulariser on real data (Mescheder, Geiger & Nowozin 2018, Eq. 9):

        R1 = gamma / 2 * E_x~p_data[ ||grad_x D(x)||^2 ]

    It penalises D's slope on the data only, so at the equilibrium (G = data, D flat there) the penalty
    and its gradient vanish; the paper proves local convergence with it where the plain GAN oscillates
    (Theorem 4.1; see ``gancourse.dirac``). ``create_graph=True`` lets it be differentiated w.r.t. D's weights.

    Example:
        >>> lin = nn.Linear(2, 1, bias=False); _ = lin.weight.data.copy_(torch.tensor([[3.0, 4.0]]))  # ||grad||^2 = 25
        >>> r1_penalty(lambda x: lin(x).squeeze(1), torch.randn(4, 2), gamma=2.0).item()
        25.0
    """
    if not gamma >= 0:
        raise ValueError(f"R1 weight gamma must be >= 0, got gamma={gamma}")
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.flatten(1).pow(2).sum(1).mean()


# --- the registry the training loop looks up ----------------------------------------------------------------


@dataclass(frozen=True)
class GameLoss:
    """One GAN objective: D's loss ``d_loss(real_out, fake_out)``, G's loss ``g_loss(fake_out)``, and how
    to read D's raw output.

    ``is_critic``: D is a critic f(x) scoring each sample on its own (the Wasserstein losses), so it gets no
    batch norm by default (``config.CRITIC_LOSSES``, ``models.build.default_norms``). ``logits``: D's output
    is the logit of a probability, so the history's d_real / d_fake report sigmoid(output) (the gan losses);
    otherwise they report the raw scores. ``penalty``: the name in ``PENALTIES`` that belongs to the loss
    itself (WGAN-GP's gradient penalty), or None.

    Example:
        >>> hinge = GAME_LOSSES["hinge"]
        >>> hinge.is_critic, hinge.logits, float(hinge.g_loss(torch.tensor([2.0])))
        (False, False, -2.0)
    """

    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    is_critic: bool
    logits: bool
    penalty: str | None = None
    reference: str = ""

    @property
    def clipped(self) -> bool:
        """A critic with no penalty of its own: weight clipping is its Lipschitz constraint (WGAN, Algorithm 1,
        line 7).

        Example:
            >>> GAME_LOSSES["wgan"].clipped, GAME_LOSSES["wgan-gp"].clipped, GAME_LOSSES["hinge"].clipped
            (True, False, False)
        """
        return self.is_critic and self.penalty is None


GAME_LOSSES: dict[str, GameLoss] = {
    "gan": GameLoss(discriminator_loss, generator_loss_minimax, False, True,
                    reference="Goodfellow et al. 2014, Eq. 1 (minimax)"),
    "nsgan": GameLoss(discriminator_loss, generator_loss_nonsaturating, False, True,
                      reference="Goodfellow et al. 2014, Sec. 3 (non-saturating)"),
    "wgan": GameLoss(critic_loss_wasserstein, generator_loss_wasserstein, True, False,
                     reference="Arjovsky et al. 2017, Algorithm 1"),
    "wgan-gp": GameLoss(critic_loss_wasserstein, generator_loss_wasserstein, True, False, penalty="gp",
                        reference="Gulrajani et al. 2017, Algorithm 1"),
    "hinge": GameLoss(discriminator_loss_hinge, generator_loss_hinge, False, False,
                      reference="Lim & Ye 2017; Miyato et al. 2018, Eq. 16-17"),
}
"""Every ``TrainConfig.loss`` by name (``config.LOSSES`` is its keys)."""


def game_loss(name: str) -> GameLoss:
    """The registry entry for loss ``name``; ``ValueError`` lists the valid names.

    Example:
        >>> game_loss("wgan-gp").penalty
        'gp'
    """
    if not isinstance(name, str) or name not in GAME_LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid choices: {', '.join(GAME_LOSSES)}")
    return GAME_LOSSES[name]


def _gradient_penalty_term(critic, real, fake, weight, generator):
    # Looks gradient_penalty up when called, so a test that wraps losses.gradient_penalty sees every call.
    return gradient_penalty(critic, real, fake, weight, generator=generator)


def _r1_term(critic, real, fake, weight, generator):
    return r1_penalty(critic, real, weight)  # real data only: no fakes, no random numbers


@dataclass(frozen=True)
class Penalty:
    """A term added to D's loss: ``compute(critic, real, fake, weight, generator)`` with ``weight`` read
    from the ``TrainConfig`` field ``weight_field``. The loop evaluates it in float32, outside autocast.

    Example:
        >>> PENALTIES["r1"].weight_field
        'r1_gamma'
    """

    compute: Callable[..., torch.Tensor]
    weight_field: str
    reference: str = ""


PENALTIES: dict[str, Penalty] = {
    "gp": Penalty(_gradient_penalty_term, "gp_lambda", "Gulrajani et al. 2017, Eq. 3"),
    "r1": Penalty(_r1_term, "r1_gamma", "Mescheder, Geiger & Nowozin 2018, Eq. 9"),
}


def penalties_for(loss: str, r1_gamma: float = 0.0) -> tuple[Penalty, ...]:
    """The penalties a run adds to D's loss, in the order they are added: the loss's own (WGAN-GP's
    gradient penalty), then R1 when ``r1_gamma > 0``. R1 combines with any loss.

    Example:
        >>> [p.weight_field for p in penalties_for("wgan-gp")], [p.weight_field for p in penalties_for("hinge", 10.0)]
        (['gp_lambda'], ['r1_gamma'])
    """
    own = game_loss(loss).penalty
    names = ([own] if own else []) + (["r1"] if r1_gamma > 0 else [])
    return tuple(PENALTIES[name] for name in names)
