"""Tests of the offline ``digits`` data set: content, balance, determinism and the cache file."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
import torch

from gancourse.data import digits
from gancourse.data.digits import DIGITS_VERSION, load_digits, render_digits

SMALL = dict(n_train=300, n_test=120, seed=7)


def _cache_file(root, n_train=300, n_test=120, seed=7):
    return root / f"digits_v{DIGITS_VERSION}_seed{seed}_{n_train}_{n_test}.npz"


def _forbid_rendering(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("render_digits was called although a valid cache exists")

    monkeypatch.setattr(digits, "render_digits", boom)


@pytest.fixture(scope="module")
def sample():
    return render_digits(2000, seed=3)


def test_shapes_and_dtypes(sample):
    images, labels = sample
    assert isinstance(images, np.ndarray) and isinstance(labels, np.ndarray)
    assert images.shape == (2000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (2000,) and labels.dtype == np.int64
    assert set(np.unique(labels).tolist()) == set(range(10))


def test_full_value_span_on_black_background(sample):
    images, _ = sample
    assert images.min() == 0 and images.max() == 255
    # Every image is stretched to a full-white peak, so no digit is faint.
    assert (images.max(axis=(1, 2)) == 255).all()
    # White digits on black: most pixels are exactly 0, as in MNIST (~81%).
    assert 0.6 < (images == 0).mean() < 0.9
    ink = (images > 127).mean(axis=(1, 2))
    assert ink.min() > 0.02, "some digit is nearly empty"
    assert ink.max() < 0.5, "some digit fills the frame"


def test_digits_are_not_clipped_by_the_border(sample):
    images, _ = sample
    ring = np.concatenate([images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1)
    assert (ring.max(axis=1) == 0).mean() > 0.99
    assert ring.max() < 128


@pytest.mark.parametrize("n", [1, 9, 10, 1003])
def test_labels_are_exactly_balanced(n):
    _, labels = render_digits(n, seed=1)
    expected = np.full(10, n // 10)
    expected[: n % 10] += 1
    assert np.bincount(labels, minlength=10).tolist() == expected.tolist()


def test_labels_are_shuffled():
    _, labels = render_digits(1000, seed=2)
    assert not np.array_equal(labels, np.arange(1000) % 10)
    assert not np.array_equal(labels, np.sort(labels))


def test_same_seed_is_byte_identical_and_seeds_differ():
    a_images, a_labels = render_digits(300, seed=11)
    b_images, b_labels = render_digits(300, seed=11)
    assert a_images.tobytes() == b_images.tobytes()
    assert a_labels.tobytes() == b_labels.tobytes()
    c_images, c_labels = render_digits(300, seed=12)
    assert not np.array_equal(a_labels, c_labels)
    assert not np.array_equal(a_images, c_images)


def test_global_rng_state_is_left_alone():
    torch_state = torch.get_rng_state().clone()
    numpy_state = np.random.get_state()[1].copy()
    render_digits(50, seed=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)


@pytest.mark.parametrize("n", [0, -3])
def test_render_rejects_non_positive_n(n):
    with pytest.raises(ValueError, match=f"n={n}"):
        render_digits(n)


def test_load_rejects_non_positive_sizes(tmp_path):
    with pytest.raises(ValueError, match="n_train=0"):
        load_digits(root=tmp_path, n_train=0, n_test=10)
    with pytest.raises(ValueError, match="n_test=-1"):
        load_digits(root=tmp_path, n_train=10, n_test=-1)
    assert list(tmp_path.iterdir()) == []


def test_labels_match_the_pictures(sample):
    images, labels = sample
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    # A '1' is a single stroke and an '8' two loops: much less ink in the first.
    assert x[labels == 1].mean() < 0.85 * x[labels == 8].mean()
    # Nearest class mean fit on one half, scored on the other: ~0.8 here (MNIST: ~0.82); labels
    # unrelated to the pictures would score ~0.1.
    train, test = slice(0, 1000), slice(1000, None)
    means = np.stack([x[train][labels[train] == c].mean(axis=0) for c in range(10)])
    distances = ((x[test][:, None, :] - means[None]) ** 2).sum(axis=-1)
    accuracy = (distances.argmin(axis=1) == labels[test]).mean()
    assert accuracy > 0.6
    # Every class mean is distinct from every other.
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(10) * 1e9
    assert gaps.min() > 1.0


def test_fonts_are_digit_fonts():
    fonts = list(digits._templates()[2])  # the names of the fonts the glyphs come from
    assert 15 <= len(fonts) <= 30
    assert len(set(fonts)) == len(fonts)
    assert all(name.endswith(".ttf") for name in fonts)
    assert "DejaVuSans.ttf" in fonts
    for symbol_font in ("cmex10.ttf", "cmsy10.ttf", "LastResortHE-Regular.ttf"):
        assert symbol_font not in fonts
    assert not any(name.startswith(("STIXSiz", "STIXNonUni")) for name in fonts)


def test_load_digits_shapes_and_split(tmp_path):
    x_train, y_train = load_digits(train=True, root=tmp_path, **SMALL)
    x_test, y_test = load_digits(train=False, root=tmp_path, **SMALL)
    assert x_train.shape == (300, 1, 28, 28) and x_train.dtype == torch.uint8
    assert y_train.shape == (300,) and y_train.dtype == torch.int64
    assert x_test.shape == (120, 1, 28, 28) and x_test.dtype == torch.uint8
    assert y_test.shape == (120,) and y_test.dtype == torch.int64
    assert torch.bincount(y_test, minlength=10).tolist() == [12] * 10
    # The train split is render_digits with the seed itself; the test split is not.
    ref_images, ref_labels = render_digits(300, seed=7)
    assert np.array_equal(x_train[:, 0].numpy(), ref_images)
    assert np.array_equal(y_train.numpy(), ref_labels)
    assert not torch.equal(x_train[:120], x_test)
    # One cache file, with the documented name, and no temporary file left behind.
    assert [p.name for p in tmp_path.iterdir()] == [_cache_file(tmp_path).name]


def test_load_digits_reuses_the_cache(tmp_path, monkeypatch):
    first_train = load_digits(train=True, root=tmp_path, **SMALL)
    first_test = load_digits(train=False, root=tmp_path, **SMALL)
    path = _cache_file(tmp_path)
    stamp = path.stat().st_mtime_ns
    _forbid_rendering(monkeypatch)
    again_train = load_digits(train=True, root=tmp_path, **SMALL)
    again_test = load_digits(train=False, root=tmp_path, **SMALL)
    for first, again in ((first_train, again_train), (first_test, again_test)):
        assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert path.stat().st_mtime_ns == stamp


def test_cache_key_includes_sizes_and_seed(tmp_path):
    load_digits(root=tmp_path, **SMALL)
    load_digits(root=tmp_path, n_train=300, n_test=120, seed=8)
    load_digits(root=tmp_path, n_train=200, n_test=120, seed=7)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    a = load_digits(root=tmp_path, **SMALL)[0]
    b = load_digits(root=tmp_path, n_train=300, n_test=120, seed=8)[0]
    assert not torch.equal(a, b)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path):
    path.write_bytes(b"this is not an npz file\n" * 100)


def _empty(path):
    path.write_bytes(b"")


def _missing_key(path):
    with np.load(path) as npz:
        kept = {key: npz[key] for key in npz.files if key != "test_labels"}
    with open(path, "wb") as f:
        np.savez(f, **kept)


def _flipped_pixel(path):
    # A well-formed file whose stored hash no longer matches its pixels.
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["train_images"][0, 14, 14] ^= 0xFF
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _corrupt_member(path):
    # Flip bytes inside the compressed data of one member: the zip directory still reads fine.
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("train_images.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "corrupt", [_truncate, _garbage, _empty, _missing_key, _flipped_pixel, _corrupt_member]
)
def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, monkeypatch, capsys, corrupt):
    good_x, good_y = load_digits(train=True, root=tmp_path, **SMALL)
    path = _cache_file(tmp_path)
    corrupt(path)
    capsys.readouterr()

    x, y = load_digits(train=True, root=tmp_path, **SMALL)
    out = capsys.readouterr().out
    assert "corrupt" in out and "rebuil" in out and str(path.name) in out
    assert len(out.strip().splitlines()) == 1
    # The rebuilt data is the same deterministic data set, never the damaged bytes.
    assert torch.equal(x, good_x) and torch.equal(y, good_y)

    # The rebuilt file is valid: it is read back without rendering and without a complaint.
    _forbid_rendering(monkeypatch)
    x2, _ = load_digits(train=True, root=tmp_path, **SMALL)
    assert torch.equal(x2, good_x)
    assert capsys.readouterr().out == ""
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_default_root_is_the_course_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "cache"))
    x, _ = load_digits(train=False, n_train=20, n_test=10, seed=0)
    assert x.shape == (10, 1, 28, 28)
    assert os.path.exists(tmp_path / "cache" / f"digits_v{DIGITS_VERSION}_seed0_20_10.npz")
