"""Why mode collapse happens, shown: the generator's best response to a frozen discriminator.

Against a fixed D, the non-saturating generator loss

    L_G = E_z[ -log D(G(z)) ]

scores every sample on its own, so it is smallest when every z is sent to one point,
x* = argmax_x D(x) (Goodfellow et al. 2014, Sec. 6, the "Helvetica scenario"; Metz et al. 2017, Sec. 1
and Fig. 1). The demo makes that visible in three steps:

1. D learns where the data is: it is trained to tell the real mixture from uniform noise spread over a
   box 1.5 times the data's extent, so every mode becomes a hill of D's landscape.
2. D is frozen and G alone descends L_G: its samples climb the nearest high hill and pile up there.
3. D answers: G is frozen and D trains against the pile for a while, which lowers that hill. G alone
   again: the pile moves to another mode. Steps 2 and 3 repeat for ``rounds`` rounds.

The number to watch is the share of the samples whose nearest mode is the most popular one
(``metrics.mixtures.mode_shares``): 1/K for a sampler that covers every mode equally, 1 for a pile.
This is a demonstration with its own two small loops, not a way to train: the course's training loop
(``gancourse.train``) alternates one D step and one G step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .. import losses
from .._checks import positive_int
from ..config import TrainConfig
from ..metrics.mixtures import mode_shares
from ..models import build_models
from .core import Setup
from .mixtures import check_mixture
from .workers import one_cpu_thread

__all__ = ["BestResponseDemo", "FROZEN_D_SETUP", "frozen_discriminator_demo", "discriminator_landscape"]

FROZEN_D_SETUP = Setup(TrainConfig(lr_g=3e-3, lr_d=1e-3, beta1=0.5, beta2=0.999, batch_size=256, z_dim=16,
                                   device="cpu"), model="mlp", width=128, data="ring", samples=2500)
"""The demo's networks and optimiser: z in R^16, G and D 2 x ``width`` tanh MLPs (the VEEGAN / Metz networks),
Adam (beta1 = 0.5) at 3e-3 for G and 1e-3 for D on batches of 256, and ``samples`` scored points. G's rate of
3e-3 was chosen on seeds 0-3: at 1e-3, G had often split its samples between hills after 200 steps."""


@dataclass
class BestResponseDemo:
    """What ``frozen_discriminator_demo`` recorded.

    ``trace``: (G step, round, most popular mode, its share of the samples) every ``record_every``
    generator steps, G steps counted over all rounds. ``piles``: the ``samples`` generated points at
    the end of each round's G phase. ``landscapes``: D(x) (a probability) on a ``grid_size`` x
    ``grid_size`` grid over ``extent`` (x and y from -extent to +extent), as G saw it during each
    round, i.e. before D answered. ``start``: the shares before any G step.

    Example:
        >>> demo = frozen_discriminator_demo("ring", rounds=1, g_steps=4, d_steps=2, d_pretrain=2, record_every=2,
        ...                                  setup=FROZEN_D_SETUP.replace(samples=100), grid_size=5)
        >>> [(step, rnd) for step, rnd, _, _ in demo.trace], demo.landscapes[0].shape
        ([(2, 0), (4, 0)], torch.Size([5, 5]))
    """

    data: str
    centres: torch.Tensor
    extent: float
    g_steps: int
    d_steps: int
    start: tuple[int, float]
    trace: list[tuple[int, int, int, float]] = field(default_factory=list)
    piles: list[torch.Tensor] = field(default_factory=list)
    landscapes: list[torch.Tensor] = field(default_factory=list)

    def pile_modes(self) -> list[int]:
        """The most popular mode at the end of each round (where the pile sat before D answered).

        Example:
            >>> d = BestResponseDemo("ring", torch.zeros(8, 2), 1.5, 2, 1, (0, 0.2), [(1, 0, 3, 0.5), (2, 0, 4, 0.9)])
            >>> d.pile_modes()
            [4]
        """
        return [mode for _, _, mode, _ in self._round_ends()]

    def final_shares(self) -> list[float]:
        """The most popular mode's share of the samples at the end of each round.

        Example:
            >>> d = BestResponseDemo("ring", torch.zeros(8, 2), 1.5, 2, 1, (0, 0.2), [(1, 0, 3, 0.5), (2, 0, 4, 0.9)])
            >>> d.final_shares()
            [0.9]
        """
        return [share for _, _, _, share in self._round_ends()]

    def _round_ends(self) -> list[tuple[int, int, int, float]]:
        # the last trace row of each round, in round order
        last = {row[1]: row for row in self.trace}
        return [last[r] for r in sorted(last)]


def discriminator_landscape(D: torch.nn.Module, extent: float, grid_size: int = 101) -> torch.Tensor:
    """D's probability sigmoid(D(x)) on a ``grid_size`` x ``grid_size`` grid over [-extent, extent]^2;
    row i is y = linspace(-extent, extent)[i] (``imshow(..., origin="lower")`` draws it upright).

    Example:
        >>> _, D = build_models("mlp", (2,))
        >>> torch.nn.init.zeros_(D.net[-1].weight); torch.nn.init.zeros_(D.net[-1].bias)  # doctest: +ELLIPSIS
        Parameter...
        >>> discriminator_landscape(D, 1.0, 3).tolist()   # logit 0 everywhere: D says 0.5
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """
    axis = torch.linspace(-extent, extent, grid_size)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xs.flatten(), ys.flatten()], dim=1)
    device = next(D.parameters()).device
    with torch.no_grad():
        return torch.sigmoid(D(points.to(device)).float()).view(grid_size, grid_size).cpu()


def frozen_discriminator_demo(data: str = "ring", rounds: int = 4, g_steps: int = 200, d_steps: int = 100, *,
                              d_pretrain: int = 500, seed: int = 0, record_every: int = 10,
                              setup: Setup = FROZEN_D_SETUP, grid_size: int = 101) -> BestResponseDemo:
    """Run the frozen-D demonstration of the module docstring on ``data`` ("ring" or "grid").

    G and D are 2 x ``setup.width`` tanh MLPs with z of ``setup.z_dim`` entries, trained with Adam at
    ``setup.lr_g`` / ``setup.lr_d`` (betas ``setup.beta1``, ``setup.beta2``) on batches of ``setup.batch_size``
    (``FROZEN_D_SETUP``; its loss and steps are not used: the losses are the demo's, its rounds are its budget).
    Each of the ``rounds`` rounds runs ``g_steps`` generator steps against the frozen D, then ``d_steps``
    discriminator steps against the frozen G. The recorded shares use ``setup.samples`` points from
    fixed latent codes. Runs on the CPU, on one thread (the caller's thread count is restored afterwards).

    Example:
        >>> demo = frozen_discriminator_demo("ring", rounds=2, g_steps=20, d_steps=5, d_pretrain=20, record_every=10,
        ...                                  setup=FROZEN_D_SETUP.replace(samples=200), grid_size=5)
        >>> len(demo.trace), len(demo.piles), tuple(demo.piles[0].shape)
        (4, 2, (200, 2))
    """
    mixture = check_mixture(data)
    if not isinstance(setup, Setup) or setup.model != "mlp":
        raise ValueError(f"setup must be a Setup of the 2-D MLPs (model 'mlp'), got {setup!r}")
    setup.config.validate()
    samples, z_dim, width, batch_size = setup.samples, setup.z_dim, setup.width or 128, setup.batch_size
    for name, value in (("rounds", rounds), ("g_steps", g_steps), ("d_steps", d_steps), ("record_every", record_every),
                        ("samples", samples), ("width", width), ("grid_size", grid_size)):
        positive_int(name, value)
    if isinstance(d_pretrain, bool) or not isinstance(d_pretrain, int) or d_pretrain < 0:
        raise ValueError(f"d_pretrain must be an integer >= 0, got d_pretrain={d_pretrain!r}")
    # tiny networks: one thread is faster than two, and much faster on a busy machine (restored after)
    with one_cpu_thread(torch.device("cpu")):
        torch.manual_seed(seed)
        G, D = build_models("mlp", (2,), z_dim=z_dim, width=width, depth=2, activation="tanh")
        betas = (setup.beta1, setup.beta2)
        opt_g = torch.optim.Adam(G.parameters(), lr=setup.lr_g, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=setup.lr_d, betas=betas)
        rng = torch.Generator().manual_seed(seed + 1)
        extent = 1.5 * float(mixture.centres.abs().max())
        fixed_z = torch.randn(samples, z_dim, generator=torch.Generator().manual_seed(seed + 2))

        def d_step(fake: torch.Tensor) -> None:
            loss = losses.discriminator_loss(D(mixture.sample(batch_size, generator=rng)), D(fake))
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()

        # 1. D learns where the data is: real mixture against uniform noise over the box.
        for _ in range(d_pretrain):
            d_step((torch.rand(batch_size, 2, generator=rng) * 2 - 1) * extent)

        def shares() -> tuple[int, float]:
            with torch.no_grad():
                share = mode_shares(G(fixed_z), mixture.centres)
            return int(share.argmax()), float(share.max())

        demo = BestResponseDemo(data, mixture.centres.clone(), extent, g_steps, d_steps, shares())
        step = 0
        for rnd in range(rounds):
            demo.landscapes.append(discriminator_landscape(D, extent, grid_size))
            # 2. G alone against the frozen D: its best response is to pile onto D's highest hill.
            D.requires_grad_(False)
            for _ in range(g_steps):
                loss = losses.generator_loss_nonsaturating(D(G(torch.randn(batch_size, z_dim, generator=rng))))
                opt_g.zero_grad(set_to_none=True)
                loss.backward()
                opt_g.step()
                step += 1
                if step % record_every == 0:
                    demo.trace.append((step, rnd, *shares()))
            D.requires_grad_(True)
            with torch.no_grad():
                demo.piles.append(G(fixed_z))
            # 3. D answers the pile (G frozen): the hill under it is lowered.
            for _ in range(d_steps):
                with torch.no_grad():
                    fake = G(torch.randn(batch_size, z_dim, generator=rng))
                d_step(fake)
        return demo


