"""OFA MobileNetV3 env specifics: surrogate info, objectives, vector batching."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.error import UnknownOptionError

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
