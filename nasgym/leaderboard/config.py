"""What a leaderboard is: envs (id + keyword arguments), a query budget, checkpoints.

Also the small, stable conventions every run relies on: how ``--env-kwargs`` values
are parsed, how an env configuration is named on disk, and how a run's seed becomes
the env's reset seed and the agent's seed.

Example:
    >>> parse_value("12"), parse_value("0.5"), parse_value("True"), parse_value("None")
    (12, 0.5, True, None)
    >>> parse_value("cifar10"), parse_value("'12'")
    ('cifar10', '12')
    >>> env = EnvConfig("nasgym/NB201Query-v0", {"dataset": "cifar10"})
    >>> env.key, env.label
    ('NB201Query-v0_dataset=cifar10', 'nasgym/NB201Query-v0 (dataset=cifar10)')
    >>> derive_seeds(0) == derive_seeds(0) != derive_seeds(1)
    True
    >>> default_checkpoints(300), default_checkpoints(120)
    ([25, 50, 100, 150, 300], [25, 50, 100, 120])
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasgym.leaderboard.errors import LeaderboardError

#: A value of ``--env-kwargs``: a Python literal of one of these types.
EnvValue = int | float | bool | str | None

#: Checkpoints (queries) reported by default, cut at the budget; the budget is added.
DEFAULT_CHECKPOINTS = (25, 50, 100, 150, 300)
#: Accepted range of ``--budget`` in queries.
BUDGET_RANGE = (1, 100_000)
#: Accepted range of ``--budget`` in epochs or seconds (``--budget-unit``).
TIME_BUDGET_RANGE = (1, 1_000_000_000)
#: Units ``--budget`` can count (all but queries need a multi-fidelity env).
BUDGET_UNITS = ("queries", "epochs", "seconds")
#: Accepted range of ``--seeds``.
SEEDS_RANGE = (1, 10_000)
#: Keyword arguments the harness sets itself.
RESERVED_ENV_KWARGS = ("max_queries", "budget")
#: Mixed into every seed derivation; changing it changes every published result.
SEED_SALT = 0x6E61_7367  # "nasg"

_SAFE = re.compile(r"[^A-Za-z0-9._=+,-]")
_MAX_KEY_LENGTH = 120


def parse_value(text: str) -> EnvValue:
    """Parse one ``--env-kwargs`` value.

    Python literals of type int, float, bool, None and (quoted) str are parsed;
    anything else is kept as the string itself, so ``dataset=cifar10`` needs no quotes
    and ``name='12'`` forces a string.
    """
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not np.isfinite(value):
            return text
        return value
    return text


def parse_env_kwarg(text: str) -> tuple[str, EnvValue]:
    """Parse ``KEY=VALUE`` (see :func:`parse_value`).

    Raises:
        ValueError: No ``=``, or the key is not a Python identifier.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    if not key.isidentifier():
        raise ValueError(f"{key!r} is not a valid keyword argument name (in {text!r})")
    return key, parse_value(value)


