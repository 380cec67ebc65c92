"""The pages the site writes for itself before reading, and where it keeps the executed notebooks.

- ``_generated/course_map.md``: README's course map (``gancourse.course.readme_table``) with each notebook's
  name turned into a link to its page, plus a row for any notebook in ``notebooks/`` the map does not list yet;
- ``api/gancourse.*.rst``: one page per public module of ``gancourse``, each documenting the names its
  ``__all__`` exports that the module itself defines (a name re-exported by a package is documented once,
  where it is written);
- the execution cache: ``<build>/.jupyter_cache/<mode>-<hash of the package's code>``. Quick and full outputs
  never mix, and a change to the package reruns the notebooks (the hash is also a config value that rebuilds
  Sphinx's environment, so every page is read again);
- MathJax 2 from the ``jupyter-server-mathjax`` package, copied to ``_static/mathjax`` so formulas render
  offline.

Files are written only when their text changes, so an incremental build rereads only what changed.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import os
import pkgutil
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging
from sphinx.util.matching import Matcher

logger = logging.getLogger(__name__)

PACKAGE = "gancourse"
API_FOLDER = "api"
COURSE_MAP = "_generated/course_map.md"
SITE = Path(__file__).resolve().parents[1]


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def code_version(root: Path) -> str:
    """A short hash of every source file of the package: the notebooks' outputs depend on it."""
    digest = hashlib.sha256()
    for path in sorted((root / PACKAGE).rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


# --- the course map ---------------------------------------------------------------------------------------------
def course_map(srcdir: Path, config: Config) -> str:
    """README's table with links to the lesson pages that this build has.

    >>> from types import SimpleNamespace
    >>> table = course_map(SITE, SimpleNamespace(include_patterns=["**"], exclude_patterns=[])).splitlines()
    >>> table[2].startswith("| {doc}`0 · Start here </notebooks/00_start_here>` | ")
    True
    >>> only_00 = SimpleNamespace(include_patterns=["*.md", "notebooks/00_*"], exclude_patterns=[])
    >>> course_map(SITE, only_00).splitlines()[3].startswith("| 1 · The vanilla GAN | ")   # no page: no link
    True
    """
    from gancourse.course import LESSONS, readme_table

    include, exclude = Matcher(config.include_patterns), Matcher(config.exclude_patterns)

    def built(docname: str) -> bool:
        path = f"{docname}.ipynb"
        return (srcdir / path).exists() and include(path) and not exclude(path)

    lines = readme_table().split("\n")
    by_name = {lesson.notebook: lesson for lesson in LESSONS if lesson.built}
    for i, line in enumerate(lines):
        match = re.match(r"\| `([^`]+)` \|", line)
        if match and match.group(1) in by_name:
            lesson = by_name[match.group(1)]
            docname = f"notebooks/{lesson.notebook}"
            title = f"{lesson.number} · {lesson.title}"
            cell = f"{{doc}}`{title} </{docname}>`" if built(docname) else title
            lines[i] = line.replace(match.group(0), f"| {cell} |", 1)
    for path in sorted((srcdir / "notebooks").glob("*.ipynb")):
        docname = f"notebooks/{path.stem}"
        if path.stem not in by_name and built(docname):
            lines.append(f"| {{doc}}`{path.stem} </{docname}>` | not in the course map yet "
                         "(`gancourse/course.py`) | - | - | - |")
    return "\n".join(lines) + "\n"


# --- the API pages ----------------------------------------------------------------------------------------------
def public_modules() -> list[str]:
    """Every module of the package whose dotted name has no part starting with ``_``."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE] + [info.name for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
    return sorted(name for name in names if not any(part.startswith("_") for part in name.split(".")))


def defined_names(module_name: str) -> list[str]:
    """The names a module defines at its top level (not imports), in source order, limited to its ``__all__``
    when it has one, else to those without a leading underscore.

    >>> defined_names("gancourse.course")
    ['Lesson', 'LESSONS', 'lesson_table', 'readme_table', 'write_readme_table']
    >>> defined_names("gancourse")   # TrainConfig, budget, ... are documented where they are written
    ['__version__']
    """
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [target.id for target in targets if isinstance(target, ast.Name)]
    exported = getattr(module, "__all__", None)
    keep = (lambda name: name in exported) if exported is not None else (lambda name: not name.startswith("_"))
    return list(dict.fromkeys(name for name in names if keep(name) and name != "__all__"))


def api_page(module_name: str) -> str:
    members = defined_names(module_name)
    lines = [module_name, "=" * len(module_name), "", f".. automodule:: {module_name}"]
    if members:
        lines.append(f"   :members: {', '.join(members)}")
    return "\n".join(lines) + "\n"


def write_api_pages(srcdir: Path) -> None:
    folder = srcdir / API_FOLDER
    wanted = {f"{name}.rst": api_page(name) for name in public_modules()}
    for stale in folder.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    for filename, text in wanted.items():
        _write_if_changed(folder / filename, text)


# --- Sphinx hooks -----------------------------------------------------------------------------------------------
def on_config_inited(app: Sphinx, config: Config) -> None:
    srcdir = Path(app.srcdir)
    root = srcdir.parent
    version = code_version(root)
    mode = "quick" if os.environ.get("GANCOURSE_QUICK", "0") == "1" else "full"
    config.course_code_version = f"{mode}-{version}"
    caches = Path(app.outdir).parent / ".jupyter_cache"
    config.nb_execution_cache_path = str(caches / config.course_code_version)
    if caches.is_dir():  # older versions of the package: their outputs are of no further use
        for old in caches.iterdir():
            if old.name != config.course_code_version:
                shutil.rmtree(old, ignore_errors=True)
    logger.info(f"[course] {mode} mode, package code {version}")
    _write_if_changed(srcdir / COURSE_MAP, course_map(srcdir, config))
    write_api_pages(srcdir)


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(source, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("localization", "*.md", "unpacked"))


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_code_version", "", "env")
    app.connect("config-inited", on_config_inited)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
