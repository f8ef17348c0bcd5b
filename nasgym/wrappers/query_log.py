"""Record every new query of a search: the raw material of regret curves."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym


@dataclass(frozen=True)
class QueryRecord:
    """One distinct architecture evaluated by a search."""

    query: int
    arch: str
    valid: float
    test: float
    best_valid: float
    best_test: float
    regret: float
    sim_time_s: float | None
    wall_time_s: float

    def as_tuple(
        self,
    ) -> tuple[int, str, float, float, float, float, float, float | None, float]:
        """The field values in field order (``dataclasses.astuple``, without copies)."""
        return (
            self.query,
            self.arch,
            self.valid,
            self.test,
            self.best_valid,
            self.best_test,
            self.regret,
            self.sim_time_s,
            self.wall_time_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON friendly), keys in field order.

        Spelled out rather than ``dataclasses.asdict`` (which deep-copies every
        field; the leaderboard calls this for every query of every run): the same
        dict, several times faster.
        """
        return {
            "query": self.query,
            "arch": self.arch,
            "valid": self.valid,
            "test": self.test,
            "best_valid": self.best_valid,
            "best_test": self.best_test,
            "regret": self.regret,
            "sim_time_s": self.sim_time_s,
            "wall_time_s": self.wall_time_s,
        }


class QueryLog(gym.Wrapper[Any, Any, Any, Any]):
    """Log every new query of a search as a :class:`QueryRecord`.

    A record is appended to :attr:`records` whenever a step or reset evaluates an
    architecture not seen before (``info["new_query"]``).

    Example:
        >>> import gymnasium as gym
        >>> import nasgym
        >>> env = QueryLog(gym.make("nasgym/NBGraphQuery-v0", max_queries=5))
        >>> _ = env.reset(seed=0)
        >>> while not env.records or env.records[-1].query < 5:
        ...     _ = env.step(env.action_space.sample())
        >>> [r.query for r in env.records]
        [1, 2, 3, 4, 5]
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.records: list[QueryRecord] = []
        self._start = time.perf_counter()

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset; a seeded reset starts a new search and clears the log."""
        if kwargs.get("seed") is not None:
            self.records = []
            self._start = time.perf_counter()
        obs, info = self.env.reset(**kwargs)
        self._record(info)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step and record a new query, if any."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._record(info)
        return obs, reward, terminated, truncated, info

    def _record(self, info: dict[str, Any]) -> None:
        if not info.get("new_query"):
            return
        self.records.append(
            QueryRecord(
                query=int(info["queries"]),
                arch=str(info["arch"]),
                valid=float(info["valid_accuracy"]),
                test=float(info["test_accuracy"]),
                best_valid=float(info["best_valid_accuracy"]),
                best_test=float(info["best_test_accuracy"]),
                regret=float(info["regret"]),
                sim_time_s=info["sim_time_s"],
                wall_time_s=time.perf_counter() - self._start,
            )
        )
