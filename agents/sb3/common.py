"""What the stable-baselines3 leaderboard agents share: env checks, the budget stop.

A training run *is* the search: the model learns on the env from its seeded first
reset until the env reports its query budget spent (``info["budget_exhausted"]``),
which ``nasgym.sb3.StopOnBudget`` turns into the end of ``learn``. Nothing here
knows about a particular search space; the agents use only ``gym.make`` envs, their
spaces, ``action_masks()`` and ``info``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise

from ..torch_state import forked_torch

#: The env kind each action space belongs to, for error messages.
ENV_KINDS = {
    gym.spaces.Box: "a nasgym ...Continuous-v0 env (Box actions)",
    gym.spaces.MultiDiscrete: "a nasgym ...Query-v0 env (MultiDiscrete actions)",
    gym.spaces.Discrete: "a nasgym ...Edit-v0 env (Discrete actions with "
    "action_masks())",
}


def require_action_space(
    env: gym.Env[Any, Any], kind: type[gym.spaces.Space[Any]], agent: str
) -> None:
    """Check that ``env`` is the env kind ``agent`` needs.

    Args:
        env: The (possibly wrapped) environment.
        kind: The action-space class the agent needs: ``Box`` (Continuous envs),
            ``MultiDiscrete`` (Query envs) or ``Discrete`` (Edit envs).
        agent: The agent's name, for the message.

    Raises:
        ValueError: The action space is of another class (the message names the env
            kind required), or a ``Discrete`` env has no ``action_masks()``.
    """
    space = env.action_space
    wanted = ENV_KINDS[kind]
    if not isinstance(space, kind):
        raise ValueError(f"{agent} needs {wanted}; got action space {space!r}")
    if kind is gym.spaces.Discrete:
        try:
            env.get_wrapper_attr("action_masks")
        except AttributeError:
            raise ValueError(
                f"{agent} needs {wanted}; {env!r} has no action_masks()"
            ) from None


def policy_name(env: gym.Env[Any, Any]) -> str:
    """``"MultiInputPolicy"`` for ``Dict`` observations, else ``"MlpPolicy"``."""
    if isinstance(env.observation_space, gym.spaces.Dict):
        return "MultiInputPolicy"
    return "MlpPolicy"


class RevisitNoise(ActionNoise):
    """Gaussian action noise that widens while the policy finds no new architecture.

    The scale is ``sigma * growth ** n`` after ``n`` steps in a row without a new
    query (``n`` capped at :attr:`MAX_DOUBLINGS`), and ``sigma`` again on the step
    after a new one, as L2NAS's ``revisit_noise_growth`` ([I]). A deterministic actor
    whose proposals decode to architectures already evaluated (free revisits) would
    otherwise stay there: the budget would never be spent. Samples come from NumPy's
    global generator, which stable-baselines3 seeds, as its ``NormalActionNoise``.

    Example:
        >>> noise = RevisitNoise(2, sigma=0.1, growth=2.0)
        >>> noise.observe(new_query=False); noise.observe(new_query=False)
        >>> noise.scale
        0.4
    """

    #: Cap of ``n`` in the scale (the scale stops growing there).
    MAX_DOUBLINGS = 30

    def __init__(self, dim: int, sigma: float, growth: float) -> None:
        super().__init__()
        self.dim = int(dim)
        self.sigma = float(sigma)
        self.growth = float(growth)
        self.stale = 0

    @property
    def scale(self) -> float:
        """The current standard deviation."""
        return self.sigma * self.growth ** min(self.stale, self.MAX_DOUBLINGS)

    def observe(self, new_query: bool) -> None:
        """Record whether the last step queried a new architecture."""
        self.stale = 0 if new_query else self.stale + 1

    def __call__(self) -> np.ndarray:
        """One noise vector."""
        sample: np.ndarray = np.random.normal(0.0, self.scale, size=self.dim)
        return sample

    def __repr__(self) -> str:
        return f"RevisitNoise(sigma={self.sigma}, growth={self.growth})"


class NoiseFeedback(BaseCallback):
    """Tells a :class:`RevisitNoise` after every step whether it made a new query."""

    def __init__(self, noise: RevisitNoise) -> None:
        super().__init__()
        self.noise = noise

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals.get("infos", [])
        self.noise.observe(any(bool(info.get("new_query")) for info in infos))
        return True


@contextmanager
def isolated_rngs(num_threads: int | None) -> Iterator[None]:
    """Run a block with the global RNGs and torch's thread count restored after it.

    stable-baselines3 seeds Python's, NumPy's and torch's global generators
    (``set_random_seed``) and samples its replay buffer from NumPy's; this keeps a
    training run from leaking that state into the caller. ``num_threads`` (if not
    ``None``) is torch's intra-op thread count inside the block: 1 makes CPU training
    bit-for-bit reproducible and is fastest for these small networks.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    try:
        with forked_torch(num_threads):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
