"""Every ``gym.register`` call of nasgym; idempotent and import-light.

Entry points are strings, so registering imports none of the environment modules.
"""

from __future__ import annotations

import re

import gymnasium as gym

#: ``id -> (module, class)`` of every registered environment.
ENVS: dict[str, tuple[str, str]] = {
    f"nasgym/{space}{mode}-v0": (f"nasgym.envs.{module}", f"{space}{mode}Env")
    for space, module in (("NB201", "nb201"), ("NBGraph", "nbgraph"))
    for mode in ("Edit", "Query", "Continuous")
}

#: ``id -> (module, class)`` of the graph envs over spaces too large to enumerate
#: (NB101, NB301). Kept apart from :data:`ENVS`: they have no integer codes and no
#: batched NumPy vector env (NB301's vector env batches its surrogate calls).
GRAPH_ENVS: dict[str, tuple[str, str]] = {
    **{
        f"nasgym/NB101{mode}-v0": ("nasgym.envs.nb101", f"NB101{mode}Env")
        for mode in ("Edit", "Query")
    },
    **{
        f"nasgym/NB301{mode}-v0": ("nasgym.envs.nb301", f"NB301{mode}Env")
        for mode in ("Edit", "Continuous", "Query")
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

#: Every registered id: :data:`ENVS`, :data:`GRAPH_ENVS`, then :data:`SUPERNET_ENVS`.
ALL_ENVS: dict[str, tuple[str, str]] = {**ENVS, **GRAPH_ENVS, **SUPERNET_ENVS}


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
