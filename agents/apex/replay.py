"""Prioritized replay with a sum-tree, and n-step returns (docs/methods/cassimon.md).

The buffer stores whole n-step transitions as flat NumPy arrays, one per field,
allocated on the first :meth:`PrioritizedReplay.add`. Sampling is proportional to
``p_i = (priority_i + eps) ** alpha`` (Schaul et al. 2016) and returns importance
weights ``(N * P(i)) ** -beta`` normalised by their batch maximum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Batch = dict[str, NDArray[np.generic]]


class SumTree:
    """A binary tree over ``capacity`` leaves whose inner nodes hold their sums.

    Leaves are padded to a power of two; node ``k`` has children ``2k`` and ``2k+1``
    and the root is node 1. :meth:`find` maps a prefix mass in ``[0, total)`` to the
    leaf whose cumulative interval contains it, vectorised over a batch.

    Example:
        >>> tree = SumTree(3)
        >>> tree.update(np.array([0, 1, 2]), np.array([1.0, 2.0, 1.0]))
        >>> tree.total
        4.0
        >>> tree.find(np.array([0.5, 1.5, 3.5])).tolist()
        [0, 1, 2]
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self.depth = self.leaves.bit_length() - 1
        self.nodes: FloatArray = np.zeros(2 * self.leaves)

    @property
    def total(self) -> float:
        """Sum of all leaves."""
        return float(self.nodes[1])

    def get(self, index: IntArray) -> FloatArray:
        """Values of the leaves ``index``."""
        values: FloatArray = self.nodes[np.asarray(index) + self.leaves]
        return values

    def update(self, index: IntArray, values: FloatArray) -> None:
        """Set leaves ``index`` to ``values`` (non-negative) and refresh their sums."""
        index = np.asarray(index, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError("sum-tree values must be finite and >= 0")
        if np.any((index < 0) | (index >= self.capacity)):
            raise IndexError("sum-tree index out of range")
        # Duplicates: the last write wins, as with sequential updates.
        for i, v in zip(index.tolist(), values.tolist(), strict=True):
            node = i + self.leaves
            self.nodes[node] = v
            node >>= 1
            while node:
                self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1]
                node >>= 1

    def find(self, mass: FloatArray) -> IntArray:
        """Leaf index of each prefix ``mass`` (at or past the total: the last leaf).

        Descends from the root, never into an empty subtree.
        """
        mass = np.maximum(np.asarray(mass, dtype=np.float64), 0.0)
        node = np.ones(mass.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.nodes[left]
            go_right = (mass >= left_sum) & (self.nodes[left + 1] > 0)
            mass = np.where(go_right, mass - left_sum, mass)
            node = np.where(go_right, left + 1, left)
        leaf: IntArray = node - self.leaves
        return np.minimum(leaf, self.capacity - 1)


class PrioritizedReplay:
    """Proportional prioritized replay over n-step transitions.

    Args:
        capacity: Number of transitions kept; the oldest is overwritten first.
        alpha: Priority exponent (0: uniform).
        beta: Importance-sampling exponent.
        eps: Added to every priority so no transition becomes unreachable.
        seed: Seed of the sampling generator.
    """

    def __init__(
        self,
        capacity: int,
        *,
        alpha: float = 0.6,
        beta: float = 0.4,
        eps: float = 1e-6,
        seed: int = 0,
    ) -> None:
        self.capacity = int(capacity)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.eps = float(eps)
        self.tree = SumTree(self.capacity)
        self.rng = np.random.default_rng(seed)
        self.data: Batch = {}
        self.size = 0
        self.next = 0
        self.added = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: Batch, priorities: FloatArray) -> IntArray:
        """Append the transitions of ``batch`` with their (raw) priorities.

        Returns:
            The slots they were written to.
        """
        n = len(priorities)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if not self.data:
            self.data = {
                k: np.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype)
                for k, v in batch.items()
            }
        slots = (self.next + np.arange(n)) % self.capacity
        for key, store in self.data.items():
            store[slots] = batch[key]
        self.update_priorities(slots, priorities)
        self.next = int((self.next + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        self.added += n
        return slots

    def update_priorities(self, slots: IntArray, priorities: FloatArray) -> None:
        """Set the raw priorities (e.g. ``|TD error|``) of ``slots``."""
        raw = np.abs(np.asarray(priorities, dtype=np.float64))
        self.tree.update(slots, (raw + self.eps) ** self.alpha)

    def probabilities(self) -> FloatArray:
        """Sampling probability of every stored slot (for tests and diagnostics)."""
        p = self.tree.get(np.arange(self.size))
        probs: FloatArray = p / p.sum()
        return probs

    def sample(self, batch_size: int) -> tuple[Batch, IntArray, FloatArray]:
        """Draw ``batch_size`` slots in proportion to their priorities.

        Returns:
            The transitions, their slots and normalised importance weights.
        """
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        total = self.tree.total
        slots = self.tree.find(self.rng.random(batch_size) * total)
        probs = self.tree.get(slots) / total
        weights = (self.size * probs) ** (-self.beta)
        weights = weights / weights.max()
        return {k: v[slots] for k, v in self.data.items()}, slots, weights


def nstep_return(rewards: Sequence[float], gamma: float) -> float:
    """``sum_k gamma**k * rewards[k]``, accumulated from the last reward backwards."""
    ret = 0.0
    for r in reversed(rewards):
        ret = float(r) + gamma * ret
    return ret
