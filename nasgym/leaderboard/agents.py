"""Agent lookup for the harness: the ``nasgym.agents`` entry points, plus extras.

Besides the entry points (see :mod:`nasgym.leaderboard.protocol`), the harness reads
``NASGYM_EXTRA_AGENTS``: comma-separated ``name=module:attribute`` items, e.g.
``NASGYM_EXTRA_AGENTS="slow=my_tests.agents:SlowAgent"``. This exists for tests and
quick experiments (an agent defined in a test module, no package to install); the
variable is inherited by the worker processes (and by a local Ray cluster), so they
find the same agents. An extra agent with the name of an entry point replaces it.

``--agents`` items are agent names or ``alias=name`` (the same agent under another
name, e.g. with other ``--agent-kwargs``); ``--agent-kwargs`` items are
``name:key=value``. An agent class may declare the action interface it needs in a
class attribute ``env_mode`` (``"Edit"``, ``"Query"`` or ``"Continuous"``): the
harness then runs it on the env of the same space and keyword arguments in that mode,
so agents with different interfaces are compared on one benchmark and one budget.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasgym.error import unknown_option
from nasgym.leaderboard import protocol
from nasgym.leaderboard.config import EnvValue, parse_env_kwarg
from nasgym.leaderboard.errors import LeaderboardError
from nasgym.leaderboard.protocol import AgentFactory

#: Environment variable naming extra agents (``name=module:attribute,...``).
EXTRA_AGENTS_VAR = "NASGYM_EXTRA_AGENTS"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

#: The action interfaces an agent can ask for with its ``env_mode`` attribute.
ENV_MODES = ("Edit", "Query", "Continuous")


@dataclass(frozen=True)
class AgentSpec:
    """One ``--agents`` item.

    Attributes:
        name: The name its runs are stored and reported under.
        agent: The registered agent it runs.
        kwargs: The keyword arguments the agent is built with.
    """

    name: str
    agent: str
    kwargs: Mapping[str, EnvValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON form, as stored in the manifest."""
        return {"agent": self.agent, "kwargs": dict(sorted(self.kwargs.items()))}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> AgentSpec:
        """Inverse of :meth:`to_json`."""
        return cls(name, str(data.get("agent", name)), dict(data.get("kwargs", {})))

    @property
    def label(self) -> str:
        """``name`` (``name=agent`` for an alias) and its keyword arguments."""
        head = self.name if self.name == self.agent else f"{self.name}={self.agent}"
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.kwargs.items()))
        return f"{head}({args})" if args else head


def parse_agent_specs(
    items: Sequence[str], kwargs_items: Sequence[str] = ()
) -> list[AgentSpec]:
    """Agent specs from ``--agents`` items and ``--agent-kwargs`` items.

    Example:
        >>> [s.label for s in parse_agent_specs(["rea", "warm=l2nas"],
        ...                                     ["warm:init_from=a.pt"])]
        ['rea', "warm=l2nas(init_from='a.pt')"]

    Raises:
        LeaderboardError: A malformed item, or ``--agent-kwargs`` for an agent that
            is not in ``--agents`` or setting a key twice.
    """
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, sep, agent = (part.strip() for part in item.partition("="))
        if not name or (sep and not agent):
            raise LeaderboardError(
                f"--agents: expected NAME or ALIAS=NAME items, got {item!r}"
            )
        pairs.append((name, agent or name))
    kwargs: dict[str, dict[str, EnvValue]] = {name: {} for name, _ in pairs}
    for item in kwargs_items:
        name, sep, pair = item.partition(":")
        if not sep or not name.strip() or "=" not in pair:
            raise LeaderboardError(
                f"--agent-kwargs: expected NAME:KEY=VALUE items (e.g. "
                f"l2nas:top_k=10), got {item!r}"
            )
        name = name.strip()
        if name not in kwargs:
            raise LeaderboardError(
                f"--agent-kwargs {item!r} names agent {name!r}, which is not in "
                f"--agents ({', '.join(kwargs) or 'none'})"
            )
        try:
            key, value = parse_env_kwarg(pair)
        except ValueError as exc:
            raise LeaderboardError(f"--agent-kwargs {item!r}: {exc}") from None
        if key in kwargs[name]:
            raise LeaderboardError(f"--agent-kwargs sets {name}:{key} twice")
        kwargs[name][key] = value
    return [AgentSpec(name, agent, kwargs[name]) for name, agent in pairs]


def env_mode(factory: object) -> str | None:
    """The action interface an agent factory asks for (its ``env_mode``), if any.

    Raises:
        LeaderboardError: ``env_mode`` is set to something else than
            :data:`ENV_MODES`.
    """
    mode = getattr(factory, "env_mode", None)
    if mode is None:
        return None
    if mode not in ENV_MODES:
        raise LeaderboardError(
            f"{getattr(factory, '__name__', factory)}.env_mode is {mode!r}; it must "
            f"be one of {', '.join(ENV_MODES)} or None"
        )
    return str(mode)


