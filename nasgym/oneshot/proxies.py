"""Names of the zero-cost proxies and the NB201 input shapes (torch-free).

:mod:`nasgym.oneshot.zero_cost` computes the proxies (and needs torch);
:mod:`nasgym.oneshot.zc_reward` turns them into env rewards and checks names without
torch. Both take the names from here, so neither imports the other at module level.
"""

from __future__ import annotations

#: Every proxy name, in the order of :mod:`nasgym.oneshot.zero_cost`'s table.
PROXIES: tuple[str, ...] = (
    "synflow",
    "snip",
    "grad_norm",
    "fisher",
    "jacov",
    "naswot",
    "params",
    "flops",
)
#: Proxies whose scores are positive and span orders of magnitude: normalised in log.
LOG_PROXIES: frozenset[str] = frozenset(
    {"synflow", "snip", "grad_norm", "fisher", "params", "flops"}
)
#: Proxies that read the batch's images and labels (the others only its shape).
DATA_DEPENDENT: frozenset[str] = frozenset(
    {"snip", "grad_norm", "fisher", "jacov", "naswot"}
)
#: NB201 dataset -> (classes, input side length).
DATASET_SHAPES: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar100": (100, 32),
    "ImageNet16-120": (120, 16),
}

__all__ = ["DATASET_SHAPES", "DATA_DEPENDENT", "LOG_PROXIES", "PROXIES"]
