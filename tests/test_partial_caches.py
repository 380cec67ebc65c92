"""Partial caches and downloads: a truncated or damaged cache or dataset file is never used; it is rebuilt
or reported as unavailable, offline, without a download (split from the robustness tests).
"""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import gancourse.data
from gancourse.checkpoint import load_checkpoint, save_checkpoint
from gancourse.data.torchvision_sets import DatasetUnavailable, is_available, load_torchvision
from gancourse.metrics import images as im


@pytest.fixture
def tiny_images(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (120, 1, 28, 28), dtype=torch.uint8, generator=gen)
    y = torch.arange(120) % 10
    monkeypatch.setattr(gancourse.data, "load_images", lambda name, train=True, root=None: (x, y))
    return x


def test_truncated_classifier_cache_is_retrained_and_replaced(tiny_images, capsys):
    first = im.load_classifier("digits", device="cpu", steps=3)
    path = im.classifier_path("digits", steps=3)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])  # what a full disk or a killed copy leaves
    capsys.readouterr()
    again = im.load_classifier("digits", device="cpu", steps=3)
    assert "classifier cache unusable" in capsys.readouterr().out
    assert len(path.read_bytes()) == len(whole)  # rewritten whole, atomically
    probe = tiny_images[:8]
    assert torch.equal(im.predict_proba(first, probe), im.predict_proba(again, probe))  # same seed, same model
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def _drop_in_shape(state: dict) -> str:
    del state["in_shape"]
    return "KeyError"


def _shrink_the_head(state: dict) -> str:
    state["model"]["head.weight"] = torch.zeros(5, state["model"]["head.weight"].shape[1])  # 5 classes, not 10
    return "size mismatch"


@pytest.mark.parametrize("damage", [_drop_in_shape, _shrink_the_head], ids=["missing-key", "wrong-weight-shape"])
def test_readable_classifier_cache_with_damaged_contents_is_retrained_and_replaced(tiny_images, capsys, damage):
    first = im.load_classifier("digits", device="cpu", steps=3)
    path = im.classifier_path("digits", steps=3)
    state = load_checkpoint(path)
    reason = damage(state)
    save_checkpoint(state, path)  # readable, right kind and version: only its contents are wrong
    assert load_checkpoint(path)["kind"] == "classifier"
    capsys.readouterr()
    again = im.load_classifier("digits", device="cpu", steps=3)
    printed = capsys.readouterr().out
    assert "classifier cache unusable" in printed and reason in printed and "retraining" in printed
    rebuilt = load_checkpoint(path)
    assert rebuilt["in_shape"] == [1, 28, 28] and rebuilt["model"]["head.weight"].shape == (10, 128)
    probe = tiny_images[:8]
    assert torch.equal(im.predict_proba(first, probe), im.predict_proba(again, probe))  # same seed, same model
    capsys.readouterr()
    im.load_classifier("digits", device="cpu", steps=3)
    assert "unusable" not in capsys.readouterr().out  # the rebuilt cache is used as it is


def _idx(kind: int, *dims: int, payload: bytes) -> bytes:
    return struct.pack(">I" + "I" * len(dims), 0x800 + kind, *dims) + payload


def _write_mnist(root: Path, n: int = 4, folder: str = "MNIST") -> Path:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(_idx(3, n, 28, 28, payload=bytes(n * 28 * 28)))
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(_idx(1, n, payload=bytes(range(n))))
    return raw


def test_complete_fake_mnist_loads(tmp_path):
    _write_mnist(tmp_path)
    images, labels = load_torchvision("mnist", root=tmp_path, download=False)
    assert images.shape == (4, 1, 28, 28) and labels.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("damage", ["empty-labels", "truncated-labels", "header-only-images"])
def test_partial_mnist_files_raise_dataset_unavailable_and_are_left_alone(tmp_path, damage):
    raw = _write_mnist(tmp_path)
    target = raw / ("train-images-idx3-ubyte" if damage == "header-only-images" else "train-labels-idx1-ubyte")
    blob = target.read_bytes()
    target.write_bytes({"empty-labels": b"", "truncated-labels": blob[:10], "header-only-images": blob[:16]}[damage])
    before = {p: p.read_bytes() for p in raw.iterdir()}
    with pytest.raises(DatasetUnavailable, match="incomplete or corrupted.*delete that folder"):
        load_torchvision("mnist", root=tmp_path, download=False)
    assert {p: p.read_bytes() for p in raw.iterdir()} == before


def test_missing_mnist_file_is_reported_offline_without_a_download(tmp_path):
    raw = _write_mnist(tmp_path)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    assert not is_available("mnist", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="no MNIST/raw/t10k-labels-idx1-ubyte"):
        load_torchvision("mnist", root=tmp_path)  # GANCOURSE_OFFLINE=1 (conftest): no download is tried


def test_a_leftover_download_folder_is_not_taken_for_the_dataset(tmp_path):
    _write_mnist(tmp_path / ".download-mnist-abc123")  # a download killed before its files were moved in
    assert not is_available("mnist", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="not in the dataset cache"):
        load_torchvision("mnist", root=tmp_path)
    assert (tmp_path / ".download-mnist-abc123" / "MNIST" / "raw").is_dir()  # offline: nothing swept or written
    assert sorted(p.name for p in tmp_path.iterdir()) == [".download-mnist-abc123"]


def test_truncated_legacy_processed_mnist_raises_dataset_unavailable(tmp_path):
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    for name in ("training.pt", "test.pt"):
        buffer = io.BytesIO()
        torch.save((torch.zeros(4, 28, 28, dtype=torch.uint8), torch.arange(4)), buffer)
        (processed / name).write_bytes(buffer.getvalue()[:100])
    assert is_available("mnist", root=tmp_path)  # presence only; the read must then fail cleanly
    with pytest.raises(DatasetUnavailable, match="incomplete or corrupted"):
        load_torchvision("mnist", root=tmp_path, download=False)


def test_truncated_cifar_batch_raises_dataset_unavailable(tmp_path):
    import pickle

    import torchvision.datasets as tvd

    folder = tmp_path / tvd.CIFAR10.base_folder
    folder.mkdir()
    for name, _ in tvd.CIFAR10.train_list + tvd.CIFAR10.test_list:
        batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}
        (folder / name).write_bytes(pickle.dumps(batch)[:50])
    (folder / tvd.CIFAR10.meta["filename"]).write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))
    assert is_available("cifar10", root=tmp_path)
    with pytest.raises(DatasetUnavailable, match="CIFAR-10 .* incomplete or corrupted"):
        load_torchvision("cifar10", root=tmp_path, download=False)
