"""Remedies for mode collapse (lesson 2), each a small change the unchanged training loop can train.

- ``packing``        PacGAN (Lin et al. 2018): D judges packs of m samples
- ``minibatch_std``  minibatch standard deviation layer (Karras et al. 2018)
- unrolled GAN       Metz et al. 2017: ``TrainConfig(unroll_steps=K)`` (in ``gancourse.train``)
- ``mixture_latent`` DeLiGAN's mixture-of-Gaussians latent (Gurumurthy et al. 2017): no bridges between modes
- ``published``      the published VEEGAN / PacGAN / GDPP rows

Lesson 2's measurements of them are in ``gancourse.experiments`` (``mixtures``, ``collapse``, ``frozen_d``) and
its explorer widget is ``gancourse.widgets.mode_collapse.ModeCollapseExplorer``.
"""
from __future__ import annotations

from .minibatch_std import MinibatchStd, minibatch_std, with_minibatch_std
from .mixture_latent import MixtureLatent
from .packing import PackedDiscriminator, pack_samples

__all__ = ["PackedDiscriminator", "pack_samples", "MinibatchStd", "minibatch_std", "with_minibatch_std",
           "MixtureLatent"]
