"""``folder:PATH``: your own PNG / JPEG pictures as one uint8 tensor, read once and then cached.

The folder is read recursively with PIL. Each picture is centre-cropped to its largest square and
resized to ``size x size`` once, at load time, so training touches no PIL and no Python loop (the
device-resident ``TensorSampler`` gathers batches from the tensor, as for every other dataset). The
result is cached in the data cache (``gancourse.paths.data_dir()``) under a key made from the folder's
path and a hash of its files' names, sizes and modification times: a changed folder is re-read, never
served stale, and the cache of its previous contents is removed.

A dataset name carries its size, so a checkpoint or a notebook rebuilds the same data from its name
alone: ``folder:PATH`` is 64x64 (the DCGAN paper's and the PyTorch DCGAN tutorial's size) and
``folder:PATH@128`` is 128x128. A folder whose own name ends in ``@`` and digits is written with a
trailing slash (``folder:shots@2024/``).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..paths import data_dir, write_atomically

__all__ = ["FOLDER_PREFIX", "DEFAULT_SIZE", "IMAGE_SUFFIXES", "FOLDER_VERSION", "is_folder_name", "parse_folder_name",
           "folder_name", "load_folder"]

FOLDER_PREFIX = "folder:"
DEFAULT_SIZE = 64
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Bump when the pictures made from the same files change (crop, resampling), so old caches are not reused.
FOLDER_VERSION = 1
_SHOWN = 3  # how many skipped files the summary line names
_MEMO: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # cache file -> tensors, for this process


def is_folder_name(name: object) -> bool:
    """True when ``name`` is a ``folder:PATH`` dataset name.

    Example:
        >>> is_folder_name("folder:~/photos"), is_folder_name("digits")
        (True, False)
    """
    return isinstance(name, str) and name.startswith(FOLDER_PREFIX)


def parse_folder_name(name: str, default: int | None = DEFAULT_SIZE) -> tuple[Path, int | None]:
    """``(folder, size)`` of a ``folder:PATH@SIZE`` name, or ``(folder, default)`` of a ``folder:PATH``
    (``~`` expanded, the path not resolved).

    Example:
        >>> parse_folder_name("folder:pics@128"), parse_folder_name("folder:pics")
        ((PosixPath('pics'), 128), (PosixPath('pics'), 64))
        >>> parse_folder_name("folder:pics@0")
        Traceback (most recent call last):
        ...
        ValueError: image size 0 in 'folder:pics@0' must be an integer >= 1 (for a DCGAN: 16, 28, 32, 64, 128 or 256)
    """
    if not is_folder_name(name):
        raise ValueError(f"{name!r} is not a folder dataset; write it as folder:PATH or folder:PATH@SIZE")
    body = name[len(FOLDER_PREFIX):]
    path, at, size_text = body.rpartition("@")
    if not at or not size_text.isdigit():
        path, size = body, default
    else:
        size = int(size_text)
        if size < 1:
            raise ValueError(f"image size {size} in {name!r} must be an integer >= 1 "
                             "(for a DCGAN: 16, 28, 32, 64, 128 or 256)")
    if not path:
        raise ValueError(f"{name!r} names no folder; write it as folder:PATH or folder:PATH@SIZE")
    return Path(path).expanduser(), size


def display_name(name: str) -> str:
    """How titles and labels show a dataset: a folder by its own name (its whole path is too long for a
    title), every other dataset as it is named.

    Example:
        >>> display_name("folder:/data/faces@64"), display_name("digits")
        ('folder faces', 'digits')
    """
    return f"folder {parse_folder_name(name)[0].name}" if is_folder_name(name) else name


def folder_name(path: str | os.PathLike, size: int = DEFAULT_SIZE) -> str:
    """The canonical dataset name of ``path`` at ``size``: absolute, so it means the same from any
    working directory (a checkpoint resumed elsewhere), and always with its size.

    Example:
        >>> folder_name("/data/faces", 64)
        'folder:/data/faces@64'
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"image size must be an integer >= 1, got size={size!r}")
    text = str(Path(path).expanduser().absolute())
    return f"{FOLDER_PREFIX}{text}@{int(size)}"


