"""Checks that a vector env steps like one single env per sub-env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def assert_vector_rewards_match_singles(
    vec: Any,
    singles: list[Any],
    draw: Callable[[], Any],
    steps: int,
    *,
    rtol: float = 0.0,
) -> tuple[Any, dict[str, Any]]:
    """Step ``vec`` and ``singles`` with the same actions and compare every step.

    Args:
        vec: A vector env with a vector reward (``objectives=[...]``), reset.
        singles: One single env per sub-env, reset like it (sub-env ``i`` seeded
            ``seed + i``).
        draw: The next ``vec`` actions.
        steps: Steps to take.
        rtol: Relative tolerance of rewards and objective values (0: equal).

    Each step, rewards are ``(num_envs, k)`` float32. A sub-env that autoresets
    gets reward 0 and its single env is reset; otherwise the single env steps and
    its reward and truncation must match. Either way the sub-env's ``objectives``
    and ``incumbent_objectives`` info must match the single env's (NaNs alike).

    Returns:
        The last step's truncations and info of ``vec``.
    """
    k = singles[0].unwrapped.reward_space.shape
    pending = np.zeros(len(singles), dtype=bool)
    for _ in range(steps):
        actions = draw()
        _, rewards, _, truncs, vinfo = vec.step(actions)
        assert rewards.shape == (len(singles), *k) and rewards.dtype == np.float32
        for i, env in enumerate(singles):
            if pending[i]:  # NEXT_STEP autoreset: this step reset sub-env i
                _, info = env.reset()
                np.testing.assert_array_equal(rewards[i], 0.0)
                assert not truncs[i]
            else:
                _, reward, _, truncated, info = env.step(actions[i])
                np.testing.assert_allclose(
                    rewards[i], np.asarray(reward, dtype=np.float64), rtol=rtol
                )
                assert truncs[i] == truncated
            for key in ("objectives", "incumbent_objectives"):
                for name, value in info[key].items():
                    np.testing.assert_allclose(
                        vinfo[key][name][i], value, rtol=rtol, err_msg=f"{key}.{name}"
                    )
        pending = truncs.copy()
    return truncs, vinfo
