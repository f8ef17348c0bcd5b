"""``gym.make_vec(id, num_envs=N)`` against N single envs from ``gym.make(id)``.

The batched vector env must give exactly what N single envs seeded ``seed + i`` give,
stepped in lockstep with Gymnasium's ``NEXT_STEP`` autoreset: the step after a
truncation resets that sub-env (reward 0, not truncated) and ignores its action.
"""

from __future__ import annotations

import math
import os
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from nasgym.benchmarks.base import TabularBenchmark
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.envs.tabular import TabularNASVectorEnv
from nasgym.error import UnknownOptionError
from nasgym.registration import ENVS
from nasgym.spaces.nb201 import NB201Space

FAKE_NB201 = FakeBenchmark(NB201Space(), seed=0)
CORA = NBGraphBenchmark("cora")
_REAL_CACHE: dict[tuple[str, str], Any] = {}


def _short(env_id: str) -> str:
    return env_id.split("/")[1].removesuffix("-v0")


def _missing_data(reason: str) -> None:
    if os.environ.get("NASGYM_REQUIRE_DATA", "") not in ("", "0"):
        pytest.fail(f"real benchmark data required but missing: {reason}")
    pytest.skip(f"real benchmark data missing: {reason}")


def real_nb201(request: pytest.FixtureRequest, dataset: str = "cifar10") -> Any:
    """NB201Benchmark on the table the ``nb201_table`` fixture provides."""
    try:
        value = request.getfixturevalue("nb201_table")
    except pytest.FixtureLookupError:
        _missing_data("the nb201_table fixture (tests/conftest.py) is not available")
    from nasgym.benchmarks.nb201 import NB201Benchmark

    path: Any = None
    if isinstance(value, NB201Benchmark):
        path = value.table_path
    elif isinstance(value, (str, os.PathLike)):
        path = value
    elif hasattr(value, "path"):
        path = value.path
    key = (str(path), dataset)
    if key not in _REAL_CACHE:
        _REAL_CACHE[key] = NB201Benchmark(dataset, path=path)
    return _REAL_CACHE[key]


def _cases() -> list[Any]:
    cases = []
    for env_id in ENVS:
        if "NBGraph" in env_id:
            cases.append(pytest.param((env_id, "wheel"), id=f"{_short(env_id)}-wheel"))
        else:
            cases.append(pytest.param((env_id, "fake"), id=f"{_short(env_id)}-fake"))
            cases.append(
                pytest.param(
                    (env_id, "real"),
                    id=f"{_short(env_id)}-real",
                    marks=pytest.mark.data,
                )
            )
    return cases


@pytest.fixture(params=_cases())
def case(request: pytest.FixtureRequest) -> tuple[str, TabularBenchmark[Any]]:
    env_id, source = request.param
    if source == "fake":
        return env_id, FAKE_NB201
    if source == "wheel":
        return env_id, CORA
    return env_id, real_nb201(request)


# ------------------------------------------------------------------------ helpers
def draw_action(env: gym.Env[Any, Any], rng: np.random.Generator) -> Any:
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        legal = np.flatnonzero(env.unwrapped.action_masks())  # type: ignore[attr-defined]
        return np.int64(rng.choice(legal))
    if isinstance(space, spaces.MultiDiscrete):
        return rng.integers(0, space.nvec).astype(np.int64)
    return rng.uniform(-1.0, 1.0, space.shape).astype(np.float32)


def junk_action(space: spaces.Space[Any]) -> Any:
    """An action that would raise if it were applied (out of range or non-finite)."""
    if isinstance(space, spaces.Discrete):
        return np.int64(-7)
    if isinstance(space, spaces.MultiDiscrete):
        return np.full(space.shape, -1, dtype=np.int64)
    return np.full(space.shape, np.nan, dtype=np.float32)


def same_value(got: Any, expected: Any, key: str) -> bool:
    """Vector info entry vs the single-env info value (NaN equals NaN)."""
    if isinstance(expected, np.ndarray):
        return bool(np.array_equal(got, expected))
    if expected is None:
        return got is None
    if isinstance(expected, float) and math.isnan(expected):
        return bool(math.isnan(float(got)))
    return bool(got == expected)


