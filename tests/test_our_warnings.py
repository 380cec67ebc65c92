"""Our own warnings: a DeprecationWarning or FutureWarning raised from gancourse fails the suite, someone
else's stays a warning (split from the robustness tests).
"""
from __future__ import annotations

import warnings

import pytest


def _warn_from(module: str, category: type[Warning]) -> None:
    # warnings attribute a warning to the module whose globals the warning frame runs in.
    namespace = {"__name__": module}
    exec("import warnings\ndef warn(category):\n    warnings.warn('probe', category)\n", namespace)
    namespace["warn"](category)


@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning])
def test_deprecation_and_future_warnings_from_gancourse_fail_the_suite(category):
    with pytest.raises(category, match="probe"):
        _warn_from("gancourse.train", category)
    with warnings.catch_warnings(record=True) as caught:  # someone else's warning is only a warning
        warnings.simplefilter("always")
        _warn_from("some_other_library", category)
    assert [w.category for w in caught] == [category]
