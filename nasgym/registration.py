"""Every ``gym.register`` call of nasgym; idempotent and import-light.

Entry points are strings, so registering imports none of the environment modules.

Third-party ids come from installed packages' ``nasgym.envs`` entry points, loaded
lazily by :func:`load_env_plugins` (never at ``import nasgym``), or from Gymnasium's
``module:Namespace/Env-vN`` form (:func:`resolve_env_id`); :func:`register_modes` and
:func:`mode_siblings` name a space's ids in each action interface.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gymnasium as gym

from nasgym.error import Error, UnknownOptionError, unknown_option

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

#: ``id -> (module, class)`` of every registered environment.
ENVS: dict[str, tuple[str, str]] = {
    f"nasgym/{space}{mode}-v0": (f"nasgym.envs.{module}", f"{space}{mode}Env")
    for space, module in (("NB201", "nb201"), ("NBGraph", "nbgraph"))
    for mode in ("Edit", "Query", "Continuous")
}

#: ``id -> (module, class)`` of the graph envs over spaces too large to enumerate
#: (NB101, NB301, OFA MobileNetV3). Kept apart from :data:`ENVS`: they have no
#: integer codes and no batched NumPy vector env (the NB301 and OFA vector envs batch
#: their surrogate calls).
GRAPH_ENVS: dict[str, tuple[str, str]] = {
    **{
        f"nasgym/NB101{mode}-v0": ("nasgym.envs.nb101", f"NB101{mode}Env")
        for mode in ("Edit", "Query")
    },
    **{
        f"nasgym/NB301{mode}-v0": ("nasgym.envs.nb301", f"NB301{mode}Env")
        for mode in ("Edit", "Continuous", "Query")
    },
    **{
        f"nasgym/OFAMBv3{mode}-v0": ("nasgym.envs.ofa", f"OFAMBv3{mode}Env")
        for mode in ("Edit", "Query", "Continuous")
    },
}

#: ``id -> (module, class)`` of the weight-sharing supernet envs (NB201 cells scored
#: by a trained supernet; torch). ``nasgym/Supernet201-v0`` is the Query mode.
SUPERNET_ENVS: dict[str, tuple[str, str]] = {
    "nasgym/Supernet201-v0": ("nasgym.envs.supernet", "Supernet201QueryEnv"),
    **{
        f"nasgym/Supernet201{mode}-v0": (
            "nasgym.envs.supernet",
            f"Supernet201{mode}Env",
        )
        for mode in ("Edit", "Query", "Continuous")
    },
}

#: ``id -> (module, class)`` of the multi-fidelity Query envs (an epoch budget per
#: query, simulated training time and workers; :mod:`nasgym.mf`).
FIDELITY_ENVS: dict[str, tuple[str, str]] = {
    f"nasgym/{space}Fidelity-v0": ("nasgym.envs.fidelity", f"{space}FidelityEnv")
    for space in ("NB201", "NB101", "NB301")
}

#: Every registered id: :data:`ENVS`, :data:`GRAPH_ENVS`, :data:`SUPERNET_ENVS`,
#: then :data:`FIDELITY_ENVS`.
ALL_ENVS: dict[str, tuple[str, str]] = {
    **ENVS,
    **GRAPH_ENVS,
    **SUPERNET_ENVS,
    **FIDELITY_ENVS,
}


def register_nasgym_envs() -> None:
    """Register every nasgym environment with Gymnasium (safe to call repeatedly)."""
    for env_id, (module, cls) in ENVS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{module}:{cls}",
            vector_entry_point=f"{module}:{cls[: -len('Env')]}VectorEnv",
            disable_env_checker=False,
        )
    for env_id, (module, cls) in GRAPH_ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=f"{module}:{cls}",
                # NB301: one batched surrogate call per vector step; NB101: a
                # SyncVectorEnv that also batches vector (multi-objective) rewards.
                vector_entry_point=f"{module}:{cls[: -len('Env')]}VectorEnv",
                disable_env_checker=False,
            )
    for env_id, (module, cls) in SUPERNET_ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=f"{module}:{cls}",
                # One supernet shared by the sub-envs, evaluated in batches.
                vector_entry_point=f"{module}:{cls[: -len('Env')]}VectorEnv",
                disable_env_checker=False,
            )
    for env_id, (module, cls) in FIDELITY_ENVS.items():
        if env_id not in gym.registry:
            # Each sub-env of gym.make_vec has its own clock and workers.
            gym.register(
                id=env_id, entry_point=f"{module}:{cls}", disable_env_checker=False
            )


#: The action interfaces of a search space's envs.
MODES = ("Edit", "Query", "Continuous")

#: Declared mode families: ``env id -> {mode: env id}`` for every member id.
_MODE_FAMILIES: dict[str, dict[str, str]] = {}


def register_modes(
    *,
    edit: str | None = None,
    query: str | None = None,
    continuous: str | None = None,
) -> None:
    """Declare registered env ids as one search space's envs in each action interface.

    The leaderboard runs an agent that asks for a mode (an ``env_mode`` class
    attribute) on the sibling id of the ``--env`` space in that mode. nasgym's own ids
    follow the naming rule ``<Space><Edit|Query|Continuous>-v<N>``; ids named otherwise
    (or a family that lacks a mode) are declared here, typically right after their
    ``gym.register`` calls. Declaring the same family again replaces it.

    Args:
        edit: The id of the space's edit env (``Discrete`` actions with masks).
        query: The id of its query env (one whole architecture per step).
        continuous: The id of its continuous env (``Box`` actions).

    Raises:
        ValueError: Fewer than two ids are given, or one appears twice.

    Example:
        >>> from nasgym.registration import mode_siblings, register_modes
        >>> register_modes(query="demo/Q-v0", edit="demo/E-v0")
        >>> mode_siblings("demo/E-v0")
        {'Edit': 'demo/E-v0', 'Query': 'demo/Q-v0'}
    """
    family = {
        mode: env_id
        for mode, env_id in zip(MODES, (edit, query, continuous), strict=True)
        if env_id is not None
    }
    if len(family) < 2:
        raise ValueError(
            "register_modes needs the ids of at least two modes of one space "
            f"(got {family or 'none'})"
        )
    if len(set(family.values())) != len(family):
        raise ValueError(f"register_modes: an id is given for two modes: {family}")
    for env_id in family.values():
        _MODE_FAMILIES[env_id] = family


def mode_siblings(env_id: str) -> dict[str, str]:
    """The registered ids of ``env_id``'s search space, ``mode -> id``.

    A family declared with :func:`register_modes` wins; otherwise ids named
    ``<Space><Mode>-v<N>`` (any namespace) that are in Gymnasium's registry are
    siblings. An id that fits neither has no known siblings (``{}``).

    Example:
        >>> mode_siblings("nasgym/NB201Query-v0")["Continuous"]
        'nasgym/NB201Continuous-v0'
    """
    if env_id in _MODE_FAMILIES:
        return dict(_MODE_FAMILIES[env_id])
    match = _MODE_ID.match(env_id)
    if match is None:
        return {}
    siblings = {}
    for mode in MODES:
        candidate = f"{match['space']}{mode}-{match['version']}"
        if candidate in gym.registry:
            siblings[mode] = candidate
    return siblings if env_id in siblings.values() else {}


_MODE_ID = re.compile(
    r"^(?P<space>.+?)(?P<mode>Edit|Query|Continuous)-(?P<version>v\d+)$"
)


def named_mode_id(env_id: str, mode: str) -> str | None:
    """The id the naming rule ``<Space><Mode>-v<N>`` gives ``env_id``'s ``mode``.

    Example:
        >>> named_mode_id("theirpkg/TheirQuery-v0", "Edit")
        'theirpkg/TheirEdit-v0'
        >>> named_mode_id("theirpkg/Other-v0", "Edit") is None
        True
    """
    match = _MODE_ID.match(env_id)
    return None if match is None else f"{match['space']}{mode}-{match['version']}"


# ------------------------------------------------------------------ third-party envs
#: Entry-point group of packages that register env ids with Gymnasium. A value is a
#: module (imported for its ``gym.register`` calls) or ``module:callable`` (called
#: once, with no arguments).
ENV_PLUGIN_GROUP = "nasgym.envs"


class EnvPluginError(Error):
    """A ``nasgym.envs`` plugin failed to load, or a ``module:`` env id to import."""


@dataclass(frozen=True)
class EnvPlugin:
    """One loaded ``nasgym.envs`` entry point.

    Attributes:
        name: The entry point's name.
        value: Its value (``module`` or ``module:callable``).
        distribution: The distribution that declares it (``None`` if unknown).
        env_ids: The ids it added to Gymnasium's registry, in registration order
            (empty when its module had been imported before).
    """

    name: str
    value: str
    distribution: str | None
    env_ids: tuple[str, ...]


_PLUGINS: dict[tuple[str, str], EnvPlugin] = {}


def _distribution(entry_point: EntryPoint) -> str | None:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None
    return f"{dist.name} {dist.version}"


def load_env_plugins() -> list[EnvPlugin]:
    """Load every ``nasgym.envs`` entry point once; return them all.

    Idempotent and cached: an entry point that loaded is never loaded again, so
    calling this from every command, :func:`nasgym.leaderboard.execute.make_env` and
    every worker process costs one entry-point scan after the first call. A plugin
    that fails raises (and is tried again on the next call).

    A package declares its envs in its ``pyproject.toml``::

        [project.entry-points."nasgym.envs"]
        theirpkg = "theirpkg.envs"            # imported: its gym.register calls run
        # or: theirpkg = "theirpkg.envs:register"   (called with no arguments)

    Raises:
        EnvPluginError: A plugin's module fails to import, its callable raises, or
            its value names no callable; the message names the entry point and the
            distribution that provides it.

    Example:
        >>> plugins = load_env_plugins()
        >>> load_env_plugins() == plugins
        True
    """
    from nasgym import _metadata  # cached per installation state

    for entry_point in _metadata.entry_points(ENV_PLUGIN_GROUP):
        key = (entry_point.name, entry_point.value)
        if key in _PLUGINS:
            continue
        before = set(gym.registry)
        where = (
            f"nasgym.envs plugin {entry_point.name!r} = {entry_point.value!r} (from "
            f"{_distribution(entry_point) or 'an unknown distribution'})"
        )
        try:
            target = entry_point.load()
            if entry_point.attr is not None:
                if not callable(target):
                    raise EnvPluginError(
                        f"{where}: {entry_point.attr} is not callable; name a "
                        "module, or a function that registers the envs"
                    )
                target()
        except EnvPluginError:
            raise
        except Exception as exc:
            raise EnvPluginError(
                f"{where} failed: {type(exc).__name__}: {exc}. Fix or uninstall "
                "that package"
            ) from exc
        added = tuple(i for i in gym.registry if i not in before)
        _PLUGINS[key] = EnvPlugin(
            entry_point.name, entry_point.value, _distribution(entry_point), added
        )
    return list(_PLUGINS.values())


def split_env_id(env_id: str) -> tuple[str | None, str]:
    """Split Gymnasium's ``module:Namespace/Env-vN`` form into module and id.

    Example:
        >>> split_env_id("theirpkg.envs:theirpkg/TheirQuery-v0")
        ('theirpkg.envs', 'theirpkg/TheirQuery-v0')
        >>> split_env_id("nasgym/NB201Query-v0")
        (None, 'nasgym/NB201Query-v0')
    """
    module, sep, rest = env_id.partition(":")
    return (module, rest) if sep else (None, env_id)


def import_env_module(module: str) -> None:
    """Import ``module`` (of a ``module:id`` env id), from the working directory too.

    Like ``uvicorn`` or ``celery``, the working directory is put on ``sys.path``
    first, so a module next to the user's script or shell is found (the ``nasgym``
    console script does not put it there by itself).

    Raises:
        EnvPluginError: The module cannot be imported (or raises).
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        importlib.import_module(module)
    except Exception as exc:
        raise EnvPluginError(
            f"importing {module!r} (the module of a module:ID env id) failed: "
            f"{type(exc).__name__}: {exc}. It must be importable from the working "
            f"directory ({cwd}) or the Python path, and call gym.register"
        ) from exc


