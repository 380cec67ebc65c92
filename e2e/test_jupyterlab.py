"""The course as a learner meets it: JupyterLab in a real (headless) Chromium, every notebook run top to bottom.

Run by ``make e2e`` (part of ``make test``). It starts ``jupyter lab`` on a free loopback port with a random
token, drives Debian's Chromium through Playwright (launched by executable path, never a browser download),
runs all cells of every notebook in quick mode and asserts that no cell errs. In lesson 1 it also plays with
the dashboard: moves a slider, presses Train and checks that the live plot changes, then Stop.

Screenshots of each notebook's final state land in ``$E2E_ARTIFACTS`` (default ``test-artifacts/e2e``).
The notebooks are copied to a temp folder first, so autosave never writes outputs into the repository.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from secrets import token_hex

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
NOTEBOOK_TIMEOUT_S = 900
# JupyterLab settings for the test server: no news toast over the page, and every cell kept in the DOM
# (the default windowed notebook only renders the cells in view, so widgets far down would not exist).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


DASHBOARD_NOTEBOOK = "dashboard_check.ipynb"


def _write_dashboard_notebook(path: Path) -> None:
    """A one-cell notebook showing the dashboard, so that the interaction test does not rerun a lesson."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(
        "from gancourse.widgets import Dashboard\n"
        "dash = Dashboard(data='ring', loss='nsgan', steps=200, z_dim=16, lr_g=1e-3, lr_d=1e-3, batch_size=256)\n"
        "dash"))
    nbformat.write(nb, str(path))


