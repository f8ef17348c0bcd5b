"""The small interface every leaderboard agent implements, and the agent registry.

An agent is constructed from an environment, a seed and keyword configuration, and
searches until the environment reports its query budget spent::

    agent = factory(env, seed=seed, **config)
    agent.run()

The environment is a nasgym env made with ``max_queries=budget``; the agent acts only
through the public API (``reset``/``step``, ``action_space``, ``action_masks()``,
``info``) and stops when ``info["budget_exhausted"]`` is true. Agents are found by
name through the ``nasgym.agents`` entry-point group, so a user's own package plugs in
exactly like the bundled ones::

    [project.entry-points."nasgym.agents"]
    my_agent = "my_package.module:MyAgent"
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym

from nasgym.error import unknown_option

ENTRY_POINT_GROUP = "nasgym.agents"


@runtime_checkable
class SearchAgent(Protocol):
    """A search agent the harness can drive."""

    def run(self) -> None:
        """Search until the environment reports ``info["budget_exhausted"]``."""


AgentFactory = Callable[..., SearchAgent]


def agent_entry_points() -> dict[str, EntryPoint]:
    """Registered agents by name (the ``nasgym.agents`` entry-point group).

    Read once per process and again after a distribution is installed or removed
    (or ``sys.path`` changes): see :mod:`nasgym._metadata` for when it refreshes.
    """
    from nasgym import _metadata

    return {ep.name: ep for ep in _metadata.entry_points(ENTRY_POINT_GROUP)}


def load_agent(name: str) -> AgentFactory:
    """Return the factory registered under ``name``.

    Raises:
        UnknownOptionError: No agent has that name; the message lists the valid ones.
    """
    registered = agent_entry_points()
    if name not in registered:
        raise unknown_option("agent", name, sorted(registered))
    factory: AgentFactory = registered[name].load()
    return factory


def make_agent(
    name: str, env: gym.Env[Any, Any], seed: int, **config: Any
) -> SearchAgent:
    """Construct the agent ``name`` on ``env``."""
    return load_agent(name)(env, seed=seed, **config)
