"""``env.unwrapped.edit_targets()``: where each edit leads, without a query."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)


def _make(request: pytest.FixtureRequest, env_id: str, **kw: Any) -> gym.Env[Any, Any]:
    if "NB101" in env_id:
        kw["benchmark"] = request.getfixturevalue("ecnas_bench")
    elif "OFA" in env_id:
        kw["benchmark"] = request.getfixturevalue("ofa_bench")
    elif "NB301" in env_id:
        kw["surrogate"] = request.getfixturevalue("nb301_surrogate")
    elif "NB201" in env_id:
        from nasgym.benchmarks.nb201 import NB201Benchmark

        path = request.getfixturevalue("nb201_table")
        kw["benchmark"] = NB201Benchmark("cifar10", path=path)
    return gym.make(env_id, **kw)


EDIT_IDS = [
    pytest.param("nasgym/NBGraphEdit-v0", id="NBGraphEdit"),
    pytest.param("nasgym/NB201Edit-v0", id="NB201Edit", marks=pytest.mark.data),
    pytest.param("nasgym/NB101Edit-v0", id="NB101Edit", marks=pytest.mark.data),
    pytest.param("nasgym/NB301Edit-v0", id="NB301Edit", marks=pytest.mark.data),
    pytest.param("nasgym/OFAMBv3Edit-v0", id="OFAMBv3Edit", marks=pytest.mark.data),
]


@pytest.mark.parametrize("env_id", EDIT_IDS)
def test_targets_match_the_steps_and_cost_nothing(
    request: pytest.FixtureRequest, env_id: str
) -> None:
    env = _make(request, env_id, max_queries=1000)
    unwrapped: Any = env.unwrapped
    with pytest.raises(gym.error.ResetNeeded):
        unwrapped.edit_targets()
    for seed in range(3):
        _, info = env.reset(seed=seed)
        for _ in range(5):  # a few states along a random walk
            before = unwrapped.search_info()
            targets = unwrapped.edit_targets()
            assert _same(unwrapped.search_info(), before)  # no query, no step
            mask = env.unwrapped.action_masks()  # type: ignore[attr-defined]
            assert len(targets) == mask.size == env.action_space.n  # type: ignore[attr-defined]
            assert [t is not None for t in targets] == mask.tolist()
            assert info["arch"] not in targets  # every legal edit changes the arch
            legal = np.flatnonzero(mask)
            action = int(np.random.default_rng(seed).choice(legal))
            _, _, _, _, info = env.step(action)
            assert info["arch"] == targets[action]


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal infos (NaN equal to NaN, arrays by value)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            if not np.array_equal(x, y):
                return False
        elif isinstance(x, float) and isinstance(y, float) and np.isnan(x):
            if not np.isnan(y):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize(
    "env_id", ["nasgym/NBGraphQuery-v0", "nasgym/NBGraphContinuous-v0"]
)
def test_only_edit_envs_have_targets(env_id: str) -> None:
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(AttributeError, match="not an edit env"):
        env.unwrapped.edit_targets()  # type: ignore[attr-defined]
