"""Tiny agents for the leaderboard tests (registered through NASGYM_EXTRA_AGENTS).

They act on Query envs (``MultiDiscrete`` actions) through the public API only.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np


class RandomQueries:
    """Uniform random architectures until the budget is spent."""

    sleep_s = 0.0

    def __init__(self, env: gym.Env[Any, Any], seed: int) -> None:
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.config = {"sleep_s": self.sleep_s}

    def propose(self, best: np.ndarray | None) -> np.ndarray:
        return self.rng.integers(self.env.action_space.nvec)

    def run(self) -> None:
        self.env.reset()
        best: np.ndarray | None = None
        best_valid = -np.inf
        while True:
            action = self.propose(best)
            _, _, terminated, truncated, info = self.env.step(action)
            if self.sleep_s:
                time.sleep(self.sleep_s)
            if info["valid_accuracy"] > best_valid:
                best, best_valid = action, info["valid_accuracy"]
            if info["budget_exhausted"]:
                return
            if terminated or truncated:
                self.env.reset()


class Mutation(RandomQueries):
    """Mutate one slot of the best architecture so far (random until one exists)."""

    def propose(self, best: np.ndarray | None) -> np.ndarray:
        if best is None:
            return super().propose(best)
        child = np.array(best, copy=True)
        slot = self.rng.integers(len(child))
        child[slot] = self.rng.integers(self.env.action_space.nvec[slot])
        return child


class SlowRandom(RandomQueries):
    """Random search that sleeps after every step (for interruption tests)."""

    sleep_s = 0.02


class Crashing(RandomQueries):
    """Raises after a few steps."""

    def run(self) -> None:
        self.env.reset()
        for _ in range(3):
            self.env.step(self.env.action_space.sample())
        raise RuntimeError("boom: this agent always fails")


class Reseeding(RandomQueries):
    """Breaks the rules: restarts the search with a seeded reset."""

    def run(self) -> None:
        self.env.reset(seed=1)
        self.env.step(self.env.action_space.sample())
        self.env.reset(seed=2)


class NotAnAgent:
    """A factory whose product has no run() method."""

    def __init__(self, env: gym.Env[Any, Any], seed: int) -> None:
        self.env = env


class RandomEdits:
    """Random legal edits; asks the harness for Edit envs through ``env_mode``."""

    env_mode = "Edit"

    def __init__(self, env: gym.Env[Any, Any], seed: int) -> None:
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise TypeError(f"RandomEdits needs an Edit env, got {env.action_space}")
        self.env = env
        self.rng = np.random.default_rng(seed)

    def run(self) -> None:
        self.env.reset()
        while True:
            legal = np.flatnonzero(self.env.get_wrapper_attr("action_masks")())
            _, _, terminated, truncated, info = self.env.step(self.rng.choice(legal))
            if info["budget_exhausted"]:
                return
            if terminated or truncated:
                self.env.reset()


class Shifted(RandomQueries):
    """Random search whose stream depends on a keyword argument ``shift``."""

    def __init__(self, env: gym.Env[Any, Any], seed: int, shift: int = 0) -> None:
        super().__init__(env, seed + 1000 * shift)
        self.config = {"shift": shift}


class BadMode(RandomQueries):
    """Declares an env mode that does not exist."""

    env_mode = "Sideways"


class Thinking(RandomQueries):
    """Resets, notes its pid in ``$LB_THINKING_DIR``, then thinks for minutes.

    It never queries, so only a watchdog can tell it that the harness died.
    """

    def run(self) -> None:
        import os
        from pathlib import Path

        self.env.reset()
        Path(os.environ["LB_THINKING_DIR"], str(os.getpid())).write_text("")
        time.sleep(300)


#: What :class:`Peeking` found (the process that ran it; the test runs it in-process).
PEEKED: dict[str, list[str]] = {}


class Peeking(RandomQueries):
    """Breaks the rules on purpose: looks for test-derived values everywhere it can.

    It searches every ``info`` (nested mappings too) and asks the wrapper chain for
    the logs and summaries that hold test values; whatever it finds goes to
    :data:`PEEKED` under the run's seed.
    """

    def __init__(self, env: gym.Env[Any, Any], seed: int) -> None:
        super().__init__(env, seed)
        self.found = PEEKED.setdefault(str(seed), [])

    def _look(self, info: dict[str, Any], where: str = "info") -> None:
        for key, value in info.items():
            lowered = str(key).lower()
            if "test" in lowered or "regret" in lowered:
                self.found.append(f"{where}[{key!r}]")
            if isinstance(value, dict):
                self._look(value, f"{where}[{key!r}]")

    def run(self) -> None:
        _, info = self.env.reset()
        self._look(info)
        for name in ("records", "values", "search_info", "best_test", "last_test"):
            try:
                self.env.get_wrapper_attr(name)
            except AttributeError:
                continue
            self.found.append(f"get_wrapper_attr({name!r})")
        while True:
            _, _, terminated, truncated, info = self.env.step(self.propose(None))
            self._look(info)
            if info["budget_exhausted"]:
                return
            if terminated or truncated:
                _, info = self.env.reset()
                self._look(info)
