"""Smoke tests: Stable-Baselines3 / sb3-contrib agents train on nasgym envs.

Each run is ~300 environment steps with a query budget, on CPU with one torch
thread, and only checks that training runs and every ``info`` keeps the contract.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")
sb3 = pytest.importorskip("stable_baselines3")
sb3_contrib = pytest.importorskip("sb3_contrib")

from sb3_contrib import MaskablePPO  # noqa: E402
from stable_baselines3 import PPO, SAC, TD3  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from nasgym.benchmarks.fake import FakeBenchmark  # noqa: E402
from nasgym.spaces.nb201 import NB201Space  # noqa: E402

FAKE_NB201 = FakeBenchmark(NB201Space(), seed=0)
BUDGET = 40
STEPS = 300

INFO_KEYS = {
    "arch",
    "arch_code",
    "arch_class",
    "valid_accuracy",
    "test_accuracy",
    "new_query",
    "queries",
    "best_arch",
    "best_valid_accuracy",
    "best_test_accuracy",
    "regret",
    "sim_time_s",
    "budget_exhausted",
    "invalid_action",
}


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _real_nb201(request: pytest.FixtureRequest) -> Any:
    try:
        path = request.getfixturevalue("nb201_table")
    except pytest.FixtureLookupError:
        if os.environ.get("NASGYM_REQUIRE_DATA", "") not in ("", "0"):
            pytest.fail("real benchmark data required: no nb201_table fixture")
        pytest.skip("real benchmark data missing: no nb201_table fixture")
    from nasgym.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark(
        "cifar10", path=path if isinstance(path, os.PathLike) else None
    )


class InfoContract(BaseCallback):
    """Checks every step's ``info`` and counts the steps seen."""

    def __init__(self, edit: bool) -> None:
        super().__init__()
        self.edit = edit
        self.steps = 0
        self.truncations = 0

    def _on_step(self) -> bool:
        for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
            keys = set(info) - {
                "episode",
                "TimeLimit.truncated",
                "terminal_observation",
            }
            assert keys == INFO_KEYS | ({"action_mask"} if self.edit else set()), keys
            assert isinstance(info["queries"], int) and info["queries"] >= 0
            assert info["arch"] is not None or info["invalid_action"] is not None
            if not np.isnan(info["best_test_accuracy"]):
                assert info["regret"] >= 0.0
            self.truncations += bool(done)
        self.steps += 1
        return True


def _make(env_id: str, **kwargs: Any) -> gym.Env[Any, Any]:
    return gym.make(env_id, max_queries=BUDGET, horizon=50, **kwargs)


def _check_run(model: Any, env: gym.Env[Any, Any], callback: InfoContract) -> None:
    assert model.num_timesteps >= STEPS
    assert callback.steps >= STEPS // model.n_envs
    assert callback.truncations > 0  # the budget / horizon ended episodes
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert info["queries"] == BUDGET  # spent exactly, never exceeded
    assert np.isfinite(info["best_valid_accuracy"])


def _train_sac(env: gym.Env[Any, Any]) -> None:
    model = SAC(
        "MlpPolicy",
        env,
        learning_starts=50,
        batch_size=32,
        buffer_size=1_000,
        train_freq=2,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        device="cpu",
    )
    callback = InfoContract(edit=False)
    model.learn(total_timesteps=STEPS, callback=callback)
    _check_run(model, env, callback)
    action, _ = model.predict(env.reset(seed=1)[0], deterministic=True)
    assert env.action_space.contains(action)


def _train_td3(env: gym.Env[Any, Any]) -> None:
    model = TD3(
        "MlpPolicy",
        env,
        learning_starts=50,
        batch_size=32,
        buffer_size=1_000,
        train_freq=2,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        device="cpu",
    )
    callback = InfoContract(edit=False)
    model.learn(total_timesteps=STEPS, callback=callback)
    _check_run(model, env, callback)


def test_td3_on_nbgraph_continuous() -> None:
    _train_td3(_make("nasgym/NBGraphContinuous-v0"))


@pytest.mark.data
def test_td3_on_nb201_continuous_real(request: pytest.FixtureRequest) -> None:
    _train_td3(_make("nasgym/NB201Continuous-v0", benchmark=_real_nb201(request)))


def test_sac_on_nbgraph_continuous() -> None:
    _train_sac(_make("nasgym/NBGraphContinuous-v0"))


def test_sac_on_nb201_continuous_fake() -> None:
    _train_sac(_make("nasgym/NB201Continuous-v0", benchmark=FAKE_NB201))


@pytest.mark.data
def test_sac_on_nb201_continuous_real(request: pytest.FixtureRequest) -> None:
    _train_sac(_make("nasgym/NB201Continuous-v0", benchmark=_real_nb201(request)))


def _train_maskable_ppo(env: gym.Env[Any, Any]) -> None:
    model = MaskablePPO(
        "MultiInputPolicy",
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=2,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        device="cpu",
    )
    callback = InfoContract(edit=True)
    model.learn(total_timesteps=STEPS, callback=callback)
    _check_run(model, env, callback)
    obs, _ = env.reset(seed=1)
    masks = env.unwrapped.action_masks()  # type: ignore[attr-defined]
    action, _ = model.predict(obs, action_masks=masks, deterministic=True)
    assert masks[int(action)]


def test_maskable_ppo_on_nbgraph_edit() -> None:
    _train_maskable_ppo(_make("nasgym/NBGraphEdit-v0"))


def test_maskable_ppo_on_nb201_edit_fake() -> None:
    _train_maskable_ppo(_make("nasgym/NB201Edit-v0", benchmark=FAKE_NB201))


@pytest.mark.data
def test_maskable_ppo_on_nb201_edit_real(request: pytest.FixtureRequest) -> None:
    _train_maskable_ppo(_make("nasgym/NB201Edit-v0", benchmark=_real_nb201(request)))


def test_ppo_on_nbgraph_query() -> None:
    env = _make("nasgym/NBGraphQuery-v0")
    model = PPO(
        "MultiInputPolicy",
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=2,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        device="cpu",
    )
    callback = InfoContract(edit=False)
    model.learn(total_timesteps=STEPS, callback=callback)
    _check_run(model, env, callback)
