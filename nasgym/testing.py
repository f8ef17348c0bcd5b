"""Test helpers for packages that bring their own envs to the nasgym leaderboard.

A third-party package registers its ids with Gymnasium (and, to be found by the
``nasgym`` command, declares a ``nasgym.envs`` entry point); its tests then call
:func:`check_nas_env` on every id to be sure the leaderboard can run it.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from nasgym.leaderboard.contract import InfoContractError, check_info


def check_nas_env(
    env: gym.Env[Any, Any],
    *,
    steps: int = 10,
    seed: int = 0,
    gymnasium_checks: bool = True,
) -> None:
    """Check that ``env`` can run on the leaderboard.

    Runs Gymnasium's :func:`gymnasium.utils.env_checker.check_env` on the unwrapped
    env (unless ``gymnasium_checks`` is false), then a seeded reset and ``steps``
    random steps (legal ones, through ``action_masks()`` where the env has it),
    checking every ``info`` against the leaderboard's info contract (the keys listed
    in ``docs/leaderboard.md#bring-your-own-env``) and that the query counter
    behaves: ``queries`` never decreases, and grows by one exactly on a new query.

    Make the env as the leaderboard does, with ``max_queries=`` set.

    Args:
        env: The env to check (e.g. ``gym.make(ID, max_queries=10)``).
        steps: Random steps to take after the reset.
        seed: Seed of the reset and of the random actions.
        gymnasium_checks: Also run Gymnasium's own ``check_env``.

    Raises:
        InfoContractError: An ``info`` lacks a key or the query counter misbehaves
            (the message names the key, the env and the step).
        AssertionError: Gymnasium's ``check_env`` failed.

    Example:
        >>> import gymnasium as gym
        >>> import nasgym
        >>> from nasgym.testing import check_nas_env
        >>> check_nas_env(gym.make("nasgym/NBGraphQuery-v0", max_queries=20))
    """
    env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    if gymnasium_checks:
        import warnings

        from gymnasium.utils.env_checker import check_env

        with warnings.catch_warnings():
            # The nasgym envs need no render check; warnings are not failures.
            warnings.simplefilter("ignore")
            check_env(env.unwrapped, skip_render_check=True)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    check_info(info, env_id, "reset")
    queries = int(info["queries"])
    for step in range(1, steps + 1):
        masks = (
            _masks(env) if isinstance(env.action_space, gym.spaces.Discrete) else None
        )
        if masks is not None and masks.any():
            action: Any = int(rng.choice(np.flatnonzero(masks)))
        else:
            action = env.action_space.sample()
        _, _, terminated, truncated, info = env.step(action)
        where = f"step {step}"
        check_info(info, env_id, where)
        now = int(info["queries"])
        expected = queries + 1 if info["new_query"] else queries
        if now != expected:
            raise InfoContractError(
                f"{env_id}: at {where} queries went from {queries} to {now} with "
                f"new_query={info['new_query']!r}; queries must grow by one exactly "
                "on a new query (see docs/leaderboard.md#bring-your-own-env)"
            )
        queries = now
        if info["budget_exhausted"]:
            break
        if terminated or truncated:
            _, info = env.reset()
            check_info(info, env_id, f"reset after {where}")
            queries = int(info["queries"])


def _masks(env: gym.Env[Any, Any]) -> np.ndarray[Any, Any] | None:
    try:
        masks = env.get_wrapper_attr("action_masks")
    except AttributeError:
        return None
    return np.asarray(masks(), dtype=bool)
