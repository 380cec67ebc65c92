"""Run independent training jobs side by side: one single-threaded process per CPU core.

The lessons' benchmarks train many small networks. On a CPU, splitting each small matrix product over
threads costs more than it saves, so ``map_jobs`` gives each run one thread and runs ``workers`` of them at
once in separate processes (a laptop's two cores finish two runs in about the time of one). On a GPU, or
with one worker, the jobs run one after another in this process. Each job carries its own seeds, so the
results do not depend on ``workers``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

__all__ = ["one_cpu_thread", "check_workers", "map_jobs"]

R = TypeVar("R")


@contextlib.contextmanager
def one_cpu_thread(device: torch.device):
    """Within the block, torch uses one CPU thread when ``device`` is the CPU (restored afterwards).

    Example:
        >>> with one_cpu_thread(torch.device("cpu")):
        ...     torch.get_num_threads()
        1
    """
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_workers(workers: int) -> int:
    """``workers`` if it is an integer >= 1, else a ``ValueError`` naming it.

    Example:
        >>> check_workers(2)
        2
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got workers={workers!r}")
    return workers


def _single_threaded(call: tuple) -> object:
    fn, job = call
    torch.set_num_threads(1)
    return fn(job)


def map_jobs(fn: Callable[[tuple], R], jobs: Sequence[tuple], *, workers: int, device: torch.device,
             report: Callable[[R], R] = lambda result: result) -> list[R]:
    """``[report(fn(job)) for job in jobs]``, in order; on a CPU with ``workers > 1`` the jobs run
    ``workers`` at a time in fresh processes with one thread each (``fn`` must then be a module-level
    function, and jobs and results picklable). ``report`` runs in this process as each result arrives.

    Example:
        >>> map_jobs(sum, [(1, 2), (3, 4)], workers=1, device=torch.device("cpu"))
        [3, 7]
    """
    check_workers(workers)
    if workers == 1 or device.type != "cpu" or len(jobs) <= 1:
        with one_cpu_thread(device):
            return [report(fn(job)) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": a fresh interpreter per worker; forking a process that already runs torch threads can hang.
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return [report(result) for result in pool.map(_single_threaded, [(fn, job) for job in jobs])]
