"""gancourse: the package behind a hands-on course on Generative Adversarial Networks.

Modules, one concept each:

- ``gancourse.data``        2-D mixtures, offline ``digits``, torchvision images, device-resident samplers
- ``gancourse.models``      MLP and DCGAN generators / discriminators
- ``gancourse.losses``      GAN, non-saturating, Wasserstein losses, gradient penalty, weight clipping
- ``gancourse.config``      ``TrainConfig`` (the hyperparameters) and the papers' presets
- ``gancourse.train``       the one training loop (``Trainer``, ``train_gan``, ``TrainingDiverged``)
- ``gancourse.checkpoint``  atomic save, ``weights_only`` load
- ``gancourse.metrics``     mode coverage for 2-D mixtures; digit-classifier image metrics, Frechet distance
- ``gancourse.plot``        sample grids, scatter over D's heatmap, training curves
- ``gancourse.widgets``     the training ``Dashboard`` (sliders, Train/Stop/Reset, live plots, compare runs)
- ``gancourse.exercises``   automatic checks for the lessons' exercises (``check_...``)
- ``gancourse.remedies``    mode-collapse remedies (packing, minibatch std) and lesson 2's widget
- ``gancourse.wasserstein`` WGAN Example 1, earth mover's distance, the Kantorovich-Rubinstein dual
- ``gancourse.lipschitz``   critic gradient norms, Lipschitz estimates, per-layer gradients
- ``gancourse.quick``       quick mode (``GANCOURSE_QUICK=1``) and ``budget(full, quick)``
- ``gancourse.device``      cuda > mps > cpu
- ``gancourse.paths``       the dataset cache folder (``GANCOURSE_DATA``) and offline mode (``GANCOURSE_OFFLINE``)
- ``gancourse.cli``         ``python -m gancourse train ...``
- ``gancourse.notebook_check``  notebook hygiene and Colab badge / setup-cell stamping (``make test``)
"""
from __future__ import annotations

__version__ = "0.1.0"

from .config import PRESETS, TrainConfig, preset  # noqa: E402
from .quick import budget, is_quick  # noqa: E402

__all__ = ["TrainConfig", "preset", "PRESETS", "budget", "is_quick", "__version__"]
