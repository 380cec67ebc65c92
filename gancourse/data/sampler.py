"""Device-resident batch samplers: the training hot path touches no DataLoader, PIL or Python loop.

``TensorSampler`` keeps a whole image dataset as ONE uint8 tensor on the training device (60k
MNIST-sized images are 47 MB) and converts each batch to float in [-1, 1] on the device.
``MixtureSampler`` draws fresh points from a 2-D distribution on the device every step, as the
VEEGAN/PacGAN protocol does (an infinite training set). Both are deterministic for a seed and
carry their RNG state in ``state_dict`` so a resumed run continues the same trajectory.

Class labels (lesson 5): ``sample_labelled(n)`` returns ``(x, y)`` with y (n,) int64 on the device, drawn
from the same random stream as ``sample(n)`` (the same x for the same state), and ``num_classes`` is K,
or None for data without labels (then ``sample_labelled`` is a ``ValueError``).
"""
from __future__ import annotations

import torch

from .._checks import positive_int
from ..device import canonical_device
from .mixtures import Mixture

__all__ = ["TensorSampler", "MixtureSampler", "to_unit_range"]


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 -> float32 in [-1, 1] (x / 127.5 - 1), the range of a Tanh generator.

    Example:
        >>> to_unit_range(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
        [-1.0, 1.0]
    """
    return images.float().div_(127.5).sub_(1.0)


class TensorSampler:
    """Shuffled mini-batches from a tensor that lives on the device.

    Each epoch draws a fresh permutation of the indices on the device; a batch is one gather.
    uint8 inputs are scaled to [-1, 1]; float inputs are returned as they are.

    Example:
        >>> s = TensorSampler(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), batch_size=4, seed=0)
        >>> s.sample().shape
        torch.Size([4, 1, 28, 28])
    """

    def __init__(self, data: torch.Tensor, batch_size: int, *, device: torch.device | str = "cpu",
                 seed: int = 0, labels: torch.Tensor | None = None,
                 memory_format: torch.memory_format = torch.contiguous_format) -> None:
        batch_size = positive_int("batch_size", batch_size)
        if len(data) < batch_size:
            raise ValueError(f"batch_size={batch_size} is larger than the dataset ({len(data)} samples)")
        self.device = canonical_device(device)  # 'cuda' and 'cuda:0' are one device
        self.data = data.to(self.device, non_blocking=True)
        if self.data.dim() == 4:
            self.data = self.data.contiguous(memory_format=memory_format)
        self.labels = None if labels is None else labels.to(self.device)
        if self.labels is not None and (self.labels.shape != (len(self.data),) or self.labels.is_floating_point()
                                        or self.labels.dtype == torch.bool or int(self.labels.min()) < 0):
            raise ValueError(f"labels must be integers >= 0 of shape ({len(self.data)},), one per example; got "
                             f"{self.labels.dtype} of shape {tuple(self.labels.shape)}")
        self.num_classes: int | None = None if self.labels is None else int(self.labels.max()) + 1
        """K, the number of classes (labels are 0..K-1), or None without labels."""
        self.batch_size = batch_size
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self._perm = torch.randperm(len(self.data), generator=self.generator, device=self.device)
        self._pos = 0

    def __len__(self) -> int:
        return len(self.data)

    def _next_indices(self, n: int) -> torch.Tensor:
        # Drop the incomplete tail of an epoch so every batch has the same shape (no recompiles).
        if self._pos + n > len(self._perm):
            self._perm = torch.randperm(len(self.data), generator=self.generator, device=self.device)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + n]
        self._pos += n
        return idx

    def sample(self, n: int | None = None) -> torch.Tensor:
        """Next batch of ``n`` (default ``batch_size``, at most ``len(self)``) examples, float, on the device."""
        return self._batch(self._next_indices(self._check_n(n)))

    def sample_labelled(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: the next batch as ``sample`` would return it and its labels, (n,) int64.

        Example:
            >>> s = TensorSampler(torch.zeros(6, 1, 2, 2, dtype=torch.uint8), 3, labels=torch.tensor([0, 1, 2] * 2))
            >>> x, y = s.sample_labelled(); x.shape, y.shape, s.num_classes
            (torch.Size([3, 1, 2, 2]), torch.Size([3]), 3)
        """
        if self.labels is None:
            raise ValueError("this sampler has no labels (build it with labels=...); a conditional GAN needs "
                             "labelled data")
        idx = self._next_indices(self._check_n(n))
        return self._batch(idx), self.labels[idx].long()

    def _check_n(self, n: int | None) -> int:
        n = self.batch_size if n is None else positive_int("n", n, f" (or None for batch_size={self.batch_size})")
        if n > len(self.data):  # an epoch's permutation has only len(self) indices: the batch would come up short
            raise ValueError(f"n={n} is larger than the dataset ({len(self.data)} samples); "
                             f"choose n <= {len(self.data)}")
        return n

    def _batch(self, idx: torch.Tensor) -> torch.Tensor:
        batch = self.data[idx]
        return to_unit_range(batch) if batch.dtype == torch.uint8 else batch

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "perm": self._perm.cpu(), "pos": self._pos}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self._perm = state["perm"].to(self.device)
        self._pos = int(state["pos"])


class MixtureSampler:
    """Fresh samples of a 2-D distribution, drawn on the device each step.

    Example:
        >>> from gancourse.data.mixtures import ring_of_gaussians
        >>> MixtureSampler(ring_of_gaussians(), batch_size=8).sample().shape
        torch.Size([8, 2])
    """

    def __init__(self, mixture: Mixture, batch_size: int, *, device: torch.device | str = "cpu", seed: int = 0) -> None:
        batch_size = positive_int("batch_size", batch_size)
        self.mixture = mixture
        self.batch_size = batch_size
        self.device = canonical_device(device)  # 'cuda' and 'cuda:0' are one device
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.num_classes: int | None = mixture.num_classes
        """K, the number of Gaussian components (the label is the component index), or None for a curve."""

    def sample(self, n: int | None = None) -> torch.Tensor:
        """Next batch of ``n`` (default ``batch_size``) points, (n, 2), on the device."""
        n = self.batch_size if n is None else positive_int("n", n, f" (or None for batch_size={self.batch_size})")
        return self.mixture.sample(n, generator=self.generator, device=self.device)

    def sample_labelled(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: the points ``sample`` would draw and the index of the component of each, (n,) int64.

        Example:
            >>> from gancourse.data.mixtures import grid_of_gaussians
            >>> x, y = MixtureSampler(grid_of_gaussians(), batch_size=8).sample_labelled()
            >>> x.shape, int(y.max()) < 25
            (torch.Size([8, 2]), True)
        """
        n = self.batch_size if n is None else positive_int("n", n, f" (or None for batch_size={self.batch_size})")
        return self.mixture.sample_labelled(n, generator=self.generator, device=self.device)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