def compare(
    i: int,
    vector: tuple[Any, Any, Any, Any, dict[str, Any]],
    single: tuple[Any, float, bool, bool, dict[str, Any]],
    where: str,
) -> None:
    obs_v, rew_v, term_v, trunc_v, infos_v = vector
    obs, rew, term, trunc, info = single
    if isinstance(obs, dict):
        for key, value in obs.items():
            assert np.array_equal(obs_v[key][i], value), f"{where}: obs[{key}][{i}]"
    else:
        assert np.array_equal(obs_v[i], obs), f"{where}: obs[{i}]"
    assert rew_v[i] == rew, f"{where}: reward[{i}] {rew_v[i]} != {rew}"
    assert bool(term_v[i]) is term is False, f"{where}: terminated[{i}]"
    assert bool(trunc_v[i]) is trunc, f"{where}: truncated[{i}]"
    keys = [k for k in infos_v if not k.startswith("_")]
    assert set(keys) <= set(info), set(keys) - set(info)
    for key in keys:
        assert infos_v[f"_{key}"][i], f"{where}: _{key}[{i}]"
        assert same_value(infos_v[key][i], info[key], key), (
            f"{where}: info[{key!r}][{i}] = {infos_v[key][i]!r}, "
            f"single env {info[key]!r}"
        )


def reset_both(
    venv: Any, envs: list[gym.Env[Any, Any]], seed: int | list[int | None]
) -> None:
    seeds = seed if isinstance(seed, list) else [seed + i for i in range(len(envs))]
    obs_v, infos_v = venv.reset(seed=seed)
    assert venv.observation_space.contains(obs_v)
    for i, env in enumerate(envs):
        obs, info = env.reset(seed=seeds[i])
        compare(
            i,
            (obs_v, np.zeros(len(envs)), [False] * 4, [False] * 4, infos_v),
            (obs, 0.0, False, False, info),
            f"reset seed={seed}",
        )


