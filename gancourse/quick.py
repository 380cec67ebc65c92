"""Quick mode: ``GANCOURSE_QUICK=1`` shrinks step budgets, never code paths.

CI and nbval set it so every notebook runs top to bottom in seconds; a learner leaves it unset.
The value is parsed strictly: ``"0"`` is a non-empty string, so truthiness would be a bug.
"""
from __future__ import annotations

from typing import TypeVar

from .paths import _strict_flag

__all__ = ["is_quick", "budget"]

T = TypeVar("T", int, float)


def is_quick() -> bool:
    """True when ``GANCOURSE_QUICK=1``; ``0`` or unset is False; anything else is an error.

    Example:
        >>> import os; os.environ["GANCOURSE_QUICK"] = "0"; is_quick()
        False
    """
    return _strict_flag("GANCOURSE_QUICK")


def budget(full: T, quick: T) -> T:
    """Pick a step/sample budget: ``full`` normally, ``quick`` in quick mode.

    Example:
        >>> import os; os.environ["GANCOURSE_QUICK"] = "1"; budget(5000, 50)
        50
    """
    return quick if is_quick() else full
