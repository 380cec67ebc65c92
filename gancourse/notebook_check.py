"""Notebook hygiene check used by ``make test``: no outputs, kernelspec and Colab GPU metadata.

Run as ``python -m gancourse.notebook_check notebooks/``; exits 1 listing every problem.
Strip outputs with ``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["notebook_problems", "main"]


def notebook_problems(path: str | Path) -> list[str]:
    """Problems with one notebook file (empty list when it is clean).

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
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                problems.append(f"{path}: cell {i} has outputs (clear them before committing)")
            if cell.get("execution_count") is not None:
                problems.append(f"{path}: cell {i} has an execution_count")
    meta = nb.get("metadata", {})
    if meta.get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{path}: metadata.kernelspec.name must be 'python3' (else JupyterLab asks for a kernel)")
    if meta.get("accelerator") != "GPU":
        problems.append(f"{path}: metadata.accelerator must be 'GPU' (Colab then offers a GPU runtime)")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check every ``*.ipynb`` under the given folders; print problems; return 1 if any."""
    roots = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or [Path("notebooks")]
    files = sorted(f for r in roots for f in ([r] if r.is_file() else r.rglob("*.ipynb"))
                   if ".ipynb_checkpoints" not in f.parts)
    problems = [p for f in files for p in notebook_problems(f)]
    for p in problems:
        print(p)
    print(f"checked {len(files)} notebook(s): {'clean' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
