"""The one-shot code in one subpackage: supernet, networks, image data, proxies.

==============================  ==================================================
module                          what it holds
==============================  ==================================================
:mod:`~.supernet`               :class:`Supernet` (training, evaluation,
                                checkpoints) and :class:`SupernetConfig`
:mod:`~.nn`                     the PyTorch networks: :class:`NB201Network` and
                                the sparse :class:`NB201Supernet`
:mod:`~.datasets`               offline image sets (digits, MNIST-5k) and local
                                CIFAR-10/100 (:func:`load_images`,
                                :func:`load_cifar`)
:mod:`~.zero_cost`              training-free proxies (:func:`score`,
                                :func:`score_many`) and FreeNAS
:mod:`~.zc_reward`              proxies as env rewards (``reward_metric="zc:..."``)
:mod:`~.proxies`                proxy names and NB201 input shapes (torch-free)
:mod:`~.device`                 :func:`resolve_device` and its error
==============================  ==================================================

The names in the table's last column are re-exported here *lazily*: ``import
nasgym.oneshot`` imports neither torch nor any submodule; the first access of a name
imports the module that defines it (torch for all but :mod:`~nasgym.oneshot.proxies`,
:mod:`~nasgym.oneshot.datasets` and :mod:`~nasgym.oneshot.zc_reward`).

The modules' former top-level paths (``nasgym.supernet``, ``nasgym.nn``,
``nasgym.zero_cost``, ``nasgym.zc_reward``, ``nasgym.datasets``) still import: each is
an alias of the same module object here.

Imports point one way: ``supernet -> nn, datasets, device``; ``zero_cost -> nn,
device, proxies``; ``zc_reward -> proxies`` and, when it computes a score,
``zero_cost``, ``datasets`` and ``device``.

Example:
    >>> import nasgym.oneshot as oneshot
    >>> oneshot.PROXIES[:2]
    ('synflow', 'snip')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasgym.oneshot.datasets import DATASETS, ImageSplit, load_cifar, load_images
    from nasgym.oneshot.device import DeviceUnavailableError, resolve_device
    from nasgym.oneshot.nn.nb201 import NB201Network
    from nasgym.oneshot.nn.supernet import NB201Supernet
    from nasgym.oneshot.proxies import DATA_DEPENDENT, DATASET_SHAPES, PROXIES
    from nasgym.oneshot.supernet import (
        SUPERNET_DATASETS,
        Choice,
        Supernet,
        SupernetConfig,
        load_split,
        resolve_auto_device,
    )
    from nasgym.oneshot.zc_reward import ZeroCostReward, precompute
    from nasgym.oneshot.zero_cost import freenas_search, score, score_many

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "DATASETS": "nasgym.oneshot.datasets",
    "ImageSplit": "nasgym.oneshot.datasets",
    "load_cifar": "nasgym.oneshot.datasets",
    "load_images": "nasgym.oneshot.datasets",
    "DeviceUnavailableError": "nasgym.oneshot.device",
    "resolve_device": "nasgym.oneshot.device",
    "NB201Network": "nasgym.oneshot.nn.nb201",
    "NB201Supernet": "nasgym.oneshot.nn.supernet",
    "DATA_DEPENDENT": "nasgym.oneshot.proxies",
    "DATASET_SHAPES": "nasgym.oneshot.proxies",
    "PROXIES": "nasgym.oneshot.proxies",
    "SUPERNET_DATASETS": "nasgym.oneshot.supernet",
    "Choice": "nasgym.oneshot.supernet",
    "Supernet": "nasgym.oneshot.supernet",
    "SupernetConfig": "nasgym.oneshot.supernet",
    "load_split": "nasgym.oneshot.supernet",
    "resolve_auto_device": "nasgym.oneshot.supernet",
    "ZeroCostReward": "nasgym.oneshot.zc_reward",
    "precompute": "nasgym.oneshot.zc_reward",
    "freenas_search": "nasgym.oneshot.zero_cost",
    "score": "nasgym.oneshot.zero_cost",
    "score_many": "nasgym.oneshot.zero_cost",
}

#: Submodules reachable as attributes (``nasgym.oneshot.supernet``).
_SUBMODULES: frozenset[str] = frozenset(
    {"datasets", "device", "nn", "proxies", "supernet", "zc_reward", "zero_cost"}
)

__all__ = [
    "DATASETS",
    "DATASET_SHAPES",
    "DATA_DEPENDENT",
    "PROXIES",
    "SUPERNET_DATASETS",
    "Choice",
    "DeviceUnavailableError",
    "ImageSplit",
    "NB201Network",
    "NB201Supernet",
    "Supernet",
    "SupernetConfig",
    "ZeroCostReward",
    "freenas_search",
    "load_cifar",
    "load_images",
    "load_split",
    "precompute",
    "resolve_auto_device",
    "resolve_device",
    "score",
    "score_many",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
