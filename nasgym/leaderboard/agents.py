"""Agent lookup for the harness: the ``nasgym.agents`` entry points, plus extras.

Besides the entry points (see :mod:`nasgym.leaderboard.protocol`), the harness reads
``NASGYM_EXTRA_AGENTS``: comma-separated ``name=module:attribute`` items, e.g.
``NASGYM_EXTRA_AGENTS="slow=my_tests.agents:SlowAgent"``. This exists for tests and
quick experiments (an agent defined in a test module, no package to install); the
variable is inherited by the worker processes (and by a local Ray cluster), so they
find the same agents. An extra agent with the name of an entry point replaces it.
"""

from __future__ import annotations

import importlib
import os
import re

from nasgym.error import unknown_option
from nasgym.leaderboard import protocol
from nasgym.leaderboard.errors import LeaderboardError
from nasgym.leaderboard.protocol import AgentFactory

#: Environment variable naming extra agents (``name=module:attribute,...``).
EXTRA_AGENTS_VAR = "NASGYM_EXTRA_AGENTS"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def extra_agents() -> dict[str, str]:
    """Agents named by ``NASGYM_EXTRA_AGENTS``: ``name -> "module:attribute"``.

    Raises:
        LeaderboardError: An item is not ``name=module:attribute``.
    """
    text = os.environ.get(EXTRA_AGENTS_VAR, "")
    agents: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, target = item.partition("=")
        module, colon, attribute = target.strip().partition(":")
        if not (sep and colon and name.strip() and module and attribute):
            raise LeaderboardError(
                f"{EXTRA_AGENTS_VAR}: expected name=module:attribute items separated "
                f"by commas, got {item!r}"
            )
        agents[name.strip()] = f"{module}:{attribute}"
    return agents


def registered_agents() -> dict[str, str]:
    """Every agent the harness can run: ``name -> "module:attribute"``."""
    agents = {name: ep.value for name, ep in protocol.agent_entry_points().items()}
    agents.update(extra_agents())
    return dict(sorted(agents.items()))


def check_agent_names(names: list[str]) -> None:
    """Check that every name is registered and usable as a directory name.

    Raises:
        UnknownOptionError: A name is not registered (the message lists those that
            are).
        LeaderboardError: A name is repeated or has characters unfit for a path.
    """
    registered = registered_agents()
    seen: set[str] = set()
    for name in names:
        if name not in registered:
            raise unknown_option("agent", name, sorted(registered))
        if not _NAME.match(name):
            raise LeaderboardError(
                f"agent name {name!r} cannot name a results directory; register it "
                "under a name of letters, digits, '.', '_' and '-'"
            )
        if name in seen:
            raise LeaderboardError(f"agent {name!r} is listed twice in --agents")
        seen.add(name)


def load_agent(name: str) -> AgentFactory:
    """Return the factory of agent ``name`` (extras first, then entry points).

    Raises:
        UnknownOptionError: No agent has that name.
    """
    extras = extra_agents()
    if name not in extras:
        return protocol.load_agent(name)
    module_name, _, attribute = extras[name].partition(":")
    module = importlib.import_module(module_name)
    target: object = module
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise LeaderboardError(f"{extras[name]} (agent {name!r}) is not callable")
    factory: AgentFactory = target
    return factory
