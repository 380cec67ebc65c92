"""Tests for gancourse.data.torchvision_sets, fully offline.

Real torchvision classes read tiny fake datasets written here in torchvision's on-disk layout
(IDX files for MNIST/Fashion-MNIST, pickled batches for CIFAR-10); downloads are simulated by
replacing torchvision's download helpers, and any real network access fails the test.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import socket
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd
import torchvision.datasets.cifar
import torchvision.datasets.mnist
import torchvision.datasets.utils

from gancourse.data.torchvision_sets import (
    ONLINE_DATASETS,
    DatasetUnavailable,
    is_available,
    load_torchvision,
    resolve_auto,
)

MNIST_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# --------------------------------------------------------------------------- fake data writers


def idx_images(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 0x00000803, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes()


def pattern_images(n: int, seed: int) -> np.ndarray:
    """Image i: pixel (r, c) = (seed + 7 i + r + 3 c) mod 256, so every image and split differs."""
    i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
    return ((seed + 7 * i + r + 3 * c) % 256).astype(np.uint8)


def mnist_contents(seed: int, n_train: int = 5, n_test: int = 3) -> dict[str, bytes]:
    train_x, test_x = pattern_images(n_train, seed), pattern_images(n_test, seed + 100)
    train_y = (np.arange(n_train) + seed) % 10
    test_y = (np.arange(n_test) * 3 + seed) % 10
    return {
        "train-images-idx3-ubyte": idx_images(train_x),
        "train-labels-idx1-ubyte": idx_labels(train_y),
        "t10k-images-idx3-ubyte": idx_images(test_x),
        "t10k-labels-idx1-ubyte": idx_labels(test_y),
    }


def expected_mnist(seed: int, train: bool, n_train: int = 5, n_test: int = 3) -> tuple[np.ndarray, np.ndarray]:
    if train:
        return pattern_images(n_train, seed), (np.arange(n_train) + seed) % 10
    return pattern_images(n_test, seed + 100), (np.arange(n_test) * 3 + seed) % 10


def write_mnist(root: Path, folder: str = "MNIST", seed: int = 0) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, blob in mnist_contents(seed).items():
        (raw / name).write_bytes(blob)


CIFAR_PER_BATCH = 2


def cifar_batches() -> dict[str, dict]:
    rng = np.random.default_rng(0)
    batches = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 200, size=(CIFAR_PER_BATCH, 3 * 32 * 32), dtype=np.uint8)
        batches[name] = {"batch_label": name, "data": data, "labels": [(k + j) % 10 for j in range(CIFAR_PER_BATCH)],
                         "filenames": [f"{name}_{j}.png" for j in range(CIFAR_PER_BATCH)]}
    # A marker no random pixel can equal: sample 1 of data_batch_3, blue channel, row 5, column 7.
    # CIFAR rows are channel-major (1024 red, 1024 green, 1024 blue), each 32x32 row-major.
    batches["data_batch_3"]["data"][1, 2 * 1024 + 5 * 32 + 7] = 255
    return batches


def write_cifar(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    """Write a fake cifar-10-batches-py and point torchvision's md5 table at the fake files.

    Patching the checksums (rather than the integrity check) keeps torchvision's real
    _check_integrity and _load_meta code paths in play.
    """
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = cifar_batches()
    md5 = {}
    for name, entry in batches.items():
        blob = pickle.dumps(entry)
        (folder / name).write_bytes(blob)
        md5[name] = hashlib.md5(blob).hexdigest()
    meta = pickle.dumps({"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": CIFAR_PER_BATCH})
    (folder / "batches.meta").write_bytes(meta)
    cls = tvd.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {"filename": "batches.meta", "key": "label_names",
                                      "md5": hashlib.md5(meta).hexdigest()})
    return batches


def tree(root: Path) -> set[str]:
    """Every file and folder under root (hidden ones included), relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Fail any test that reaches the network, and keep the default cache out of the repository."""
    attempts: list[str] = []

    def refuse(request, *args, **kwargs):
        url = getattr(request, "full_url", request)
        attempts.append(str(url))
        raise urllib.error.URLError(f"network access attempted in tests: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "default-cache"))
    yield
    assert attempts == [], f"tests must never touch the network, tried: {attempts}"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    root.mkdir()
    return root


def fake_mnist_download(monkeypatch: pytest.MonkeyPatch, cache: Path, seed: int = 0) -> list[str]:
    """Replace torchvision's archive download for MNIST-style classes with local IDX writes."""
    contents = mnist_contents(seed)
    roots: list[str] = []

    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        roots.append(str(download_root))
        # While downloading, nothing may appear in the cache's own dataset folders yet.
        assert not (cache / "MNIST").exists()
        name = os.path.splitext(filename)[0]
        Path(download_root, name).write_bytes(contents[name])

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake)
    return roots