def kwarg_argument(text: str) -> tuple[str, EnvValue]:
    """:func:`parse_env_kwarg` as an ``argparse`` ``type=`` (errors become usage).

    Example:
        >>> kwarg_argument("horizon=50")
        ('horizon', 50)
    """
    import argparse

    try:
        return parse_env_kwarg(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_value(value: EnvValue) -> str:
    """Render a value so that :func:`parse_value` reads it back unchanged."""
    if isinstance(value, str):
        parsed = parse_value(value)
        return value if isinstance(parsed, str) and parsed == value else repr(value)
    return repr(value)


#: The env keyword argument that names a benchmark factory (``module:callable``).
BENCHMARK_KWARG = "benchmark"


def check_env_value(env_id: str, key: str, value: object) -> None:
    """Refuse a keyword argument value a leaderboard cannot record.

    Runs are identified (and resumed) by their env's JSON configuration, and workers
    rebuild the env from it, so values must be ``int``, ``float``, ``bool``, ``str``
    or ``None``. A benchmark object is given as an importable factory instead:
    ``benchmark="module:callable"`` (see :func:`load_benchmark`).

    Raises:
        LeaderboardError: Another type of value.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if key == BENCHMARK_KWARG:
        raise LeaderboardError(
            f"{env_id}: benchmark={type(value).__name__} object cannot be recorded "
            "or sent to the workers; give the benchmark as an importable factory "
            "instead: benchmark='module:callable' (on the command line: "
            "--env-kwargs benchmark=mypkg.bench:make), a function called with no "
            "arguments in every worker that returns the benchmark"
        )
    raise LeaderboardError(
        f"{env_id}: keyword argument {key}={value!r} is a {type(value).__name__}; "
        "leaderboard env keyword arguments are int, float, bool, str or None "
        "(lists such as objectives are given comma-separated)"
    )


def load_benchmark(spec: str, env_id: str = "the env") -> object:
    """Build the benchmark of ``benchmark='module:callable'``: import, then call.

    The module is imported from the working directory too (as ``module:id`` env
    ids), and the callable is called with no arguments; its result is passed to the
    env as ``benchmark=``.

    Raises:
        LeaderboardError: ``spec`` is not ``module:callable``, or importing or
            calling it fails (the message says which).
    """
    import importlib
    import os
    import sys

    module_name, sep, attribute = spec.partition(":")
    if not (sep and module_name and attribute):
        raise LeaderboardError(
            f"{env_id}: benchmark={spec!r} is not an importable factory; give "
            "benchmark=module:callable, e.g. --env-kwargs benchmark=mypkg.bench:make"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        target: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except Exception as exc:
        raise LeaderboardError(
            f"{env_id}: benchmark={spec!r}: cannot import it "
            f"({type(exc).__name__}: {exc}); the module must be importable from "
            f"the working directory ({cwd}) or the Python path"
        ) from None
    if not callable(target):
        raise LeaderboardError(
            f"{env_id}: benchmark={spec!r} is a {type(target).__name__}, not a "
            "callable; name a function that returns the benchmark"
        )
    try:
        return target()
    except Exception as exc:
        raise LeaderboardError(
            f"{env_id}: benchmark={spec!r}() raised {type(exc).__name__}: {exc}"
        ) from exc


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON: equal configurations give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class EnvConfig:
    """One env of a leaderboard: a registered nasgym id and its keyword arguments."""

    id: str
    kwargs: Mapping[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.kwargs.items():
            check_env_value(self.id, key, value)
        object.__setattr__(self, "kwargs", dict(sorted(self.kwargs.items())))

    @property
    def budget_unit(self) -> str:
        """What ``--budget`` counts for this env (its ``budget_unit``, or queries).

        Epochs and seconds are units of the multi-fidelity envs.
        """
        return str(self.kwargs.get("budget_unit", "queries"))

    @property
    def label(self) -> str:
        """Human-readable name, e.g. ``nasgym/NB201Query-v0 (dataset=cifar10)``."""
        if not self.kwargs:
            return self.id
        return f"{self.id} ({self.kwargs_text()})"

    def kwargs_text(self) -> str:
        """The keyword arguments as ``k=v, k=v`` (sorted by key)."""
        return ", ".join(f"{k}={format_value(v)}" for k, v in self.kwargs.items())

    @property
    def key(self) -> str:
        """File-system-safe, unique name of this configuration (a directory name).

        The id without its ``nasgym/`` namespace and the sorted ``k=v`` pairs, joined
        by ``_``; when that is lossy (unusual characters, a string that reads as a
        number, very long), a short hash of the exact configuration is appended.
        Other namespaces stay, as ``namespace.Name-vN``, and the module of a
        ``module:id`` form as ``module+...``, so ``theirpkg/NB201Query-v0`` is not
        stored under nasgym's ``NB201Query-v0``.

        Example:
            >>> EnvConfig("theirpkg.envs:theirpkg/TheirQuery-v0").key
            'theirpkg.envs+theirpkg.TheirQuery-v0'
        """
        module, sep, bare = self.id.partition(":")
        if not sep:
            module, bare = "", self.id
        bare = bare.removeprefix("nasgym/").replace("/", ".", 1)
        short = f"{module}+{bare}" if sep else bare
        parts = [short, *(f"{k}={format_value(v)}" for k, v in self.kwargs.items())]
        text = "_".join(parts)
        slug = _SAFE.sub("_", text)
        faithful = (
            slug == text
            and "+" not in self.id
            and all(
                type(parse_value(format_value(v))) is type(v)
                for v in self.kwargs.values()
            )
        )
        if faithful and len(slug) <= _MAX_KEY_LENGTH:
            return slug
        digest = hashlib.sha256(self.canonical().encode()).hexdigest()[:10]
        return f"{slug[:_MAX_KEY_LENGTH]}-{digest}"

    def canonical(self) -> str:
        """Canonical JSON of the configuration (used to compare configurations)."""
        return canonical_json({"id": self.id, "kwargs": dict(self.kwargs)})

    def to_json(self) -> dict[str, Any]:
        """JSON form, as stored in the manifest and run headers."""
        return {"key": self.key, "id": self.id, "kwargs": dict(self.kwargs)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvConfig:
        """Inverse of :meth:`to_json`."""
        return cls(str(data["id"]), dict(data.get("kwargs") or {}))


def derive_seeds(seed: int) -> tuple[int, int]:
    """The env reset seed and the agent seed of run ``seed``.

    Both come from ``numpy.random.SeedSequence([SEED_SALT, seed])`` (its first two
    32-bit words), independent of env and agent, so every agent meets the same start
    state for a given seed (common random numbers).
    """
    env_seed, agent_seed = np.random.SeedSequence(
        [SEED_SALT, int(seed)]
    ).generate_state(2, dtype=np.uint32)
    return int(env_seed), int(agent_seed)


def default_checkpoints(budget: int) -> list[int]:
    """:data:`DEFAULT_CHECKPOINTS` up to ``budget``, plus ``budget`` itself."""
    points = [c for c in DEFAULT_CHECKPOINTS if c <= budget]
    if budget not in points:
        points.append(budget)
    return points


def parse_checkpoints(text: str) -> list[int]:
    """Parse ``25,50,100`` into sorted, distinct positive integers.

    Raises:
        ValueError: An item is not a positive integer, or the list is empty.
    """
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("expected comma-separated query counts, e.g. 25,50,100")
    values = []
    for item in items:
        try:
            value = int(item)
        except ValueError:
            raise ValueError(f"checkpoint {item!r} is not an integer") from None
        if value < 1:
            raise ValueError(f"checkpoint {value} must be at least 1")
        values.append(value)
    return sorted(set(values))


def check_checkpoints(checkpoints: Iterable[int] | None, budget: int) -> list[int]:
    """Checkpoints to use: the defaults for ``None``; else every one within budget.

    Raises:
        LeaderboardError: A checkpoint exceeds the budget.
    """
    if checkpoints is None:
        return default_checkpoints(budget)
    points = sorted(set(checkpoints))
    over = [c for c in points if c > budget]
    if over:
        raise LeaderboardError(
            f"checkpoint(s) {', '.join(map(str, over))} exceed the budget of {budget} "
            f"queries; use checkpoints up to {budget} (or raise --budget)"
        )
    return points


@dataclass(frozen=True)
class LeaderboardConfig:
    """The settings every run of a leaderboard directory must share."""

    envs: tuple[EnvConfig, ...]
    budget: int
    checkpoints: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form, as stored in the manifest."""
        return {
            "budget": self.budget,
            "checkpoints": list(self.checkpoints),
            "envs": [env.to_json() for env in self.envs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeaderboardConfig:
        """Inverse of :meth:`to_json`."""
        return cls(
            envs=tuple(EnvConfig.from_json(env) for env in data["envs"]),
            budget=int(data["budget"]),
            checkpoints=tuple(int(c) for c in data["checkpoints"]),
        )

    def differences(self, other: LeaderboardConfig) -> list[str]:
        """How ``other`` (a new command's settings) differs from this one (stored)."""
        diffs = []
        if self.budget != other.budget:
            diffs.append(f"budget: {self.budget} there, {other.budget} here")
        elif self.checkpoints != other.checkpoints:
            diffs.append(
                f"checkpoints: {_ints(self.checkpoints)} there, "
                f"{_ints(other.checkpoints)} here"
            )
        mine = {env.canonical(): env for env in self.envs}
        theirs = {env.canonical(): env for env in other.envs}
        if set(mine) != set(theirs):
            there = "; ".join(env.label for env in self.envs)
            here = "; ".join(env.label for env in other.envs)
            diffs.append(f"envs (id and --env-kwargs): {there} there, {here} here")
        return diffs


def _ints(values: Iterable[int]) -> str:
    return ",".join(map(str, values))
