"""The course website as a reader meets it: the built site opened in a real (headless) Chromium.

Run by ``make site-test`` (part of ``make test``) after ``make site QUICK=1``; it reads the pages from
``$SITE_HTML`` (default ``site/_build/quick/html``) through a loopback HTTP server, as GitHub Pages serves them,
and drives Debian's Chromium through Playwright (launched by executable path, never a browser download). No
network: every resource the pages need must come from the site itself.

It checks that the landing page lists every notebook in ``notebooks/``; that each lesson page has its figures
(image elements that loaded, with a non-zero size), its formulas typeset, its widgets as still pictures, no
error output, an "Open in Colab" and a download link, and previous / next links that lead to the neighbouring
lessons; that search finds a lesson; that the API reference shows a formula docstring. A screenshot of each page
lands in ``$SITE_ARTIFACTS`` (default ``test-artifacts/site``).
"""
from __future__ import annotations

import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from gancourse.notebook_check import repository_url

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_HTML", ROOT / "site" / "_build" / "quick" / "html"))
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = Path(os.environ.get("SITE_ARTIFACTS", ROOT / "test-artifacts" / "site"))
WIDGETS = ("Dashboard(", "ModeCollapseExplorer(", "LabelPicker(")


def _source(stem: str) -> str:
    return (ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8")


def _has_math(stem: str) -> bool:
    cells = json.loads(_source(stem))["cells"]
    return any("$" in "".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site():
    """The base URL of the built site, served from loopback."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make site QUICK=1` first (make site-test does). "
                    "The browser test never skips.")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def page(browser, site):
    """A page that records every request to the site that failed (a missing image, script or font)."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.failed = []
    host = urlparse(site).netloc

    def record(response):
        if urlparse(response.url).netloc == host and response.status >= 400:
            page.failed.append(f"{response.status} {response.url}")

    page.on("response", record)
    # A request cut short because the test moved on to the next page (net::ERR_ABORTED) is not a failure.
    page.on("requestfailed", lambda request: urlparse(request.url).netloc == host
            and "ERR_ABORTED" not in (request.failure or "") and page.failed.append(f"failed {request.url}"))
    try:
        yield page
    finally:
        context.close()


def screenshot(page, filename: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / filename))


def open_page(page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"


# Every image in the page body that comes from the site: whether it loaded, and its natural size.
IMAGES = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter((img) => img.src.startsWith(location.origin))
  .map((img) => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0}))"""
MATHJAX_DONE = """() => new Promise((resolve) => window.MathJax.Hub.Queue(() => resolve(
  Array.from(document.querySelectorAll('.math')).filter((el) => /\\\\[()[\\]]/.test(el.innerText)).length)))"""


def lesson_url(site: str, stem: str) -> str:
    return urljoin(site, f"notebooks/{stem}.html")


def test_landing_page_lists_every_lesson(page, site):
    open_page(page, site)
    screenshot(page, "index.png")
    article = page.locator("article")
    for stem in NOTEBOOKS:
        link = article.locator(f'a[href="notebooks/{stem}.html"]')
        assert link.count() >= 1, f"the landing page's course map has no link to {stem}"
    assert "The course map" in article.inner_text()
    assert not page.failed, page.failed


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_lesson_page(page, site, stem):
    url = lesson_url(site, stem)
    open_page(page, url)
    screenshot(page, f"{stem}.png")
    article = page.locator("article")

    # Figures: the cells' image outputs, every one loaded with a real size.
    figures = page.evaluate(IMAGES, "article .cell_output img")
    assert figures, f"{stem}: no figure in the page"
    broken = [image["src"] for image in figures if not image["ok"]]
    assert not broken, f"{stem}: figures that did not load: {broken}"
    article.locator(".cell_output img").first.scroll_into_view_if_needed()
    screenshot(page, f"{stem}-figure.png")

    # No cell raised (the build would have failed, but a traceback printed as text would not).
    assert article.locator(".cell_output .traceback").count() == 0, f"{stem}: an error output is shown"
    outputs = " ".join(article.locator(".cell_output").all_inner_texts())
    assert "Traceback (most recent call last)" not in outputs, f"{stem}: a traceback is printed in an output"

    # Formulas typeset by the site's own MathJax: none left as raw TeX.
    if _has_math(stem):
        page.wait_for_function("() => window.MathJax && window.MathJax.Hub && window.MathJax.isReady")
        raw = page.evaluate(MATHJAX_DONE)
        assert raw == 0, f"{stem}: {raw} formulas left as raw TeX"
        assert page.locator(".MathJax").count() > 0, f"{stem}: no typeset formula"

    # Widgets: a still picture each, with the line saying where they are live.
    if any(name in _source(stem) for name in WIDGETS):
        stills = page.evaluate(IMAGES, "article .static-widget img")
        assert stills and all(image["ok"] for image in stills), f"{stem}: widget pictures {stills}"
        assert "live in JupyterLab and in Colab" in article.locator(".static-widget").first.inner_text()

    # Open in Colab (the header's launch button) and the notebook to download.
    colab = f"https://colab.research.google.com/github/{urlparse(repository_url()).path.strip('/')}/blob/main/" \
            f"notebooks/{stem}.ipynb"
    assert page.locator(f'.dropdown-launch-buttons a[href="{colab}"]').count() == 1, f"{stem}: no Colab link"
    download = page.locator(f'a[href$="_sources/notebooks/{stem}.ipynb"]')
    assert download.count() >= 1, f"{stem}: no download link"
    notebook = page.request.get(urljoin(url, download.first.get_attribute("href")))
    assert notebook.ok and json.loads(notebook.body())["cells"], f"{stem}: the download link is broken"
    assert not page.failed, f"{stem}: {page.failed}"

    # Previous / next: the neighbouring lessons (the landing page before the first, the API after the last).
    i = NOTEBOOKS.index(stem)
    expected = {
        "a.left-prev": lesson_url(site, NOTEBOOKS[i - 1]) if i > 0 else urljoin(site, "index.html"),
        "a.right-next": lesson_url(site, NOTEBOOKS[i + 1]) if i + 1 < len(NOTEBOOKS) else urljoin(site, "api.html"),
    }
    for selector, target in expected.items():
        link = page.locator(selector)
        assert link.count() == 1, f"{stem}: no {selector} link"
        assert urljoin(url, link.get_attribute("href")) == target, (stem, selector, link.get_attribute("href"))
    page.locator("a.right-next").click()
    page.wait_for_url(expected["a.right-next"])
    page.locator("a.left-prev").click()
    page.wait_for_url(url)
    assert not page.failed, f"{stem}: {page.failed}"


def test_search_finds_a_lesson(page, site):
    open_page(page, urljoin(site, "search.html?q=discriminator"))
    page.wait_for_function("() => /found/.test(document.querySelector('.search-summary')?.innerText || '')")
    hits = [page.locator("ul.search li a").nth(i).get_attribute("href")
            for i in range(page.locator("ul.search li a").count())]
    assert any(href.startswith("notebooks/") for href in hits), hits
    screenshot(page, "search.png")
    assert not page.failed, page.failed


def test_api_reference_shows_formulas(page, site):
    open_page(page, urljoin(site, "api.html"))
    page.locator('article a[href="api/gancourse.losses.html"]').click()
    function = page.locator('dt[id="gancourse.losses.discriminator_loss"]')
    function.wait_for()
    entry = page.locator("dl.py.function", has=function)
    formula = entry.locator("pre", has_text="L_D = -E_x[log D(x)]")
    assert formula.count() == 1, "the formula of discriminator_loss is not shown as written"
    assert "Goodfellow et al. 2014, Eq. 1" in entry.inner_text()
    formula.scroll_into_view_if_needed()
    screenshot(page, "api-losses.png")
    assert not page.failed, page.failed
