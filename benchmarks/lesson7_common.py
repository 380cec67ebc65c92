"""What the three lesson-7 benchmarks share: the CPU clock they report and the tuning / report rule."""
from __future__ import annotations

import resource
from collections.abc import Iterable


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished workers (``getrusage``)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_kind(ids: Iterable[int], tuning: Iterable[int], noun: str = "seeds") -> str:
    """"tuning" when every id is a tuning one, else "report"; a report that mixes in a tuning id stops the script
    (settings chosen on a seed are never reported on it)."""
    ids, tuning = set(ids), set(tuning)
    if ids <= tuning:
        return "tuning"
    if ids & tuning:
        raise SystemExit(f"{noun} {sorted(ids & tuning)} are tuning {noun}: report on others")
    return "report"