def _listing(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted, skipping hidden files and folders (``.git``, ``.DS_Store``,
    ``.ipynb_checkpoints``): they are never the pictures."""
    files = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(parent) / n for n in sorted(names) if not n.startswith(".")]
    return files


def _fingerprint(folder: Path, files: list[Path], size: int) -> str:
    # Names, sizes and modification times: a changed, added or removed file changes the key without
    # reading any picture, so checking the cache of a large folder costs one stat per file.
    h = hashlib.sha256(f"v{FOLDER_VERSION} size{size}".encode())
    for f in files:
        try:
            st = f.stat()
        except OSError:  # a dangling or looping symlink: keyed by the link itself, skipped when read
            st = f.lstat()
        h.update(f"\0{f.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def _cache_prefix(folder: Path, size: int) -> str:
    where = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    return f"folder_v{FOLDER_VERSION}_{where}_{size}px_"


def _read_picture(path: Path, size: int) -> np.ndarray:
    """One picture as uint8 (size, size, 3): centre-cropped to a square, resized; raises on a bad file."""
    from PIL import Image

    with Image.open(path) as img:
        width, height = img.size  # from the header: a picture too small is refused before it is decoded
        if min(width, height) < size:
            raise _TooSmall(width, height)
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale straight from its DCT coefficients, never below
        # the requested size: a 4000 x 3000 photo for a 64 x 64 dataset decodes many times faster.
        img.draft(img.mode, (size, size))
        img.load()  # decode now: a truncated file fails here, inside the caller's error handling
        width, height = img.size
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit / float grey: scale to 8 bits first
            arr = np.asarray(img, dtype=np.float64)
            img = Image.fromarray(np.clip(arr * (255.0 / max(arr.max(), 1.0)), 0, 255).astype(np.uint8))
        # Transparent pixels are dropped onto black rather than keeping whatever colour they hold.
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            img.alpha_composite(rgba)
        img = img.convert("RGB")
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        img = img.crop((left, top, left + side, top + side))
        if side != size:
            # PIL's resize filters over the whole footprint when it shrinks (no aliasing). Image.Resampling is
            # Pillow >= 9.1; matplotlib and torchvision allow older ones, which keep the constant on Image.
            img = img.resize((size, size), getattr(Image, "Resampling", Image).BICUBIC)
        return np.asarray(img, dtype=np.uint8)


class _TooSmall(Exception):
    """A picture whose shorter side is below the requested size (upsampling would invent detail)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.side = min(width, height)


def _read_folder(folder: Path, files: list[Path], size: int) -> tuple[np.ndarray, np.ndarray]:
    pictures, labels, skipped, small, sides = [], [], [], [], []
    parents: dict[Path, int] = {}
    for f in files:
        if f.is_symlink() and not f.exists():  # dangling, or a loop: like a corrupt file, one skipped entry
            skipped.append(f"{f.relative_to(folder)} (broken symlink)")
            continue
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{f.relative_to(folder)} (not PNG/JPEG)")
            continue
        try:
            picture = _read_picture(f, size)
        except _TooSmall as err:
            small.append(f"{f.relative_to(folder)} ({err})")
            sides.append(err.side)
            continue
        except Exception as err:  # PIL raises many kinds (OSError, SyntaxError, ValueError...) for a bad file
            skipped.append(f"{f.relative_to(folder)} ({type(err).__name__})")
            continue
        pictures.append(picture)
        # A label per sub-folder, as torchvision's ImageFolder does: "cats/" 0, "dogs/" 1 (sorted).
        labels.append(parents.setdefault(f.parent, len(parents)))
    if skipped:
        more = f", ... ({len(skipped) - _SHOWN} more)" if len(skipped) > _SHOWN else ""
        print(f"folder: skipped {len(skipped)} of {len(files)} files in {folder} that are not readable PNG/JPEG "
              f"pictures: {', '.join(skipped[:_SHOWN])}{more}")
    if small:
        more = f", ... ({len(small) - _SHOWN} more)" if len(small) > _SHOWN else ""
        raise ValueError(f"{len(small)} of {len(small) + len(pictures)} pictures in {folder} are smaller than "
                         f"size={size} on their shorter side: {', '.join(small[:_SHOWN])}{more}; pictures are "
                         f"never enlarged: choose a size <= {min(sides)} or remove the small ones")
    if not pictures:
        found = f"{len(files)} files, none a readable PNG/JPEG" if files else "no files"
        raise ValueError(f"folder {folder} holds no pictures ({found}); valid files: "
                         f"{', '.join(IMAGE_SUFFIXES)} (searched recursively)")
    images = np.stack(pictures).transpose(0, 3, 1, 2)  # (N, 3, size, size)
    # Grey pictures (all three channels equal everywhere, whatever the file's mode) keep one channel.
    if bool((images[:, 0] == images[:, 1]).all() and (images[:, 1] == images[:, 2]).all()):
        images = images[:, :1]
    return np.ascontiguousarray(images), np.asarray(labels, dtype=np.int64)


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    # Atomic: a killed process never leaves half a cache behind.
    write_atomically(path, lambda f: np.savez(f, images=images, labels=labels))


def _read_cache(path: Path, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    except Exception:  # unreadable or truncated: read the folder again
        return None
    ok = (images.dtype == np.uint8 and images.ndim == 4 and images.shape[1] in (1, 3)
          and images.shape[2:] == (size, size) and labels.shape == (len(images),))
    return (images, labels) if ok else None


def load_folder(path: str | os.PathLike, size: int = DEFAULT_SIZE, *, root: str | os.PathLike | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The PNG / JPEG pictures under ``path`` (recursively) as uint8 ``(N, C, size, size)`` and int64 labels.

    Each picture is centre-cropped to a square and resized to ``size``; C is 1 when every picture
    is grey, else 3 (transparent pixels become black). The label of a picture is the index of its
    sub-folder (in sorted order, as in torchvision's ``ImageFolder``). Files that are not PNG/JPEG,
    or that PIL cannot read (a broken or looping symlink included), are skipped with one printed line
    naming how many and the first few.
    The result is cached in ``root`` (default ``gancourse.paths.data_dir()``), keyed by the folder's
    path and its files' names, sizes and modification times.

    Raises ``ValueError`` for a missing or empty folder, a folder without a readable picture, or
    pictures smaller than ``size`` (they are never enlarged).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as pics, tempfile.TemporaryDirectory() as cache:
        ...     Image.new("RGB", (80, 60), (200, 30, 30)).save(f"{pics}/red.png")
        ...     Image.new("L", (70, 70), 128).save(f"{pics}/grey.jpg")
        ...     x, y = load_folder(pics, 32, root=cache)
        >>> tuple(x.shape), x.dtype, y.tolist()
        ((2, 3, 32, 32), torch.uint8, [0, 0])
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"image size must be an integer >= 1, got size={size!r}")
    size = int(size)
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ValueError(f"folder {folder} does not exist or is not a folder; give folder:PATH with PATH a "
                         "folder of PNG/JPEG pictures")
    cache_dir = data_dir() if root is None else Path(root).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    files = _listing(folder)
    prefix = _cache_prefix(folder, size)
    cache = cache_dir / f"{prefix}{_fingerprint(folder, files, size)}.npz"
    if str(cache) in _MEMO and cache.is_file():
        return _MEMO[str(cache)]
    arrays = _read_cache(cache, size) if cache.is_file() else None
    if arrays is None:
        arrays = _read_folder(folder, files, size)
        _write_cache(cache, *arrays)
        for old in cache_dir.glob(f"{prefix}*.npz"):  # the same folder's earlier contents: never used again
            if old != cache:
                old.unlink(missing_ok=True)
    result = torch.from_numpy(arrays[0]), torch.from_numpy(arrays[1])
    _MEMO.clear()  # one entry: the folder just loaded (data_shape and the sampler both ask for it)
    _MEMO[str(cache)] = result
    return result
