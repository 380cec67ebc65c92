"""Mean ± standard error over seeds, the results table with the published rows, and training frames."""
import math

import pytest

from gancourse.experiments.collapse import results_table, summarize_coverage, summarize_results
from gancourse.experiments.core import mean_and_standard_error
from gancourse.experiments.mixtures import MixtureResult
from gancourse.metrics.mixtures import ModeCoverage
from gancourse.remedies.published import PUBLISHED, published


def _cov(modes, hq, kl, k=8):
    return ModeCoverage(modes, k, hq, kl, [0] * k)


def test_mean_and_standard_error_by_hand():
    mean, se = mean_and_standard_error([2.0, 4.0, 9.0])
    # mean 5, sample variance ((9 + 1 + 16) / 2) = 13, standard error sqrt(13 / 3)
    assert mean == 5.0 and se == pytest.approx(math.sqrt(13 / 3))
    assert mean_and_standard_error([7.0]) == (7.0, pytest.approx(math.nan, nan_ok=True))
    mean, se = mean_and_standard_error([0.1, math.inf])
    assert mean == math.inf and math.isnan(se)
    with pytest.raises(ValueError, match="at least one"):
        mean_and_standard_error([])


def test_summarize_coverage_and_its_text():
    s = summarize_coverage([_cov(8, 0.9, 0.01), _cov(6, 0.7, 0.05)])
    assert s.modes == (7.0, 1.0) and s.hq_fraction[0] == pytest.approx(0.8) and s.hq_fraction[1] == pytest.approx(0.1)
    assert str(s) == "modes 7.0 ± 1.0/8, high quality 80.0 ± 10.0%, reverse KL 0.030 ± 0.020 (2 runs)"
    with pytest.raises(ValueError, match="different mixtures"):
        summarize_coverage([_cov(8, 0.9, 0.0), _cov(20, 0.9, 0.0, k=25)])


def _result(data, method, seed, modes, hq, kl):
    return MixtureResult(method, data, seed, 1.0, _cov(modes, hq, kl, 8 if data == "ring" else 25))


RESULTS = [_result("ring", "GAN", 0, 6, 0.9, 0.3), _result("ring", "GAN", 1, 8, 0.8, 0.1),
           _result("ring", "PacGAN2", 0, 8, 0.7, 0.02), _result("ring", "PacGAN2", 1, 8, 0.75, 0.04),
           _result("grid", "GAN", 0, 20, 0.5, 0.5), _result("grid", "GAN", 1, 22, 0.6, 0.4),
           _result("grid", "PacGAN2", 0, 25, 0.4, 0.05), _result("grid", "PacGAN2", 1, 24, 0.45, 0.06)]


def test_summaries_are_per_dataset_and_method():
    summaries = summarize_results(RESULTS)
    assert list(summaries) == [("ring", "GAN"), ("ring", "PacGAN2"), ("grid", "GAN"), ("grid", "PacGAN2")]
    assert summaries[("ring", "GAN")].modes == (7.0, 1.0) and summaries[("grid", "PacGAN2")].n == 2


def test_results_table_rows_and_published_numbers():
    lines = results_table(RESULTS).splitlines()
    assert lines[0].startswith("| method | source | s / run | ring: modes (of 8) |")
    assert "grid: modes (of 25)" in lines[0]
    # every fake run took 1.0 s
    assert lines[2] == ("| **GAN** | this notebook (2 seeds) | 1.0 | 7.0 ± 1.0 | 85.0 ± 5.0 | 0.200 ± 0.100 | "
                        "21.0 ± 1.0 | 55.0 ± 5.0 | 0.450 ± 0.050 |")
    pac4 = [line for line in lines if line.startswith("| PacGAN4 |")]
    assert pac4 == ["| PacGAN4 | PacGAN (Lin et al. 2018) Table 1 | – | 7.8 | 95.9 | – | 24.8 | 93.6 | 0.04 |"]
    assert len(lines) == 2 + 2 + len({(r.method, r.source) for r in PUBLISHED})
    assert len(results_table(RESULTS, published=False).splitlines()) == 4


def test_published_rows_match_the_references():
    grid = {r.method: r for r in published("grid") if r.source.startswith("PacGAN")}
    assert (grid["PacGAN4"].modes, grid["PacGAN4"].hq_percent, grid["PacGAN4"].kl) == (24.8, 93.6, 0.04)
    ring_veegan = {r.method: r for r in published("ring") if r.source.startswith("VEEGAN")}
    assert (ring_veegan["GAN"].modes, ring_veegan["GAN"].hq_percent) == (1, 99.3)
    assert all(r.data in ("ring", "grid") for r in PUBLISHED)
    with pytest.raises(ValueError, match="'ring' and 'grid'"):
        published("moons")


