"""The RADARS controller: a REINFORCE policy over the ops each edge still has.

The policy and its update are those of the NAS-Bench-201 REINFORCE baseline
(:class:`nasgym_agents.baselines.reinforce.Reinforce`): one independent
categorical distribution per edge with zero-initialised logits, a bias-corrected
exponential moving average of the rewards as the baseline (updated with the current
reward before the advantage is taken), and one Adam step on
``-advantage * log pi(cell)`` per sampled cell. What RADARS adds is the mask: a
pruned op's logit is ``-inf``, so it is never sampled again and the remaining ops
share the probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError
from nasgym.spaces.nb201 import EDGES, OPS

FloatArray = NDArray[np.float64]


class MaskedReinforce:
    """A factorised categorical policy over the NB201 ops, with pruning.

    Args:
        learning_rate: Adam step size (0.01, the REINFORCE baseline's default).
        betas: Adam's moment decay rates.
        eps: Adam's denominator constant.
        baseline_momentum: Momentum of the reward moving average.

    Raises:
        UnknownOptionError: A setting out of range.
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.01,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        baseline_momentum: float = 0.9,
    ) -> None:
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise UnknownOptionError(
                f"controller learning_rate must be positive, got {learning_rate!r}"
            )
        if not all(0.0 <= b < 1.0 for b in (*betas, baseline_momentum)):
            raise UnknownOptionError(
                f"betas and baseline_momentum must lie in [0, 1), got {betas!r} and "
                f"{baseline_momentum!r}"
            )
        self.learning_rate = float(learning_rate)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.baseline_momentum = float(baseline_momentum)
        shape = (len(EDGES), len(OPS))
        #: Logits, ``-inf`` on pruned ops.
        self.logits: FloatArray = np.zeros(shape)
        self._m1: FloatArray = np.zeros(shape)
        self._m2: FloatArray = np.zeros(shape)
        self._updates = 0
        self._numerator = 0.0
        self._denominator = 0.0

    @property
    def mask(self) -> NDArray[np.bool_]:
        """``(6, 5)``: True where an op is still in the space."""
        return np.isfinite(self.logits)

    def candidates(self) -> tuple[tuple[int, ...], ...]:
        """The remaining op indices of each edge."""
        return tuple(tuple(int(k) for k in np.flatnonzero(row)) for row in self.mask)

    def probabilities(self) -> FloatArray:
        """Per-edge op probabilities (exactly 0 on pruned ops)."""
        shifted = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        probs: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
        return probs

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        """One cell: an op per edge, drawn from the policy with ``rng``."""
        probs = self.probabilities()
        cdf = np.cumsum(probs, axis=1)
        draw = rng.random(len(EDGES))
        cell = []
        for slot in range(len(EDGES)):
            index = int(np.searchsorted(cdf[slot], draw[slot], side="right"))
            allowed = np.flatnonzero(self.mask[slot])
            # rounding can leave the cdf's end just below 1, or land on a pruned op
            if index > allowed[-1]:
                index = int(allowed[-1])
            cell.append(index)
        return tuple(cell)

    def baseline(self) -> float:
        """The current reward baseline (0 before the first update)."""
        if self._denominator == 0:
            return 0.0
        return self._numerator / self._denominator

    def update(self, cell: tuple[int, ...], reward: float) -> float:
        """One REINFORCE step on ``cell`` with ``reward``; returns the advantage."""
        m = self.baseline_momentum
        self._numerator = m * self._numerator + (1.0 - m) * reward
        self._denominator = m * self._denominator + (1.0 - m)
        advantage = reward - self.baseline()
        probs = self.probabilities()
        # d(-advantage * log pi)/d logits = -advantage * (onehot - probs)
        grad = probs * advantage
        grad[np.arange(len(EDGES)), list(cell)] -= advantage
        grad[~self.mask] = 0.0
        b1, b2 = self.betas
        self._updates += 1
        self._m1 = b1 * self._m1 + (1.0 - b1) * grad
        self._m2 = b2 * self._m2 + (1.0 - b2) * grad * grad
        step = self._m1 / (1.0 - b1**self._updates)
        step /= np.sqrt(self._m2 / (1.0 - b2**self._updates)) + self.eps
        finite = self.mask
        self.logits[finite] -= self.learning_rate * step[finite]
        return float(advantage)

    def prune(self, slot: int, op: int) -> None:
        """Remove ``op`` from edge ``slot`` (its logit becomes ``-inf``).

        Raises:
            UnknownOptionError: It is the edge's last op, or already pruned.
        """
        if not self.mask[slot, op]:
            raise UnknownOptionError(f"op {OPS[op]} of edge {slot} is already pruned")
        if self.mask[slot].sum() == 1:
            raise UnknownOptionError(
                f"op {OPS[op]} is the last op of edge {slot}; it cannot be pruned"
            )
        self.logits[slot, op] = -np.inf
        self._m1[slot, op] = self._m2[slot, op] = 0.0

    def state(self) -> dict[str, Any]:
        """Everything :meth:`restore` needs (plain Python lists and floats)."""
        return {
            "logits": self.logits.tolist(),
            "m1": self._m1.tolist(),
            "m2": self._m2.tolist(),
            "updates": self._updates,
            "numerator": self._numerator,
            "denominator": self._denominator,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state`."""
        self.logits = np.asarray(state["logits"], dtype=np.float64)
        self._m1 = np.asarray(state["m1"], dtype=np.float64)
        self._m2 = np.asarray(state["m2"], dtype=np.float64)
        self._updates = int(state["updates"])
        self._numerator = float(state["numerator"])
        self._denominator = float(state["denominator"])
