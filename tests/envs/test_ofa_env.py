"""OFA MobileNetV3 env specifics: surrogate info, objectives, vector batching."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.error import InvalidActionError, UnknownOptionError

pytestmark = pytest.mark.data


def test_info_is_the_predicted_top1_and_regret_uses_the_search_optimum(
    ofa_bench: Any,
) -> None:
    env = gym.make("nasgym/OFAMBv3Query-v0", benchmark=ofa_bench)
    env.reset(seed=0)
    action = env.action_space.sample()
    *_, info = env.step(action)
    space = ofa_bench.space
    vector = space.canonical_vectors(np.asarray(action))
    assert info["valid_accuracy"] == pytest.approx(ofa_bench.top1(vector)[0])
    assert info["test_accuracy"] == info["valid_accuracy"]
    assert info["regret"] == pytest.approx(ofa_bench.optimum - info["valid_accuracy"])
    assert info["arch"] == space.key(vector) and info["sim_time_s"] is None
    config = env.unwrapped.config  # type: ignore[attr-defined]
    assert space.from_dict(config) == space.from_string(info["arch"])


def test_inactive_entries_are_free_revisits(ofa_bench: Any) -> None:
    env = gym.make("nasgym/OFAMBv3Query-v0", benchmark=ofa_bench)
    env.reset(seed=0)
    action = np.zeros(46, dtype=np.int64)  # all depths 2: layers 3, 4 inactive
    env.step(action)
    action[2] = action[23] = 2
    *_, info = env.step(action)
    assert info["queries"] == 1 and not info["new_query"]


def test_latency_objective_and_constraint(ofa_bench: Any) -> None:
    env = gym.make(
        "nasgym/OFAMBv3Query-v0",
        benchmark=ofa_bench,
        objectives=["valid_accuracy", "latency", "flops", "params"],
        mo_reward="constrained",
        cost_threshold=[25.0, 1e9, 1e9],
    )
    env.reset(seed=1)
    for _ in range(10):
        action = env.action_space.sample()
        _, reward, *_, info = env.step(action)
        vector = ofa_bench.space.canonical_vectors(np.asarray(action))
        latency = ofa_bench.latency_ms(vector)[0]
        assert info["objectives"]["latency"] == pytest.approx(latency)
        assert info["objectives"]["flops"] == pytest.approx(
            ofa_bench.flops_m(vector)[0]
        )
        assert info["constraint_violated"] == (latency > 25.0)
        if latency > 25.0:
            assert reward == 0.0  # the constrained form's default penalty
    with pytest.raises(UnknownOptionError, match="energy"):
        gym.make("nasgym/OFAMBv3Query-v0", benchmark=ofa_bench, objectives=["energy"])


def test_vector_env_batches_and_equals_single_envs(ofa_table: Any) -> None:
    vec = gym.make_vec("nasgym/OFAMBv3Edit-v0", 3, path=ofa_table, horizon=50)
    singles = [
        gym.make("nasgym/OFAMBv3Edit-v0", path=ofa_table, horizon=50) for _ in range(3)
    ]
    vec.reset(seed=5)
    for i, env in enumerate(singles):
        env.reset(seed=5 + i)
    rng = np.random.default_rng(0)
    for _ in range(12):
        masks = vec.action_masks()  # type: ignore[attr-defined]
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        _, rewards, _, _, infos = vec.step(actions)
        for i, env in enumerate(singles):  # horizon 50: no autoreset here
            _, r, _, _, info = env.step(int(actions[i]))
            assert rewards[i] == r and infos["arch"][i] == info["arch"]


def test_resolutions_option(ofa_table: Any) -> None:
    env = gym.make("nasgym/OFAMBv3Query-v0", path=ofa_table, resolutions=[128, 224])
    assert env.action_space.nvec[-1] == 2  # type: ignore[attr-defined]
    env.reset(seed=0)
    *_, info = env.step(env.action_space.sample())
    assert info["arch"].split("|")[0] in {"128", "224"}
    with pytest.raises(UnknownOptionError, match="latency"):
        gym.make(
            "nasgym/OFAMBv3Query-v0",
            path=ofa_table,
            resolutions=[128, 224],
            objectives=["valid_accuracy", "latency"],
        )


def _vector_actions(vec: Any, rng: np.random.Generator, infos: dict[str, Any]) -> Any:
    if "action_mask" in infos:
        return np.array([rng.choice(np.flatnonzero(m)) for m in infos["action_mask"]])
    vec.action_space.seed(int(rng.integers(2**31)))
    return vec.action_space.sample()


@pytest.mark.parametrize("mode", ["Edit", "Query", "Continuous"])
def test_vector_env_equals_single_envs_through_autoreset_and_budget(
    ofa_bench: Any, mode: str
) -> None:
    # The vector env hands each sub-env the row it decoded for the batch; the
    # sub-envs must still do exactly what single envs do: over budgets (rejected
    # actions), horizons (next-step autoreset) and repeated architectures.
    env_id = f"nasgym/OFAMBv3{mode}-v0"
    kwargs = {"benchmark": ofa_bench, "horizon": 4, "max_queries": 9}
    vec = gym.make_vec(env_id, 3, **kwargs)
    singles = [gym.make(env_id, **kwargs) for _ in range(3)]
    obs, infos = vec.reset(seed=11)
    for i, env in enumerate(singles):
        o, _ = env.reset(seed=11 + i)
        np.testing.assert_array_equal(
            o["ops"] if isinstance(o, dict) else o,
            obs["ops"][i] if isinstance(obs, dict) else obs[i],
        )
    rng = np.random.default_rng(3)
    done = [False] * 3
    rejected = 0
    for _ in range(30):
        actions = _vector_actions(vec, rng, infos)
        obs, rewards, _, truncs, infos = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                o, info = env.reset()
                r = 0.0
            else:
                o, r, _, _, info = env.step(actions[i])
            rejected += info["invalid_action"] is not None
            flat = o["stats"] if isinstance(o, dict) else o
            vflat = obs["stats"][i] if isinstance(obs, dict) else obs[i]
            np.testing.assert_array_equal(flat, vflat)
            assert rewards[i] == r
            assert infos["arch"][i] == info["arch"]
            assert infos["queries"][i] == info["queries"]
            done[i] = bool(truncs[i])
    assert rejected > 0  # the budget was hit: rejected steps were compared too


def test_vector_env_that_raises_leaves_no_stale_plan(ofa_bench: Any) -> None:
    # invalid_action="raise": a sub-env raising mid-step must not leave the rows
    # planned for the sub-envs after it to a later step.
    kwargs = {"benchmark": ofa_bench, "max_queries": 1, "invalid_action": "raise"}
    vec = gym.make_vec("nasgym/OFAMBv3Query-v0", 2, **kwargs)
    vec.reset(seed=0)
    vec.action_space.seed(0)
    vec.step(vec.action_space.sample())  # one query each: budgets spent
    vec.step(vec.action_space.sample())  # next-step autoreset (same searches)
    with pytest.raises(InvalidActionError, match="budget"):
        vec.step(vec.action_space.sample())  # sub-env 0 raises before sub-env 1
    envs = vec.unwrapped.unwrapped_envs  # type: ignore[attr-defined]
    assert all(env._planned is None for env in envs)
