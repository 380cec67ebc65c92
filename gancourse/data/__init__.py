"""Datasets for the course: 2-D mixtures, the offline ``digits`` images, torchvision images, and
your own pictures as ``folder:PATH`` (64x64) or ``folder:PATH@SIZE`` (see ``gancourse.data.folder``).

One entry point, ``make_sampler(name, ...)``, returns a device-resident sampler for any of them.
``LABELLED_DATASETS`` are those with class labels (``sampler.sample_labelled``, ``sampler.num_classes``):
the Gaussian mixtures (label = component) and the images; a folder's labels are its sub-folders.
"""
from __future__ import annotations

import torch

from .mixtures import (
    MIXTURES,
    Mixture,
    grid_of_gaussians,
    make_mixture,
    overlapping_classes,
    ring_of_gaussians,
    spiral,
    two_moons,
)
from .folder import FOLDER_PREFIX, display_name, folder_name, is_folder_name, load_folder, parse_folder_name
from .sampler import MixtureSampler, TensorSampler, to_unit_range

# torchvision itself is imported on first use (it is slow to import and 2-D lessons never need it); the module
# that names its datasets is not.
from .torchvision_sets import ONLINE_DATASETS

_LAZY = {"load_digits": ".digits", "load_torchvision": ".torchvision_sets", "resolve_auto": ".torchvision_sets",
         "DatasetUnavailable": ".torchvision_sets"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DATASETS", "IMAGE_DATASETS", "MIXTURES", "Mixture", "ring_of_gaussians", "grid_of_gaussians", "spiral",
    "two_moons", "overlapping_classes", "make_mixture", "LABELLED_DATASETS", "check_labelled_dataset",
    "load_digits", "load_torchvision", "load_images", "resolve_auto",
    "DatasetUnavailable", "TensorSampler", "MixtureSampler", "to_unit_range", "make_sampler",
    "is_image_dataset", "data_shape", "check_dataset_name", "FOLDER_PREFIX", "display_name", "folder_name", "is_folder_name",
    "parse_folder_name", "load_folder",
]

IMAGE_DATASETS = ("digits",) + ONLINE_DATASETS + ("auto",)
DATASETS = tuple(MIXTURES) + IMAGE_DATASETS

LABELLED_DATASETS = tuple(name for name, build in MIXTURES.items()
                          if build().kind == "gaussian_mixture") + IMAGE_DATASETS
"""Datasets with class labels: the Gaussian mixtures (a point's label is its component) and the images."""

_SHAPES = {"digits": (1, 28, 28), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it is a known dataset or a ``folder:PATH[@SIZE]`` name (the folder itself is
    checked when it is read), else raise ``ValueError`` listing the choices.

    Example:
        >>> check_dataset_name("ring"), check_dataset_name("folder:~/photos@128")
        ('ring', 'folder:~/photos@128')
    """
    if is_folder_name(name):
        parse_folder_name(name)  # the syntax (a path, a size >= 1) is checked here; the folder when read
        return name
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid choices: {', '.join(DATASETS)}, {FOLDER_PREFIX}PATH")
    return name


def check_labelled_dataset(name: str, why: str = "a conditional GAN") -> str:
    """Return ``name`` if its examples have class labels, else ``ValueError`` naming it and the labelled choices.

    ``folder:PATH`` data counts as labelled (its sub-folders are the classes; one folder is one class).

    Example:
        >>> check_labelled_dataset("grid")
        'grid'
        >>> check_labelled_dataset("spiral")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: a conditional GAN needs class labels, but dataset 'spiral' has none; labelled choices: ring, ...
    """
    check_dataset_name(name)
    if not (is_folder_name(name) or name in LABELLED_DATASETS):
        raise ValueError(f"{why} needs class labels, but dataset {name!r} has none; labelled choices: "
                         f"{', '.join(LABELLED_DATASETS)}, {FOLDER_PREFIX}PATH")
    return name


def is_image_dataset(name: str) -> bool:
    """True for image datasets, False for 2-D mixtures.

    Example:
        >>> is_image_dataset("digits"), is_image_dataset("grid")
        (True, False)
    """
    return is_folder_name(check_dataset_name(name)) or name in IMAGE_DATASETS


def data_shape(name: str) -> tuple[int, ...]:
    """Shape of one example: ``(2,)`` for mixtures, ``(C, H, W)`` for images (``auto`` is 28x28). A
    ``folder:`` name is read (or its cache is) to know C: grey pictures have 1 channel, colour 3.

    Example:
        >>> data_shape("cifar10")
        (3, 32, 32)
    """
    if is_folder_name(name):
        return tuple(load_images(name)[0].shape[1:])  # memoised: the sampler built next reuses the tensor
    if not is_image_dataset(name):
        return (2,)
    return _SHAPES.get(name, (1, 28, 28))


def load_images(name: str, train: bool = True, *, root=None, size: int | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, C, H, W) and int64 labels for ``digits``, ``mnist``, ``fashion_mnist``,
    ``cifar10`` or ``auto`` (MNIST when it can be had, else ``digits``, with one printed line), or
    ``folder:PATH`` (``load_folder``: sub-folder labels, one split, so ``train`` is ignored).

    ``size`` is the side of a folder's pictures when the name gives none (``folder:PATH@128`` does;
    default 64); the other datasets have their own size and accept only that one.

    Example:
        >>> x, y = load_images("digits")  # doctest: +SKIP
        >>> x.shape, x.dtype, y.dtype  # doctest: +SKIP
        (torch.Size([60000, 1, 28, 28]), torch.uint8, torch.int64)
        >>> load_images("ring")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: 'ring' is a 2-D dataset, not an image dataset; image choices: digits, mnist, ...
    """
    if is_folder_name(name):
        from .folder import DEFAULT_SIZE

        path, given = parse_folder_name(name, default=None)
        if given is not None and size is not None and given != size:
            raise ValueError(f"size={size} contradicts the size in {name!r}; give one of them")
        return load_folder(path, given or size or DEFAULT_SIZE, root=root)
    if not is_image_dataset(name):
        raise ValueError(f"{name!r} is a 2-D dataset, not an image dataset; image choices: "
                         f"{', '.join(IMAGE_DATASETS)}, {FOLDER_PREFIX}PATH")
    if size is not None and size != data_shape(name)[-1]:
        raise ValueError(f"{name!r} has {data_shape(name)[-1]}x{data_shape(name)[-1]} images, got size={size}; "
                         f"only {FOLDER_PREFIX}PATH data can be read at another size")
    if name == "auto":
        from .torchvision_sets import resolve_auto

        name = resolve_auto(root=root)
    if name == "digits":
        from .digits import load_digits

        return load_digits(train=train, root=root)
    from .torchvision_sets import load_torchvision

    return load_torchvision(name, train=train, root=root)


def make_sampler(name: str, batch_size: int, *, device: torch.device | str = "cpu", seed: int = 0,
                 root=None, **mixture_kwargs: float) -> TensorSampler | MixtureSampler:
    """A device-resident sampler for any dataset name in ``DATASETS``.

    Example:
        >>> make_sampler("ring", 16).sample().shape
        torch.Size([16, 2])
    """
    if not is_image_dataset(name):
        return MixtureSampler(make_mixture(name, **mixture_kwargs), batch_size, device=device, seed=seed)
    images, labels = load_images(name, root=root)
    return TensorSampler(images, batch_size, device=device, seed=seed, labels=labels)
