"""The floor env: another env's spaces at the cost of one list lookup per step.

``nasgym perf`` reports each NAS env's step rate as a ratio to this env, made the
same way (``gym.make``, so behind the same wrappers) with the NAS env as its
template. Whatever the NAS env spends above the floor is its own overhead: the
floor pays only for Gymnasium's wrappers, the random agent and the Python call.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from nasgym.error import InvalidActionError

__all__ = ["FLOOR_ID", "FloorEnv", "register_floor"]

#: The id :func:`register_floor` registers (a namespace of its own, kept out of
#: ``nasgym list`` and the NAS env registry).
FLOOR_ID = "nasgym-perf/Floor-v0"


class FloorEnv(gym.Env[Any, Any]):
    """Replays transitions recorded from a template env, one list lookup per step.

    ## Description
    At construction the template env (``template``, made with ``gym.make`` and
    ``template_kwargs``) is reset with ``seed`` and stepped ``states - 1`` times with
    uniformly drawn legal actions; the observations and action masks it returned are
    kept. ``step`` ignores the action's meaning (it must still be in the action
    space) and returns the next recorded transition, cycling. ``info`` is always a
    new empty dict.

    ## Action Space
    The template's action space.

    ## Observation Space
    The template's observation space; every observation is one the template
    returned, as fresh arrays (a copy per array and step, as Gymnasium requires of
    every env: callers may keep or modify what they are given).

    ## Rewards
    Always ``0.0``: the floor has no benchmark.

    ## Starting State
    ``reset(seed=...)`` starts the cycle at a recorded transition drawn from the
    env's seeded generator, so equal seeds give equal episodes.

    ## Episode End
    Never terminates; truncates after ``max_episode_steps`` steps when that is given.

    ## Arguments
    * ``template``: the env id whose spaces the floor copies.
    * ``template_kwargs``: keyword arguments for ``gym.make(template, ...)``.
    * ``states``: how many transitions to record (at least 1).
    * ``seed``: the seed of the recording.
    * ``max_episode_steps``: steps per episode, or ``None`` for endless episodes.
    * ``check_actions``: raise :class:`~nasgym.error.InvalidActionError` for an
      action outside the action space. ``nasgym perf`` turns it off so that a step
      costs exactly one list lookup (a ``MultiDiscrete.contains`` check alone costs
      more than a whole NB201 query step).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        template: str = "nasgym/NB201Edit-v0",
        template_kwargs: dict[str, Any] | None = None,
        states: int = 64,
        seed: int = 0,
        max_episode_steps: int | None = None,
        check_actions: bool = True,
    ) -> None:
        if states < 1:
            raise ValueError(f"states must be at least 1, got {states}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(
                f"max_episode_steps must be at least 1 or None, got {max_episode_steps}"
            )
        source = gym.make(template, **(template_kwargs or {}))
        try:
            self.observation_space = source.observation_space
            self.action_space = source.action_space
            obs, _ = source.reset(seed=seed)
            masks_fn = getattr(source.unwrapped, "action_masks", None)
            rng = np.random.default_rng(seed)
            self._obs: list[Any] = []
            self._masks: list[np.ndarray[Any, Any] | None] = []
            for _ in range(states):
                mask = None if masks_fn is None else np.asarray(masks_fn()).copy()
                self._obs.append(obs)
                self._masks.append(mask)
                if len(self._obs) == states:
                    break
                space = self.action_space
                if mask is not None and isinstance(space, gym.spaces.Discrete):
                    legal = np.flatnonzero(mask)
                    action: Any = int(space.start) + int(rng.choice(legal))
                else:
                    self.action_space.seed(int(rng.integers(2**31)))
                    action = self.action_space.sample()
                obs, _, terminated, truncated, _ = source.step(action)
                if terminated or truncated:
                    obs, _ = source.reset()
        finally:
            source.close()
        self.template = template
        self._check = check_actions
        self._n = len(self._obs)
        self._horizon = max_episode_steps
        self._i = 0
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start the cycle at a seeded recorded transition."""
        super().reset(seed=seed)
        self._i = int(self.np_random.integers(self._n))
        self._t = 0
        return _fresh(self._obs[self._i]), {}

    def step(
        self, action: Any
    ) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Return the next recorded transition (the action is only checked)."""
        if self._check and not self.action_space.contains(action):
            raise InvalidActionError(
                f"action {action!r} is not in the floor env's action space "
                f"{self.action_space} (copied from {self.template})"
            )
        i = self._i = (self._i + 1) % self._n
        self._t += 1
        truncated = self._horizon is not None and self._t >= self._horizon
        return _fresh(self._obs[i]), 0.0, False, truncated, {}

    def action_masks(self) -> np.ndarray[Any, Any]:
        """The recorded template's mask for the current state (all legal if none)."""
        mask = self._masks[self._i]
        if mask is None:
            n = int(getattr(self.action_space, "n", 1))
            return np.ones(n, dtype=bool)
        return mask


def _fresh(value: Any) -> Any:
    """A copy of every array and container in ``value`` (immutable leaves shared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fresh(item) for item in value)
    return value


def register_floor() -> str:
    """Register :data:`FLOOR_ID` (idempotent) and return it."""
    if FLOOR_ID not in gym.registry:
        gym.register(FLOOR_ID, entry_point="nasgym.envs.floor:FloorEnv")
    return FLOOR_ID
