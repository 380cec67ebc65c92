"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision, as whole uint8 tensors.

The course trains on the full dataset held in (GPU) memory, so each loader reads torchvision's
``.data`` / ``.targets`` arrays in one go instead of iterating a ``Dataset`` sample by sample.

Downloads are all-or-nothing: torchvision writes straight into its target folder, so an
interrupted download would leave truncated files that later look like a cached dataset. Here it
writes into a fresh temporary folder inside the cache and its result is moved into place only
once torchvision has read it back successfully.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..paths import data_dir, offline

__all__ = ["ONLINE_DATASETS", "DatasetUnavailable", "load_torchvision", "is_available", "resolve_auto"]

ONLINE_DATASETS = ("mnist", "fashion_mnist", "cifar10")

# torchvision class name per dataset; looked up lazily so importing gancourse.data stays fast.
_CLASS_NAMES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
_PRETTY = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

# Leading dot: a leftover (process killed mid-download) stays out of the way in a listing.
_TMP_PREFIX = ".download-"
# A temporary folder this old cannot belong to a download still running; it was orphaned by a
# killed process (no exception handler ran) and is swept by the next download.
_STALE_TMP_SECONDS = 24 * 3600
# torchvision calls urlopen without a timeout; on a network that silently drops packets ``auto``
# would hang instead of falling back. Applies per socket operation, so large downloads still work.
_SOCKET_TIMEOUT_S = 30.0


class DatasetUnavailable(RuntimeError):
    """The dataset is not in the cache and cannot be downloaded now (offline, or it failed).

    Example:
        >>> with tempfile.TemporaryDirectory() as empty:
        ...     try:
        ...         load_torchvision("mnist", root=empty, download=False)
        ...     except DatasetUnavailable as err:
        ...         print(str(err).startswith("MNIST is not in the dataset cache"))
        True
    """


def _check_name(name: str) -> str:
    if name not in _CLASS_NAMES:
        raise ValueError(f"unknown torchvision dataset {name!r}; valid choices: {', '.join(ONLINE_DATASETS)}")
    return name


def _cache_root(root: str | os.PathLike | None) -> Path:
    return data_dir() if root is None else Path(root).expanduser()


def _dataset_class(name: str) -> Any:
    import torchvision.datasets

    return getattr(torchvision.datasets, _CLASS_NAMES[name])


def _folder(name: str) -> str:
    """The top-level folder torchvision keeps this dataset in, relative to the cache root."""
    cls = _dataset_class(name)
    return cls.base_folder if name == "cifar10" else cls.__name__


