"""Colab readiness: badges and setup cells agree with pyproject, and the setup cell really installs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gancourse.notebook_check import badge_cell, notebook_problems, repository_url, setup_cell, stamp

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_agrees_with_the_repository_url(path):
    assert notebook_problems(path, repository_url()) == []


def test_stamp_fixes_a_stale_badge_and_setup_cell(tmp_path):
    repo = "https://github.com/someone/fork"
    nb = json.loads(NOTEBOOKS[0].read_text())
    target = tmp_path / NOTEBOOKS[0].name
    target.write_text(json.dumps(nb))
    assert any("badge" in p for p in notebook_problems(target, repo))
    assert stamp(target, repo) is True
    assert notebook_problems(target, repo) == []
    text = target.read_text()
    assert "colab.research.google.com/github/someone/fork/blob/main/notebooks/" in text
    assert "git+https://github.com/someone/fork" in text and "gancourse/gancourse" not in text
    assert stamp(target, repo) is False  # idempotent


def test_repository_url_must_be_github(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "ftp://example.org/x"\n')
    with pytest.raises(ValueError, match="ftp://example.org/x"):
        repository_url(bad)


def test_badge_and_setup_templates():
    assert badge_cell("https://github.com/a/b", "01_x.ipynb").startswith(
        '<a href="https://colab.research.google.com/github/a/b/blob/main/notebooks/01_x.ipynb"')
    cell = setup_cell("https://github.com/a/b")
    assert '"google.colab" in sys.modules' in cell and "git+https://github.com/a/b" in cell


def _run_setup_cell(tmp_path, colab: bool):
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "output.py").write_text(
        "def enable_custom_widget_manager():\n    print('colab widgets enabled')\n")
    target = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(fake), "GANCOURSE_INSTALL_SOURCE": str(ROOT), "PIP_TARGET": str(target),
           "PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    prelude = "import google.colab\n" if colab else ""
    proc = subprocess.run([sys.executable, "-c", prelude + setup_cell(repository_url())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    return proc, target


def test_setup_cell_in_simulated_colab_installs_and_imports_the_package(tmp_path):
    proc, target = _run_setup_cell(tmp_path, colab=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "colab widgets enabled" in proc.stdout and "GPU:" in proc.stdout
    check = subprocess.run([sys.executable, "-c", "import gancourse, gancourse.train; print(gancourse.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]
    assert Path(check.stdout.strip()).is_relative_to(target)  # imported from what the cell installed


def test_setup_cell_does_nothing_outside_colab(tmp_path):
    proc, target = _run_setup_cell(tmp_path, colab=False)
    assert proc.returncode == 0 and proc.stdout == "" and not target.exists()
