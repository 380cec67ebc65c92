"""Lesson 2's comparison: the remedies for mode collapse against the plain GAN, in the setting where it collapses
(``COLLAPSE_SETUP``), and the course's modern setting against the published VEEGAN / PacGAN / GDPP rows.

What it compares is all this module says: the settings (``PAPER_SETUP``, ``COLLAPSE_SETUP``), the methods
(``COLLAPSE_METHODS``, chosen from ``mixtures.METHODS``), the collapse verdict (``collapsed``) and the tables and
verdicts (mean ± standard error over seeds, ``core.verdict``) against the plain GAN and the published rows
(``remedies.published.PUBLISHED``). The runs themselves are ``experiments.mixtures.run_benchmark``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..metrics.mixtures import ModeCoverage
from ..remedies.published import PUBLISHED, PublishedResult, published
from .core import pm, summarise, verdict
from .mixtures import METHODS, Method, MixtureResult, MixtureSetup, seconds_per_run

__all__ = ["PAPER_SETUP", "COLLAPSE_SETUP", "COLLAPSE_METHODS", "CoverageSummary", "summarize_coverage",
           "summarize_results", "results_table",
           "best_published", "compare_with_published", "verdict_lines", "against_baseline", "collapsed", "COLUMNS"]

PAPER_SETUP = MixtureSetup().replace(steps=25_000, batch_size=512, z_dim=256, lr_g=1e-3, lr_d=1e-4, beta1=0.5,
                                     beta2=0.999, g_activation="tanh", d_activation="tanh", decay_start=0.0,
                                     decay_to=1.0, rescale=False, latent_scale=1.0)
"""The networks and optimiser of VEEGAN and Metz et al. 2017 (as restated by GDPP): z in R^256, G and D
2 x FC128 tanh, Adam beta1 = 0.5, lr 1e-3 for G and 1e-4 for D, batches of 512, 25k iterations, constant
learning rates, no rescaling."""

COLLAPSE_SETUP = PAPER_SETUP.replace(steps=2000, batch_size=256, z_dim=16, g_activation="relu",
                                     d_activation="leaky_relu")
"""The nearest setting to ``PAPER_SETUP`` in which the plain GAN collapses within a CPU budget (lesson 1's
2-D networks): the same widths, depth and optimiser (Adam beta1 0.5, lr 1e-3 for G and 1e-4 for D,
constant), but ReLU / LeakyReLU(0.2) instead of tanh, z in R^16 instead of R^256, batches of 256 instead
of 512, and 2,000 steps instead of 25,000. Chosen on seeds 0-5, where the plain GAN held at most 1 of the
ring's 8 modes and at most 4 of the grid's 25 at every scored step (``benchmarks/lesson2_collapse.py``;
numbers in ``benchmarks/RESULTS.md``); with D's rate raised to G's (1e-3) it kept every ring mode on 2 of
those 6 seeds."""

COLLAPSE_METHODS: dict[str, Method] = {m.name: m for m in (
    METHODS["GAN"], METHODS["PacGAN4"], METHODS["minibatch std"],
    replace(METHODS["unrolled GAN (5 steps)"], lr_g=None, lr_d=None, beta1=None, beta2=None),
    METHODS["mixture latent"],
)}
"""The remedies as run in ``COLLAPSE_SETUP``: every one with that setting's own Adam (the unrolled GAN
included: Metz et al. ran it with these betas). To keep lesson 2 within its CPU budget, PacGAN runs with
m = 4 only (m = 2 raised the modes too on the tuning seeds, ``benchmarks/RESULTS.md``; the explorer widget
offers it), and WGAN-GP is not among them: with 5 critic steps a run costs about 4.7 plain ones, and
lesson 4 is where it is measured."""


_COVERAGE_MEASURES = {"modes": lambda c: float(c.modes_captured), "hq_fraction": lambda c: c.hq_fraction,
                      "reverse_kl": lambda c: c.reverse_kl}


@dataclass
class CoverageSummary:
    """Mean and standard error over runs of modes captured, HQ fraction and reverse KL.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> a = ModeCoverage(8, 8, 0.9, 0.01, [1] * 8); b = ModeCoverage(6, 8, 0.7, 0.03, [1] * 8)
        >>> print(summarize_coverage([a, b]))  # standard errors: 1 mode, 10 points of HQ, 0.01 of KL
        modes 7.0 ± 1.0/8, high quality 80.0 ± 10.0%, reverse KL 0.020 ± 0.010 (2 runs)
    """

    n: int
    num_modes: int
    modes: tuple[float, float]
    hq_fraction: tuple[float, float]
    reverse_kl: tuple[float, float]

    def __str__(self) -> str:
        return (f"modes {pm(self.modes)}/{self.num_modes}, high quality {pm(self.hq_fraction, 100)}%, "
                f"reverse KL {pm(self.reverse_kl, digits=3)} ({self.n} runs)")


def summarize_coverage(results: Sequence[ModeCoverage]) -> CoverageSummary:
    """Mean ± standard error of ``mode_coverage`` results of several runs (e.g. seeds).

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> a = ModeCoverage(8, 8, 0.9, 0.01, [1] * 8); b = ModeCoverage(6, 8, 0.7, 0.03, [1] * 8)
        >>> s = summarize_coverage([a, b]); s.modes
        (7.0, 1.0)
    """
    if not results:
        raise ValueError("need at least one ModeCoverage to summarise")
    if len({r.num_modes for r in results}) != 1:
        raise ValueError(f"results come from different mixtures: num_modes {sorted({r.num_modes for r in results})}")
    row = summarise(results, _COVERAGE_MEASURES, key=lambda r: r.num_modes)[results[0].num_modes]
    return CoverageSummary(len(results), results[0].num_modes, row["modes"], row["hq_fraction"], row["reverse_kl"])


def summarize_results(results: Sequence[MixtureResult]) -> dict[tuple[str, str], CoverageSummary]:
    """``{(data, method): CoverageSummary}`` over the seeds of each (dataset, method), in run order.

    Example:
        >>> from gancourse.experiments.mixtures import run_benchmark, MixtureSetup
        >>> setup = MixtureSetup().replace(steps=2)
        >>> res = run_benchmark(["ring"], ["GAN"], [0, 1], setup, device="cpu", progress=False)
        >>> summarize_results(res)[("ring", "GAN")].n
        2
    """
    groups: dict[tuple[str, str], list] = {}
    for r in results:
        groups.setdefault((r.data, r.method), []).append(r.coverage)
    return {key: summarize_coverage(coverages) for key, coverages in groups.items()}


def results_table(results: Sequence[MixtureResult], datasets: Sequence[str] = ("ring", "grid"),
                  published: bool = True, label: str = "this notebook") -> str:
    """A Markdown table: one row per course method (mean ± standard error over seeds) and, below
    it, the published rows, with modes captured, % high quality and reverse KL per dataset, and the
    mean training time of one run of each course method ("s / run", over datasets and seeds).

    Example:
        >>> from gancourse.experiments.mixtures import run_benchmark, MixtureSetup
        >>> setup = MixtureSetup().replace(steps=2)
        >>> res = run_benchmark(["ring"], ["GAN"], [0], setup, device="cpu", progress=False)
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
            cells += ["–"] * 3 if s is None else [pm(s.modes), pm(s.hq_fraction, 100), pm(s.reverse_kl, digits=3)]
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
        >>> from gancourse.metrics.mixtures import ModeCoverage
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
        out.append({"column": column, "label": label, "ours": ours[column], "theirs": theirs, "theirs_se": theirs_se,
                    "rows": rows, "verdict": verdict(ours[column], (theirs, theirs_se), higher)})
    return out


