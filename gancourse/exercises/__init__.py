"""Automatic checks for the lessons' exercises: call ``check_...(your_function)``.

Each lesson has its own module (``lesson1``, ``lesson2``, ...); every ``check_*`` function is also
reachable here, e.g. ``gancourse.exercises.check_optimal_discriminator``. A check prints a short
success line, prints "not done yet" and a hint while your function is still the stub (it raises
``NotImplementedError`` or returns ``None`` / ``...``), or raises ``AssertionError`` saying what is wrong,
never a bare traceback of our code.
"""
from __future__ import annotations

import importlib

__all__ = ["LESSON_MODULES"]

LESSON_MODULES = ("lesson1", "lesson2", "lesson3", "lesson4", "lesson5", "lesson6", "lesson8")


def __getattr__(name: str):
    if name.startswith("check_"):
        for module in LESSON_MODULES:
            try:
                mod = importlib.import_module(f"{__name__}.{module}")
            except ModuleNotFoundError as err:
                if err.name != f"{__name__}.{module}":
                    raise
                continue
            if hasattr(mod, name):
                return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
