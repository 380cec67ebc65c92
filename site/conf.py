"""Sphinx configuration of the course website: every notebook executed and rendered, the course map, the API.

Built by ``make site`` (full mode, the release build) or ``make site QUICK=1`` (quick mode, what ``make test``
builds and opens in Chromium). The pieces:

- the lessons are ``notebooks/*.ipynb`` found by glob (``site/notebooks`` is a link to the repository's folder,
  so a page's path is the notebook's path in the repository, which is what the "Open in Colab" button needs);
- myst-nb executes each one in "cache" mode: an unchanged notebook is not run twice. The cache sits in the
  build folder, one per mode and per version of the package's code (``_ext/course_pages.py``), so quick
  outputs never stand in for full ones and a changed package reruns every notebook;
- the landing page's table is README's course map (``gancourse.course.readme_table``), the API pages are
  written from the package's modules (``_ext/course_pages.py``), widgets become still pictures
  (``_ext/static_widgets.py``), the formula blocks of the docstrings stay monospace (``_ext/docstrings.py``);
- ``make site`` runs ``sphinx-build -W``: a broken cross-reference, a notebook that raises, a figure that was
  not drawn or an image that cannot be read fails the build.

Environment: ``GANCOURSE_QUICK=1`` quick mode (budgets shrink); ``GANCOURSE_SITE_ONLY="00_* 01_*"`` builds only
the notebooks matching these patterns (to work on the site without running the whole course).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path[:0] = [str(SITE / "_ext"), str(ROOT)]

QUICK = os.environ.get("GANCOURSE_QUICK", "0") == "1"
# The kernels inherit this environment: figures must go through the inline backend (real PNGs in the
# page), which a non-interactive MPLBACKEND such as Agg would switch off.
os.environ.pop("MPLBACKEND", None)

import gancourse  # noqa: E402 (the package from this checkout, found through sys.path above)
from gancourse.notebook_check import repository_url  # noqa: E402

REPOSITORY = repository_url()   # pyproject's [project.urls] Repository, as the notebooks' Colab badges use

project = "gancourse"
author = "the gancourse authors"
copyright = "the gancourse authors, MIT licence"
release = version = gancourse.__version__
html_title = "GANs, hands on" + (" (quick mode)" if QUICK else "")

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "course_pages",
    "static_widgets",
    "docstrings",
]

exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints"]
_only = os.environ.get("GANCOURSE_SITE_ONLY", "").split()
if _only:   # e.g. "00_* 01_*": those notebooks, the landing page and the API
    include_patterns = ["*.md", "api/*", *(f"notebooks/{pattern}" for pattern in _only)]

# --- notebooks ------------------------------------------------------------------------------------------------
nb_execution_mode = "cache"
nb_execution_raise_on_error = True   # a cell that raises fails the build, with its traceback
nb_execution_show_tb = True
nb_execution_timeout = 3600          # per cell: a full-mode experiment runs for minutes on 2 cores
nb_execution_in_temp = False         # run where the notebook lies, as JupyterLab and nbval do
nb_merge_streams = True
nb_ipywidgets_js = {}                # no widget JavaScript from a CDN: widgets become pictures (static_widgets)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "html_image"]
myst_heading_anchors = 3
myst_update_mathjax = False          # MathJax 2 below, configured for the classes myst writes
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- the API reference ----------------------------------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# --- the theme ------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "",            # a lesson's page name is its path in the repository: notebooks/NN_name
    "use_repository_button": True,
    "use_download_button": True,   # the notebook itself (.ipynb), as committed
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {"colab_url": "https://colab.research.google.com", "notebook_interface": "jupyterlab"},
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
}
html_last_updated_fmt = None
html_show_sourcelink = True
html_copy_source = True

# MathJax from the installed jupyter-server-mathjax package, copied next to the pages (course_pages), so that
# the formulas render without a network (the browser test runs offline; so may a learner).
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True,
                "processClass": "math", "ignoreClass": "tex2jax_ignore|mathjax_ignore|document"},
    # HTML-CSS output everywhere (Chromium's native MathML would ask for TeX fonts the package does not ship),
    # with the STIX-Web fonts it does ship, as Jupyter's classic notebook uses them.
    "MMLorHTML": {"prefer": "HTML"},
    "menuSettings": {"assistiveMML": False},   # its hidden MathML copy would ask for those TeX fonts too
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None, "preferredFont": None},
    "messageStyle": "none",
}
