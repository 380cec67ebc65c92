"""Test isolation shared by ``tests/`` and the doctests in ``gancourse/`` (pytest loads this file for both).

Notebook cells run by nbval are not pytest functions, so these fixtures never reach them.
"""
import os

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """Tests never touch the user's data/ cache and never see a learner's quick/offline flags."""
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path_factory.mktemp("gancourse-data")))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.delenv("GANCOURSE_QUICK", raising=False)
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def split_and_resume(tmp_path):
    """``split_and_resume(make, first_steps)`` -> (a trainer from ``make()`` trained in one go, a fresh one
    loaded from the checkpoint of a run stopped after ``first_steps``, not yet trained further): the two
    halves of every "resumes bit for bit" test."""
    def run(make, first_steps: int):
        full = make()
        full.train(progress=False)
        first = make()
        first.train(steps=first_steps, progress=False)
        first.save(tmp_path / "split.pt")
        return full, make().load(tmp_path / "split.pt")
    return run

