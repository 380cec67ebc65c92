"""The pieces Algorithm 1 looks up: what the lessons add to the plain loop, each turned on by one config field.

Goodfellow et al. 2014's Algorithm 1 takes k discriminator steps, then one generator step. The lessons add
four things to it that change neither the losses (``losses.GAME_LOSSES``) nor D's objective
(``losses.PENALTIES``), only *where* the loop gets something or what it does after an update:

    piece            TrainConfig field   slot           what it does
    weight clipping  clip = c            constrain_d    after each D step: w <- clip(w, -c, c)
    reuse of fakes   reuse_fakes         fakes          G's step scores the last D step's fakes again
    unrolled D       unroll_steps = K    critic_for_g   G is scored by D after K look-ahead steps
    average of G     ema_half_life       after_g_step   after each G step: theta_ema <- lerp(theta_ema, theta)

``PIECES`` names each one (a ``Piece``: its field, its slot, how to make it from the config, its paper);
``pieces_for(cfg)`` fills every slot, with the plain loop's behaviour (``DEFAULTS``) where no piece is on.
A new addition to the loop is one entry here, not a new branch in ``Trainer``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import nn

from .losses import clip_weights_
from .unrolled import UnrolledCritic

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["FreshFakes", "ReusedFakes", "WeightClipping", "no_constraint", "plain_critic", "update_average",
           "no_average", "Piece", "PIECES", "DEFAULTS", "Pieces", "pieces_for"]

Fakes = tuple[torch.Tensor, "torch.Tensor | None"]  # (G(z) or G(z, y), y or None)


class FreshFakes:
    """Algorithm 1 as written (Goodfellow et al. 2014): every D step and the G step sample their own noise.

    D's fakes are drawn without a graph through G (that step trains D only); G's with one.

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, batch_size=8, device="cpu"))
        >>> FreshFakes().for_d(t, last=True)[0].requires_grad, FreshFakes().for_g(t)[0].requires_grad
        (False, True)
    """

    def for_d(self, trainer, last: bool) -> Fakes:
        """The fakes of a D step; ``last``: the last of the ``n_critic`` D steps before G's."""
        with torch.no_grad(), trainer._autocast():
            return trainer._generate(trainer.cfg.batch_size)

    def for_g(self, trainer) -> Fakes:
        """The fakes of the G step, with their graph through G."""
        with trainer._autocast():
            return trainer._generate(trainer.cfg.batch_size)


class ReusedFakes(FreshFakes):
    """Reuse of fakes, as in the PyTorch DCGAN tutorial's loop (Inkawhich, "DCGAN Tutorial", pytorch.org):
    the last D step draws its fakes *with* the graph through G and trains D on a detached copy; the G
    step then backpropagates through that same batch instead of drawing a new one (one forward pass of G
    fewer per step, and G is scored on the very batch D just learned from).

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, batch_size=8, device="cpu"))
        >>> fakes = ReusedFakes(); x_d, _ = fakes.for_d(t, last=True); x_g, _ = fakes.for_g(t)
        >>> torch.equal(x_d, x_g), x_d.requires_grad, x_g.requires_grad
        (True, False, True)
    """

    def __init__(self) -> None:
        self.kept: Fakes | None = None

    def for_d(self, trainer, last: bool) -> Fakes:
        if not last:
            return super().for_d(trainer, last)
        with trainer._autocast():
            self.kept = trainer._generate(trainer.cfg.batch_size)
        return self.kept[0].detach(), self.kept[1]

    def for_g(self, trainer) -> Fakes:
        kept, self.kept = self.kept, None
        return super().for_g(trainer) if kept is None else kept


def no_constraint(D: nn.Module) -> None:
    """The plain loop: D's weights stay as its optimiser left them.

    Example:
        >>> no_constraint(nn.Linear(1, 1)) is None
        True
    """


@dataclass(frozen=True)
class WeightClipping:
    """WGAN's Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1, line 7): after every critic update,

        w <- clip(w, -c, c)

    for every weight of D, so f stays in a compact set of K-Lipschitz functions (``losses.clip_weights_``).

    Example:
        >>> D = nn.Linear(2, 1); _ = nn.init.constant_(D.weight, 3.0); _ = nn.init.constant_(D.bias, -0.1)
        >>> WeightClipping(0.5)(D); D.weight.tolist(), D.bias.tolist()
        ([[0.5, 0.5]], [-0.10000000149011612])
    """

    c: float

    def __call__(self, D: nn.Module) -> None:
        clip_weights_(D, self.c)


