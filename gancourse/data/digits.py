"""``digits``: an offline, MNIST-like data set of 28x28 grey digits rendered from fonts.

Every glyph comes from a TrueType font that ships with matplotlib, so the data set needs no
download and builds the same on a laptop, in CI and in Colab. Each digit of each usable font is
rendered once into a 56x56 template (2x the output resolution, the glyph's longer side fitted to a
40 px box like MNIST's 20 px box in 28x28) in a few stroke widths, thinned or thickened on a
binary mask 4x finer still, and only as far as the glyph keeps its hairlines and holes. Samples
are then drawn in vectorised torch: a random rotation, anisotropic scale, shear and shift plus a
smooth elastic distortion (Simard et al. 2003) are composed into one sampling grid, and the
56x56 result is average-pooled to 28x28, which anti-aliases it. White digits on black, like MNIST.

``load_digits`` caches the train and test splits in one ``.npz`` file, checked by a SHA-256 of
the arrays, so the ~70k images are built only once per seed and size.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import operator
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gancourse.paths import data_dir, write_atomically

__all__ = ["DIGITS_VERSION", "render_digits", "load_digits"]

# Bump whenever the pictures change for a given seed, so stale caches are never reused.
DIGITS_VERSION = 1

_DIGITS = "0123456789"
_OUT = 28
_CANVAS = 2 * _OUT  # rendering at 2x then average-pooling anti-aliases the warped strokes
_BOX = 40  # the glyph's longer side in canvas px (MNIST: 20 px in 28)
_FINE = 4  # templates are shaped on a 4x finer binary canvas (224 px), then averaged down
_RENDER_PT = 240  # ~170 px tall digits, a little above the fine box, so resizing only shrinks
_CHUNK = 4096  # bounds the working memory: ~50-100 MB per intermediate tensor of a chunk

# Fonts whose digit code points hold something else: symbols (cmex10, cmsy10), one placeholder
# box for every character (LastResort) or old-style figures whose 0, 1 and 2 are x-height letters
# like "o", "I" and "z" (cmmi10) and would teach a model the wrong shapes. DejaVu Sans Mono has a
# dotted zero, which once thickened reads as an 8, and otherwise repeats DejaVu Sans.
_DENYLIST = frozenset(
    {
        "cmex10.ttf",
        "cmsy10.ttf",
        "cmmi10.ttf",
        "LastResortHE-Regular.ttf",
        "DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold.ttf",
        "DejaVuSansMono-Oblique.ttf",
        "DejaVuSansMono-BoldOblique.ttf",
    }
)

# Stroke widths aimed at (canvas px, so half that in output px); MNIST strokes are ~2-4 px wide.
_TARGET_WIDTHS = (3.5, 5.0, 6.5, 8.0)
_MAX_ERODE = 2  # canvas px
_MAX_DILATE = 3  # canvas px
_RADIUS_STEP = 2  # fine px: widths come in steps of 1 canvas px (half an output px)
# A step is allowed for a font only if it keeps the glyphs' shape: an erosion must not break
# hairlines (an opening by the same radius loses at most this share of the ink of any digit) and
# a dilation must not fill counters such as the loops of 8 (a closing gains at most this share).
_MAX_OPEN_LOSS = 0.05
_MAX_CLOSE_GAIN = 0.08

# Random augmentation ranges.
_ROTATE_DEG = 15.0
_SCALE = (0.85, 1.15)
_ANISO = 0.08  # extra independent jitter of the x and y scales
_SHEAR = 0.15  # handwriting slants a little
_SHIFT_PX = 2.0  # output px
_ELASTIC_GRID = 6  # low-resolution control grid of the displacement field
_ELASTIC_ALPHA = 0.07  # displacement amplitude in normalised units (1 unit = 14 output px)
# Fraction of the canvas half-width the glyph may fill after the affine map; the rest is room for
# the elastic displacement and the blur of pooling, so strokes never touch the border.
_FIT = 0.84


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _no_hinting_flag() -> object:
    # matplotlib 3.10 turned the load flags into an enum and deprecated the module constants.
    from matplotlib import ft2font

    load_flags = getattr(ft2font, "LoadFlags", None)
    return load_flags.NO_HINTING if load_flags is not None else ft2font.LOAD_NO_HINTING


def _render_glyph(font: object, char: str, flags: object) -> np.ndarray | None:
    """The glyph's bitmap cropped to its ink, as float32 in [0, 1]; None when it has no ink."""
    font.set_size(_RENDER_PT, 72)
    font.set_text(char, 0.0, flags=flags)
    font.draw_glyphs_to_bitmap(antialiased=True)
    bitmap = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    rows = np.flatnonzero(bitmap.max(axis=1) > 0)
    cols = np.flatnonzero(bitmap.max(axis=0) > 0)
    if rows.size == 0 or cols.size == 0:
        return None
    return bitmap[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_to_canvas(glyph: np.ndarray) -> torch.Tensor:
    """The glyph as a binary mask on the fine canvas, its longer side fitted to the box."""
    size, box = _CANVAS * _FINE, _BOX * _FINE
    height, width = glyph.shape
    scale = box / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    resized = F.interpolate(torch.from_numpy(glyph)[None, None], size=(new_h, new_w), mode="bilinear")
    canvas = torch.zeros(size, size, dtype=torch.bool)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized[0, 0] >= 0.5
    return canvas


def _stroke_width(images: torch.Tensor) -> torch.Tensor:
    # For a ribbon of width w, area = w * length and perimeter = 2 * length, so w = 2A / P.
    # The pi/4 turns the sum of |dx| + |dy| (a city-block perimeter) into a Euclidean one.
    area = images.sum(dim=(-2, -1))
    perimeter = (images[..., 1:, :] - images[..., :-1, :]).abs().sum(dim=(-2, -1))
    perimeter = perimeter + (images[..., :, 1:] - images[..., :, :-1]).abs().sum(dim=(-2, -1))
    return 2.0 * area / (perimeter * math.pi / 4.0).clamp_min(1e-6)


def _dilate(masks: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilate boolean (B, 1, H, W) masks by ``radius`` fine px with a near-round element."""
    # Shifted boolean ORs: ~50x faster on CPU than max-pooling floats, and exact.
    out = masks
    for i in range(radius):
        grown = out.clone()
        grown[..., 1:, :] |= out[..., :-1, :]
        grown[..., :-1, :] |= out[..., 1:, :]
        # Alternating a 3x3 square (rows then columns of the grown mask) with a cross (columns
        # of the original) grows an octagon, close to a disk: thick strokes keep round ends.
        source = grown if i % 2 == 0 else out
        widened = grown.clone()
        widened[..., :, 1:] |= source[..., :, :-1]
        widened[..., :, :-1] |= source[..., :, 1:]
        out = widened
    return out


def _morph(masks: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilate (radius > 0) or erode (radius < 0) boolean masks by ``|radius|`` fine px."""
    if radius >= 0:
        return _dilate(masks, radius)
    return ~_dilate(~masks, -radius)


def _safe_radii(masks: torch.Tensor) -> list[int]:
    """The morphology radii (fine px, 0 included) that keep every digit of a font legible."""
    ink = masks.sum(dim=(1, 2, 3)).float()
    radii = [0]
    for radius in range(_RADIUS_STEP, _MAX_ERODE * _FINE + 1, _RADIUS_STEP):
        opened = _morph(_morph(masks, -radius), radius)
        if ((masks & ~opened).sum(dim=(1, 2, 3)) / ink).max() > _MAX_OPEN_LOSS:
            break
        radii.append(-radius)
    for radius in range(_RADIUS_STEP, _MAX_DILATE * _FINE + 1, _RADIUS_STEP):
        closed = _morph(_morph(masks, radius), -radius)
        if ((closed & ~masks).sum(dim=(1, 2, 3)) / ink).max() > _MAX_CLOSE_GAIN:
            break
        radii.append(radius)
    return sorted(radii)


def _font_masks(path: Path, flags: object) -> torch.Tensor | None:
    """The 10 digit masks of one font on the fine canvas, (10, 1, 224, 224); None if unusable."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return None
    # Index 0 is FreeType's "missing glyph": the font has no such character at all.
    if any(font.get_char_index(ord(char)) == 0 for char in _DIGITS):
        return None
    glyphs = []
    for char in _DIGITS:
        glyph = _render_glyph(font, char, flags)
        if glyph is None:
            return None
        glyphs.append(_fit_to_canvas(glyph))
    masks = torch.stack(glyphs)[:, None]
    # A font that maps every digit to the same picture (a placeholder box) is no digit font.
    flat = F.avg_pool2d(masks.float(), _FINE).flatten(1)
    distances = torch.cdist(flat, flat) + torch.eye(len(_DIGITS)) * 1e9
    if distances.min() < 1.0:
        return None
    return masks


def _font_templates(path: Path, flags: object) -> torch.Tensor | None:
    """The digit templates of one font, (10, widths, 56, 56) in [0, 1]; None if unusable."""
    masks = _font_masks(path, flags)
    if masks is None:
        return None
    # Pick the erosion/dilation per font so that thin and bold faces both end up spanning the
    # same range of stroke widths: a radius of r fine px widens strokes by 2r / _FINE canvas px.
    width = float(_stroke_width(F.avg_pool2d(masks.float(), _FINE)).median())
    allowed = _safe_radii(masks)
    # One variant per target width (repeats allowed), so every font is drawn equally often.
    radii = [min(allowed, key=lambda r: abs(width + 2 * r / _FINE - target)) for target in _TARGET_WIDTHS]
    # Morphology on the fine binary mask, then area-averaging down, gives clean anti-aliased
    # edges; max-pooling grey levels directly would smear faint edge pixels into grey plateaus.
    variants = [F.avg_pool2d(_morph(masks, r).float(), _FINE)[:, 0] for r in radii]
    return torch.stack(variants, dim=1)


def _half_extents(templates: torch.Tensor) -> torch.Tensor:
    """Half width and half height of each template's ink around the canvas centre, (..., 2).

    In normalised grid units (the canvas spans -1..1), as ``affine_grid`` uses.
    """
    ink = templates > 0.02
    idx = torch.arange(_CANVAS, dtype=torch.float32)
    distance = (idx - (_CANVAS - 1) / 2.0).abs() + 0.5  # to the pixel's outer edge

    def half(mask: torch.Tensor) -> torch.Tensor:
        return torch.where(mask, distance, torch.zeros(())).amax(dim=-1) * (2.0 / _CANVAS)

    return torch.stack([half(ink.any(dim=-2)), half(ink.any(dim=-1))], dim=-1)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    # Building templates is thousands of tiny tensor ops. With 2 threads, each op waits for both;
    # when another process holds one core, that wait costs a time slice per op and the 0.3 s job
    # was measured to take 50-100 s. One thread is as fast here and immune to that.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """All templates, (10, fonts * widths, 56, 56) float32, their half extents and font names."""
    flags = _no_hinting_flag()
    per_font: list[torch.Tensor] = []
    names: list[str] = []
    with _one_thread():
        for path in sorted(_font_dir().glob("*.ttf")):
            if path.name in _DENYLIST:
                continue
            templates = _font_templates(path, flags)
            if templates is not None:
                per_font.append(templates)  # (10, widths, 56, 56)
                names.append(path.name)
    if not per_font:
        raise RuntimeError(f"no usable digit font found in {_font_dir()}")
    templates = torch.cat(per_font, dim=1).contiguous()
    return templates, _half_extents(templates), tuple(names)


@functools.lru_cache(maxsize=1)
def _grid_basis() -> torch.Tensor:
    """(3 + 36, 56 * 56): x, y and 1 at each canvas pixel, then the elastic field's basis.

    The sampling grid is linear in the affine matrix and in the low-resolution noise, so one GEMM
    of per-sample coefficients with this basis builds it: ~10x faster on CPU than affine_grid plus
    bicubic upsampling plus an add, which each sweep the whole (N, 56, 56, 2) grid.
    """
    # Pixel centres in the normalised coordinates of affine_grid / grid_sample(align_corners=False).
    coords = (torch.arange(_CANVAS, dtype=torch.float32) * 2 + 1) / _CANVAS - 1
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    affine = torch.stack([xs, ys, torch.ones_like(xs)]).reshape(3, -1)
    # Bicubic upsampling is linear and separable: a (56, 6) matrix per axis; each of the 36
    # low-resolution control points becomes one smooth bump over the canvas.
    eye = torch.eye(_ELASTIC_GRID)[:, None, None, :]
    up = F.interpolate(eye, size=(1, _CANVAS), mode="bicubic", align_corners=False)[:, 0, 0, :]  # (6, 56)
    bumps = (up[:, None, :, None] * up[None, :, None, :]).reshape(_ELASTIC_GRID**2, -1)  # (i, j) x (h, w)
    return torch.cat([affine, bumps]).contiguous()


def _render_chunk(
    labels: torch.Tensor, templates: torch.Tensor, half_extents: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """Warp one template per label into a (N, 28, 28) uint8 batch."""
    n = labels.numel()
    n_variants = templates.shape[1]
    variant = torch.randint(0, n_variants, (n,), generator=gen)
    src = templates[labels, variant][:, None]  # (N, 1, 56, 56)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen) * (high - low) + low

    # Forward map template -> output: rotation @ shear @ scale, in normalised coordinates.
    angle = uniform(-_ROTATE_DEG, _ROTATE_DEG, n) * (math.pi / 180.0)
    scale = uniform(*_SCALE, n)
    scale_x = scale * uniform(1.0 - _ANISO, 1.0 + _ANISO, n)
    scale_y = scale * uniform(1.0 - _ANISO, 1.0 + _ANISO, n)
    shear = uniform(-_SHEAR, _SHEAR, n)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # [[cos, -sin], [sin, cos]] @ [[1, shear], [0, 1]] @ diag(scale_x, scale_y)
    fwd = torch.stack(
        [
            torch.stack([cos * scale_x, (cos * shear - sin) * scale_y], dim=-1),
            torch.stack([sin * scale_x, (sin * shear + cos) * scale_y], dim=-1),
        ],
        dim=-2,
    )  # (N, 2, 2)
    shift = uniform(-1.0, 1.0, n, 2) * (_SHIFT_PX * 2.0 / _OUT)

    # Shrink the few samples whose transformed glyph box would leave the canvas, then clamp the
    # shift into the room left, so no digit is ever clipped by the border.
    half = half_extents[labels, variant]  # (N, 2)
    reach = (fwd.abs() @ half[:, :, None])[:, :, 0]  # half-extent of the transformed box
    shrink = (_FIT / reach.amax(dim=1)).clamp(max=1.0)
    fwd = fwd * shrink[:, None, None]
    room = (_FIT - reach * shrink[:, None]).clamp_min(0.0)
    shift = torch.maximum(torch.minimum(shift, room), -room)

    # grid_sample wants the inverse map: output coordinates -> template coordinates.
    inv = torch.linalg.inv(fwd)
    theta = torch.cat([inv, -(inv @ shift[:, :, None])], dim=2)  # (N, 2, 3), as for affine_grid

    # Elastic distortion (Simard et al. 2003): a smooth random displacement field, bicubically
    # upsampled from a 6x6 noise grid, with one amplitude per sample so some stay undistorted.
    noise = uniform(-1.0, 1.0, n, 2, _ELASTIC_GRID**2)
    alpha = uniform(0.0, _ELASTIC_ALPHA, n)
    coeffs = torch.cat([theta, noise * alpha[:, None, None]], dim=2)  # (N, 2, 39)
    grid = (coeffs.reshape(2 * n, -1) @ _grid_basis()).reshape(n, 2, _CANVAS, _CANVAS)
    grid = grid.permute(0, 2, 3, 1)  # (N, 56, 56, xy): grid_sample reads the strided view as fast

    warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    small = F.avg_pool2d(warped, 2)[:, 0]  # (N, 28, 28)
    # Stretch each image to a peak of 255, like MNIST's normalisation: thin fonts stay visible.
    gain = 255.0 / small.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6)
    return small.mul_(gain).round_().clamp_(0, 255).to(torch.uint8)


def render_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` random digit images, exactly ``n // 10`` per class (the rest spread), shuffled.

    The same ``seed`` gives byte-identical arrays; the global RNG state is neither used nor
    changed.

    Args:
        n: number of images, at least 1.
        seed: seed of the private ``torch.Generator`` that draws labels, fonts and warps.

    Returns:
        ``(images, labels)``: uint8 ``(n, 28, 28)``, white digits on black, and int64 ``(n,)``.

    Example:
        >>> images, labels = render_digits(20, seed=1)
        >>> images.shape, images.dtype, labels.shape, sorted(set(labels.tolist())) == list(range(10))
        ((20, 28, 28), dtype('uint8'), (20,), True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got n={n!r}")
    n = int(n)
    templates, half_extents, _ = _templates()
    gen = torch.Generator(device="cpu")
    gen.manual_seed(operator.index(seed))
    labels = torch.arange(n, dtype=torch.int64) % 10
    labels = labels[torch.randperm(n, generator=gen)]
    images = torch.empty(n, _OUT, _OUT, dtype=torch.uint8)
    with torch.no_grad():
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            images[start:stop] = _render_chunk(labels[start:stop], templates, half_extents, gen)
    return images.numpy(), labels.numpy()


_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in _KEYS:
        arr = np.ascontiguousarray(arrays[key])
        # Shape and dtype are hashed too, so a reshaped or retyped array cannot pass.
        h.update(f"{key}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _test_seed(seed: int) -> int:
    # A hash, not seed + k, so that no train seed reproduces another seed's test split.
    digest = hashlib.sha256(f"gancourse-digits-test-{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _read_cache(path: Path, n_train: int, n_test: int) -> dict[str, np.ndarray]:
    """The cached arrays; raises ValueError (or a read error) when anything is off."""
    # Our own handle, closed even when np.load fails halfway (it leaks its own on a bad zip).
    with open(path, "rb") as f:
        # np.load would try other formats first and blame "pickled data" for a garbage file.
        if f.read(4) != b"PK\x03\x04":
            raise ValueError("not an .npz (zip) archive")
        f.seek(0)
        with np.load(f, allow_pickle=False) as npz:
            missing = [key for key in (*_KEYS, "sha256") if key not in npz.files]
            if missing:
                raise ValueError(f"missing keys {missing}")
            arrays = {key: npz[key] for key in _KEYS}
            stored = str(npz["sha256"])
    expected = {
        "train_images": ((n_train, _OUT, _OUT), np.uint8),
        "train_labels": ((n_train,), np.int64),
        "test_images": ((n_test, _OUT, _OUT), np.uint8),
        "test_labels": ((n_test,), np.int64),
    }
    for key, (shape, dtype) in expected.items():
        if arrays[key].shape != shape or arrays[key].dtype != dtype:
            found = f"{arrays[key].dtype}{arrays[key].shape}"
            raise ValueError(f"{key} is {found}, expected {np.dtype(dtype)}{shape}")
    if _digest(arrays) != stored:
        raise ValueError("sha256 mismatch")
    return arrays


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    # Atomic: a crash or a concurrent reader never sees half a file.
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays, sha256=np.array(_digest(arrays))))


def load_digits(
    train: bool = True,
    *,
    root: str | os.PathLike | None = None,
    n_train: int = 60000,
    n_test: int = 10000,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``digits`` train or test split, rendered once and then read from a cache file.

    Both splits are built together (train from ``seed``, test from a seed derived from it, so
    they never share images) and stored in ``root/digits_v{DIGITS_VERSION}_seed{seed}_{n_train}_
    {n_test}.npz`` with a SHA-256 of the arrays. A cache that is unreadable, truncated, incomplete
    or fails the hash is reported in one line and rebuilt, never used.

    Args:
        train: True for the training split, False for the test split.
        root: cache folder; default ``gancourse.paths.data_dir()``.
        n_train: number of training images, at least 1.
        n_test: number of test images, at least 1.
        seed: seed of the training split.

    Returns:
        ``(images, labels)``: uint8 ``(N, 1, 28, 28)`` white-on-black and int64 ``(N,)``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as cache:
        ...     x, y = load_digits(train=False, root=cache, n_train=100, n_test=50)
        >>> tuple(x.shape), x.dtype, tuple(y.shape), y.dtype
        ((50, 1, 28, 28), torch.uint8, (50,), torch.int64)
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
    n_train, n_test = int(n_train), int(n_test)
    seed = operator.index(seed)  # an int, so the file name and the test seed are canonical
    if root is None:
        folder = data_dir()
    else:
        folder = Path(root).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"digits_v{DIGITS_VERSION}_seed{seed}_{n_train}_{n_test}.npz"

    arrays = None
    if path.exists():
        try:
            arrays = _read_cache(path, n_train, n_test)
        # Whatever went wrong while reading, the file cannot be trusted: rebuild it.
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
            print(f"digits: cache {path} is corrupt ({reason}); rebuilding it")
    if arrays is None:
        train_images, train_labels = render_digits(n_train, seed=seed)
        test_images, test_labels = render_digits(n_test, seed=_test_seed(seed))
        arrays = {
            "train_images": train_images,
            "train_labels": train_labels,
            "test_images": test_images,
            "test_labels": test_labels,
        }
        _write_cache(path, arrays)

    prefix = "train" if train else "test"
    images = torch.from_numpy(arrays[f"{prefix}_images"]).unsqueeze(1)
    labels = torch.from_numpy(arrays[f"{prefix}_labels"])
    return images, labels