def resolve_env_id(env_id: str) -> str:
    """The Gymnasium id of ``env_id``, with plugins loaded and its module imported.

    ``env_id`` is a registered id or Gymnasium's ``module:id`` form (the module is
    imported first, see :func:`import_env_module`).

    Raises:
        UnknownOptionError: The id is not registered (the message lists those that
            are, nasgym's and the plugins').
        EnvPluginError: A plugin or the id's module fails to load.

    Example:
        >>> resolve_env_id("nasgym/NBGraphQuery-v0")
        'nasgym/NBGraphQuery-v0'
    """
    load_env_plugins()
    module, bare = split_env_id(env_id)
    if module is not None:
        import_env_module(module)
    if bare not in gym.registry:
        valid = [*ALL_ENVS, *third_party_env_ids()]
        error = unknown_option("env id", env_id, valid)
        hint = (
            f" ({module!r} was imported and registered no {bare!r})" if module else ""
        )
        raise UnknownOptionError(
            f"{error}{hint}. Third-party ids come from installed packages with a "
            f"{ENV_PLUGIN_GROUP!r} entry point, or use the module:ID form (an id "
            "registered by a script alone is unknown to the worker processes: put "
            "its gym.register call in a module)"
        )
    return bare


def third_party_env_ids() -> list[str]:
    """Ids registered by the loaded ``nasgym.envs`` plugins, in load order."""
    return [i for plugin in _PLUGINS.values() for i in plugin.env_ids]


def env_mode_of(env_id: str) -> str | None:
    """The action interface of registered ``env_id``, where it is known.

    Known from a declared or named family (:func:`mode_siblings`), else from the env
    class's ``mode`` attribute (nasgym's env classes have one); ``None`` otherwise.
    """
    for mode, sibling in mode_siblings(env_id).items():
        if sibling == env_id:
            return mode
    spec = gym.registry.get(env_id)
    entry = getattr(spec, "entry_point", None)
    target: object = entry
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        try:
            target = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            return None
    declared = getattr(target, "mode", None)  # nasgym's classes: "edit", ...
    if not isinstance(declared, str):
        return None
    return next((m for m in MODES if m.lower() == declared.lower()), None)
