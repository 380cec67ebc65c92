"""Notebook hygiene check used by ``make test``: no outputs, kernelspec and Colab GPU metadata, and
every notebook's Colab badge and setup cell agree with the repository URL in pyproject.toml.

Run as ``python -m gancourse.notebook_check notebooks/``; exits 1 listing every problem.
``python -m gancourse.notebook_check --stamp notebooks/`` rewrites badges and setup cells from
pyproject's ``[project.urls] Repository`` (the one place the URL lives).
Strip outputs with ``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

__all__ = ["notebook_problems", "figure_width_problems", "main", "repository_url", "badge_cell", "setup_cell", "stamp"]

SETUP_MARKER = "# Setup: in Colab"

_SETUP = """# Setup: in Colab, install the course package (Colab's own torch is kept), enable widgets and
# report the GPU; anywhere else this cell does nothing.
import os, subprocess, sys
if "google.colab" in sys.modules:
    source = os.environ.get("GANCOURSE_INSTALL_SOURCE", "git+{repo}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()
    import torch
    print("GPU:", torch.cuda.get_device_name() if torch.cuda.is_available()
          else "none (Runtime > Change runtime type > GPU)")"""


def repository_url(pyproject: str | Path | None = None) -> str:
    """The repository URL from pyproject's ``[project.urls] Repository``.

    Example:
        >>> repository_url().startswith("https://github.com/")
        True
    """
    import tomllib

    path = Path(pyproject) if pyproject else Path(__file__).resolve().parent.parent / "pyproject.toml"
    url = tomllib.loads(path.read_text())["project"]["urls"]["Repository"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"[project.urls] Repository must be https://github.com/OWNER/NAME, got {url!r}")
    return url


def badge_cell(repo: str, notebook_name: str) -> str:
    """The first cell of every notebook: an "Open in Colab" badge pointing at this notebook.

    Example:
        >>> cell = badge_cell("https://github.com/me/course", "01_vanilla_gan.ipynb")
        >>> "colab.research.google.com/github/me/course/blob/main/notebooks/01_vanilla_gan.ipynb" in cell
        True
    """
    slug = repo.removeprefix("https://github.com/")
    return (f'<a href="https://colab.research.google.com/github/{slug}/blob/main/notebooks/{notebook_name}" '
            'target="_parent"><img src="https://colab.research.google.com/assets/colab-badge.svg" '
            'alt="Open In Colab"/></a>')


def setup_cell(repo: str) -> str:
    """The setup cell every notebook carries right after its title cell.

    Example:
        >>> cell = setup_cell("https://github.com/me/course")
        >>> cell.startswith(SETUP_MARKER), '"git+https://github.com/me/course"' in cell
        (True, True)
    """
    return _SETUP.replace("{repo}", repo)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _colab_problems(path: Path, nb: dict, repo: str) -> list[str]:
    cells = nb.get("cells", [])
    problems = []
    if not cells or not _source(cells[0]).startswith(badge_cell(repo, path.name)):
        problems.append(f"{path}: first cell must start with the Colab badge for {path.name} (run --stamp)")
    setups = [c for c in cells if c.get("cell_type") == "code" and _source(c).startswith(SETUP_MARKER)]
    if len(setups) != 1 or _source(setups[0]) != setup_cell(repo):
        problems.append(f"{path}: needs exactly one setup cell equal to the stamped one (run --stamp)")
    return problems


def stamp(path: str | Path, repo: str | None = None) -> bool:
    """Rewrite the badge and setup cell of one notebook; returns True if the file changed.

    Example:
        >>> import nbformat, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = Path(folder.name) / "demo.ipynb"
        >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Demo")]), path)
        >>> repo = "https://github.com/me/course"
        >>> stamp(path, repo), stamp(path, repo)  # the second call finds nothing to change
        (True, False)
        >>> any("run --stamp" in problem for problem in notebook_problems(path, repo))
        False
        >>> folder.cleanup()
    """
    import nbformat

    path = Path(path)
    repo = repo or repository_url()
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=4)
    cells = nb.cells
    first = cells[0].source if cells and cells[0].cell_type == "markdown" else None
    if first is None:
        cells.insert(0, nbformat.v4.new_markdown_cell(badge_cell(repo, path.name)))
    else:
        rest = re.sub(r'^<a href="https://colab\.research\.google\.com/[^\n]*</a>\n*', "", first)
        cells[0].source = badge_cell(repo, path.name) + "\n\n" + rest
    index = next((i for i, c in enumerate(cells) if c.cell_type == "code"
                  and (c.source.startswith(SETUP_MARKER) or c.source.startswith("# Setup."))), None)
    if index is None:
        cells.insert(1, nbformat.v4.new_code_cell(setup_cell(repo)))
    else:
        cells[index].source = setup_cell(repo)
    after = nbformat.writes(nb)
    if not after.endswith("\n"):
        after += "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


_FIGSIZE = re.compile(r"figsize\s*=\s*")


def _first_argument(text: str) -> str:
    # the text up to the first comma outside brackets: "(2.9 * len(x), 3)" -> "2.9 * len(x)"
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return text[:i]
            depth -= 1
        elif ch == "," and depth == 0:
            return text[:i]
    return text


def figure_width_problems(source: str, max_width: float | None = None) -> list[str]:
    """Figure sizes in a code cell's ``source`` that a notebook would show shrunk: a ``figsize=`` must be
    a literal width of at most ``max_width`` inches (default ``gancourse.plot.NOTEBOOK_WIDTH``) or come
    from ``panel_figsize(...)``, which scales a row of panels to fit.

    Example:
        >>> figure_width_problems("plt.subplots(1, 3, figsize=(15, 3.6))")
        ['figsize=(15, ...) is wider than 11.0 in: the notebook would shrink it and its text']
        >>> figure_width_problems("plt.subplots(figsize=(2.3 * n, 4))")
        ['figsize=(2.3 * n, ...) is not a number: use panel_figsize(ncols, nrows, panel) for rows of panels']
        >>> figure_width_problems("plt.subplots(figsize=panel_figsize(n, 2))"), figure_width_problems("figsize=(11, 3)")
        ([], [])
    """
    if max_width is None:
        from .plot import NOTEBOOK_WIDTH as max_width
    problems = []
    for match in _FIGSIZE.finditer(source):
        rest = source[match.end():]
        if rest.startswith("panel_figsize("):
            continue
        width = _first_argument(rest[1:] if rest.startswith("(") else rest).strip()
        try:
            value = float(width)
        except ValueError:
            problems.append(f"figsize=({width}, ...) is not a number: use panel_figsize(ncols, nrows, panel) "
                            "for rows of panels")
            continue
        if value > max_width:
            problems.append(f"figsize=({width}, ...) is wider than {max_width} in: the notebook would shrink it "
                            "and its text")
    return problems


def notebook_problems(path: str | Path, repo: str | None = None) -> list[str]:
    """Problems with one notebook file (empty list when it is clean). With ``repo``, also checks the
    Colab badge and setup cell against it.

    Example:
        >>> notebook_problems("missing.ipynb")
        ['missing.ipynb: cannot read (FileNotFoundError)']
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"{path}: cannot read ({type(err).__name__})"]
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if nb.get("nbformat_minor", 0) >= 5 and "id" not in cell:
            problems.append(f"{path}: cell {i} has no id (nbformat 4.5 requires one; "
                            "nbformat.validator.normalize adds it)")
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                problems.append(f"{path}: cell {i} has outputs (clear them before committing)")
            if cell.get("execution_count") is not None:
                problems.append(f"{path}: cell {i} has an execution_count")
            problems += [f"{path}: cell {i}: {p}" for p in figure_width_problems(_source(cell))]
    meta = nb.get("metadata", {})
    if meta.get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{path}: metadata.kernelspec.name must be 'python3' (else JupyterLab asks for a kernel)")
    if meta.get("accelerator") != "GPU":
        problems.append(f"{path}: metadata.accelerator must be 'GPU' (Colab then offers a GPU runtime)")
    if repo is not None:
        problems += _colab_problems(path, nb, repo)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check every ``*.ipynb`` under the given folders; print problems; return 1 if any.

    ``--stamp`` first rewrites badges and setup cells; ``--no-colab`` skips the Colab checks.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = Path(folder, "bad.ipynb").write_text("not json")
        ...     main([folder, "--no-colab"])  # doctest: +ELLIPSIS
        /...bad.ipynb: cannot read (JSONDecodeError)
        checked 1 notebook(s): 1 problem(s)
        1
    """
    args = list(argv if argv is not None else sys.argv[1:])
    do_stamp, colab = "--stamp" in args, "--no-colab" not in args
    roots = [Path(a) for a in args if not a.startswith("--")] or [Path("notebooks")]
    files = sorted(f for r in roots for f in ([r] if r.is_file() else r.rglob("*.ipynb"))
                   if ".ipynb_checkpoints" not in f.parts)
    repo = repository_url() if (colab or do_stamp) else None
    if do_stamp:
        for f in files:
            if stamp(f, repo):
                print(f"stamped {f}")
    problems = [p for f in files for p in notebook_problems(f, repo if colab else None)]
    for p in problems:
        print(p)
    print(f"checked {len(files)} notebook(s): {'clean' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
