"""Torch state scoped to a block: thread count and CPU generator, restored after.

The learning agents train with a fixed number of torch threads (1 makes CPU runs
bit-for-bit reproducible and is fastest for their small networks) and must not leak
torch's global generator state into the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Set torch's intra-op threads inside the block (``None``: leave them)."""
    before = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def forked_torch(num_threads: int | None) -> Iterator[None]:
    """:func:`torch_threads` with torch's CPU generator forked (restored after)."""
    with torch.random.fork_rng(devices=[]), torch_threads(num_threads):
        yield
