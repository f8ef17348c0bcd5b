"""ASHA: asynchronous successive halving (Li et al. 2020).

Li, Jamieson, Rostamizadeh, Gonina, Hardt, Recht, Talwalkar: *A System for Massively
Parallel Hyperparameter Tuning* (MLSys 2020). Successive halving without
synchronisation: whenever a worker is free, look at the rungs from the second
highest down; the first rung ``k`` with a configuration among its best
``floor(|rung k| / eta)`` *finished* results that has not been promoted yet gives a
job: that configuration at rung ``k + 1``. When no rung can promote, a new random
configuration starts at the lowest rung. :meth:`ASHA.ask` therefore never returns
``None`` (unless ``max_configs`` is reached and nothing can be promoted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nasgym.mf.protocol import Job

from .common import (
    MFBase,
    Ranked,
    check_optional_int,
    rung_ladder,
)

__all__ = ["ASHA"]


class ASHA(MFBase):
    """``asha``: asynchronous successive halving; promotes without waiting.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        eta: Reduction factor: a rung promotes its best ``1/eta`` (default 3).
        min_fidelity: Lowest rung (default the smallest fidelity; a higher one is
            Li et al.'s early-stopping rate ``s > 0``).
        max_fidelity: Highest rung (default the largest fidelity).
        max_configs: New configurations to start in all (default ``None``: no
            limit).

    Attributes:
        rungs: The rung ladder (:func:`~.common.rung_ladder`).
        results: Per rung, the finished results.
        promoted: Per rung, the issue numbers of the results promoted from it.
        promotions: ``(from_rung, vector)`` of every promotion, in order.

    Example:
        >>> asha = ASHA(nvec=(5,) * 6, fidelities=tuple(range(1, 99)), seed=0)
        >>> asha.rungs
        (1, 4, 11, 33, 98)
    """

    agent_name = "asha"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        max_configs: int | None = None,
    ) -> None:
        super().__init__(nvec=nvec, fidelities=fidelities, seed=seed)
        self._set_rung_range(eta, min_fidelity, max_fidelity)
        self.max_configs = check_optional_int("max_configs", max_configs, 1)
        self.rungs = rung_ladder(
            self.fidelities, self.eta, self.min_fidelity, self.max_fidelity
        )
        self.results = [Ranked() for _ in self.rungs]
        self.promoted: list[set[int]] = [set() for _ in self.rungs]
        self.promotions: list[tuple[int, tuple[int, ...]]] = []
        self.started = 0

    def promotable(self, k: int) -> tuple[int, tuple[int, ...]] | None:
        """The best unpromoted result among rung ``k``'s top ``floor(n / eta)``."""
        rung = self.results[k]
        for _, order, vector in rung.top(len(rung) // self.eta):
            if order not in self.promoted[k]:
                return order, vector
        return None

    def _next(self) -> tuple[Job, Any] | None:
        for k in reversed(range(len(self.rungs) - 1)):
            found = self.promotable(k)
            if found is not None:
                order, vector = found
                self.promoted[k].add(order)
                self.promotions.append((k, vector))
                return Job(vector, self.rungs[k + 1]), (k + 1, self.asked)
        if self.max_configs is not None and self.started >= self.max_configs:
            return None
        self.started += 1
        return Job(self.sample(), self.rungs[0]), (0, self.asked)

    def _result(self, job: Job, tag: Any, score: float) -> None:
        k, order = tag
        self.results[k].add(score, order, job.vector)

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {
            **super().config(),
            "eta": self.eta,
            "rungs": list(self.rungs),
            "max_configs": self.max_configs,
        }
