"""What a run's ``--out`` folder holds besides its results: the temporaries of a save that was killed, and
whether the folder can be written at all (checked before training, so that no work is lost at the end)."""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["is_own_temporary", "remove_own_temporaries", "check_writable"]

# What paths.write_atomically (tempfile.mkstemp) names the temporary copy of each file a run writes.
_TEMPORARY = re.compile(r"(checkpoint\.pt|samples\.png|losses\.png|metrics\.json)\.[a-z0-9_]{8}\.tmp")


def is_own_temporary(path: Path) -> bool:
    """True for a temporary file that a killed save of a run left in its folder (never a user's file).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> _ = (out / "samples.png.k2x9_q0a.tmp").write_bytes(b"")
        >>> _ = (out / "samples.png.tmp").write_bytes(b"")          # not a name the atomic writer makes
        >>> is_own_temporary(out / "samples.png.k2x9_q0a.tmp"), is_own_temporary(out / "samples.png.tmp")
        (True, False)
    """
    return _TEMPORARY.fullmatch(path.name) is not None and path.is_file() and not path.is_symlink()


def remove_own_temporaries(out: Path) -> list[str]:
    """Delete the stale temporaries of a save that SIGKILL or a crash interrupted; return their names.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> _ = (out / "checkpoint.pt.abcd1234.tmp").write_bytes(b"")
        >>> _ = (out / "notes.txt").write_text("the user's own file")
        >>> remove_own_temporaries(out)
        ['checkpoint.pt.abcd1234.tmp']
        >>> sorted(p.name for p in out.iterdir())
        ['notes.txt']
    """
    removed = []
    for path in sorted(out.iterdir()) if out.is_dir() else []:
        if is_own_temporary(path):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def check_writable(out: Path) -> None:
    """``ValueError`` before anything is trained when ``out`` (or the folder that would hold it) cannot be
    written: a run that could not save its checkpoint would lose all its work at the end.

    Example:
        >>> import tempfile
        >>> check_writable(Path(tempfile.mkdtemp()) / "new-run")     # inside a writable folder: fine
    """
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == out else f": the folder {existing} that would hold it"
        raise ValueError(f"--out {out}{where} is not writable by this user; choose an --out you can write to")
