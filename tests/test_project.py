"""The project's own promises: layout, environment.yml mirrors pyproject, notebooks are clean."""
import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from gancourse.notebook_check import main as check_notebooks
from gancourse.notebook_check import notebook_problems

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_every_runtime_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda_names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    # conda-forge names for PyPI packages
    conda_names |= {"torch"} if "pytorch" in conda_names else set()
    conda_names |= {"matplotlib"} if "matplotlib-base" in conda_names else set()
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = {_name(r) for r in runtime} - conda_names
    assert not missing, f"environment.yml lacks {missing}"
    pip_items = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert any(item.startswith("-e .") for item in pip_items)


def test_pyproject_keeps_lower_bounds_only():
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" not in r and "<" not in r for r in runtime), runtime
    assert "torch>=2.2" in runtime


def test_layout():
    for item in ("notebooks", "gancourse", "data", "environment.yml", "tests", "README.md", "pyproject.toml",
                 "Makefile", ".ci/run", "benchmarks"):
        assert (ROOT / item).exists(), item
    assert (ROOT / "data" / "README.md").is_file()


def test_notebook_check_flags_outputs_and_missing_metadata(tmp_path, capsys):
    good = {"cells": [{"cell_type": "code", "id": "c0", "source": "1", "outputs": [], "execution_count": None,
                       "metadata": {}}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "accelerator": "GPU"}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "good.ipynb").write_text(json.dumps(good))
    assert notebook_problems(tmp_path / "good.ipynb") == []
    bad = json.loads(json.dumps(good))
    bad["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    del bad["metadata"]["kernelspec"]
    (tmp_path / "bad.ipynb").write_text(json.dumps(bad))
    problems = notebook_problems(tmp_path / "bad.ipynb")
    assert any("has outputs" in p for p in problems) and any("kernelspec" in p for p in problems)
    assert check_notebooks([str(tmp_path), "--no-colab"]) == 1
    assert "2 problem(s)" in capsys.readouterr().out


def test_committed_notebooks_are_clean():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "the course has notebooks"
    assert [p for nb in notebooks for p in notebook_problems(nb)] == []


@pytest.mark.parametrize("module", ["data", "models", "losses", "config", "train", "checkpoint", "metrics", "plot",
                                    "quick", "device", "cli", "widgets", "exercises", "wasserstein", "lipschitz",
                                    "notebook_check"])
def test_help_lists_modules_that_exist(module):
    import importlib

    import gancourse

    assert f"gancourse.{module}" in gancourse.__doc__
    assert importlib.import_module(f"gancourse.{module}").__doc__  # each module explains itself
