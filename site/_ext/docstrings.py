"""The package's docstrings, shown as they are written: plain text with formulas, not reStructuredText.

The docstrings put a formula (or the loop's pseudocode) on its own indented lines after a sentence (labml style)::

    Discriminator BCE loss = -V(D, G) (Goodfellow et al. 2014, Eq. 1):

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]
            = E[softplus(-D_logit(x))] + E[softplus(D_logit(G(z)))]

reStructuredText would read such a block as a quotation (lines joined, the aligned ``=`` lost, ``*`` or ``|``
read as markup). Before napoleon reads a docstring, this puts a ``code-block:: text`` directive in front of each
such block (after a sentence ending in ``:``, or after any top-level sentence), so that it is shown in monospace
exactly as typed, without Python's syntax colours. In the prose around them, an
absolute value ``|x - y|`` and a lone ``*`` ("joined by *") are escaped so that they print as typed instead of
being read as a substitution or the start of an emphasis. Google-style section headers (``Args:``,
``Example:``), doctests and ````code```` are left alone.
"""
from __future__ import annotations

import re

from sphinx.application import Sphinx

NAPOLEON_SECTIONS = {
    "args", "arguments", "attention", "attributes", "caution", "danger", "error", "example", "examples", "hint",
    "important", "keyword args", "keyword arguments", "methods", "note", "notes", "other parameters",
    "parameters", "receive", "receives", "return", "returns", "raise", "raises", "references", "see also", "tip",
    "todo", "warning", "warnings", "warns", "yield", "yields",
}
FORMULA_BLOCK = ".. code-block:: text"   # shown as typed, without Python's colours
LONE_STAR = re.compile(r"(?<![\w*\\])\*(?=[\s,.;:)\]]|$)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _introduces_block(lines: list[str], i: int) -> bool:
    """Line ``i`` is prose followed by a blank line and then by lines indented deeper than it."""
    stripped = lines[i].strip()
    if (not stripped or stripped.endswith("::") or stripped.startswith((":", "..", ">>>", "- ", "* "))
            or stripped.rstrip(":").lower() in NAPOLEON_SECTIONS or i + 2 >= len(lines) or lines[i + 1].strip()):
        return False
    following = next((later for later in lines[i + 2:] if later.strip()), None)
    return following is not None and _indent(following) > _indent(lines[i])


def _escape_prose(line: str) -> str:
    parts = line.split("``")
    for k in range(0, len(parts), 2):   # outside ``code`` spans
        parts[k] = LONE_STAR.sub(r"\\*", parts[k].replace("|", r"\|"))
    return "``".join(parts)


def plain_docstring(lines: list[str]) -> list[str]:
    """``lines`` with indented blocks made literal and absolute values / lone stars escaped in the prose.

    >>> lines = plain_docstring(["Loss:", "", "    L = |a_b * c|", "", "Slope |f(x)|, joined by *.", "",
    ...                          "Example:", "    >>> abs(-1) | 0", "    1"])
    >>> lines[:5]
    ['Loss:', '', '.. code-block:: text', '', '    L = |a_b * c|']
    >>> print(lines[6])
    Slope \\|f(x)\\|, joined by \\*.
    >>> lines[7:]
    ['', 'Example:', '    >>> abs(-1) | 0', '    1']
    >>> plain_docstring(["The loop.", "", "    for step in steps:", "        train"])[:4]
    ['The loop.', '', '.. code-block:: text', '']
    """
    out: list[str] = []
    literal_above: int | None = None   # indentation of the line that opened the literal block we are in
    doctest = False
    for i, line in enumerate(lines):
        if literal_above is not None and line.strip() and _indent(line) <= literal_above:
            literal_above = None
        doctest = line.lstrip().startswith(">>>") or (doctest and bool(line.strip()))
        if literal_above is not None or doctest:
            out.append(line)
            continue
        if _introduces_block(lines, i) and (line.rstrip().endswith(":") or _indent(line) == 0):
            literal_above = _indent(line)
            out += [_escape_prose(line), "", " " * literal_above + FORMULA_BLOCK]
            continue
        elif line.rstrip().endswith("::") and line.strip():
            literal_above = _indent(line)
        out.append(_escape_prose(line))
    return out


def on_docstring(app: Sphinx, what: str, name: str, obj: object, options: dict, lines: list[str]) -> None:
    lines[:] = plain_docstring(lines)


def setup(app: Sphinx) -> dict:
    app.connect("autodoc-process-docstring", on_docstring, priority=400)   # before napoleon (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
