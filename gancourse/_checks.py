"""Argument checks shared by several modules, so every bad count gets the same clear message."""
from __future__ import annotations

import numbers


def positive_int(name: str, value: object, meaning: str = "") -> int:
    """``value`` as a plain ``int`` if it is a whole number >= 1, else ``ValueError`` naming it.

    Python and numpy integers pass; ``True``/``False`` do not (``bool`` is an ``int`` subclass,
    but ``width=True`` is a mistake), and neither do floats such as ``2.0`` or strings such as ``"8"``.

    Example:
        >>> positive_int("width", 16)
        16
        >>> positive_int("width", 2.5)
        Traceback (most recent call last):
        ValueError: width must be an integer >= 1, got width=2.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{meaning}, got {name}={value!r}")
    return int(value)