def verdict_lines(results: Sequence[MixtureResult], data: str, methods: Sequence[str] | None = None) -> list[str]:
    """Markdown bullet lines: each course method on ``data`` against the best published value of
    every column, with both numbers and the verdict (``compare_with_published``).

    Example:
        >>> from gancourse.experiments.mixtures import run_benchmark, MixtureSetup
        >>> setup = MixtureSetup().replace(steps=2)
        >>> res = run_benchmark(["ring"], ["GAN"], [0, 1], setup, device="cpu", progress=False)
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
            parts.append(f"{c['label']} {pm(c['ours'], digits=digits)} vs {c['theirs']:g}{se} "
                         f"[{who}]: **{c['verdict']}**")
        lines.append(f"* **{method}**, {data}: " + "; ".join(parts))
    return lines


def against_baseline(results: Sequence[MixtureResult], data: str, baseline: str = "GAN") -> list[str]:
    """Markdown bullet lines: each course method's modes captured and % HQ on ``data`` against the
    ``baseline`` method's in the same runs' setting, with the ``verdict`` ("better" only beyond two
    standard errors of the difference, both means' errors counted).

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> def run(method, seed, modes):
        ...     return MixtureResult(method, "ring", seed, 1.0, ModeCoverage(modes, 8, 0.5, 0.1, [1] * 8))
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
        modes, hq = verdict(s.modes, base.modes), verdict(s.hq_fraction, base.hq_fraction)
        lines.append(f"* **{method}** vs {baseline}, {data}: modes captured {pm(s.modes)} vs {pm(base.modes)} "
                     f"({modes}); % HQ {pm(s.hq_fraction, 100)} vs {pm(base.hq_fraction, 100)} ({hq})")
    return lines


def collapsed(result: MixtureResult, num_modes: int) -> bool:
    """Whether a traced run stayed collapsed: at every scored step of the second half of ``result.trace``
    at most a quarter of the ``num_modes`` modes were captured and the most popular mode held at least
    three times its fair share 1/K of all samples (a pile, wherever it sat). A diffuse cloud that misses
    the HQ discs fails the second test; a generator spread over the modes fails the first.

    Example:
        >>> from gancourse.metrics.mixtures import ModeCoverage
        >>> cov = ModeCoverage(1, 8, 0.0, 0.0, [0] * 8)
        >>> piled = MixtureResult("GAN", "ring", 0, 1.0, cov, trace=[(10, 8, 0.9, 0.13), (20, 1, 0.0, 0.6)])
        >>> cloud = MixtureResult("GAN", "ring", 0, 1.0, cov, trace=[(10, 1, 0.0, 0.6), (20, 1, 0.0, 0.2)])
        >>> collapsed(piled, 8), collapsed(cloud, 8)
        (True, False)
    """
    if not result.trace:
        raise ValueError(f"run {result.method!r} on {result.data!r} has no trace: train it with trace_every > 0")
    late = result.trace[len(result.trace) // 2:]
    return all(modes <= num_modes // 4 and top >= 3 / num_modes for _, modes, _, top in late)
