"""A disconnected latent space: DeLiGAN's mixture-of-Gaussians prior (Gurumurthy, Sarvadevabhatla and
Babu 2017, "DeLiGAN: Generative Adversarial Networks for Diverse and Limited Data", Sec. 3).

Why: a continuous G maps a connected latent space onto a connected set, so a generator fed by one
Gaussian must put some samples *between* separated modes (Tanielian et al. 2020 bound that share
from below through G's Lipschitz constant). DeLiGAN replaces the single Gaussian by K components
with learned means and scales,

    p(z) = (1/K) * sum_i N(z; mu_i, diag(sigma_i^2)),   sampled as   z = mu_i + sigma_i * eps,

with i uniform over {1..K} and eps ~ N(0, I): the reparameterisation makes mu and sigma trainable by
the generator's loss. If the components sit apart, G can send each one to a single mode and the
"bridges" need not exist.

So that the training loop, fixed-noise pictures and the benchmark need no change, the module takes
the usual standard-normal code z of ``z_dim`` entries and derives both draws from it: the component
index from the first entry (i = floor(K * Phi(z_0)), uniform because Phi(z_0) is), eps from the
other ``z_dim - 1``. DeLiGAN also adds a penalty that keeps the sigmas from shrinking to zero; here
they are learned without it, and ``sigma`` shows how far they moved.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import positive_int

__all__ = ["MixtureLatent"]


class MixtureLatent(nn.Module):
    """z (N, z_dim) ~ N(0, I)  ->  mu_i + sigma_i * z[:, 1:]  of shape (N, z_dim - 1), i from z[:, 0].

    ``components`` is K; the means start uniform in [-1, 1] and every scale at ``sigma``, DeLiGAN's
    initialisation. Put it in front of a generator that takes ``z_dim - 1`` inputs.

    Example:
        >>> torch.manual_seed(0); latent = MixtureLatent(z_dim=3, components=4, sigma=0.2)  # doctest: +ELLIPSIS
        <...>
        >>> z = torch.tensor([[-3.0, 0.0, 0.0], [3.0, 0.0, 0.0]])   # far left / right of z_0: first / last component
        >>> latent.component(z).tolist()
        [0, 3]
        >>> torch.equal(latent(z), torch.stack([latent.means[0], latent.means[3]]))   # eps = 0: the means
        True
    """

    def __init__(self, z_dim: int, components: int, sigma: float = 0.2) -> None:
        super().__init__()
        z_dim = positive_int("z_dim", z_dim)
        if z_dim < 2:
            raise ValueError(f"z_dim must be >= 2 (one entry picks the component, the rest are its noise), "
                             f"got z_dim={z_dim}")
        self.components = positive_int("components", components)
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive finite number, got sigma={sigma!r}")
        self.z_dim = z_dim
        self.means = nn.Parameter(torch.rand(self.components, z_dim - 1) * 2 - 1)
        # log-scales keep sigma positive whatever step the optimiser takes
        self.log_sigma = nn.Parameter(torch.full((self.components, z_dim - 1), math.log(sigma)))

    @property
    def sigma(self) -> torch.Tensor:
        """The K x (z_dim - 1) scales sigma_i (detached)."""
        return self.log_sigma.detach().exp()

    def component(self, z: torch.Tensor) -> torch.Tensor:
        """Index i of the component each code uses: floor(K * Phi(z_0)), uniform on {0..K-1} for z_0 ~ N(0, 1)."""
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (N, z_dim={self.z_dim}), got {tuple(z.shape)}")
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))   # Phi(z_0), the standard normal CDF
        return (u * self.components).long().clamp_(0, self.components - 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        i = self.component(z)
        return self.means[i] + self.log_sigma[i].exp() * z[:, 1:]

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, components={self.components}"
