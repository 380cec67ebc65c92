"""The lessons' measured comparisons: every method trained with the same setup and seeds, scored on the same
evaluation codes, summarised as mean ± standard error over seeds and judged by one rule.

- ``core``         the ground floor: ``Setup`` (a ``TrainConfig`` plus networks and scored samples) and ``Result``
                   (method, data, seed, seconds), ``fixed_codes``, ``summarise``, ``verdict``, ``pm``
- ``mixtures``     2-D mixture runs (lessons 2 and 6): ``Method``, ``METHODS``, ``MixtureSetup``, ``run_benchmark``
- ``collapse``     lesson 2: ``COLLAPSE_SETUP``, ``PAPER_SETUP``, the remedies compared, tables against the papers
- ``frozen_d``     lesson 2: the generator's best response to a frozen discriminator
- ``conditional``  lesson 5: cGAN on the grid, concat / AC-GAN / projection on digits, AC-GAN's bias
- ``stabilisers``  lesson 6: NS-GAN, WGAN-GP, hinge + SN, R1, each with an average of G; truncation
- ``workers``      side-by-side CPU runs, one single-threaded process each (``map_jobs``)

Import the module you need (``from gancourse.experiments.collapse import COLLAPSE_SETUP``); this package imports
none of them itself, so a lesson pays only for its own.
"""