def lockstep(
    env_id: str,
    bench: TabularBenchmark[Any],
    *,
    num_envs: int,
    steps: int,
    seed: int,
    reseed_at: int | None = None,
    **kwargs: Any,
) -> dict[str, int]:
    """Run vector and single envs side by side; return how often things happened."""
    venv = gym.make_vec(env_id, num_envs=num_envs, benchmark=bench, **kwargs)
    assert isinstance(venv, TabularNASVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    envs = [gym.make(env_id, benchmark=bench, **kwargs) for _ in range(num_envs)]
    assert venv.single_observation_space == envs[0].observation_space
    assert venv.single_action_space == envs[0].action_space
    reset_both(venv, envs, seed)
    rng = np.random.default_rng(seed)
    pending = [False] * num_envs  # sub-env truncated on the previous step
    counts = {"autoresets": 0, "truncations": 0, "invalid": 0}
    for t in range(steps):
        if t == reseed_at:
            reset_both(venv, envs, seed + 1000)
            pending = [False] * num_envs
        actions = [
            junk_action(env.action_space) if pending[i] else draw_action(env, rng)
            for i, env in enumerate(envs)
        ]
        vector = venv.step(np.stack(actions))
        assert venv.observation_space.contains(vector[0])
        assert vector[1].shape == (num_envs,) and vector[3].dtype == np.bool_
        for i, env in enumerate(envs):
            if pending[i]:
                obs, info = env.reset()
                single: tuple[Any, float, bool, bool, dict[str, Any]] = (
                    obs,
                    0.0,
                    False,
                    False,
                    info,
                )
                counts["autoresets"] += 1
            else:
                single = env.step(actions[i])  # type: ignore[assignment]
                counts["invalid"] += single[4]["invalid_action"] is not None
            compare(i, vector, single, f"step {t}")
            pending[i] = single[2] or single[3]
            counts["truncations"] += single[3]
    return counts


# -------------------------------------------------------------------------- tests
@pytest.mark.parametrize(
    ("horizon", "max_queries"), [(5, 25), (7, None)], ids=["budget", "horizon"]
)
def test_vector_env_matches_single_envs(
    case: tuple[str, TabularBenchmark[Any]], horizon: int, max_queries: int | None
) -> None:
    env_id, bench = case
    counts = lockstep(
        env_id,
        bench,
        num_envs=4,
        steps=300,
        seed=17,
        reseed_at=150,
        horizon=horizon,
        max_queries=max_queries,
    )
    assert counts["autoresets"] >= 4 * 300 // (horizon + 1) - 8
    assert counts["truncations"] >= counts["autoresets"]


def test_vector_env_with_one_sub_env(case: tuple[str, TabularBenchmark[Any]]) -> None:
    env_id, bench = case
    lockstep(env_id, bench, num_envs=1, steps=60, seed=3, horizon=4, max_queries=30)


def test_per_env_seed_list(case: tuple[str, TabularBenchmark[Any]]) -> None:
    env_id, bench = case
    venv = gym.make_vec(env_id, num_envs=3, benchmark=bench, horizon=6)
    envs = [gym.make(env_id, benchmark=bench, horizon=6) for _ in range(3)]
    reset_both(venv, envs, [5, 9, 1])
    rng = np.random.default_rng(0)
    for _ in range(4):
        actions = [draw_action(env, rng) for env in envs]
        vector = venv.step(np.stack(actions))
        for i, env in enumerate(envs):
            compare(i, vector, env.step(actions[i]), "after seed list")  # type: ignore[arg-type]
    # ``None`` entries keep that sub-env's search and RNG, like ``reset()``.
    reset_both(venv, envs, [None, 4, None])


def test_seed_list_of_wrong_length_raises() -> None:
    venv = gym.make_vec("nasgym/NBGraphEdit-v0", num_envs=3)
    for seeds in ([1, 2], [1, 2, 3, 4], []):
        with pytest.raises(
            UnknownOptionError, match=rf"got {len(seeds)} seeds for 3 envs"
        ):
            venv.reset(seed=seeds)


def test_action_masks(case: tuple[str, TabularBenchmark[Any]]) -> None:
    env_id, bench = case
    venv = gym.make_vec(env_id, num_envs=5, benchmark=bench)
    envs = [gym.make(env_id, benchmark=bench) for _ in range(5)]
    _, infos = venv.reset(seed=2)
    for i, env in enumerate(envs):
        env.reset(seed=2 + i)
    if "Edit" not in env_id:
        with pytest.raises(AttributeError, match="only edit envs"):
            venv.action_masks  # noqa: B018
        assert not hasattr(venv, "action_masks")
        return
    masks = venv.action_masks()
    n = venv.single_action_space.n
    assert masks.shape == (5, n) and masks.dtype == np.bool_
    expected = np.stack([env.unwrapped.action_masks() for env in envs])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(masks, expected)
    np.testing.assert_array_equal(infos["action_mask"], masks)
    assert masks.any(axis=1).all()


def test_step_before_reset_raises() -> None:
    venv = gym.make_vec("nasgym/NBGraphQuery-v0", num_envs=2)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        venv.step(venv.action_space.sample())


def test_autoreset_ignores_action_and_returns_reset_step() -> None:
    venv = gym.make_vec(
        "nasgym/NB201Query-v0", num_envs=2, benchmark=FAKE_NB201, horizon=1
    )
    venv.reset(seed=0)
    _, rewards, _, truncated, infos = venv.step(np.zeros((2, 6), dtype=np.int64))
    assert truncated.all() and (rewards > 0).all()
    queries = infos["queries"].copy()
    # Out-of-range actions would raise, but both sub-envs reset on this step instead.
    obs, rewards, terminated, truncated, infos = venv.step(np.full((2, 6), 99))
    assert not truncated.any() and not terminated.any() and not rewards.any()
    np.testing.assert_array_equal(infos["queries"], queries)
    np.testing.assert_array_equal(infos["arch_code"], [-1, -1])
    assert not obs["node_mask"].any()


def test_vector_info_keys_cover_single_env_keys() -> None:
    env_id = "nasgym/NBGraphEdit-v0"
    _, infos = gym.make_vec(env_id, num_envs=2).reset(seed=0)
    _, info = gym.make(env_id).reset(seed=0)
    keys = {k for k in infos if not k.startswith("_")}
    assert keys == set(info), sorted(set(info) - keys)


def test_sync_vectorization_mode_survives_staggered_autoresets() -> None:
    venv = gym.make_vec(
        "nasgym/NBGraphQuery-v0", num_envs=2, vectorization_mode="sync", max_queries=3
    )
    venv.reset(seed=0)
    venv.action_space.seed(0)
    fixed = venv.action_space.sample()[0]
    for _ in range(6):
        actions = venv.action_space.sample()
        actions[0] = fixed  # sub-env 0 revisits, so only sub-env 1 spends its budget
        venv.step(actions)
