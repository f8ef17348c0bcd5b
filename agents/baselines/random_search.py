"""Random search: uniformly random architectures until the budget is spent."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from .common import BudgetedSearch, multidiscrete_nvec, sample_vector


class RandomSearch:
    """Propose uniformly random architectures until the query budget is spent.

    Every slot of the ``MultiDiscrete`` action is drawn uniformly and independently
    with the agent's generator. A vector the space rules out is rejected by the env
    at no cost and simply redrawn, so the evaluated architectures are uniform over
    the valid ones. Revisits cost nothing and are not avoided. The incumbent is the
    env's (``info["best_valid_accuracy"]``).

    Works on every ``...Query-v0`` env.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with ``max_queries``.
        seed: Seeds the env's ``reset`` and the agent's generator; a run is a pure
            function of it.

    Raises:
        ValueError: The env has no query budget, or its actions are not
            ``MultiDiscrete``.
    """

    def __init__(self, env: gym.Env[Any, Any], *, seed: int) -> None:
        self.env = env
        self.seed = int(seed)
        self._search = BudgetedSearch(env, type(self).__name__)
        self._nvec = multidiscrete_nvec(env, type(self).__name__)

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        rng = np.random.default_rng(self.seed)
        search, nvec = self._search, self._nvec
        search.start(self.seed)
        while not search.exhausted:
            search.step(sample_vector(rng, nvec))
