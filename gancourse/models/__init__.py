"""Generators and discriminators: MLPs for 2-D data and small images, DCGAN for 28x28 / 32x32."""
from __future__ import annotations

from .build import MODELS, NORMS, build_models
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from .mlp import MLPDiscriminator, MLPGenerator

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init_",
           "build_models", "MODELS", "NORMS"]
