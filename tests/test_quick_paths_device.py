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
    with pytest.raises(ValueError, match="'tpu'.*auto, cuda, mps, cpu"):
        pick_device("tpu")


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"),
                                                 (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    # Whatever this machine has: the availability queries are what pick_device reads.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)  # asked when naming cuda's index
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(cuda))
    assert pick_device("auto").type == expected
    if not cuda:
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
    if mps:
        assert pick_device("mps").type == "mps"
    else:
        with pytest.raises(ValueError, match="MPS is not available"):
            pick_device("mps")
