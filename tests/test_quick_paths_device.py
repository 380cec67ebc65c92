import pytest
import torch

from gancourse import budget, is_quick
from gancourse.device import pick_device
from gancourse.paths import data_dir, offline


def test_quick_mode_is_parsed_strictly(monkeypatch):
    monkeypatch.setenv("GANCOURSE_QUICK", "0")
    assert is_quick() is False and budget(5000, 50) == 5000
    monkeypatch.setenv("GANCOURSE_QUICK", "1")
    assert is_quick() is True and budget(5000, 50) == 50
    monkeypatch.delenv("GANCOURSE_QUICK")
    assert is_quick() is False
    for bad in ("yes", "true", "2"):
        monkeypatch.setenv("GANCOURSE_QUICK", bad)
        with pytest.raises(ValueError, match=f"GANCOURSE_QUICK='{bad}'"):
            is_quick()


def test_offline_flag_and_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    assert offline()
    monkeypatch.setenv("GANCOURSE_OFFLINE", "no")
    with pytest.raises(ValueError, match="GANCOURSE_OFFLINE"):
        offline()
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "cache"))
    assert data_dir() == tmp_path / "cache" and data_dir().is_dir()


def test_device_choice():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert pick_device("auto").type == "cuda"
    with pytest.raises(ValueError, match="'tpu'.*auto, cuda, mps, cpu"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
