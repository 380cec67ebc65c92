"""What every lesson's checker needs to tell an unsolved exercise from a wrong answer.

A stub is a function that still raises ``NotImplementedError`` or returns ``None`` / ``...``; the
checker then prints "not done yet" and a hint instead of a traceback, so an unsolved exercise never
stops the notebook.
"""
from __future__ import annotations

import functools
from collections.abc import Callable


class NotDone(Exception):
    """The learner's function is still the stub."""


def call_answer(fn: Callable, *args):
    """``fn(*args)``, raising ``NotDone`` when ``fn`` is still a stub.

    Example:
        >>> call_answer(lambda x: x + 1, 1)
        2
        >>> def stub(x):
        ...     raise NotImplementedError
        >>> try:
        ...     call_answer(stub, 1)
        ... except NotDone as why:
        ...     print(why)
        still raises NotImplementedError
    """
    try:
        value = fn(*args)
    except NotImplementedError as err:
        raise NotDone("still raises NotImplementedError") from err
    if value is None or value is Ellipsis:
        raise NotDone(f"returns {value!r}")
    return value


def call_reporting_errors(fn: Callable, *args):
    """``call_answer(fn, *args)``, with an exception raised inside the learner's function turned into an
    ``AssertionError`` that names it: the checker reports the learner's bug, not a traceback through our code.

    Example:
        >>> try:
        ...     call_reporting_errors(lambda x: x / "a", 1)
        ... except AssertionError as why:
        ...     print(str(why).split(":")[0])
        your function raised TypeError
    """
    try:
        return call_answer(fn, *args)
    except NotDone:
        raise
    except Exception as err:
        raise AssertionError(explain_error(err)) from None


# PyTorch's words when two tensors of different dtypes meet (matmul, dot, addmv, allclose, ...)
_DTYPE_WORDS = ("same dtype", "did not match", "dtype, but", "expected scalar type", "found Float and Double",
                "found Double and Float")


def explain_error(err: Exception) -> str:
    """One line saying what went wrong inside the learner's function: a dtype mismatch gets a hint of its own
    instead of PyTorch's text, anything else is named with its message.

    Example:
        >>> import torch
        >>> try:
        ...     torch.ones(2) @ torch.ones(2, dtype=torch.float64)
        ... except RuntimeError as err:
        ...     print(explain_error(err).split(":")[0])
        your function mixes float32 and float64 tensors
        >>> explain_error(ZeroDivisionError("division by zero"))
        'your function raised ZeroDivisionError: division by zero'
    """
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, RuntimeError) and any(words in text for words in _DTYPE_WORDS):
        return ("your function mixes float32 and float64 tensors: make every new tensor in the input's dtype, "
                "e.g. torch.randn(n, dtype=W.dtype), or convert with .to(x.dtype)")
    return f"your function raised {type(err).__name__}: {text}"


def reports_stub(hint: str) -> Callable[[Callable], Callable]:
    """Decorate a ``check_*(fn)``: a ``NotDone`` inside it becomes one printed line with ``hint``.

    Example:
        >>> @reports_stub("return x + 1")
        ... def check_inc(fn):
        ...     assert call_answer(fn, 1) == 2, "1 + 1 should be 2"
        ...     print("check_inc: correct")
        >>> check_inc(lambda x: None)
        check_inc: not done yet (your function returns None). Hint: return x + 1
        >>> check_inc(lambda x: x + 1)
        check_inc: correct
    """
    def decorate(check: Callable) -> Callable:
        @functools.wraps(check)
        def wrapper(*fns, **kwargs):
            try:
                return check(*fns, **kwargs)
            except NotDone as why:
                print(f"{check.__name__}: not done yet (your function {why}). Hint: {hint}")
        return wrapper
    return decorate
