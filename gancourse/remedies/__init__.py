"""Remedies for mode collapse (lesson 2), each a small change the unchanged training loop can train.

- ``packing``        PacGAN (Lin et al. 2018): D judges packs of m samples
- ``minibatch_std``  minibatch standard deviation layer (Karras et al. 2018)
- unrolled GAN       Metz et al. 2017: ``TrainConfig(unroll_steps=K)`` (in ``gancourse.train``)
- ``mixture_latent`` DeLiGAN's mixture-of-Gaussians latent (Gurumurthy et al. 2017): no bridges between modes
- ``benchmark``      every method with the same networks, budget and seeds, scored on the ring and grid;
                     ``PAPER_SETUP`` (VEEGAN / Metz), ``COLLAPSE_SETUP`` (where the plain GAN collapses)
- ``frozen_d``       the generator's best response to a frozen discriminator: a pile that D's answer moves
- ``published``      the published VEEGAN / PacGAN / GDPP rows;  ``report``: the results table and the
                     verdicts (two standard errors) against the best published value of each column
- ``frames``         snapshots of a run (mode hopping);  ``widget``: ``ModeCollapseExplorer``
"""
from __future__ import annotations

from .minibatch_std import MinibatchStd, minibatch_std, with_minibatch_std
from .mixture_latent import MixtureLatent
from .packing import PackedDiscriminator, pack_samples

__all__ = ["PackedDiscriminator", "pack_samples", "MinibatchStd", "minibatch_std", "with_minibatch_std",
           "MixtureLatent"]