# --------------------------------------------------------------------------- loading cached data


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
@pytest.mark.parametrize("train", [True, False])
def test_mnist_like_returns_exact_pixels_and_labels(cache: Path, name: str, train: bool) -> None:
    # Both folders present with different patterns, so reading the wrong one is caught too.
    write_mnist(cache, "MNIST", seed=0)
    write_mnist(cache, "FashionMNIST", seed=50)
    seed = 0 if name == "mnist" else 50
    images, labels = load_torchvision(name, train=train, root=cache, download=False)
    want_x, want_y = expected_mnist(seed, train)
    assert images.shape == (len(want_x), 1, 28, 28)
    assert images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and labels.shape == (len(want_y),)
    assert torch.equal(images[:, 0], torch.from_numpy(want_x))
    assert labels.tolist() == want_y.tolist()
    # Spot-check one pixel against the formula itself, not just the helper that built the file.
    i, r, c = len(want_x) - 1, 27, 13
    assert int(images[i, 0, r, c]) == (seed + (0 if train else 100) + 7 * i + r + 3 * c) % 256


def test_default_root_is_the_gancourse_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = tmp_path / "elsewhere"
    monkeypatch.setenv("GANCOURSE_DATA", str(default))
    write_mnist(default, "MNIST", seed=9)
    assert is_available("mnist")
    images, labels = load_torchvision("mnist", train=False, download=False)
    want_x, want_y = expected_mnist(9, train=False)
    assert torch.equal(images[:, 0], torch.from_numpy(want_x))
    assert labels.tolist() == want_y.tolist()


def test_cifar10_is_nchw_with_pixels_in_place(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = write_cifar(cache, monkeypatch)
    assert is_available("cifar10", root=cache)

    images, labels = load_torchvision("cifar10", train=True, root=cache, download=False)
    assert images.shape == (5 * CIFAR_PER_BATCH, 3, 32, 32)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert images.is_contiguous()
    # data_batch_3 is the third batch, its sample 1 is row 2 * CIFAR_PER_BATCH + 1 of the training set.
    marker = 2 * CIFAR_PER_BATCH + 1
    assert int(images[marker, 2, 5, 7]) == 255
    assert int((images == 255).sum()) == 1
    want = np.concatenate([batches[f"data_batch_{i}"]["data"] for i in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert torch.equal(images, torch.from_numpy(want))
    assert labels.tolist() == sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])

    test_x, test_y = load_torchvision("cifar10", train=False, root=cache, download=False)
    assert torch.equal(test_x, torch.from_numpy(batches["test_batch"]["data"].reshape(-1, 3, 32, 32)))
    assert test_y.tolist() == batches["test_batch"]["labels"]


def test_is_available_needs_every_file(cache: Path) -> None:
    assert not any(is_available(name, root=cache) for name in ONLINE_DATASETS)
    write_mnist(cache, "MNIST")
    assert is_available("mnist", root=cache)
    assert not is_available("fashion_mnist", root=cache)
    assert not is_available("cifar10", root=cache)
    (cache / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    assert not is_available("mnist", root=cache)
    assert not is_available("mnist", root=cache / "does-not-exist")


def test_corrupted_cache_raises_dataset_unavailable(cache: Path) -> None:
    write_mnist(cache, "MNIST")
    image_file = cache / "MNIST" / "raw" / "train-images-idx3-ubyte"
    image_file.write_bytes(image_file.read_bytes()[:500])  # a truncated download
    before = tree(cache)
    with pytest.raises(DatasetUnavailable, match="delete"):
        load_torchvision("mnist", root=cache)
    assert tree(cache) == before  # the user's files are reported, never deleted behind their back


# --------------------------------------------------------------------------- offline / no download


@pytest.fixture
def forbid_download(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self):
        raise AssertionError("download() must not be called")

    for cls in (tvd.MNIST, tvd.CIFAR10):  # FashionMNIST inherits MNIST.download
        monkeypatch.setattr(cls, "download", boom)


@pytest.mark.parametrize("name", ONLINE_DATASETS)
def test_offline_empty_cache_raises_and_writes_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch, forbid_download: None, name: str
) -> None:
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailable) as info:
        load_torchvision(name, root=cache)  # download=True is overridden by the environment
    message = str(info.value)
    assert "GANCOURSE_OFFLINE=1" in message and str(cache) in message
    assert list(cache.iterdir()) == []


def test_download_false_raises_without_trying(cache: Path, forbid_download: None) -> None:
    with pytest.raises(DatasetUnavailable, match="download=False"):
        load_torchvision("fashion_mnist", root=cache, download=False)
    assert list(cache.iterdir()) == []


def test_resolve_auto_offline_falls_back_with_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forbid_download: None
) -> None:
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    assert resolve_auto(root=cache) == "digits"
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert len(lines) == 1
    assert "GANCOURSE_OFFLINE=1" in lines[0] and "'digits'" in lines[0]
    assert list(cache.iterdir()) == []


def test_resolve_auto_uses_cached_mnist_even_offline(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forbid_download: None
) -> None:
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    write_mnist(cache, "MNIST")
    assert resolve_auto(root=cache) == "mnist"
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# --------------------------------------------------------------------------- simulated downloads


