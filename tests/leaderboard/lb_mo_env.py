"""A small hand-made multi-objective env for the leaderboard tests (not a test file).

64 architectures (3 slots x 4 choices) with synthetic validation and test accuracy and
two costs. It reports ``info["objectives"]`` (and ``constraint_violated`` with
``mo_reward="constrained"``) as the issue-7 contract describes, and exposes
``objective_table`` unless ``tabular=False`` (a stand-in for a surrogate benchmark).
The values are not measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

ENV_ID = "nasgym/LbMOFake-v0"
NVEC = (4, 4, 4)
N = int(np.prod(NVEC))


def tables() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(123)
    valid = rng.uniform(40.0, 90.0, N).round(2)
    return {
        "valid_accuracy": valid,
        "test": (valid + rng.normal(0, 1.0, N)).round(2),
        "latency": rng.uniform(1.0, 20.0, N).round(3),
        "params": rng.integers(1, 30, N).astype(float),
    }


class MOFakeEnv(gym.Env[np.ndarray, np.ndarray]):
    def __init__(
        self,
        *,
        max_queries: int | None = None,
        objectives: Sequence[str] | None = None,
        mo_reward: str = "vector",
        cost_threshold: float | None = None,
        tabular: bool = True,
    ) -> None:
        self.action_space = gym.spaces.MultiDiscrete(list(NVEC))
        self.observation_space = gym.spaces.MultiDiscrete(list(NVEC))
        self.max_queries = max_queries
        self.objectives = list(objectives) if objectives is not None else None
        self.mo_reward = mo_reward
        self.cost_threshold = cost_threshold
        self.tabular = tabular
        self.t = tables()
        self.optimum = float(self.t["test"].max())

    def objective_table(
        self, names: Sequence[str] | None = None, *, accuracy: str = "valid"
    ) -> np.ndarray:
        if not self.tabular:
            raise ValueError("MOFakeEnv(tabular=False) has no objective table")
        names = list(names or self.objectives or [])
        cols = [
            self.t["test" if n == "valid_accuracy" and accuracy == "test" else n]
            for n in names
        ]
        return np.column_stack(cols)

    def _code(self, action: np.ndarray) -> int:
        return int(np.ravel_multi_index(tuple(int(a) for a in action), NVEC))

    def _info(self, code: int, new: bool) -> dict[str, Any]:
        info: dict[str, Any] = {
            "new_query": new,
            "queries": len(self.seen),
            "arch": str(code),
            "valid_accuracy": float(self.t["valid_accuracy"][code]),
            "test_accuracy": float(self.t["test"][code]),
            "best_valid_accuracy": float(self.t["valid_accuracy"][self.best]),
            "best_test_accuracy": float(self.t["test"][self.best]),
            "regret": self.optimum - float(self.t["test"][self.best]),
            "sim_time_s": None,
            "budget_exhausted": self.max_queries is not None
            and len(self.seen) >= self.max_queries,
        }
        if self.objectives is not None:
            info["objectives"] = {n: float(self.t[n][code]) for n in self.objectives}
            if self.mo_reward == "constrained":
                assert self.cost_threshold is not None
                info["constraint_violated"] = bool(
                    self.t["latency"][code] > self.cost_threshold
                )
        return info

    def _query(self, code: int) -> dict[str, Any]:
        new = code not in self.seen
        if new:
            self.seen.add(code)
            if self.t["valid_accuracy"][code] > self.t["valid_accuracy"][self.best]:
                self.best = code
        return self._info(code, new)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not hasattr(self, "seen"):
            self.seen: set[int] = set()
            self.best = 0
        code = int(self.np_random.integers(N))
        if not self.seen:
            self.best = code
        info = self._query(code)
        return np.array(np.unravel_index(code, NVEC)), info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        code = self._code(action)
        info = self._query(code)
        return np.asarray(action), float(info["valid_accuracy"]), False, False, info

    def search_info(self) -> dict[str, Any]:
        return {
            "queries": len(self.seen),
            "budget_exhausted": self.max_queries is not None
            and len(self.seen) >= self.max_queries,
        }
