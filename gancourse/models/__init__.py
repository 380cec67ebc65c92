"""Generators and discriminators: MLPs for 2-D data and small images, DCGAN for 28x28 and 16-256 (powers of 2),
and their class-conditional versions (lesson 5)."""
from __future__ import annotations

from .build import MODELS, NORMS, build_models
from .conditional import (
                          ACGANDiscriminator,
                          ConcatDiscriminator,
                          ConditionalBatchNorm2d,
                          ConditionalDCGANGenerator,
                          ConditionalMLPGenerator,
                          ProjectionDiscriminator,
)
from .dcgan import DCGAN_SIZES, DCGANDiscriminator, DCGANGenerator, dcgan_init_, dcgan_plan, describe_plan
from .mlp import MLPDiscriminator, MLPGenerator

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init_",
           "build_models", "MODELS", "NORMS",
           "DCGAN_SIZES", "dcgan_plan", "describe_plan", "ConditionalBatchNorm2d", "ConditionalDCGANGenerator",
           "ConditionalMLPGenerator", "ConcatDiscriminator", "ACGANDiscriminator", "ProjectionDiscriminator"]
