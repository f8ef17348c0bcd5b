"""Regularized evolution (aging evolution), as in NAS-Bench-201's REA baseline."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from .common import (
    FITNESS,
    BudgetedSearch,
    IntArray,
    check_fitness,
    check_positive_int,
    multidiscrete_nvec,
    sample_vector,
    step_fitness,
)

__all__ = ["FITNESS", "RegularizedEvolution"]


class RegularizedEvolution:
    """Regularized (aging) evolution of Real et al. (2019).

    1. The initial population is ``population_size`` uniformly random architectures.
    2. Each cycle draws ``sample_size`` members uniformly *with replacement* (Real et
       al.'s Algorithm 1), takes the one with the best validation accuracy as the
       parent (ties: the first drawn), and mutates a copy: ``num_mutations``
       distinct slots, chosen uniformly among the slots with more than one choice,
       each get a uniformly chosen *different* value.
    3. The child is evaluated and joins the population; the oldest member leaves.

    Fitness is ``info["valid_accuracy"]``, never test accuracy, or with
    ``fitness="reward"`` the env's scalar reward of the step: on a multi-objective
    env made with ``mo_reward="weighted"`` (MONAS's mix of accuracy and normalised
    cost) or ``"constrained"`` that is REA on the scalarised objective. A proposal
    the env rejects as invalid costs nothing and is redrawn (a rejected child is mutated
    afresh from a new tournament; the population is unchanged). A child that was
    evaluated before is a free revisit: it still joins the population with its
    (known) accuracy, exactly as when revisits are paid for, so the algorithm is
    unchanged and only the query count differs. The search stops when the env
    reports the budget spent.

    Works on every ``...Query-v0`` env.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with ``max_queries``.
        seed: Seeds the env's ``reset`` and the agent's generator.
        population_size: Members kept alive (NAS-Bench-201: 10).
        sample_size: Tournament size (NAS-Bench-201: 3).
        num_mutations: Slots changed per mutation (default 1).
        fitness: ``"valid_accuracy"`` (default) or ``"reward"`` (the env's scalar
            reward; a vector reward is refused).

    Raises:
        ValueError: No query budget, not ``MultiDiscrete`` actions, or a setting out
            of range; with ``fitness="reward"``, a step returned a vector reward.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        population_size: int = 10,
        sample_size: int = 3,
        num_mutations: int = 1,
        fitness: str = "valid_accuracy",
    ) -> None:
        name = type(self).__name__
        self.fitness = check_fitness(fitness)
        self.env = env
        self.seed = int(seed)
        self.population_size = check_positive_int("population_size", population_size)
        self.sample_size = check_positive_int("sample_size", sample_size)
        self.num_mutations = check_positive_int("num_mutations", num_mutations)
        self._search = BudgetedSearch(env, name)
        self._nvec = multidiscrete_nvec(env, name)
        self._mutable: IntArray = np.flatnonzero(self._nvec > 1).astype(np.int64)
        if self.num_mutations > self._mutable.size:
            raise ValueError(
                f"num_mutations={self.num_mutations} exceeds the "
                f"{self._mutable.size} slots that have more than one choice"
            )

    def mutate(self, parent: IntArray, rng: np.random.Generator) -> IntArray:
        """Return a copy of ``parent`` with ``num_mutations`` slots changed.

        Args:
            parent: The parent's choice vector (not modified).
            rng: The agent's generator.
        """
        child: IntArray = parent.copy()
        mutable = self._mutable
        if self.num_mutations == 1:
            slots = mutable[rng.integers(0, mutable.size, size=1)]
        else:
            slots = mutable[rng.permutation(mutable.size)[: self.num_mutations]]
        sizes = self._nvec[slots]
        # An offset in 1..n-1 (mod n) is a uniformly chosen different value.
        child[slots] = (child[slots] + rng.integers(1, sizes)) % sizes
        return child

    def _fitness(self, info: dict[str, Any]) -> float | None:
        """Fitness of the architecture the last step evaluated (``None``: rejected)."""
        return step_fitness(info, self._search.last_reward, self.fitness)

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        rng = np.random.default_rng(self.seed)
        search, nvec = self._search, self._nvec
        population: deque[tuple[IntArray, float]] = deque(maxlen=self.population_size)
        search.start(self.seed)
        while not search.exhausted and len(population) < self.population_size:
            vector = sample_vector(rng, nvec)
            accuracy = self._fitness(search.step(vector))
            if accuracy is not None:
                population.append((vector, accuracy))
        while not search.exhausted:
            drawn = rng.integers(0, len(population), size=self.sample_size).tolist()
            parent = population[drawn[0]]
            for i in drawn[1:]:
                if population[i][1] > parent[1]:
                    parent = population[i]
            child = self.mutate(parent[0], rng)
            accuracy = self._fitness(search.step(child))
            if accuracy is not None:
                population.append((child, accuracy))  # maxlen drops the oldest
