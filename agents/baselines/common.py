"""Helpers shared by the baseline agents.

Every baseline acts only through the public environment API: ``reset``/``step``,
``env.action_space``, ``info`` (``valid_accuracy``, ``new_query``,
``budget_exhausted``, ``invalid_action``, ``action_mask``) and the query budget
``env.unwrapped.max_queries``. Nothing here knows about a particular search space.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: A search that takes this many steps in a row without evaluating a new
#: architecture is declared stuck (:class:`RuntimeError`) instead of looping forever.
STALL_LIMIT = 1_000_000


def query_budget(env: gym.Env[Any, Any], agent: str) -> int:
    """Return the env's query budget, checking that a budgeted search can end.

    Args:
        env: The (possibly wrapped) environment.
        agent: The agent's name, for error messages.

    Returns:
        ``env.unwrapped.max_queries``.

    Raises:
        ValueError: The env has no query budget (``max_queries`` is ``None``), so a
            search would never end, or the budget exceeds the number of valid
            architectures of the search space, so it could never be spent.
    """
    unwrapped = env.unwrapped
    budget = getattr(unwrapped, "max_queries", None)
    if budget is None:
        raise ValueError(
            f"{agent} searches until the query budget is spent, but "
            f"{unwrapped!r} has no budget (max_queries is None) and would never "
            f"stop; make the env with one, e.g. gym.make(env_id, max_queries=300)"
        )
    budget = int(budget)
    space = getattr(unwrapped, "search_space", None)
    num_valid = getattr(space, "num_valid", None)
    if num_valid is not None and budget > int(num_valid):
        raise ValueError(
            f"{agent}: max_queries={budget} exceeds the {int(num_valid)} valid "
            f"architectures of the search space, so the budget can never be spent; "
            f"use max_queries <= {int(num_valid)}"
        )
    return budget


def multidiscrete_nvec(env: gym.Env[Any, Any], agent: str) -> IntArray:
    """Return the number of choices per slot of a ``MultiDiscrete`` action space.

    Args:
        env: The environment (a ``...Query-v0`` env).
        agent: The agent's name, for error messages.

    Returns:
        A fresh read-only ``int64`` array, one entry per slot.

    Raises:
        ValueError: The action space is not a one-dimensional ``MultiDiscrete``.
    """
    space = env.action_space
    if not isinstance(space, gym.spaces.MultiDiscrete) or space.nvec.ndim != 1:
        raise ValueError(
            f"{agent} proposes whole architectures and needs a one-dimensional "
            f"MultiDiscrete action space (a nasgym ...Query-v0 env); got {space!r}"
        )
    nvec: IntArray = np.array(space.nvec, dtype=np.int64)
    nvec.setflags(write=False)
    return nvec


def sample_vector(rng: np.random.Generator, nvec: IntArray) -> IntArray:
    """Draw every slot of a ``MultiDiscrete`` vector uniformly and independently."""
    vector: IntArray = rng.integers(0, nvec)
    return vector


def valid_accuracy(info: dict[str, Any]) -> float | None:
    """Fitness (%) of the architecture a step evaluated: the metric the env rewards.

    Returns:
        ``info["valid_accuracy"]``, or ``100 * info["zc_value"]`` on a training-free
        env (``reward_metric="zc:<proxy>"``, whose ``valid_accuracy`` is reported for
        evaluation only), or ``None`` when the env rejected the action
        (``info["invalid_action"]`` is set): the state did not change and nothing was
        evaluated. Test accuracy is never read.
    """
    if info.get("invalid_action") is not None:
        return None
    if "zc_value" in info:
        return 100.0 * float(info["zc_value"])
    return float(info["valid_accuracy"])


#: What a searcher ranks architectures by: ``"valid_accuracy"`` (the default of
#: every baseline) or ``"reward"`` (the env's scalar reward of the step).
FITNESS = ("valid_accuracy", "reward")


def check_fitness(fitness: object) -> str:
    """Return ``fitness`` if it is one of :data:`FITNESS`.

    Raises:
        ValueError: It is not.
    """
    if fitness not in FITNESS:
        raise ValueError(
            f"fitness must be one of {', '.join(map(repr, FITNESS))}, got {fitness!r}"
        )
    return str(fitness)


def step_fitness(info: dict[str, Any], reward: Any, fitness: str) -> float | None:
    """Fitness of the architecture a step evaluated, as the agent ranks it.

    With ``fitness="valid_accuracy"`` this is :func:`valid_accuracy` (%). With
    ``fitness="reward"`` it is the step's scalar reward: on a multi-objective env
    made with ``mo_reward="weighted"`` MONAS's mix of accuracy and normalised costs,
    with ``mo_reward="constrained"`` the normalised accuracy inside the cost
    thresholds and ``constraint_penalty`` outside them; on a single-objective env
    the reward the env defines (a function of validation accuracy).

    Args:
        info: The step's ``info``.
        reward: The step's reward.
        fitness: One of :data:`FITNESS`.

    Returns:
        The fitness, or ``None`` when the env rejected the action.

    Raises:
        ValueError: ``fitness="reward"`` and the reward is a vector (an env in
            ``mo_reward="vector"`` form).
    """
    accuracy = valid_accuracy(info)
    if accuracy is None or fitness == "valid_accuracy":
        return accuracy
    value = np.asarray(reward, dtype=np.float64)
    if value.ndim != 0:
        raise ValueError(
            f"fitness='reward' needs a scalar reward, but the env returned a "
            f"vector of {value.size} (a multi-objective env in "
            "mo_reward='vector' form); make it with mo_reward='weighted' or "
            "'constrained', or use fitness='valid_accuracy'"
        )
    return float(value)


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1.

    Raises:
        ValueError: It is not (``bool`` does not count as an integer).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or int(value) < 1
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class BudgetedSearch:
    """Drives one budgeted search on an env: the seeded start, steps and resets.

    Episodes are truncated at the env's ``horizon`` and when the budget is spent. A
    truncation with budget left is answered with ``env.reset()`` without a seed,
    which continues the same search (query cache, budget and incumbent carry over).
    On edit envs that reset moves the env to a fresh random architecture (and
    evaluates it); :attr:`reset_info` tells the caller.

    Args:
        env: The (possibly wrapped) environment.
        agent: The agent's name, for error messages.

    Attributes:
        max_queries: The query budget.
        exhausted: Whether the env reported ``info["budget_exhausted"]``.
        reset_info: The ``info`` of the reset that followed the last step's
            truncation, else ``None``.
        last_reward: The reward of the last step (``None`` before the first).
    """

    def __init__(self, env: gym.Env[Any, Any], agent: str) -> None:
        self.env = env
        self.agent = agent
        self.max_queries = query_budget(env, agent)
        self.exhausted = False
        self.reset_info: dict[str, Any] | None = None
        self.last_reward: Any = None
        self._stalled = 0

    def start(self, seed: int) -> dict[str, Any]:
        """Start a fresh search with ``env.reset(seed=seed)``; return its ``info``."""
        _, info = self.env.reset(seed=seed)
        self.exhausted = bool(info["budget_exhausted"])
        self.reset_info = None
        self._stalled = 0
        return info

    def new_episode(self) -> dict[str, Any]:
        """Continue the search in a new episode (``env.reset()``); return its info."""
        _, info = self.env.reset()
        self.exhausted = bool(info["budget_exhausted"])
        self._count(info)
        return info

    def step(self, action: Any) -> dict[str, Any]:
        """Apply ``action``; reset (without a seed) after a truncation.

        Returns:
            The step's ``info`` (see :attr:`reset_info` for the reset's).

        Raises:
            RuntimeError: :data:`STALL_LIMIT` steps in a row evaluated nothing new.
        """
        _, reward, terminated, truncated, info = self.env.step(action)
        self.last_reward = reward
        self.exhausted = bool(info["budget_exhausted"])
        self._count(info)
        self.reset_info = None
        if (terminated or truncated) and not self.exhausted:
            self.reset_info = self.new_episode()
        return info

    def _count(self, info: dict[str, Any]) -> None:
        if info["new_query"]:
            self._stalled = 0
            return
        self._stalled += 1
        if self._stalled >= STALL_LIMIT:
            raise RuntimeError(
                f"{self.agent}: {STALL_LIMIT} steps in a row evaluated no new "
                f"architecture ({info['queries']} of max_queries={self.max_queries} "
                f"spent); the search cannot reach its budget (is max_queries larger "
                f"than the number of distinct architectures?)"
            )
