"""The lesson-2 results table: the course's runs (mean ± standard error over seeds) printed next to
the published rows of VEEGAN, PacGAN and GDPP (``published.PUBLISHED``)."""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..metrics.mixtures import CoverageSummary, summarize_coverage
from .benchmark import RunResult
from .published import PUBLISHED, PublishedResult

__all__ = ["summarize_results", "results_table", "best_method"]


def summarize_results(results: Sequence[RunResult]) -> dict[tuple[str, str], CoverageSummary]:
    """``{(data, method): CoverageSummary}`` over the seeds of each (dataset, method), in run order.

    Example:
        >>> from gancourse.remedies.benchmark import run_benchmark, Setup
        >>> res = run_benchmark(["ring"], ["GAN"], [0, 1], Setup(steps=2), device="cpu", progress=False)
        >>> summarize_results(res)[("ring", "GAN")].n
        2
    """
    groups: dict[tuple[str, str], list] = {}
    for r in results:
        groups.setdefault((r.data, r.method), []).append(r.coverage)
    return {key: summarize_coverage(values) for key, values in groups.items()}


def best_method(results: Sequence[RunResult], data: str) -> tuple[str, CoverageSummary]:
    """The course method with the most modes captured on ``data``, ties broken by % HQ (means over seeds).

    Example:
        >>> from gancourse.remedies.benchmark import run_benchmark, Setup
        >>> res = run_benchmark(["ring"], ["GAN", "PacGAN2"], [0], Setup(steps=2), device="cpu", progress=False)
        >>> best_method(res, "ring")[0] in ("GAN", "PacGAN2")
        True
    """
    rows = [(method, s) for (d, method), s in summarize_results(results).items() if d == data]
    if not rows:
        raise ValueError(f"no results for {data!r}")
    return max(rows, key=lambda row: (row[1].modes[0], row[1].hq_fraction[0]))


def _pm(pair: tuple[float, float], scale: float = 1.0, digits: int = 1) -> str:
    mean, se = pair
    if math.isinf(mean):
        return "inf"
    text = f"{scale * mean:.{digits}f}"
    return text if math.isnan(se) else f"{text} ± {scale * se:.{digits}f}"


def results_table(results: Sequence[RunResult], datasets: Sequence[str] = ("ring", "grid"),
                  published: bool = True, label: str = "this notebook") -> str:
    """A Markdown table: one row per course method (mean ± standard error over seeds) and, below
    it, the published rows, with modes captured, % high quality and reverse KL per dataset.

    Example:
        >>> from gancourse.remedies.benchmark import run_benchmark, Setup
        >>> res = run_benchmark(["ring"], ["GAN"], [0], Setup(steps=2), device="cpu", progress=False)
        >>> results_table(res, datasets=["ring"], published=False).splitlines()[0]
        '| method | source | ring: modes (of 8) | ring: % HQ | ring: reverse KL |'
    """
    summaries = summarize_results(results)
    sizes = {d: s.num_modes for (d, _), s in summaries.items()}
    columns = [f"{d}: modes (of {sizes.get(d, 8 if d == 'ring' else 25)}) | {d}: % HQ | {d}: reverse KL"
               for d in datasets]
    header = "| method | source | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (2 + 3 * len(datasets))]
    methods = list(dict.fromkeys(r.method for r in results))
    for method in methods:
        cells = []
        seeds = max((s.n for (d, m), s in summaries.items() if m == method), default=0)
        for d in datasets:
            s = summaries.get((d, method))
            cells += ["–"] * 3 if s is None else [_pm(s.modes), _pm(s.hq_fraction, 100), _pm(s.reverse_kl, digits=3)]
        lines.append(f"| **{method}** | {label} ({seeds} seeds) | " + " | ".join(cells) + " |")
    if published:
        rows: dict[tuple[str, str], dict[str, PublishedResult]] = {}
        for r in PUBLISHED:
            rows.setdefault((r.method, r.source), {})[r.data] = r
        for (method, source), by_data in rows.items():
            cells = []
            for d in datasets:
                r = by_data.get(d)
                cells += ["–"] * 3 if r is None else [f"{r.modes:g}", f"{r.hq_percent:g}",
                                                      "–" if r.kl is None else f"{r.kl:g}"]
            if any(c != "–" for c in cells):
                lines.append(f"| {method} | {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
