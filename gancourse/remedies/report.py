"""The lesson-2 results table: the course's runs (mean ± standard error over seeds) printed next to
the published rows of VEEGAN, PacGAN and GDPP (``published.PUBLISHED``)."""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..metrics.mixtures import CoverageSummary, summarize_coverage
from .benchmark import RunResult, seconds_per_run
from .published import PUBLISHED, PublishedResult, published

__all__ = ["summarize_results", "results_table", "best_method", "verdict", "best_published", "compare_with_published",
           "verdict_lines", "against_baseline", "collapsed", "COLUMNS"]


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
    it, the published rows, with modes captured, % high quality and reverse KL per dataset, and the
    mean training time of one run of each course method ("s / run", over datasets and seeds).

    Example:
        >>> from gancourse.remedies.benchmark import run_benchmark, Setup
        >>> res = run_benchmark(["ring"], ["GAN"], [0], Setup(steps=2), device="cpu", progress=False)
        >>> results_table(res, datasets=["ring"], published=False).splitlines()[0]
        '| method | source | s / run | ring: modes (of 8) | ring: % HQ | ring: reverse KL |'
    """
    summaries = summarize_results(results)
    sizes = {d: s.num_modes for (d, _), s in summaries.items()}
    columns = [f"{d}: modes (of {sizes.get(d, 8 if d == 'ring' else 25)}) | {d}: % HQ | {d}: reverse KL"
               for d in datasets]
    header = "| method | source | s / run | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (3 + 3 * len(datasets))]
    seconds = seconds_per_run(results)
    methods = list(dict.fromkeys(r.method for r in results))
    for method in methods:
        cells = []
        seeds = max((s.n for (d, m), s in summaries.items() if m == method), default=0)
        for d in datasets:
            s = summaries.get((d, method))
            cells += ["–"] * 3 if s is None else [_pm(s.modes), _pm(s.hq_fraction, 100), _pm(s.reverse_kl, digits=3)]
        lines.append(f"| **{method}** | {label} ({seeds} seeds) | {seconds[method]:.1f} | " + " | ".join(cells) + " |")
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
                lines.append(f"| {method} | {source} | – | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- verdicts against the published rows ----------------------------------------------------------

COLUMNS = {"modes": ("modes captured", True), "hq_percent": ("% HQ", True), "kl": ("reverse KL", False)}
"""The compared columns: ``PublishedResult`` field -> (label, whether higher is better)."""


def verdict(ours: tuple[float, float], theirs: float, theirs_se: float | None = None,
            higher_is_better: bool = True, k: float = 2.0) -> str:
    """"better" / "worse" when our mean differs from the published value by more than ``k`` standard
    errors of the difference, sqrt(se_ours^2 + se_theirs^2) (``theirs_se`` None: the paper's is not
    known here and counts as 0); "on par" within that; "undecided (one run)" without our standard error.

    Example:
        >>> verdict((95.0, 1.0), 93.6), verdict((95.0, 0.5), 93.6), verdict((90.0, 1.0), 93.6)
        ('on par', 'better', 'worse')
        >>> verdict((0.02, 0.005), 0.04, higher_is_better=False), verdict((8.0, float("nan")), 7.8)
        ('better', 'undecided (one run)')
    """
    mean, se = ours
    if math.isinf(mean):
        return "worse" if (mean > 0) != higher_is_better else "better"
    if math.isnan(mean) or math.isnan(se):
        return "undecided (one run)"
    spread = k * math.sqrt(se ** 2 + (theirs_se or 0.0) ** 2)
    gain = (mean - theirs) if higher_is_better else (theirs - mean)
    if gain > spread:
        return "better"
    if gain < -spread:
        return "worse"
    return "on par"


def best_published(data: str, column: str) -> list[PublishedResult]:
    """The published rows with the best value of ``column`` ("modes", "hq_percent" or "kl") on
    ``data``: most modes, highest % HQ, lowest reverse KL (rows without a KL are skipped). Several
    rows when they tie; chosen by value, never by name.

    Example:
        >>> [(r.method, r.source.split()[0]) for r in best_published("grid", "hq_percent")]
        [('ALI', 'PacGAN')]
    """
    if column not in COLUMNS:
        raise ValueError(f"unknown column {column!r}; valid choices: {', '.join(COLUMNS)}")
    rows = [r for r in published(data) if getattr(r, column) is not None]
    sign = 1 if COLUMNS[column][1] else -1
    best = max(sign * getattr(r, column) for r in rows)
    return [r for r in rows if sign * getattr(r, column) == best]


def compare_with_published(summary: CoverageSummary, data: str) -> list[dict]:
    """One comparison per column for a course row: our mean ± standard error, the best published
    value (``best_published``), the rows that hold it, and the ``verdict``.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage, summarize_coverage
        >>> runs = [ModeCoverage(m, 25, hq, 0.01, [1] * 25) for m, hq in ((25, 0.95), (24, 0.97), (25, 0.96))]
        >>> [(c["column"], c["verdict"]) for c in compare_with_published(summarize_coverage(runs), "grid")]
        [('modes', 'on par'), ('hq_percent', 'on par'), ('kl', 'better')]
    """
    ours = {"modes": summary.modes, "hq_percent": (100 * summary.hq_fraction[0], 100 * summary.hq_fraction[1]),
            "kl": summary.reverse_kl}
    out = []
    for column, (label, higher) in COLUMNS.items():
        rows = best_published(data, column)
        theirs = getattr(rows[0], column)
        ses = [getattr(r, f"{column.split('_')[0]}_se") for r in rows]
        theirs_se = max((s for s in ses if s is not None), default=None)
        out.append({"column": column, "label": label, "ours": ours[column], "theirs": theirs,
                    "theirs_se": theirs_se, "rows": rows, "verdict": verdict(ours[column], theirs, theirs_se, higher)})
    return out


def verdict_lines(results: Sequence[RunResult], data: str, methods: Sequence[str] | None = None) -> list[str]:
    """Markdown bullet lines: each course method on ``data`` against the best published value of
    every column, with both numbers and the verdict (``compare_with_published``).

    Example:
        >>> from gancourse.remedies.benchmark import run_benchmark, Setup
        >>> res = run_benchmark(["ring"], ["GAN"], [0, 1], Setup(steps=2), device="cpu", progress=False)
        >>> verdict_lines(res, "ring")[0].startswith("* **GAN**, ring: modes captured ")
        True
    """
    summaries = summarize_results(results)
    names = [m for m in dict.fromkeys(r.method for r in results) if (data, m) in summaries]
    lines = []
    for method in names if methods is None else methods:
        parts = []
        for c in compare_with_published(summaries[(data, method)], data):
            digits = 3 if c["column"] == "kl" else 1
            who = " / ".join(f"{r.method} ({r.source.split(' (')[0]})" for r in c["rows"])
            se = "" if c["theirs_se"] is None else f" ± {c['theirs_se']:g}"
            parts.append(f"{c['label']} {_pm(c['ours'], digits=digits)} vs {c['theirs']:g}{se} "
                         f"[{who}]: **{c['verdict']}**")
        lines.append(f"* **{method}**, {data}: " + "; ".join(parts))
    return lines


def against_baseline(results: Sequence[RunResult], data: str, baseline: str = "GAN") -> list[str]:
    """Markdown bullet lines: each course method's modes captured and % HQ on ``data`` against the
    ``baseline`` method's in the same runs' setting, with the ``verdict`` ("better" only beyond two
    standard errors of the difference, both means' errors counted).

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> def run(method, seed, modes):
        ...     return RunResult("ring", method, seed, ModeCoverage(modes, 8, 0.5, 0.1, [1] * 8), 1.0)
        >>> res = [run("GAN", 0, 1), run("GAN", 1, 2), run("PacGAN2", 0, 8), run("PacGAN2", 1, 7)]
        >>> against_baseline(res, "ring")[0].split("; ")[0]
        '* **PacGAN2** vs GAN, ring: modes captured 7.5 ± 0.5 vs 1.5 ± 0.5 (better)'
    """
    summaries = summarize_results(results)
    if (data, baseline) not in summaries:
        raise ValueError(f"no {baseline!r} runs on {data!r} to compare with")
    base = summaries[(data, baseline)]
    lines = []
    for method in dict.fromkeys(r.method for r in results):
        if method == baseline or (data, method) not in summaries:
            continue
        s = summaries[(data, method)]
        modes = verdict(s.modes, base.modes[0], base.modes[1])
        hq = verdict(s.hq_fraction, base.hq_fraction[0], base.hq_fraction[1])
        lines.append(f"* **{method}** vs {baseline}, {data}: modes captured {_pm(s.modes)} vs {_pm(base.modes)} "
                     f"({modes}); % HQ {_pm(s.hq_fraction, 100)} vs {_pm(base.hq_fraction, 100)} ({hq})")
    return lines


def collapsed(result: RunResult, num_modes: int) -> bool:
    """Whether a traced run stayed collapsed: at every scored step of the second half of ``result.trace``
    at most a quarter of the ``num_modes`` modes were captured and the most popular mode held at least
    three times its fair share 1/K of all samples (a pile, wherever it sat). A diffuse cloud that misses
    the HQ discs fails the second test; a generator spread over the modes fails the first.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> cov = ModeCoverage(1, 8, 0.0, 0.0, [0] * 8)
        >>> piled = RunResult("ring", "GAN", 0, cov, 1.0, trace=[(10, 8, 0.9, 0.13), (20, 1, 0.0, 0.6)])
        >>> cloud = RunResult("ring", "GAN", 0, cov, 1.0, trace=[(10, 1, 0.0, 0.6), (20, 1, 0.0, 0.2)])
        >>> collapsed(piled, 8), collapsed(cloud, 8)
        (True, False)
    """
    if not result.trace:
        raise ValueError(f"run {result.method!r} on {result.data!r} has no trace: train it with trace_every > 0")
    late = result.trace[len(result.trace) // 2:]
    return all(modes <= num_modes // 4 and top >= 3 / num_modes for _, modes, _, top in late)
