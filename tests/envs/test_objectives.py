"""``objectives=[...]`` in the tabular envs: vector rewards, MONAS forms, info, tables.

Runs on a synthetic NB201 table and on NAS-Bench-Graph (whose data ships in its
wheel), so no imported data is needed.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from vector_checks import assert_vector_rewards_match_singles

import nasgym  # noqa: F401  (registers the envs)
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.envs.nb201 import NB201ContinuousEnv, NB201EditEnv, NB201QueryEnv
from nasgym.envs.nbgraph import NBGraphEditVectorEnv, NBGraphQueryEnv
from nasgym.error import BenchmarkDataMissingError, UnknownOptionError
from nasgym.objectives import Objectives
from nasgym.spaces.nb201 import NB201Space
from nasgym.wrappers import LinearScalarization

FAKE = FakeBenchmark(NB201Space(), seed=3)
CORA = NBGraphBenchmark("cora")
TWO = ["valid_accuracy", "latency"]


def _fake(env_class: Any = NB201QueryEnv, **kwargs: Any) -> Any:
    return env_class(benchmark=FAKE, **kwargs)


def _rollout(env: Any, steps: int, seed: int) -> list[tuple[Any, dict[str, Any]]]:
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    out = []
    for _ in range(steps):
        _, reward, _, truncated, info = env.step(env.action_space.sample())
        out.append((reward, info))
        if truncated:
            env.reset()
    return out


# ------------------------------------------------------------------ reward forms
def test_weighted_and_constrained_by_hand() -> None:
    low, high = np.array([0.0, 1.0, 10.0]), np.array([100.0, 3.0, 30.0])
    names = ("valid_accuracy", "latency", "params")
    units = ("%", "ms", "M")
    raw = np.array([90.0, 2.0, 25.0])  # normalised costs 0.5 and 0.75
    weighted = Objectives(
        names,
        low,
        high,
        units,
        mo_reward="weighted",
        mo_alpha=0.6,
        cost_weights=[0.25, 0.75],
    )
    # 0.6 * 0.9 - 0.4 * (0.25 * 0.5 + 0.75 * 0.75)
    assert weighted.reward(0.9, raw) == pytest.approx(0.54 - 0.4 * 0.6875)
    equal = Objectives(names, low, high, units, mo_reward="weighted")
    assert equal.reward(0.9, raw) == pytest.approx(0.45 - 0.5 * 0.625)
    constrained = Objectives(
        names,
        low,
        high,
        units,
        mo_reward="constrained",
        cost_threshold=[2.0, 30.0],
        constraint_penalty=-1.0,
    )
    assert constrained.reward(0.9, raw) == pytest.approx(0.9)  # 2.0 <= 2.0 holds
    assert constrained.reward(0.9, raw + np.array([0.0, 0.01, 0.0])) == -1.0
    vector = Objectives(names, low, high, units)
    out = vector.reward(0.9, raw)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, [0.9, -0.5, -0.75], rtol=1e-6)
    assert vector.reward_space().contains(out)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"objectives": ["latency"]}, "must include 'valid_accuracy'"),
        ({"objectives": "valid_accuracy"}, "list of objective names"),
        ({"objectives": ["valid_accuracy", "latency", "latency"]}, "repeat"),
        ({"objectives": ["valid_accuracy", "flops"]}, r"'latency', 'train_time'"),
        ({"objectives": TWO, "mo_reward": "pareto"}, "mo_reward"),
        ({"objectives": TWO, "mo_reward": "constrained"}, "needs cost_threshold"),
        ({"objectives": TWO, "cost_threshold": 0.01}, "only used with"),
        ({"objectives": TWO, "mo_reward": "weighted", "mo_alpha": 1.5}, r"\[0, 1\]"),
        ({"objectives": TWO, "mo_reward": "weighted", "cost_weights": [1, 2]}, "1 "),
        ({"objectives": ["valid_accuracy"], "mo_reward": "weighted"}, "at least one"),
        ({"mo_reward": "weighted"}, "needs objectives"),
        ({"cost_threshold": 1.0}, "needs objectives"),
    ],
)
def test_bad_options_name_the_problem(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(UnknownOptionError, match=match):
        _fake(**kwargs)


def test_partial_cost_is_an_error_with_coverage() -> None:
    class Partial(FakeBenchmark[Any]):
        def _load(self) -> Any:
            tables = dict(super()._load())
            latency = tables["latency_s"].copy()
            latency[5:] = np.nan
            tables["latency_s"] = latency
            return tables

    bench = Partial(NB201Space(), seed=0)
    assert "latency" not in bench.costs()
    with pytest.raises(BenchmarkDataMissingError, match="covers only 5 of 15,625"):
        NB201QueryEnv(benchmark=bench, objectives=TWO)


# -------------------------------------------------------------------- the envs
def test_default_env_is_unchanged() -> None:
    plain = _rollout(_fake(), 30, seed=1)
    scalar = _rollout(_fake(objectives=["valid_accuracy"]), 30, seed=1)
    for (r1, i1), (r2, i2) in zip(plain, scalar, strict=True):
        assert type(r1) is float and r1 == r2
        assert "objectives" not in i1
        assert i2["objectives"]["valid_accuracy"] == i1["valid_accuracy"]
    assert _fake().reward_space is None


@pytest.mark.parametrize("env_class", [NB201EditEnv, NB201QueryEnv, NB201ContinuousEnv])
def test_vector_reward_matches_tables(env_class: Any) -> None:
    env = _fake(env_class, objectives=["latency", "valid_accuracy"], max_queries=20)
    space = env.reward_space
    assert isinstance(space, gym.spaces.Box) and space.shape == (2,)
    valid, latency = FAKE.table("valid"), FAKE.table("latency_s")
    low, high = np.nanmin(latency), np.nanmax(latency)
    for reward, info in _rollout(env, 40, seed=2):
        assert reward.shape == (2,) and reward.dtype == np.float32
        assert space.contains(reward)
        if info["invalid_action"] is not None:
            np.testing.assert_array_equal(reward, [0.0, 0.0])
            continue
        code = info["arch_code"]
        assert info["objectives"] == {
            "latency": latency[code],
            "valid_accuracy": valid[code],
        }
        expected = [-(latency[code] - low) / (high - low), valid[code] / 100.0]
        np.testing.assert_allclose(reward, expected, rtol=1e-6)
        best = FAKE.space.code(FAKE.space.from_string(info["best_arch"]))
        assert info["incumbent_objectives"]["latency"] == latency[best]
        assert (
            info["incumbent_objectives"]["valid_accuracy"]
            == (info["best_valid_accuracy"])
        )


def test_info_before_first_query_is_nan() -> None:
    _, info = _fake(objectives=TWO).reset(seed=0)
    assert all(math.isnan(v) for v in info["objectives"].values())
    assert all(math.isnan(v) for v in info["incumbent_objectives"].values())


def test_constrained_env_reward_and_flag() -> None:
    latency = FAKE.table("latency_s")
    threshold = float(np.nanmedian(latency))
    env = _fake(
        NB201EditEnv,
        objectives=TWO,
        mo_reward="constrained",
        cost_threshold=threshold,
        constraint_penalty=-0.5,
    )
    flags = []
    for reward, info in _rollout(env, 60, seed=4):
        if info["invalid_action"] is not None:
            continue
        over = latency[info["arch_code"]] > threshold
        assert info["constraint_violated"] is bool(over)
        assert reward == (-0.5 if over else info["valid_accuracy"] / 100.0)
        flags.append(over)
    assert any(flags) and not all(flags)


@pytest.mark.parametrize("env_class", [NB201QueryEnv, NB201ContinuousEnv])
def test_weighted_env_reward_by_formula(env_class: Any) -> None:
    env = _fake(
        env_class,
        objectives=["valid_accuracy", "latency", "train_time"],
        mo_reward="weighted",
        mo_alpha=0.75,
        cost_weights=[2.0, 1.0],
    )
    tables = [FAKE.table("latency_s"), FAKE.table("train_time_s")]
    norm = [(t - np.nanmin(t)) / (np.nanmax(t) - np.nanmin(t)) for t in tables]
    for reward, info in _rollout(env, 30, seed=6):
        code = info["arch_code"]
        penalty = 2.0 * norm[0][code] + 1.0 * norm[1][code]
        expected = 0.75 * info["valid_accuracy"] / 100.0 - 0.25 * penalty
        assert type(reward) is float and reward == pytest.approx(expected)


@pytest.mark.parametrize("form", ["weighted", "constrained"])
def test_scalar_forms_in_the_vector_env(form: str) -> None:
    extra: dict[str, Any] = {"cost_threshold": 0.005} if form == "constrained" else {}
    kwargs: dict[str, Any] = {"objectives": TWO, "mo_reward": form, **extra}
    vec = gym.make_vec("nasgym/NBGraphQuery-v0", num_envs=2, benchmark=CORA, **kwargs)
    single = NBGraphQueryEnv(benchmark=CORA, **kwargs)
    vec.reset(seed=3)
    single.reset(seed=3)
    vec.action_space.seed(0)
    for _ in range(10):
        actions = vec.action_space.sample()
        _, rewards, _, _, infos = vec.step(actions)
        _, r, _, _, info = single.step(actions[0])
        assert rewards.shape == (2,) and rewards[0] == pytest.approx(r)
        if form == "constrained":
            assert infos["constraint_violated"][0] == info["constraint_violated"]


def test_vector_env_matches_single_envs() -> None:
    kwargs: dict[str, Any] = {"objectives": ["valid_accuracy", "latency", "params"]}
    vec = NBGraphEditVectorEnv(num_envs=3, benchmark=CORA, horizon=7, **kwargs)
    singles = [
        gym.make(
            "nasgym/NBGraphEdit-v0",
            benchmark=CORA,
            horizon=7,
            disable_env_checker=True,
            **kwargs,
        )
        for _ in range(3)
    ]
    _, vinfo = vec.reset(seed=10)
    for i, env in enumerate(singles):
        env.reset(seed=10 + i)
    rng = np.random.default_rng(0)
    truncs, vinfo = assert_vector_rewards_match_singles(
        vec,
        singles,
        lambda: np.array([rng.choice(np.flatnonzero(m)) for m in vec.action_masks()]),
        20,
        rtol=1e-6,
    )
    assert truncs.any() or vinfo["queries"].min() > 0


def test_objective_table_rows_and_errors() -> None:
    env = NBGraphQueryEnv(benchmark=CORA, objectives=TWO)
    valid = env.objective_table()
    test = env.objective_table(accuracy="test")
    assert valid.shape == test.shape == (26206, 2)  # one row per isomorphism class
    np.testing.assert_array_equal(valid[:, 1], test[:, 1])
    assert set(np.round(test[:, 0], 6)) == set(
        np.round(CORA.table("test")[CORA.space.valid_mask], 6)
    )
    params = env.objective_table(["params", "valid_accuracy"])
    assert params.shape == (26206, 2)
    with pytest.raises(UnknownOptionError, match="'latency', 'params'"):
        env.objective_table(["valid_accuracy", "energy"])
    with pytest.raises(UnknownOptionError, match="accuracy"):
        env.objective_table(accuracy="train")
    with pytest.raises(UnknownOptionError, match="needs names"):
        NBGraphQueryEnv(benchmark=CORA).objective_table()


def test_seeded_runs_are_deterministic() -> None:
    def make() -> Any:
        return gym.make(
            "nasgym/NBGraphQuery-v0",
            benchmark=CORA,
            objectives=TWO,
            disable_env_checker=True,
        )

    a, b = _rollout(make(), 20, seed=5), _rollout(make(), 20, seed=5)
    for (ra, ia), (rb, ib) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ra, rb)
        assert ia["objectives"] == ib["objectives"]


# ------------------------------------------------------- MO-Gymnasium and SB3
def test_mo_gymnasium_conformance() -> None:
    mo_gym = pytest.importorskip("mo_gymnasium")
    env = mo_gym.make("nasgym/NBGraphQuery-v0", objectives=TWO, max_queries=30)
    reward_space = env.unwrapped.reward_space
    assert isinstance(reward_space, gym.spaces.Box) and reward_space.shape == (2,)
    stats = mo_gym.wrappers.MORecordEpisodeStatistics(env, gamma=0.9)
    linear = mo_gym.wrappers.LinearReward(
        mo_gym.make("nasgym/NBGraphQuery-v0", objectives=TWO, max_queries=30),
        weight=np.array([0.8, 0.2]),
    )
    ours = LinearScalarization(
        gym.make(
            "nasgym/NBGraphQuery-v0",
            objectives=TWO,
            max_queries=30,
            disable_env_checker=True,
        ),
        weights=[0.8, 0.2],
    )
    for e in (stats, linear, ours):
        e.reset(seed=0)
        e.action_space.seed(0)
    done = False
    while not done:
        action = stats.action_space.sample()
        _, vec, term, trunc, info = stats.step(action)
        assert reward_space.contains(vec)
        _, r1, *_ = linear.step(action)
        _, r2, *_, info2 = ours.step(action)
        assert r2 == pytest.approx(float(r1)) == pytest.approx(float(vec @ [0.8, 0.2]))
        np.testing.assert_array_equal(info2["vector_reward"], vec)
        done = term or trunc
    assert info["episode"]["r"].shape == (2,)


def test_mo_gymnasium_vector_wrappers_on_the_batched_env() -> None:
    mo_gym = pytest.importorskip("mo_gymnasium")
    vector: Any = pytest.importorskip("mo_gymnasium.wrappers.vector")
    MORecordEpisodeStatistics, MOSyncVectorEnv = (
        vector.MORecordEpisodeStatistics,
        vector.MOSyncVectorEnv,
    )

    kwargs: dict[str, Any] = {"benchmark": CORA, "objectives": TWO, "horizon": 5}
    ours = MORecordEpisodeStatistics(
        gym.make_vec("nasgym/NBGraphQuery-v0", num_envs=3, **kwargs), gamma=1.0
    )
    theirs = MOSyncVectorEnv(
        [lambda: mo_gym.make("nasgym/NBGraphQuery-v0", **kwargs) for _ in range(3)]
    )
    assert ours.unwrapped.reward_space == theirs.reward_space
    ours.reset(seed=0)
    theirs.reset(seed=0)
    ours.action_space.seed(0)
    finished = 0
    for _ in range(12):
        actions = ours.action_space.sample()
        _, r1, _, trunc, info = ours.step(actions)
        _, r2, *_ = theirs.step(actions)
        np.testing.assert_allclose(r1, r2, rtol=1e-6)
        if trunc.any():
            finished += 1
            assert info["episode"]["r"].shape == (3, 2)
    assert finished > 0


def test_scalarised_env_passes_checkers() -> None:
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    for env_id in ("nasgym/NBGraphEdit-v0", "nasgym/NBGraphContinuous-v0"):
        env = LinearScalarization(
            gym.make(env_id, benchmark=CORA, objectives=TWO, disable_env_checker=True)
        )
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=True)


def test_scalarisation_errors() -> None:
    with pytest.raises(UnknownOptionError, match="no vector reward"):
        LinearScalarization(NBGraphQueryEnv(benchmark=CORA))
    with pytest.raises(UnknownOptionError, match="weights must be 2"):
        LinearScalarization(
            NBGraphQueryEnv(benchmark=CORA, objectives=TWO), weights=[1.0]
        )


def test_objective_units_of_a_tabular_env() -> None:
    env = gym.make("nasgym/NBGraphQuery-v0", objectives=TWO, max_queries=5)
    units = env.unwrapped.objective_units
    assert set(units) == set(TWO) and units["valid_accuracy"] == "%"
    assert gym.make("nasgym/NBGraphQuery-v0").unwrapped.objective_units == {}
