"""Soak tests: a million random (masked) steps per registered env, memory bounded.

Each env runs the batched vector env (1,000 sub-envs x 1,000 steps = 1,000,000
steps) and a 100,000-step single-env loop through ``gym.make``. NBGraph ids use the
wheel data, NB201 ids the real imported table (``data``). Run with ``--runslow``.

Measured on the 2-core development machine (seconds, vector soak + single loop):
NB201Edit 2.3 + 6.9, NB201Query 0.9 + 4.2, NB201Continuous 2.7 + 7.2,
NBGraphEdit 3.4 + 7.3, NBGraphQuery 0.9 + 5.9, NBGraphContinuous 3.1 + 8.9;
about 57 s for the whole file. RSS growth after warm-up was under 1 MB everywhere.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from nasgym.benchmarks.base import TabularBenchmark
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.registration import ENVS

psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.slow

MB = 1 << 20
#: Allowed RSS growth after warm-up.
MAX_GROWTH = 50 * MB
VECTOR_ENVS, VECTOR_STEPS = 1_000, 1_000
SINGLE_STEPS = 100_000


def _short(env_id: str) -> str:
    return env_id.split("/")[1].removesuffix("-v0")


def _cases() -> list[Any]:
    return [
        pytest.param(
            env_id,
            id=_short(env_id),
            marks=[pytest.mark.data] if "NB201" in env_id else [],
        )
        for env_id in ENVS
    ]


@pytest.fixture(params=_cases())
def case(request: pytest.FixtureRequest) -> tuple[str, TabularBenchmark[Any]]:
    env_id = request.param
    if "NBGraph" in env_id:
        return env_id, NBGraphBenchmark("cora")
    try:
        path = request.getfixturevalue("nb201_table")
    except pytest.FixtureLookupError:
        if os.environ.get("NASGYM_REQUIRE_DATA", "") not in ("", "0"):
            pytest.fail("real benchmark data required: no nb201_table fixture")
        pytest.skip("real benchmark data missing: no nb201_table fixture")
    from nasgym.benchmarks.nb201 import NB201Benchmark

    return env_id, NB201Benchmark(
        "cifar10", path=path if isinstance(path, os.PathLike) else None
    )


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def _batch_actions(venv: Any, rng: np.random.Generator) -> Any:
    space = venv.single_action_space
    n = venv.num_envs
    if isinstance(space, spaces.Discrete):
        masks = venv.action_masks()
        return np.argmax(np.where(masks, rng.random(masks.shape), -1.0), axis=1)
    if isinstance(space, spaces.MultiDiscrete):
        return rng.integers(0, space.nvec, size=(n, space.nvec.size))
    return rng.uniform(-1.0, 1.0, (n, *space.shape)).astype(np.float32)


def test_vector_soak(case: tuple[str, TabularBenchmark[Any]]) -> None:
    env_id, bench = case
    venv = gym.make_vec(env_id, num_envs=VECTOR_ENVS, benchmark=bench, horizon=100)
    rng = np.random.default_rng(0)
    venv.reset(seed=0)
    start = time.perf_counter()
    truncations = 0
    for step in range(VECTOR_STEPS):
        if step == 50:
            baseline = _rss()
        obs, rewards, terminated, truncated, infos = venv.step(
            _batch_actions(venv, rng)
        )
        assert not terminated.any()
        assert np.isfinite(rewards).all()
        truncations += int(truncated.sum())
        if step % 250 == 0:
            assert venv.observation_space.contains(obs)
            assert (infos["queries"] >= 0).all()
    growth = _rss() - baseline
    elapsed = time.perf_counter() - start
    assert truncations >= VECTOR_ENVS * (VECTOR_STEPS // 101)
    assert growth < MAX_GROWTH, f"RSS grew {growth / MB:.1f} MB"
    print(f"{env_id}: vector soak {elapsed:.1f} s, RSS growth {growth / MB:.1f} MB")


def test_single_env_soak(case: tuple[str, TabularBenchmark[Any]]) -> None:
    env_id, bench = case
    env = gym.make(env_id, benchmark=bench, horizon=100, max_queries=300)
    edit = isinstance(env.action_space, spaces.Discrete)
    base = env.unwrapped
    rng = np.random.default_rng(1)
    env.action_space.seed(1)
    env.reset(seed=0)
    start = time.perf_counter()
    restarts = 0
    for step in range(SINGLE_STEPS):
        if step == 5_000:
            baseline = _rss()
        if edit:
            action: Any = rng.choice(np.flatnonzero(base.action_masks()))  # type: ignore[attr-defined]
        else:
            action = env.action_space.sample()
        _, reward, terminated, truncated, info = env.step(action)
        assert not terminated and np.isfinite(reward)
        if truncated:
            if info["budget_exhausted"]:
                # an edit env can overshoot by one: its unseeded reset queries a start
                assert 300 <= info["queries"] <= 301
                restarts += 1
                env.reset(seed=step)
            else:
                env.reset()
    growth = _rss() - baseline
    elapsed = time.perf_counter() - start
    assert restarts > 0
    assert growth < MAX_GROWTH, f"RSS grew {growth / MB:.1f} MB"
    print(f"{env_id}: single soak {elapsed:.1f} s, RSS growth {growth / MB:.1f} MB")