def env_id_for_mode(env_id: str, mode: str | None, agent: str = "the agent") -> str:
    """The id of the env of ``env_id``'s space in action interface ``mode``.

    Siblings come from :func:`nasgym.registration.mode_siblings`: a family declared
    with :func:`nasgym.registration.register_modes`, or ids named
    ``<Space><Edit|Query|Continuous>-v<N>`` in any namespace. The ``nasgym.envs``
    plugins are loaded and the module of a ``module:id`` id imported first (that is
    where third-party families are declared); the module prefix is kept, so workers
    import it too.

    Example:
        >>> env_id_for_mode("nasgym/NB201Query-v0", "Continuous")
        'nasgym/NB201Continuous-v0'

    Raises:
        LeaderboardError: The space has no registered env in that mode, or its
            siblings are unknown (the message says how to declare them).
    """
    from nasgym.registration import (
        env_mode_of,
        mode_siblings,
        named_mode_id,
        resolve_env_id,
        split_env_id,
    )

    if mode is None:
        return env_id
    bare = resolve_env_id(env_id)
    module, _ = split_env_id(env_id)
    prefix = f"{module}:" if module is not None else ""
    siblings = mode_siblings(bare)
    if siblings.get(mode) == bare or (not siblings and env_mode_of(bare) == mode):
        return env_id
    declare = (
        "declare the space's ids with nasgym.registration.register_modes("
        "edit=..., query=..., continuous=...) next to their gym.register calls (or "
        "name them <Space><Edit|Query|Continuous>-v<N>)"
    )
    if not siblings:
        raise LeaderboardError(
            f"{agent} runs on {mode} envs, and {bare} has no known siblings in other "
            f"modes: give --env the space's {mode} env, or {declare}"
        )
    if mode not in siblings:
        have = ", ".join(f"{m}: {i}" for m, i in siblings.items())
        named = named_mode_id(bare, mode)
        missing = f"{named} is not registered; " if named else ""
        raise LeaderboardError(
            f"{agent} runs on {mode} envs, and the space of {bare} has none "
            f"({missing}it has {have}); register one and {declare}, or leave "
            f"{agent} out of this leaderboard"
        )
    return prefix + siblings[mode]


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


def check_agent_names(names: Sequence[str | AgentSpec]) -> None:
    """Check that every agent is registered and its name usable as a directory name.

    Raises:
        UnknownOptionError: An agent is not registered (the message lists those that
            are).
        LeaderboardError: A name is repeated or has characters unfit for a path.
    """
    registered = registered_agents()
    seen: set[str] = set()
    for item in names:
        spec = item if isinstance(item, AgentSpec) else AgentSpec(item, item)
        if spec.agent not in registered:
            raise unknown_option("agent", spec.agent, sorted(registered))
        if not _NAME.match(spec.name):
            raise LeaderboardError(
                f"agent name {spec.name!r} cannot name a results directory; register "
                "it (or alias it) under a name of letters, digits, '.', '_' and '-'"
            )
        if spec.name in seen:
            raise LeaderboardError(f"agent {spec.name!r} is listed twice in --agents")
        seen.add(spec.name)


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


@dataclass(frozen=True)
class AgentRow:
    """One installed agent, as ``nasgym agents`` lists it.

    Attributes:
        name: The name ``--agents`` takes.
        target: ``module:attribute`` of its factory.
        mode: Its ``env_mode`` (``"any"`` without one).
        provider: The distribution that declares it, or ``NASGYM_EXTRA_AGENTS``.
        summary: The first line of its docstring (or the import error).
    """

    name: str
    target: str
    mode: str
    provider: str
    summary: str


def describe_agents() -> list[AgentRow]:
    """Every installed agent: entry points, then ``NASGYM_EXTRA_AGENTS``, by name.

    An agent that cannot be loaded is listed with the error as its description
    (mode ``?``), so one broken package does not hide the others.
    """
    providers: dict[str, str] = {}
    for name, entry_point in protocol.agent_entry_points().items():
        dist = getattr(entry_point, "dist", None)
        providers[name] = (
            f"{dist.name} {dist.version}" if dist is not None else "unknown package"
        )
    for name in extra_agents():
        providers[name] = EXTRA_AGENTS_VAR
    rows = []
    for name, target in registered_agents().items():
        try:
            factory = load_agent(name)
            mode = env_mode(factory) or "any"
            doc = (getattr(factory, "__doc__", None) or "").strip()
            summary = doc.splitlines()[0] if doc else "(no docstring)"
        except Exception as exc:  # listed, not raised: one bad agent hides none
            mode, summary = "?", f"cannot load: {type(exc).__name__}: {exc}"
        rows.append(AgentRow(name, target, mode, providers.get(name, "?"), summary))
    return rows