def plain_critic(trainer, fake: torch.Tensor, y: torch.Tensor | None) -> Callable[..., Any]:
    """The plain loop: G is scored by D as it is now (the compiled forward when ``cfg.compile``).

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"))
        >>> plain_critic(t, None, None) is t.D_fwd
        True
    """
    return trainer.D_fwd


def no_average(trainer) -> None:
    """The plain loop: no average of G is kept.

    Example:
        >>> no_average(None) is None
        True
    """


def update_average(trainer) -> None:
    """One step of the average of G's weights (Karras et al. 2018, Sec. A.1; Yazici et al. 2019), after
    every generator step: theta_ema <- beta theta_ema + (1 - beta) theta (``ema.EMA.update``).

    Example:
        >>> from gancourse.train import Trainer, TrainConfig
        >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu", ema_half_life=5))
        >>> update_average(t); t.ema.updates
        1
    """
    trainer.ema.update(trainer.G)


class Pieces(NamedTuple):
    """The slots of the loop, each filled by a piece or by the plain loop's default (``pieces_for``).

    Example:
        >>> Pieces._fields
        ('fakes', 'constrain_d', 'critic_for_g', 'after_g_step')
    """

    fakes: FreshFakes
    constrain_d: Callable[[nn.Module], None]
    critic_for_g: Callable[..., Callable[..., Any]]
    after_g_step: Callable[[Any], None]


@dataclass(frozen=True)
class Piece:
    """One addition to Algorithm 1: on when the ``TrainConfig`` field ``field`` is set (not 0, None or False);
    ``make(cfg)`` builds what fills the loop's slot ``slot`` (a field of ``Pieces``).

    Example:
        >>> PIECES["weight_clipping"].field, PIECES["weight_clipping"].slot
        ('clip', 'constrain_d')
    """

    field: str
    slot: str
    make: Callable[[TrainConfig], Any]
    reference: str

    def is_on(self, cfg: TrainConfig) -> bool:
        """Whether ``cfg`` turns this piece on.

        Example:
            >>> from gancourse.config import TrainConfig
            >>> PIECES["unrolled_d"].is_on(TrainConfig(unroll_steps=5)), PIECES["unrolled_d"].is_on(TrainConfig())
            (True, False)
        """
        return bool(getattr(cfg, self.field))


PIECES: dict[str, Piece] = {
    "weight_clipping": Piece("clip", "constrain_d", lambda cfg: WeightClipping(cfg.clip),
                             "Arjovsky et al. 2017, Algorithm 1, line 7"),
    "reuse_fakes": Piece("reuse_fakes", "fakes", lambda cfg: ReusedFakes(),
                         "the PyTorch DCGAN tutorial's training loop (Radford et al. 2016's model)"),
    "unrolled_d": Piece("unroll_steps", "critic_for_g", lambda cfg: UnrolledCritic(cfg.unroll_steps),
                        "Metz et al. 2017, Sec. 2.2, Eq. 4-7"),
    "average_of_g": Piece("ema_half_life", "after_g_step", lambda cfg: update_average,
                          "Karras et al. 2018, Sec. A.1; Yazici et al. 2019"),
}
"""Every piece by name; ``pieces_for`` looks them up in this order."""

DEFAULTS: dict[str, Callable[[], Any]] = {
    "fakes": FreshFakes,
    "constrain_d": lambda: no_constraint,
    "critic_for_g": lambda: plain_critic,
    "after_g_step": lambda: no_average,
}
"""What fills each slot when no piece does: Algorithm 1 as written."""


def pieces_for(cfg: TrainConfig) -> Pieces:
    """Every slot of the loop for ``cfg``: the piece the config turns on, else the plain loop's default.

    Example:
        >>> from gancourse.config import preset
        >>> chosen = pieces_for(preset("wgan"))
        >>> chosen.constrain_d, chosen.critic_for_g is plain_critic
        (WeightClipping(c=0.01), True)
    """
    chosen = {slot: make() for slot, make in DEFAULTS.items()}
    for piece in PIECES.values():
        if piece.is_on(cfg):
            chosen[piece.slot] = piece.make(cfg)
    return Pieces(**chosen)
