"""Every ``gym.register`` call of nasgym; idempotent and import-light.

Entry points are strings, so registering imports none of the environment modules.
"""

from __future__ import annotations

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