def test_successful_download_lands_in_cache_via_temp_dir(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roots = fake_mnist_download(monkeypatch, cache, seed=4)
    images, labels = load_torchvision("mnist", train=True, root=cache)
    want_x, want_y = expected_mnist(4, train=True)
    assert torch.equal(images[:, 0], torch.from_numpy(want_x)) and labels.tolist() == want_y.tolist()
    # torchvision was pointed at a temporary folder inside the cache, never at the cache itself.
    assert len(roots) == 4
    for r in roots:
        assert Path(r).parent.parent.parent == cache and Path(r).parent.parent.name.startswith(".download-")
    assert tree(cache) == {"MNIST", "MNIST/raw"} | {f"MNIST/raw/{f}" for f in IDX_FILES}

    # Now cached: the test split loads offline, with no download.
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    test_x, _ = load_torchvision("mnist", train=False, root=cache)
    assert torch.equal(test_x[:, 0], torch.from_numpy(expected_mnist(4, train=False)[0]))


def test_download_completes_a_partial_earlier_copy(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. a user copied only the training files in; the download fills the rest in beside them.
    write_mnist(cache, "MNIST", seed=4)
    (cache / "MNIST" / "raw" / "t10k-images-idx3-ubyte").unlink()
    (cache / "MNIST" / "raw" / "note.txt").write_text("mine")
    contents = mnist_contents(4)

    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        name = os.path.splitext(filename)[0]
        Path(download_root, name).write_bytes(contents[name])

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake)
    load_torchvision("mnist", root=cache)
    assert is_available("mnist", root=cache)
    assert (cache / "MNIST" / "raw" / "note.txt").read_text() == "mine"
    assert not any(p.name.startswith(".download-") for p in cache.iterdir())


@pytest.mark.parametrize(
    "error", [OSError("No space left on device"), urllib.error.URLError("Name or service not known")]
)
def test_mnist_download_failure_leaves_nothing(cache: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    (cache / "keep.txt").write_text("unrelated")
    before = tree(cache)
    calls: list[str] = []

    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        calls.append(url)
        Path(download_root, filename).write_bytes(b"\x1f\x8b half an archive")  # the half-written file
        raise error

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake)
    with pytest.raises(DatasetUnavailable) as info:
        load_torchvision("mnist", root=cache)
    assert calls, "the simulated download was not reached"
    assert info.value.__cause__ is not None
    message = str(info.value)
    assert "MNIST" in message and "\n" not in message  # torchvision's multi-line mirror report, flattened
    assert tree(cache) == before


def test_cifar_download_failure_leaves_nothing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(cache)

    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        Path(download_root, filename).write_bytes(b"partial tar")
        partial = Path(download_root, "cifar-10-batches-py")
        partial.mkdir()
        (partial / "data_batch_1").write_bytes(b"partial batch")
        raise OSError("connection reset by peer")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", fake)
    with pytest.raises(DatasetUnavailable, match="connection reset by peer") as info:
        load_torchvision("cifar10", root=cache)
    assert isinstance(info.value.__cause__, OSError)
    assert tree(cache) == before


def test_resolve_auto_downloads_when_online(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_mnist_download(monkeypatch, cache)
    assert resolve_auto(root=cache) == "mnist"
    assert is_available("mnist", root=cache)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_resolve_auto_falls_back_when_download_fails(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        Path(download_root, filename).write_bytes(b"partial")
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake)
    assert resolve_auto(root=cache) == "digits"
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert len(lines) == 1
    assert "name resolution" in lines[0] and "'digits'" in lines[0]
    assert list(cache.iterdir()) == []


def test_download_sweeps_only_stale_temp_dirs(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Left by processes killed mid-download (no exception handler ran).
    stale, fresh = cache / ".download-mnist-old", cache / ".download-mnist-live"
    for d in (stale, fresh):
        d.mkdir()
        (d / "partial").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    fake_mnist_download(monkeypatch, cache)
    load_torchvision("mnist", root=cache)
    assert not stale.exists()
    assert (fresh / "partial").exists()  # may belong to a download still running elsewhere


def test_download_has_a_socket_timeout_and_restores_it(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # torchvision's urlopen has no timeout of its own; without one a dropped connection hangs `auto`.
    seen: list[float | None] = []

    def fake(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
        seen.append(socket.getdefaulttimeout())
        raise OSError("offline")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake)
    assert socket.getdefaulttimeout() is None
    with pytest.raises(DatasetUnavailable):
        load_torchvision("mnist", root=cache)
    assert seen and all(t is not None and 0 < t <= 120 for t in seen)
    assert socket.getdefaulttimeout() is None


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("func", [load_torchvision, is_available])
def test_unknown_name_lists_choices(func, cache: Path) -> None:
    with pytest.raises(ValueError) as info:
        func("svhn", root=cache)
    message = str(info.value)
    assert "'svhn'" in message
    assert all(name in message for name in ONLINE_DATASETS)
    assert list(cache.iterdir()) == []


def test_online_dataset_names() -> None:
    assert ONLINE_DATASETS == ("mnist", "fashion_mnist", "cifar10")