class Lab:
    """A ``jupyter lab`` server on loopback, in its own process group so that kernels die with it."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.token = _free_port(), token_hex(16)
        self.root = workdir / "course"
        self.root.mkdir()
        for name in NOTEBOOKS:
            shutil.copy(ROOT / "notebooks" / name, self.root / name)
        _write_dashboard_notebook(self.root / DASHBOARD_NOTEBOOK)
        config, settings = workdir / "jupyter-config", workdir / "lab-settings"
        _write_json(config / "labconfig" / "page_config.json", PAGE_CONFIG)
        for rel, payload in LAB_SETTINGS.items():
            _write_json(settings / rel, payload)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"), GANCOURSE_QUICK="1",
                   GANCOURSE_OFFLINE="1", GANCOURSE_DATA=str(workdir / "data"))
        env.pop("MPLBACKEND", None)  # the notebooks should draw inline, as they do for a learner
        self.log_path = workdir / "jupyter-lab.log"
        self._log = self.log_path.open("w")
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True", "--allow-root"]
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_until_up()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.shutdown()
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def shutdown(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


# --- JupyterLab, through the app object it exposes (--LabApp.expose_app_in_browser) -------------------------
# The panel is looked up by path: JupyterLab may restore other tabs, so "current widget" is not reliable.
FIND = """const find = (path) => {
  for (const w of window.jupyterapp.shell.widgets('main')) if (w.context && w.context.path === path) return w;
  return null;
};"""
OPEN_AND_READY = """async (path) => {""" + FIND + """
  const nb = find(path);
  await nb.context.ready;
  await nb.sessionContext.ready;
  return nb.sessionContext.session.kernel.name;
}"""
# notebook:run-all-cells resolves once every cell has run, or at the first cell that raised.
START_RUN_ALL = """(path) => {""" + FIND + """
  window.jupyterapp.shell.activateById(find(path).id);
  window.__runAllDone = false;
  window.jupyterapp.commands.execute('notebook:run-all-cells').finally(() => { window.__runAllDone = true; });
}"""
RUN_ALL_DONE = """(path) => {""" + FIND + """
  const kernel = find(path).sessionContext.session.kernel;
  return window.__runAllDone && kernel && kernel.status === 'idle';
}"""
CELL_REPORT = """(path) => {""" + FIND + """
  const cells = find(path).content.model.cells;
  const report = {code: 0, executed: 0, errors: [], not_run: []};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    report.code++;
    if (cell.executionCount !== null) report.executed++;
    else report.not_run.push(i);
    for (const out of cell.outputs.toJSON())
      if (out.output_type === 'error') report.errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
  }
  return report;
}"""
SCROLL_TO_END = """(path) => {""" + FIND + """
  const nb = find(path).content;
  nb.activeCellIndex = nb.widgets.length - 1;
  nb.node.scrollTop = nb.node.scrollHeight;
}"""


SHUTDOWN_KERNEL = """async (path) => {""" + FIND + """
  await find(path).sessionContext.shutdown();
}"""


def open_notebook(page, lab: Lab, name: str) -> None:
    # ?reset: start from an empty workspace instead of restoring the tabs of the previous test.
    page.goto(f"{lab.base}/lab/tree/{name}?reset&token={lab.token}")
    page.wait_for_function("(path) => {" + FIND + " const w = window.jupyterapp && find(path);"
                           " return w && w.sessionContext; }", arg=name, timeout=120_000)
    kernel = page.evaluate(OPEN_AND_READY, name)
    assert kernel == "python3", f"{name} started kernel {kernel!r}, expected python3"


@contextmanager
def opened(page, lab: Lab, name: str):
    """The notebook open in the page; its kernel is shut down afterwards so kernels do not pile up."""
    open_notebook(page, lab, name)
    try:
        yield
    finally:
        page.evaluate(SHUTDOWN_KERNEL, name)


def run_all_cells(page, name: str) -> dict:
    page.evaluate(START_RUN_ALL, name)
    page.wait_for_function(RUN_ALL_DONE, arg=name, timeout=NOTEBOOK_TIMEOUT_S * 1000, polling=1000)
    return page.evaluate(CELL_REPORT, name)


def screenshot(page, filename: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / filename
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(page, lab, name):
    with opened(page, lab, name):
        try:
            report = run_all_cells(page, name)
            page.evaluate(SCROLL_TO_END, name)
            page.wait_for_timeout(500)
        finally:  # the final state, or where it got stuck
            screenshot(page, f"{Path(name).stem}.png")
        assert not report["errors"], f"{name}: cells raised in the browser:\n" + "\n".join(report["errors"])
        assert report["executed"] == report["code"] > 0, (
            f"{name}: only {report['executed']}/{report['code']} code cells ran; not run: {report['not_run']}")
        # A notebook that builds a widget must show it, not a "Loading widget..." placeholder or the
        # plain-text repr a kernel without the widget manager would print.
        source = (lab.root / name).read_text()
        if "Dashboard(" in source or "ModeCollapseExplorer(" in source:
            train = page.locator("button.widget-button", has_text="Train")
            assert train.count() >= 1, f"{name}: the widget's Train button did not render"


def test_dashboard_slider_train_and_stop(page, lab):
    with opened(page, lab, DASHBOARD_NOTEBOOK):
        play_with_dashboard(page)


def play_with_dashboard(page) -> None:
    report = run_all_cells(page, DASHBOARD_NOTEBOOK)
    assert not report["errors"], report["errors"]
    # The dashboard's outer VBox is the first widget box that holds a Train button.
    dash = page.locator(".widget-vbox", has=page.locator("button.widget-button", has_text="Train")).first
    dash.scroll_into_view_if_needed()
    plot = dash.locator("img.widget-image").first
    train = dash.locator("button.widget-button", has_text="Train")
    stop = dash.locator("button.widget-button", has_text="Stop")
    assert train.is_enabled() and stop.is_disabled()

    # Move the G learning-rate slider with the keyboard, as a learner would, and read its readout back.
    slider = dash.locator(".widget-hslider", has=page.locator(".widget-label", has_text="G learning rate"))
    readout = slider.locator(".widget-readout")
    before_lr = readout.inner_text()
    slider.locator(".noUi-handle").focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("([el, old]) => el.innerText !== old", arg=[readout.element_handle(), before_lr])
    after_lr = readout.inner_text()
    assert float(after_lr) < float(before_lr), (before_lr, after_lr)

    # A long run, so that Stop has something to stop.
    steps = dash.locator(".widget-text", has=page.locator(".widget-label", has_text="steps")).locator("input")
    steps.fill("100000")
    steps.press("Enter")
    before = plot.screenshot()
    screenshot(page, "dashboard-before-train.png")
    train.click()
    page.wait_for_function("(el) => el.disabled === false", arg=stop.element_handle(), timeout=30_000)
    deadline = time.monotonic() + 180
    while plot.screenshot() == before:
        assert time.monotonic() < deadline, "the live plot did not change within 180 s of pressing Train"
        page.wait_for_timeout(1000)
    screenshot(page, "dashboard-training.png")

    stop.click()
    message = dash.locator(".widget-html")
    message.filter(has_text="stopped").wait_for(timeout=60_000)
    text = message.filter(has_text="stopped").inner_text()
    steps_done = int(text.split("stopped:")[1].split("steps")[0])
    assert 0 < steps_done < 100000, text
    # The two buttons are two widgets, updated by two messages: wait for both.
    page.wait_for_function("(el) => el.disabled === false", arg=train.element_handle(), timeout=30_000)
    page.wait_for_function("(el) => el.disabled === true", arg=stop.element_handle(), timeout=30_000)
    screenshot(page, "dashboard-stopped.png")