def _required_files(name: str, root: Path) -> list[Path]:
    # Derived from torchvision's own class attributes so the check follows torchvision's layout
    # rather than a copy of it that could drift.
    cls = _dataset_class(name)
    if name == "cifar10":
        base = root / cls.base_folder
        names = [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
    else:
        base = root / cls.__name__ / "raw"
        names = [os.path.splitext(os.path.basename(url))[0] for url, _ in cls.resources]
    return [base / n for n in names]


def _legacy_files(name: str, root: Path) -> list[Path]:
    # Old torchvision versions cached MNIST as processed/*.pt; current torchvision still reads them.
    if name == "cifar10":
        return []
    cls = _dataset_class(name)
    processed = root / cls.__name__ / "processed"
    return [processed / cls.training_file, processed / cls.test_file]


def is_available(name: str, *, root: str | os.PathLike | None = None) -> bool:
    """True when ``name`` is already in the cache, so loading it needs no network.

    Only file presence is checked (cheap); torchvision verifies checksums when it loads.

    Example:
        >>> is_available("mnist") in (True, False)
        True
    """
    name = _check_name(name)
    cache = _cache_root(root)
    if all(p.is_file() for p in _required_files(name, cache)):
        return True
    legacy = _legacy_files(name, cache)
    return bool(legacy) and all(p.is_file() for p in legacy)


def _one_line(err: BaseException, limit: int = 300) -> str:
    # torchvision's MNIST mirror errors span several lines; a fallback notice must stay one line.
    text = " ".join(str(err).split()) or "no details"
    text = f"{type(err).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _merge_into(src: Path, dst: Path) -> None:
    # File by file with os.replace (atomic: src and dst share a filesystem since the temporary
    # folder lives inside the cache), so a partial earlier copy in dst is completed, not clobbered.
    if src.is_dir():
        dst.mkdir(exist_ok=True)
        for child in src.iterdir():
            _merge_into(child, dst / child.name)
    else:
        os.replace(src, dst)


def _sweep_stale_tmp(cache: Path) -> None:
    now = time.time()
    for entry in cache.glob(_TMP_PREFIX + "*"):
        try:
            if entry.is_dir() and now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def _download(name: str, train: bool, cache: Path) -> Any:
    """Download into a temporary folder, then move the result into ``cache``; all or nothing."""
    cls = _dataset_class(name)
    cache.mkdir(parents=True, exist_ok=True)
    _sweep_stale_tmp(cache)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{name}-", dir=cache))
    previous_timeout = socket.getdefaulttimeout()
    if previous_timeout is None:  # a timeout the caller chose is left alone
        socket.setdefaulttimeout(_SOCKET_TIMEOUT_S)
    try:
        # Constructing the dataset re-reads (and for CIFAR-10 checksums) what was downloaded, so
        # only a usable download reaches the cache.
        dataset = cls(str(tmp), train=train, download=True)
        for entry in sorted(tmp.iterdir()):
            _merge_into(entry, cache / entry.name)
        return dataset
    except Exception as err:
        raise DatasetUnavailable(
            f"could not download {_PRETTY[name]} into {cache}: {_one_line(err)}. Nothing was kept. "
            "Check the network connection and try again, or use the offline 'digits' dataset."
        ) from err
    finally:
        # Also on KeyboardInterrupt, which is deliberately not wrapped above.
        socket.setdefaulttimeout(previous_timeout)
        shutil.rmtree(tmp, ignore_errors=True)


def _missing_message(name: str, cache: Path, why: str) -> str:
    missing = next((p for p in _required_files(name, cache) if not p.is_file()), None)
    looked = f" (no {missing.relative_to(cache)})" if missing is not None else ""
    return (
        f"{_PRETTY[name]} is not in the dataset cache {cache}{looked} and {why}. To get it, run "
        f"load_torchvision({name!r}) once with network access and GANCOURSE_OFFLINE unset (or 0), "
        f"or copy a downloaded {_folder(name)}/ folder into {cache}; the 'digits' dataset needs no download."
    )


def _to_tensors(name: str, dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "cifar10":
        # torchvision keeps CIFAR-10 as an NHWC numpy array (for PIL); the models want NCHW.
        images = torch.from_numpy(np.ascontiguousarray(dataset.data)).permute(0, 3, 1, 2).contiguous()
        labels = torch.from_numpy(np.asarray(dataset.targets, dtype=np.int64))
    else:
        images = torch.as_tensor(dataset.data).to(torch.uint8).unsqueeze(1).contiguous()
        labels = torch.as_tensor(dataset.targets).to(torch.int64)
    return images, labels


def load_torchvision(
    name: str,
    train: bool = True,
    *,
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a torchvision dataset whole: uint8 images (N, C, H, W) and int64 labels (N,).

    ``name`` is one of ``ONLINE_DATASETS``: ``mnist`` and ``fashion_mnist`` give (N, 1, 28, 28),
    ``cifar10`` gives (N, 3, 32, 32). ``train`` picks the training or the test split. ``root`` is
    the cache folder (default ``gancourse.paths.data_dir()``). A dataset not yet cached is
    downloaded unless ``download=False`` or ``GANCOURSE_OFFLINE=1``, in which case
    ``DatasetUnavailable`` is raised; a failed download also raises it and leaves no files behind.

    Example:
        >>> images, labels = load_torchvision("mnist", train=False)  # doctest: +SKIP
        >>> images.shape, images.dtype, labels.dtype  # doctest: +SKIP
        (torch.Size([10000, 1, 28, 28]), torch.uint8, torch.int64)
    """
    name = _check_name(name)
    cache = _cache_root(root)
    if is_available(name, root=cache):
        try:
            dataset = _dataset_class(name)(str(cache), train=train, download=False)
        except Exception as err:
            raise DatasetUnavailable(
                f"{_PRETTY[name]} in {cache / _folder(name)} is incomplete or corrupted ({_one_line(err)}); "
                "delete that folder and load it again to re-download it."
            ) from err
    elif offline():
        raise DatasetUnavailable(_missing_message(name, cache, "GANCOURSE_OFFLINE=1 forbids downloading"))
    elif not download:
        raise DatasetUnavailable(_missing_message(name, cache, "download=False was passed"))
    else:
        dataset = _download(name, train, cache)
    return _to_tensors(name, dataset)


def resolve_auto(root: str | os.PathLike | None = None) -> str:
    """The ``auto`` dataset: ``"mnist"`` when MNIST is cached or can be downloaded, else ``"digits"``.

    A download is tried only when MNIST is not cached and ``GANCOURSE_OFFLINE`` is not 1. Falling
    back prints one line saying why, so a learner knows which data the notebook is using.

    Example:
        >>> with tempfile.TemporaryDirectory() as empty:  # GANCOURSE_OFFLINE=1 and nothing cached
        ...     resolve_auto(root=empty)  # doctest: +ELLIPSIS
        gancourse: MNIST is not cached in ... and GANCOURSE_OFFLINE=1; using the offline 'digits' dataset instead.
        'digits'
    """
    cache = _cache_root(root)
    if is_available("mnist", root=cache):
        return "mnist"
    if offline():
        reason = f"MNIST is not cached in {cache} and GANCOURSE_OFFLINE=1"
    else:
        try:
            _download("mnist", True, cache)
            return "mnist"
        except DatasetUnavailable as err:
            cause = err.__cause__ if err.__cause__ is not None else err
            reason = f"MNIST is not cached in {cache} and downloading it failed ({_one_line(cause)})"
    print(f"gancourse: {reason}; using the offline 'digits' dataset instead.", flush=True)
    return "digits"
