"""What the browser tests share: Debian's Chromium, driven by Playwright with the flags that work headless as root
on a closed network (without the background-networking ones Chromium keeps trying, and failing, to reach Google's
hosts). ``CHROMIUM`` points at another binary; the tests never download a browser and never skip."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package (make e2e and make "
                    "site-test do this as root) or point CHROMIUM at a Chromium binary. The browser test never skips.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
