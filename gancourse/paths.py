"""Where the course keeps its dataset cache.

Order of preference: ``$GANCOURSE_DATA``; the repository's ``data/`` folder when the package is
used from a checkout (the editable install of ``make lab``); otherwise ``~/.cache/gancourse``
(e.g. a pip install in Colab).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["data_dir", "offline", "write_atomically"]


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` by calling ``write(f)`` on a temporary file next to it, then renaming that file
    over ``path``: a crash, a kill or a concurrent reader never sees half a file, only the old one or
    the new one (``os.replace`` is atomic within a filesystem). The temporary file is removed on failure.

    Example:
        >>> folder = Path(tempfile.mkdtemp())
        >>> write_atomically(folder / "a.txt", lambda f: f.write(b"hi")).read_bytes(), os.listdir(folder)
        (b'hi', ['a.txt'])
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def data_dir() -> Path:
    """Return the dataset cache folder, creating it if needed.

    Example:
        >>> data_dir().is_dir()
        True
    """
    env = os.environ.get("GANCOURSE_DATA")
    if env:
        path = Path(env).expanduser()
        if path.exists() and not path.is_dir():
            raise ValueError(f"environment variable GANCOURSE_DATA={env!r} names a file, not a folder; point it at "
                             "a folder for the dataset cache, or unset it to use the default")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"environment variable GANCOURSE_DATA={env!r}: the dataset cache folder cannot be "
                             f"created ({err.strerror or type(err).__name__}); point it at a folder you can "
                             "write, or unset it to use the default") from None
        return path
    repo_data = Path(__file__).resolve().parent.parent / "data"
    path = repo_data if (repo_data / "README.md").is_file() else Path.home() / ".cache" / "gancourse"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _strict_flag(name: str) -> bool:
    value = os.environ.get(name, "0").strip()
    if value not in ("0", "1", ""):
        raise ValueError(f"environment variable {name}={value!r} is not valid; use 1 (on) or 0 (off)")
    return value == "1"


def offline() -> bool:
    """True when ``GANCOURSE_OFFLINE=1``: no download is ever attempted.

    Example:
        >>> isinstance(offline(), bool)
        True
    """
    return _strict_flag("GANCOURSE_OFFLINE")
