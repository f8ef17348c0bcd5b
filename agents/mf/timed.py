"""Random search and regularized evolution against a time budget.

The NAS-Bench-201 protocol compares searchers by the test accuracy of their
incumbent against simulated training time. These two are the single-fidelity
controls of that comparison: every job trains at the largest fidelity, and the
driver (one or several simulated workers) charges its training time. With several
workers, REA mutates parents drawn from the results that have arrived (the
asynchronous aging evolution of Real et al. 2019, who ran it on many workers).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasgym.error import UnknownOptionError
from nasgym.mf.protocol import Job

from .common import IntArray, MFBase, check_int, check_optional_int

__all__ = ["REATime", "RandomSearchTime"]


class RandomSearchTime(MFBase):
    """``rs-time``: uniformly random architectures, each at the largest fidelity.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        max_configs: Jobs in all (default ``None``: as many as asked for).

    Example:
        >>> rs = RandomSearchTime(nvec=(5,) * 6, fidelities=(12, 200), seed=0)
        >>> rs.ask().fidelity
        200
    """

    agent_name = "rs-time"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        max_configs: int | None = None,
    ) -> None:
        super().__init__(nvec=nvec, fidelities=fidelities, seed=seed)
        self.max_configs = check_optional_int("max_configs", max_configs, 1)

    def _next(self) -> tuple[Job, Any] | None:
        if self.max_configs is not None and self.asked >= self.max_configs:
            return None
        return Job(self.sample(), self.fidelities[-1]), None

    def _result(self, job: Job, tag: Any, score: float) -> None:
        """Random search learns nothing."""

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {**super().config(), "max_configs": self.max_configs}


class REATime(MFBase):
    """``rea-time``: regularized evolution (Real et al. 2019) at the largest fidelity.

    The algorithm of the ``rea`` baseline (``nasgym_agents.baselines.evolution``):
    ``population_size`` random architectures first, then each job mutates the best
    of ``sample_size`` members drawn with replacement (ties: the first drawn) in
    ``num_mutations`` distinct slots, each set to a uniformly chosen different
    value; a result joins the population and the oldest member leaves. With one
    worker it draws the same random numbers in the same order as ``rea``. With
    several, the first ``population_size`` jobs are random, and a job asked while
    no result has arrived yet is random too.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        population_size: Members kept alive (NAS-Bench-201: 10).
        sample_size: Tournament size (NAS-Bench-201: 3).
        num_mutations: Slots changed per mutation (default 1).

    Attributes:
        population: ``(vector, score)`` of the living members, oldest first.
    """

    agent_name = "rea-time"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        population_size: int = 10,
        sample_size: int = 3,
        num_mutations: int = 1,
    ) -> None:
        super().__init__(nvec=nvec, fidelities=fidelities, seed=seed)
        self.population_size = check_int("population_size", population_size, 1)
        self.sample_size = check_int("sample_size", sample_size, 1)
        self.num_mutations = check_int("num_mutations", num_mutations, 1)
        self._mutable: IntArray = np.flatnonzero(self._nvec_array > 1).astype(np.int64)
        if self.num_mutations > self._mutable.size:
            raise UnknownOptionError(
                f"num_mutations={self.num_mutations} exceeds the "
                f"{self._mutable.size} slots that have more than one choice"
            )
        self.population: deque[tuple[tuple[int, ...], float]] = deque(
            maxlen=self.population_size
        )

    def mutate(self, parent: tuple[int, ...]) -> tuple[int, ...]:
        """A copy of ``parent`` with ``num_mutations`` slots changed."""
        child: IntArray = np.asarray(parent, dtype=np.int64)
        mutable, rng = self._mutable, self.rng
        if self.num_mutations == 1:
            slots = mutable[rng.integers(0, mutable.size, size=1)]
        else:
            slots = mutable[rng.permutation(mutable.size)[: self.num_mutations]]
        sizes = self._nvec_array[slots]
        child[slots] = (child[slots] + rng.integers(1, sizes)) % sizes
        return tuple(int(v) for v in child)

    def _next(self) -> tuple[Job, Any] | None:
        top = self.fidelities[-1]
        if self.asked < self.population_size or not self.population:
            return Job(self.sample(), top), None
        population = self.population
        drawn = self.rng.integers(0, len(population), size=self.sample_size).tolist()
        parent = population[drawn[0]]
        for i in drawn[1:]:
            if population[i][1] > parent[1]:
                parent = population[i]
        return Job(self.mutate(parent[0]), top), None

    def _result(self, job: Job, tag: Any, score: float) -> None:
        self.population.append((job.vector, score))  # maxlen drops the oldest

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {
            **super().config(),
            "population_size": self.population_size,
            "sample_size": self.sample_size,
            "num_mutations": self.num_mutations,
        }
