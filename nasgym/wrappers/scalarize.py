"""Linear scalarisation: a vector-reward env back to a scalar one (for SB3 agents).

The same convention as MO-Gymnasium's ``LinearReward`` wrapper: the reward becomes
``weights @ vector_reward`` and the vector is kept in ``info["vector_reward"]``. It
runs without MO-Gymnasium installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError


def _reward_space(env: gym.Env[Any, Any]) -> gym.spaces.Box:
    space = getattr(env.unwrapped, "reward_space", None)
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise UnknownOptionError(
            f"{env.unwrapped!r} has no vector reward (reward_space is {space!r}); make "
            f"it with objectives=['valid_accuracy', <cost>, ...] (and the default "
            f"mo_reward='vector')"
        )
    return space


class LinearScalarization(
    gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs
):
    """Scalar reward ``weights @ r`` of a vector-reward env.

    Args:
        env: An env whose ``unwrapped.reward_space`` is a 1-D ``Box`` (a nasgym env
            made with ``objectives=[...]``, or any MO-Gymnasium env).
        weights: One non-negative weight per objective, in ``objectives`` order;
            default equal weights summing to 1.

    Raises:
        UnknownOptionError: The env has no vector reward, or bad weights.

    Example:
        >>> import gymnasium as gym
        >>> import nasgym
        >>> env = LinearScalarization(
        ...     gym.make(
        ...         "nasgym/NBGraphQuery-v0", objectives=["valid_accuracy", "latency"],
        ...         disable_env_checker=True,
        ...     ),
        ...     weights=[0.7, 0.3],
        ... )
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(env.action_space.sample())
        >>> bool(np.isclose(reward, 0.7 * info["vector_reward"][0]
        ...                 + 0.3 * info["vector_reward"][1]))
        True
    """

    def __init__(
        self, env: gym.Env[Any, Any], weights: Sequence[float] | None = None
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, weights=weights)
        gym.Wrapper.__init__(self, env)
        space = _reward_space(env)
        k = int(space.shape[0])
        if weights is None:
            values = np.full(k, 1.0 / k)
        else:
            values = np.asarray(weights, dtype=np.float64)
            if (
                values.shape != (k,)
                or not np.isfinite(values).all()
                or (values < 0).any()
            ):
                raise UnknownOptionError(
                    f"weights must be {k} non-negative numbers (one per objective), "
                    f"got {weights!r}"
                )
        self.weights: NDArray[np.float64] = values

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step the env; the scalar reward is ``weights @ vector``."""
        obs, vector, terminated, truncated, info = self.env.step(action)
        info["vector_reward"] = vector
        scalar = float(self.weights @ np.asarray(vector, dtype=np.float64))
        return obs, scalar, terminated, truncated, info
