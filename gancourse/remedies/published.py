"""Published mode-coverage results on the ring and the grid, to print next to the course's own.

Every number is copied from the paper's table named in ``source``; all use the VEEGAN / PacGAN
protocol (2,500 samples, HQ = within 3 std of the nearest mode). The papers differ in networks and
training length: VEEGAN and GDPP train the same 2 x 128 tanh MLPs for 25k iterations, PacGAN uses
larger networks. VEEGAN averages 5 runs, PacGAN reports the mean over 10 trials. ``kl`` is the
reverse KL of the mode histogram where the paper gives it.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PublishedResult", "PUBLISHED", "published"]


@dataclass(frozen=True)
class PublishedResult:
    """One published row: the paper and table (``source``), the method, the dataset ("ring" or
    "grid"), modes captured, % high-quality samples and, where given, the reverse KL.

    ``modes_se`` / ``hq_se`` / ``kl_se`` are the paper's standard errors where this table holds them
    (None: not recorded here; PacGAN prints them, VEEGAN and GDPP do not). A verdict against a row
    without one counts our standard error only.

    Example:
        >>> row = published("ring")[0]
        >>> row.source, row.method, row.modes, row.hq_percent, row.kl
        ('VEEGAN (Srivastava et al. 2017) Table 1', 'GAN', 1, 99.3, None)
    """

    source: str
    method: str
    data: str
    modes: float
    hq_percent: float
    kl: float | None = None
    modes_se: float | None = None
    hq_se: float | None = None
    kl_se: float | None = None


_VEEGAN = "VEEGAN (Srivastava et al. 2017) Table 1"
_PACGAN = "PacGAN (Lin et al. 2018) Table 1"
_GDPP = "GDPP (Elfeki et al. 2019) Table 1"

PUBLISHED: tuple[PublishedResult, ...] = (
    PublishedResult(_VEEGAN, "GAN", "ring", 1, 99.3), PublishedResult(_VEEGAN, "GAN", "grid", 3.3, 0.5),
    PublishedResult(_VEEGAN, "ALI", "ring", 2.8, 0.13), PublishedResult(_VEEGAN, "ALI", "grid", 15.8, 1.6),
    PublishedResult(_VEEGAN, "Unrolled GAN (5 steps)", "ring", 7.6, 35.6),
    PublishedResult(_VEEGAN, "Unrolled GAN (5 steps)", "grid", 23.6, 16),
    PublishedResult(_VEEGAN, "VEEGAN", "ring", 8, 52.9), PublishedResult(_VEEGAN, "VEEGAN", "grid", 24.6, 40),
    PublishedResult(_PACGAN, "GAN", "ring", 6.3, 98.2, 0.45),
    PublishedResult(_PACGAN, "GAN", "grid", 17.3, 94.8, 0.70),
    PublishedResult(_PACGAN, "ALI", "ring", 6.6, 97.6), PublishedResult(_PACGAN, "ALI", "grid", 24.1, 95.7),
    PublishedResult(_PACGAN, "PacGAN2", "ring", 7.9, 95.6, 0.07),
    PublishedResult(_PACGAN, "PacGAN2", "grid", 23.8, 91.3),
    PublishedResult(_PACGAN, "PacGAN3", "ring", 7.8, 97.7), PublishedResult(_PACGAN, "PacGAN3", "grid", 24.6, 94.2),
    PublishedResult(_PACGAN, "PacGAN4", "ring", 7.8, 95.9),
    PublishedResult(_PACGAN, "PacGAN4", "grid", 24.8, 93.6, 0.04),
    PublishedResult(_GDPP, "WGAN-GP", "ring", 6.8, 59.6), PublishedResult(_GDPP, "WGAN-GP", "grid", 24.2, 28.7),
    PublishedResult(_GDPP, "GDPP-GAN", "ring", 8.0, 71.7), PublishedResult(_GDPP, "GDPP-GAN", "grid", 24.8, 68.5),
)


def published(data: str) -> list[PublishedResult]:
    """The published rows for ``data`` ("ring" or "grid"), in table order.

    Example:
        >>> [r.hq_percent for r in published("grid") if r.method == "PacGAN4"]
        [93.6]
    """
    if data not in ("ring", "grid"):
        raise ValueError(f"published results exist for 'ring' and 'grid' only, got {data!r}")
    return [r for r in PUBLISHED if r.data == data]
