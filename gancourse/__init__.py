"""gancourse: the package behind a hands-on course on Generative Adversarial Networks.

Modules, one concept each:

- ``gancourse.data``        2-D mixtures, offline ``digits``, torchvision images, ``folder:PATH``, samplers
- ``gancourse.models``      MLP and DCGAN generators / discriminators (DCGAN 16-256 and 28), spectral norm
- ``gancourse.losses``      GAN, non-saturating, Wasserstein, hinge losses, gradient penalty, R1, weight clipping;
                            the loss / penalty registry the loop looks up
- ``gancourse.config``      ``TrainConfig`` (the hyperparameters) and the papers' presets
- ``gancourse.train``       the one training loop (``Trainer``, ``train_gan``, ``TrainingDiverged``)
- ``gancourse.pieces``      what the loop looks up besides losses: weight clipping, reuse of fakes, unrolled D,
                            the average of G
- ``gancourse.training_run`` running the loop: progress, callbacks, stop requests, the divergence check
- ``gancourse.divergence``  when a run has diverged: NaN/Inf, or a loss or gradient norm past ``DIVERGENCE_BOUND``
- ``gancourse.history``     per-step statistics (``StepStats``, ``History``, ``STAT_KEYS``) and ``TrainingDiverged``
- ``gancourse.precision``   autocast and a GradScaler per player (the trainer's mixed precision)
- ``gancourse.unrolled``    the unrolled GAN's look-ahead discriminator (Metz et al. 2017)
- ``gancourse.ema``         exponential moving average of G's weights for sampling
- ``gancourse.checkpoint``  atomic save, ``weights_only`` load
- ``gancourse.metrics``     mode coverage for 2-D mixtures; digit-classifier image metrics, Frechet distance;
                            k-NN precision / recall, density / coverage
- ``gancourse.plot``        sample grids, scatter over D's heatmap, training curves
- ``gancourse.widgets``     the training ``Dashboard`` (sliders, Train/Stop/Reset, live plots, compare runs)
- ``gancourse.exercises``   automatic checks for the lessons' exercises (``check_...``)
- ``gancourse.remedies``    mode-collapse remedies (packing, minibatch std, mixture latent), published rows
- ``gancourse.wasserstein`` WGAN Example 1, earth mover's distance, the Kantorovich-Rubinstein dual
- ``gancourse.lipschitz``   critic gradient norms, Lipschitz estimates, per-layer gradients
- ``gancourse.critic_estimate`` W_1 estimated by a fresh WGAN-GP critic on held-out points, with its error
- ``gancourse.experiments`` the lessons' measured comparisons: one ground floor (``core``: evaluation codes, mean
                            ± SE, the two-SE verdict, ``Setup`` / ``Result``), mixture runs, one module per lesson
                            (``collapse``, ``conditional``, ``stabilisers``), side-by-side CPU runs (``workers``)
- ``gancourse.conditioning`` class labels through the loop: concat, AC-GAN, projection (lesson 5)
- ``gancourse.dirac``       the Dirac-GAN: vector fields, Jacobian eigenvalues, trajectories (Mescheder et al. 2018)
- ``gancourse.quick``       quick mode (``GANCOURSE_QUICK=1``) and ``budget(full, quick)``
- ``gancourse.course``      the course map: each lesson, what it teaches, its run times (README and notebook 00)
- ``gancourse.device``      cuda > mps > cpu
- ``gancourse.paths``       the dataset cache folder (``GANCOURSE_DATA``) and offline mode (``GANCOURSE_OFFLINE``)
- ``gancourse.cli``         ``python -m gancourse train ...``
- ``gancourse.run_outputs`` what a CLI run writes: samples.png, losses.png, metrics.json
- ``gancourse.run_folder``  what else ``--out`` holds: a killed save's temporaries, whether it can be written
- ``gancourse.notebook_check``  notebook hygiene and Colab badge / setup-cell stamping (``make test``)
"""
from __future__ import annotations

__version__ = "0.1.0"

from .config import PRESETS, TrainConfig, preset  # noqa: E402
from .quick import budget, is_quick  # noqa: E402

__all__ = ["TrainConfig", "preset", "PRESETS", "budget", "is_quick", "__version__"]
