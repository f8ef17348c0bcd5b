"""``objectives=[...]`` in the NB101 (EC-NAS-Bench) and NB301 (surrogate) envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from vector_checks import assert_vector_rewards_match_singles

import nasgym  # noqa: F401
from nasgym.envs.nb101 import NB101QueryEnv
from nasgym.envs.nb301 import NB301ContinuousEnv, NB301QueryEnv
from nasgym.error import UnknownOptionError
from nasgym.wrappers import LinearScalarization

pytestmark = pytest.mark.data

NB101_NAMES = ["valid_accuracy", "energy_kwh", "co2", "params", "train_time"]


def _steps(env: Any, n: int, seed: int) -> list[tuple[Any, dict[str, Any]]]:
    env.action_space.seed(seed)
    env.reset(seed=seed)
    out = []
    for _ in range(n):
        if hasattr(env, "action_masks") and isinstance(
            env.action_space, gym.spaces.Discrete
        ):
            action = int(np.flatnonzero(env.action_masks())[0])
        else:
            action = env.action_space.sample()
        _, reward, _, truncated, info = env.step(action)
        out.append((reward, info))
        if truncated:
            env.reset()
    return out


def test_nb101_costs_from_the_table(ecnas_bench: Any) -> None:
    env = NB101QueryEnv(benchmark=ecnas_bench, objectives=NB101_NAMES)
    table = env.objective_table()
    assert table.shape == (len(env.tables), 5)
    low, high = table.min(axis=0), table.max(axis=0)
    space = env.reward_space
    assert space is not None and space.shape == (5,)
    seen = 0
    for reward, info in _steps(env, 40, seed=0):
        assert space.contains(reward)
        if info["invalid_action"] is not None:
            assert not reward.any()
            continue
        seen += 1
        key = info["arch"]
        expected = {
            "valid_accuracy": ecnas_bench.query(key, "valid"),
            "energy_kwh": ecnas_bench.query(key, "energy_kwh"),
            "co2": ecnas_bench.query(key, "co2_g"),
            "params": ecnas_bench.query(key, "params"),
            "train_time": ecnas_bench.query(key, "train_time_s"),
        }
        assert info["objectives"] == pytest.approx(expected)
        raw = np.array(list(expected.values()))
        np.testing.assert_allclose(
            reward[1:], -(raw[1:] - low[1:]) / (high - low)[1:], rtol=1e-5
        )
        assert info["incumbent_objectives"]["valid_accuracy"] == pytest.approx(
            info["best_valid_accuracy"]
        )
    assert seen > 10
    test = env.objective_table(["valid_accuracy"], accuracy="test")[:, 0]
    assert float(test.max()) == pytest.approx(ecnas_bench.optimum("test")[0])


def test_nb101_constrained_and_errors(ecnas_bench: Any) -> None:
    env = NB101QueryEnv(  # (the edit env's neighbour table takes ~15 s to build)
        benchmark=ecnas_bench,
        objectives=["valid_accuracy", "energy_kwh"],
        mo_reward="constrained",
        cost_threshold=0.02,
        constraint_penalty=-1.0,
    )
    checked = 0
    for reward, info in _steps(env, 60, seed=1):
        if info["invalid_action"] is None:
            checked += 1
            over = info["objectives"]["energy_kwh"] > 0.02
            assert info["constraint_violated"] is over
            assert (reward == -1.0) is over
    assert checked > 5
    with pytest.raises(UnknownOptionError, match="'train_time', 'params'"):
        NB101QueryEnv(benchmark=ecnas_bench, objectives=["valid_accuracy", "latency"])


def test_nb101_vector_env_batches_vector_rewards(ecnas_bench: Any) -> None:
    kwargs: dict[str, Any] = {
        "benchmark": ecnas_bench,
        "objectives": ["valid_accuracy", "energy_kwh"],
        "horizon": 4,
    }
    vec = gym.make_vec("nasgym/NB101Query-v0", num_envs=2, **kwargs)
    singles = [NB101QueryEnv(**kwargs) for _ in range(2)]
    assert vec.reward_space == singles[0].reward_space  # type: ignore[attr-defined]
    vec.reset(seed=7)
    for i, env in enumerate(singles):
        env.reset(seed=7 + i)
    vec.action_space.seed(0)
    assert_vector_rewards_match_singles(
        vec, singles, vec.action_space.sample, 10, rtol=1e-6
    )


def test_nb301_predicted_runtime(nb301_surrogate: Any) -> None:
    env = NB301QueryEnv(
        surrogate=nb301_surrogate,
        objectives=["valid_accuracy", "train_time"],
        max_queries=6,
    )
    space = env.reward_space
    assert space is not None
    env.reset(seed=2)
    env.action_space.seed(2)
    for _ in range(6):
        _, reward, _, _, info = env.step(env.action_space.sample())
        assert space.contains(reward)
        genotype = env.genotype
        assert genotype is not None
        acc, runtime = (
            float(np.asarray(v).reshape(-1)[0])
            for v in nb301_surrogate.predict([genotype], env.epoch)
        )
        assert info["objectives"] == pytest.approx(
            {"valid_accuracy": acc, "train_time": runtime}
        )
        objectives = env._objectives
        assert objectives is not None
        low, high = objectives.low[1], objectives.high[1]
        expected = -min(max((runtime - low) / (high - low), 0.0), 1.0)
        assert np.asarray(reward)[1] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(UnknownOptionError, match="no objective_table"):
        env.objective_table()
    with pytest.raises(UnknownOptionError, match="costs 'train_time'"):
        NB301QueryEnv(surrogate=nb301_surrogate, objectives=["valid_accuracy", "flops"])


def test_nb301_weighted_scalar_and_wrapper(nb301_surrogate: Any) -> None:
    weighted = NB301ContinuousEnv(
        surrogate=nb301_surrogate,
        objectives=["valid_accuracy", "train_time"],
        mo_reward="weighted",
        mo_alpha=0.7,
    )
    assert weighted.reward_space is None
    for reward, _ in _steps(weighted, 3, seed=3):
        assert isinstance(reward, float)
    wrapped = LinearScalarization(
        NB301ContinuousEnv(
            surrogate=nb301_surrogate, objectives=["valid_accuracy", "train_time"]
        ),
        weights=[0.7, 0.3],
    )
    for reward, info in _steps(wrapped, 3, seed=3):
        assert reward == pytest.approx(float(info["vector_reward"] @ [0.7, 0.3]))
