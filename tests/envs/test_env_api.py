"""Gymnasium API contract of every registered nasgym environment.

Every id in :data:`nasgym.registration.ENVS` is checked: NBGraph ids on the real
``nas-bench-graph`` wheel data, NB201 ids on :class:`FakeBenchmark` and (``data``
marked) on the real imported NB201 table from the ``nb201_table`` fixture.

Besides the Gymnasium and SB3 checkers, every rollout is replayed against a small
reference model of the search (query cache, incumbent, budget) written here from the
documented contract, and each ``info`` is checked against the benchmark tables.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import nasgym
from nasgym.benchmarks.base import TabularBenchmark
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.registration import ENVS
from nasgym.spaces.nb201 import NB201Space
from nasgym.spaces.nbgraph import NBGraphSpace

BenchFactory = Callable[[], TabularBenchmark[Any]]

#: Keys every env's ``info`` has, with the exact Python types allowed for each value.
INFO_TYPES: dict[str, tuple[type, ...]] = {
    "arch": (str, type(None)),
    "arch_code": (int,),
    "arch_class": (int,),
    "valid_accuracy": (float,),
    "test_accuracy": (float,),
    "new_query": (bool,),
    "queries": (int,),
    "best_arch": (str, type(None)),
    "best_valid_accuracy": (float,),
    "best_test_accuracy": (float,),
    "regret": (float,),
    "sim_time_s": (float, type(None)),
    "budget_exhausted": (bool,),
    "invalid_action": (str, type(None)),
}
#: Edit envs add exactly this key (the legal-action mask).
EDIT_ONLY_KEYS = {"action_mask"}

FAKE_NB201 = FakeBenchmark(NB201Space(), seed=0)
#: One shared instance, so the space's lookup tables are built once per module.
CORA = NBGraphBenchmark("cora")


# --------------------------------------------------------------------- real data
_REAL_CACHE: dict[tuple[str, str], Any] = {}


def _missing_data(reason: str) -> None:
    if os.environ.get("NASGYM_REQUIRE_DATA", "") not in ("", "0"):
        pytest.fail(f"real benchmark data required but missing: {reason}")
    pytest.skip(f"real benchmark data missing: {reason}")


def real_nb201_factory(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``dataset -> NB201Benchmark`` on the table of the ``nb201_table`` fixture."""
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

    def make(dataset: str = "cifar10") -> NB201Benchmark:
        key = (str(path), dataset)
        if key not in _REAL_CACHE:
            _REAL_CACHE[key] = NB201Benchmark(dataset, path=path)
        return _REAL_CACHE[key]

    return make


# -------------------------------------------------------------------------- cases
def _short(env_id: str) -> str:
    return env_id.split("/")[1].removesuffix("-v0")


def _mode(env_id: str) -> str:
    for mode in ("Edit", "Query", "Continuous"):
        if _short(env_id).endswith(mode):
            return mode.lower()
    raise AssertionError(env_id)


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


@dataclass
class Case:
    env_id: str
    source: str
    bench: BenchFactory

    @property
    def mode(self) -> str:
        return _mode(self.env_id)

    def make(self, **kwargs: Any) -> gym.Env[Any, Any]:
        return gym.make(self.env_id, benchmark=self.bench(), **kwargs)


@pytest.fixture(params=_cases())
def case(request: pytest.FixtureRequest) -> Case:
    env_id, source = request.param
    if source == "fake":
        return Case(env_id, source, lambda: FAKE_NB201)
    if source == "wheel":
        return Case(env_id, source, lambda: CORA)
    factory = real_nb201_factory(request)
    bench = factory("cifar10")
    return Case(env_id, source, lambda: bench)


def test_cases_cover_every_registered_id() -> None:
    ids = {p.values[0][0] for p in _cases()}
    assert ids == set(ENVS) == set(nasgym.ENVS)
    assert len(ENVS) == 6
    for env_id in ENVS:
        assert env_id in gym.registry


# ------------------------------------------------------------------------ helpers
def draw_action(env: gym.Env[Any, Any], rng: np.random.Generator) -> Any:
    """A random action; edit envs draw uniformly among the legal (unmasked) edits."""
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        legal = np.flatnonzero(env.unwrapped.action_masks())  # type: ignore[attr-defined]
        assert legal.size > 0
        return np.int64(rng.choice(legal))
    if isinstance(space, spaces.MultiDiscrete):
        return rng.integers(0, space.nvec).astype(np.int64)
    assert isinstance(space, spaces.Box)
    return rng.uniform(-1.0, 1.0, space.shape).astype(np.float32)


def same(a: Any, b: Any) -> bool:
    """Exact structural equality of observations / infos (arrays compared by value)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


Transition = tuple[Any, float, bool, bool, dict[str, Any]]


def rollout(
    env: gym.Env[Any, Any],
    steps: int,
    *,
    seed: int,
    action_seed: int,
    actions: list[Any] | None = None,
    reset_first: bool = True,
) -> tuple[list[Transition], list[Any]]:
    """Step ``env``; reset (unseeded) after every truncation. Returns transitions."""
    rng = np.random.default_rng(action_seed)
    out: list[Transition] = []
    used: list[Any] = []
    if reset_first:
        obs, info = env.reset(seed=seed)
        out.append((obs, 0.0, False, False, info))
    for k in range(steps):
        action = actions[k] if actions is not None else draw_action(env, rng)
        used.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            out.append((obs, 0.0, False, False, info))
    return out, used


def assert_same_rollouts(a: list[Transition], b: list[Transition]) -> None:
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        assert same(x[0], y[0]), f"observations differ at transition {k}"
        assert x[1:4] == y[1:4], f"reward/terminated/truncated differ at {k}: {x[1:4]}"
        assert same(x[4], y[4]), f"infos differ at {k}: {x[4]} != {y[4]}"


def check_info_types(info: dict[str, Any], mode: str) -> None:
    expected = set(INFO_TYPES) | (EDIT_ONLY_KEYS if mode == "edit" else set())
    assert set(info) == expected
    for key, types in INFO_TYPES.items():
        assert type(info[key]) in types, (key, info[key])
    json.dumps({k: info[k] for k in INFO_TYPES})  # plain Python values only
    if mode == "edit":
        mask = info["action_mask"]
        assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_


@dataclass
class SearchModel:
    """Reference model of one search, from the documented contract."""

    bench: TabularBenchmark[Any]
    max_queries: int | None
    visited: set[int] = field(default_factory=set)
    best_valid: float = -math.inf
    best_test: float | None = None
    best_code: int | None = None
    code: int | None = None

    def restart(self) -> None:
        self.visited.clear()
        self.best_valid, self.best_test, self.best_code = -math.inf, None, None

    def entry(self, code: int) -> int:
        if self.bench.shares_isomorphs:
            return int(self.bench.space.canonical_codes[code])
        return code

    def query(self, code: int) -> bool:
        """Record a query of ``code``; return whether it was new (not a revisit)."""
        space = self.bench.space
        arch = space.from_code(code)
        valid = self.bench.query(arch, self.bench.reward_metric)
        test = self.bench.query(arch, self.bench.report_metric)
        new = self.entry(code) not in self.visited
        self.visited.add(self.entry(code))
        if valid > self.best_valid:
            self.best_valid, self.best_test, self.best_code = valid, test, code
        self.code = code
        return new

    def check(self, info: dict[str, Any], reward: float | None) -> None:
        """Check ``info`` (and the default ``valid`` reward) against the model."""
        bench, space = self.bench, self.bench.space
        assert info["queries"] == len(self.visited)
        if self.max_queries is not None:
            assert info["queries"] <= self.max_queries  # a hard cap
        assert info["budget_exhausted"] == (
            self.max_queries is not None and info["queries"] >= self.max_queries
        )
        code = info["arch_code"]
        if code != -1:
            arch = space.from_code(code)
            assert info["arch"] == space.to_string(arch)
            assert space.code(space.from_string(info["arch"])) == code
            assert info["arch_class"] == int(space.canonical_codes[code])
            assert info["valid_accuracy"] == bench.query(arch, bench.reward_metric)
            assert info["test_accuracy"] == bench.query(arch, bench.report_metric)
        else:
            assert info["arch"] is None and info["arch_class"] == -1
            assert math.isnan(info["valid_accuracy"])
            assert math.isnan(info["test_accuracy"])
        if self.best_code is None:
            assert info["best_arch"] is None
            for key in ("best_valid_accuracy", "best_test_accuracy", "regret"):
                assert math.isnan(info[key])
        else:
            assert info["best_arch"] == space.to_string(space.from_code(self.best_code))
            assert info["best_valid_accuracy"] == self.best_valid
            assert info["best_test_accuracy"] == self.best_test
            optimum = bench.optimum(bench.report_metric)
            test_table = bench.table(bench.report_metric)
            assert optimum == float(np.nanmax(test_table[space.valid_mask]))
            assert info["regret"] == pytest.approx(optimum - self.best_test, abs=1e-12)
            assert info["regret"] >= 0.0
        if reward is not None:
            assert reward == pytest.approx(info["valid_accuracy"] / 100.0, abs=1e-12)


def replay_against_model(
    env: gym.Env[Any, Any],
    mode: str,
    steps: int,
    *,
    seed: int,
    max_queries: int | None,
    reseed_every: int | None = None,
) -> list[Transition]:
    """Random rollout, checking every transition against :class:`SearchModel`."""
    base = env.unwrapped
    model = SearchModel(base.benchmark, max_queries)  # type: ignore[attr-defined]
    invalid_reward = base._mode.invalid_reward  # type: ignore[attr-defined]
    rng = np.random.default_rng(seed + 1000)
    transitions: list[Transition] = []

    def do_reset(reset_seed: int | None) -> None:
        obs, info = env.reset(seed=reset_seed)
        if reset_seed is not None:
            model.restart()
        if mode == "edit":
            assert info["new_query"] == model.query(info["arch_code"])
        else:
            assert info["arch_code"] == -1 and not info["new_query"]
        model.check(info, None)
        assert env.observation_space.contains(obs)
        check_info_types(info, mode)
        transitions.append((obs, 0.0, False, False, info))

    do_reset(seed)
    for k in range(steps):
        if reseed_every and k and k % reseed_every == 0:
            do_reset(seed + k)
        obs, reward, terminated, truncated, info = env.step(draw_action(env, rng))
        assert terminated is False
        assert isinstance(reward, float)
        assert env.observation_space.contains(obs)
        check_info_types(info, mode)
        if info["invalid_action"] is None:
            assert info["new_query"] == model.query(info["arch_code"])
            model.check(info, reward)
        else:
            # Query proposals can be invalid; any mode is refused past the budget.
            over = "query budget" in info["invalid_action"]
            assert mode == "query" or over
            if over:
                assert max_queries is not None and len(model.visited) >= max_queries
            assert not info["new_query"]
            assert reward == invalid_reward
            model.check(info, None)
        transitions.append((obs, reward, terminated, truncated, info))
        if truncated:
            do_reset(None)
    return transitions


# ---------------------------------------------------------------------- checkers
def test_gymnasium_check_env(case: Case) -> None:
    for render_mode in (None, "ansi"):
        env = case.make(render_mode=render_mode)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gym_check_env(env.unwrapped)


def test_sb3_check_env(case: Case) -> None:
    env = case.make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # SB3 recommends flattening the 2-D adjacency/ops arrays of the Dict
        # observations; that advice is the only warning allowed.
        warnings.filterwarnings(
            "ignore", message=r".*unconventional shape.*", category=UserWarning
        )
        sb3_check_env(env.unwrapped, warn=True, skip_render_check=True)


# ------------------------------------------------------------------- determinism
def test_seeded_rollouts_are_deterministic(case: Case) -> None:
    first, actions = rollout(case.make(horizon=30), 200, seed=7, action_seed=1)
    second, _ = rollout(
        case.make(horizon=30), 200, seed=7, action_seed=1, actions=actions
    )
    assert_same_rollouts(first, second)
    # The masked sampling itself is reproducible too.
    third, again = rollout(case.make(horizon=30), 200, seed=7, action_seed=1)
    assert all(
        same(np.asarray(x), np.asarray(y)) for x, y in zip(actions, again, strict=True)
    )
    assert_same_rollouts(first, third)


def test_different_seeds_start_differently(case: Case) -> None:
    if case.mode != "edit":
        pytest.skip("only edit envs draw a random start architecture")
    env = case.make()
    starts = {env.reset(seed=seed)[1]["arch_code"] for seed in range(5)}
    assert len(starts) > 1


def test_pickle_round_trip_continues_identically(case: Case) -> None:
    env = case.make(horizon=25)
    head, _ = rollout(env, 40, seed=3, action_seed=5)
    clone = pickle.loads(pickle.dumps(env))
    tail_a, actions = rollout(env, 80, seed=0, action_seed=9, reset_first=False)
    tail_b, _ = rollout(
        clone, 80, seed=0, action_seed=9, actions=actions, reset_first=False
    )
    assert_same_rollouts(tail_a, tail_b)
    # The unwrapped env (no Gymnasium wrappers) pickles too.
    base = pickle.loads(pickle.dumps(env.unwrapped))
    assert same(base.search_info(), env.unwrapped.search_info())  # type: ignore[attr-defined]
    assert head  # the prefix ran


# ------------------------------------------------------------------ search model
def test_rollout_matches_reference_model(case: Case) -> None:
    env = case.make(horizon=40)
    replay_against_model(
        env, case.mode, 200, seed=11, max_queries=None, reseed_every=90
    )


def test_rollout_with_budget_matches_reference_model(case: Case) -> None:
    env = case.make(horizon=15, max_queries=60)
    replay_against_model(env, case.mode, 200, seed=12, max_queries=60, reseed_every=70)


def test_reset_seed_restarts_search_and_plain_reset_keeps_it(case: Case) -> None:
    env = case.make(horizon=1000)
    initial = 1 if case.mode == "edit" else 0
    _, info = env.reset(seed=1)
    assert info["queries"] == initial
    rng = np.random.default_rng(0)
    for _ in range(30):
        _, _, _, _, info = env.step(draw_action(env, rng))
    spent, best = info["queries"], info["best_valid_accuracy"]
    assert spent > initial + 5
    _, info = env.reset()
    # Budget, cache and incumbent carry over (edit envs may query their start arch).
    assert spent <= info["queries"] <= spent + initial
    assert info["best_valid_accuracy"] >= best
    assert env.unwrapped.step_count == 0  # type: ignore[attr-defined]
    _, info = env.reset(seed=2)
    assert info["queries"] == initial
    if case.mode != "edit":
        assert math.isnan(info["best_valid_accuracy"]) and info["best_arch"] is None
        assert math.isnan(info["best_test_accuracy"]) and math.isnan(info["regret"])
    else:
        assert info["best_valid_accuracy"] == info["valid_accuracy"]
        assert info["best_arch"] == info["arch"]
    # Seeded resets are reproducible: the same seed gives the same start.
    _, again = env.reset(seed=2)
    assert same(info, again)


@pytest.mark.parametrize("budget", [2, 5, 13])
def test_max_queries_truncates_exactly_at_budget(case: Case, budget: int) -> None:
    env = case.make(horizon=10_000, max_queries=budget)
    rng = np.random.default_rng(budget)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        assert info["queries"] < budget
        for _ in range(5000):
            _, _, terminated, truncated, info = env.step(draw_action(env, rng))
            assert not terminated
            assert truncated == (info["queries"] >= budget)
            assert info["budget_exhausted"] == truncated
            if truncated:
                break
        assert truncated and info["queries"] == budget


@pytest.mark.parametrize("horizon", [1, 7])
def test_horizon_truncation(case: Case, horizon: int) -> None:
    env = case.make(horizon=horizon)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    for _episode in range(3):
        assert _stats(obs)[2] == 0.0
        for t in range(1, horizon + 1):
            obs, _, terminated, truncated, info = env.step(draw_action(env, rng))
            assert not terminated
            assert truncated == (t == horizon)
            assert _stats(obs)[2] == pytest.approx(t / horizon)
            assert not info["budget_exhausted"]
        obs, _ = env.reset()


def _stats(obs: Any) -> np.ndarray:
    return obs["stats"] if isinstance(obs, dict) else obs[-4:]


def test_budget_fraction_in_observation(case: Case) -> None:
    env = case.make(max_queries=8)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        assert _stats(obs)[3] == pytest.approx(min(info["queries"] / 8, 1.0))
        obs, _, _, _, info = env.step(draw_action(env, rng))


def test_never_terminated(case: Case) -> None:
    env = case.make(horizon=5, max_queries=20)
    transitions, _ = rollout(env, 200, seed=0, action_seed=0)
    assert not any(t[2] for t in transitions)
    assert any(t[3] for t in transitions)


# ------------------------------------------------------------------ free revisits
def test_revisits_are_free(case: Case) -> None:
    env = case.make(horizon=1000)
    base = env.unwrapped
    space = base.search_space  # type: ignore[attr-defined]
    _, info = env.reset(seed=4)
    rng = np.random.default_rng(4)
    if case.mode == "edit":
        start = info["arch_code"]
        start_vec = space.codes_to_vectors(start)
        action = draw_action(env, rng)
        _, _, _, _, info = env.step(action)
        queries = info["queries"]
        slot = int(space.edit_table[0][action])
        back = int(space.edit_offsets[slot] + start_vec[slot])
        _, reward, _, _, info = env.step(back)
        assert info["arch_code"] == start and info["invalid_action"] is None
        assert info["queries"] == queries and info["new_query"] is False
        _, _, _, _, info = env.step(action)
        assert info["queries"] == queries and info["new_query"] is False
        return
    action = draw_action(env, rng)
    _, first_reward, _, _, info = env.step(action)
    queries, code = info["queries"], info["arch_code"]
    assert info["new_query"] and queries == 1
    for _ in range(3):
        _, reward, _, _, info = env.step(action)
        assert info["arch_code"] == code and reward == first_reward
        assert info["queries"] == queries and info["new_query"] is False
    # Revisits stay free across a plain reset (the cache carries over).
    env.reset()
    _, _, _, _, info = env.step(action)
    assert info["queries"] == queries and info["new_query"] is False


def test_nbgraph_isomorphs_share_one_query() -> None:
    env = gym.make("nasgym/NBGraphQuery-v0")
    space: NBGraphSpace = env.unwrapped.search_space  # type: ignore[attr-defined]
    canon = space.canonical_codes
    codes = space.valid_codes[canon[space.valid_codes] != space.valid_codes][:20]
    env.reset(seed=0)
    for code in codes:
        before = env.step(space.codes_to_vectors(int(canon[code])))[4]["queries"]
        _, _, _, _, info = env.step(space.codes_to_vectors(int(code)))
        assert info["arch_code"] == int(code) and info["arch_class"] == int(canon[code])
        assert info["queries"] == before and info["new_query"] is False


# ------------------------------------------------------------- test never rewards
class _ChangedTestFake(FakeBenchmark[Any]):
    """Same validation table as FakeBenchmark(space), scrambled test table."""

    def _load(self) -> dict[str, Any]:
        tables = {k: np.array(v) for k, v in super()._load().items()}
        valid = np.flatnonzero(self.space.valid_mask)
        test = tables["test"]
        test[valid] = 100.0 - np.random.default_rng(99).permutation(test[valid])
        return tables


class _ChangedTestNBGraph(NBGraphBenchmark):
    """NAS-Bench-Graph cora with its test table replaced."""

    def _load(self) -> dict[str, Any]:
        tables = {k: np.array(v) for k, v in super()._load().items()}
        tables["test"] = np.where(np.isnan(tables["test"]), np.nan, 50.0)
        return tables


CHANGED_NB201 = _ChangedTestFake(FAKE_NB201.space, seed=0)
CHANGED_CORA = _ChangedTestNBGraph("cora")
CHANGED_CORA.space = CORA.space

_TEST_SENSITIVE = {"test_accuracy", "best_test_accuracy", "regret"}


@pytest.mark.parametrize("reward", ["valid", "power", "exp", "improvement"])
@pytest.mark.parametrize("env_id", list(ENVS), ids=_short)
def test_test_accuracy_never_enters_reward(env_id: str, reward: str) -> None:
    if "NB201" in env_id:
        benches: tuple[TabularBenchmark[Any], ...] = (FAKE_NB201, CHANGED_NB201)
    else:
        benches = (CORA, CHANGED_CORA)
    assert not np.allclose(
        benches[0].table("test"), benches[1].table("test"), equal_nan=True
    )
    np.testing.assert_array_equal(benches[0].table("valid"), benches[1].table("valid"))
    runs = []
    for bench in benches:
        env = gym.make(
            env_id, benchmark=bench, reward=reward, horizon=30, max_queries=150
        )
        runs.append(rollout(env, 200, seed=5, action_seed=6)[0])
    changed = 0
    for a, b in zip(*runs, strict=True):
        assert same(a[0], b[0])  # observations never see test accuracy either
        assert a[1:4] == b[1:4]
        for key in set(a[4]) - _TEST_SENSITIVE:
            assert same(a[4][key], b[4][key]), key
        changed += a[4]["test_accuracy"] != b[4]["test_accuracy"]
    assert changed > 0


# ------------------------------------------------------------------ info contract
def test_info_keys_identical_across_ids() -> None:
    keys = {}
    for env_id in ENVS:
        bench = FAKE_NB201 if "NB201" in env_id else CORA
        env = gym.make(env_id, benchmark=bench)
        _, info = env.reset(seed=0)
        _, _, _, _, step_info = env.step(draw_action(env, np.random.default_rng(0)))
        assert set(info) == set(step_info)
        keys[env_id] = set(info) - EDIT_ONLY_KEYS
        assert (EDIT_ONLY_KEYS <= set(info)) == (_mode(env_id) == "edit")
    assert all(k == set(INFO_TYPES) for k in keys.values()), keys


def test_observations_stay_in_space_under_every_reward(case: Case) -> None:
    for reward in ("valid", "power", "exp", "improvement"):
        env = case.make(reward=reward, alpha=3.0, horizon=20, max_queries=50)
        transitions, _ = rollout(env, 120, seed=1, action_seed=2)
        for obs, reward_value, *_ in transitions:
            assert env.observation_space.contains(obs)
            assert 0.0 <= reward_value <= 1.0


def test_edit_observation_graph_matches_space(case: Case) -> None:
    if case.mode == "continuous":
        pytest.skip("continuous observations are top-K statistics")
    env = case.make()
    space = env.unwrapped.search_space  # type: ignore[attr-defined]
    adjacency, node_ops = space.graph_tables
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        code = info["arch_code"]
        if code == -1:
            assert not obs["adjacency"].any() and not obs["node_mask"].any()
        else:
            np.testing.assert_array_equal(obs["adjacency"], adjacency[code])
            np.testing.assert_array_equal(obs["node_mask"], node_ops[code] >= 0)
            present = node_ops[code] >= 0
            np.testing.assert_array_equal(
                obs["ops"][present].argmax(1), node_ops[code][present]
            )
            assert not obs["ops"][~present].any()
        obs, _, _, _, info = env.step(draw_action(env, rng))


def test_continuous_observation_summarises_top_k() -> None:
    env = gym.make("nasgym/NB201Continuous-v0", benchmark=FAKE_NB201, top_k=3)
    space = FAKE_NB201.space
    obs, _ = env.reset(seed=0)
    assert not obs[:-4].any()
    rng = np.random.default_rng(0)
    seen: dict[int, float] = {}
    for _ in range(10):
        obs, _, _, _, info = env.step(draw_action(env, rng))
        seen[info["arch_code"]] = info["valid_accuracy"]
    top = sorted(seen, key=lambda c: -seen[c])[:3]
    onehot = np.eye(space.max_choices)[space.codes_to_vectors(np.array(top))]
    width = space.num_slots * space.max_choices
    np.testing.assert_allclose(obs[:width], onehot.mean(0).ravel(), atol=1e-6)
    np.testing.assert_allclose(obs[width : 2 * width], onehot.std(0).ravel(), atol=1e-6)


def test_action_masks(case: Case) -> None:
    env = case.make()
    env.reset(seed=0)
    base = env.unwrapped
    if case.mode == "edit":
        mask = base.action_masks()  # type: ignore[attr-defined]
        assert mask.shape == (env.action_space.n,) and mask.dtype == np.bool_  # type: ignore[attr-defined]
        assert not hasattr(base, "action_mask_tuple")
    elif case.mode == "query":
        mask = base.action_masks()  # type: ignore[attr-defined]
        assert mask.all() and mask.size == env.action_space.nvec.sum()  # type: ignore[attr-defined]
        # Gymnasium's own form, which MultiDiscrete.sample accepts (the flat one not).
        tuple_mask = base.action_mask_tuple()  # type: ignore[attr-defined]
        assert [m.size for m in tuple_mask] == list(env.action_space.nvec)  # type: ignore[attr-defined]
        assert all(m.dtype == np.int8 and m.all() for m in tuple_mask)
        assert env.action_space.contains(env.action_space.sample(mask=tuple_mask))
        with pytest.raises((AssertionError, ValueError, TypeError)):
            env.action_space.sample(mask=mask)
    else:
        # No masks on continuous envs: hasattr-based detection (sb3-contrib's
        # is_masking_supported) must not be fooled.
        assert not hasattr(base, "action_masks")
        assert not hasattr(base, "action_mask_tuple")
        with pytest.raises(AttributeError, match="continuous"):
            base.action_masks  # type: ignore[attr-defined]  # noqa: B018
    # sb3-contrib's detection sees the truth (the checks above run without it).
    utils = pytest.importorskip("sb3_contrib.common.maskable.utils")
    assert utils.is_masking_supported(env) == (case.mode != "continuous")


# --------------------------------------------------------------------- rendering
def test_render_ansi(case: Case) -> None:
    env = case.make(render_mode="ansi")
    _, info = env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "\n" not in text
    assert "t=0" in text and f"queries={info['queries']}" in text
    if case.mode != "edit":
        assert "arch=None" in text and "best_test=-" in text and "regret=-" in text
    rng = np.random.default_rng(0)
    for _ in range(3):
        _, _, _, _, info = env.step(draw_action(env, rng))
    text = env.render()
    assert "t=3" in text and info["arch"] in text
    assert f"regret={info['regret']:.2f}" in text
    assert f"best_test={info['best_test_accuracy']:.2f}" in text


def test_render_without_mode_returns_none(case: Case) -> None:
    env = case.make()
    env.reset(seed=0)
    assert env.render() is None
    assert env.unwrapped.render_mode is None


# ---------------------------------------------------------------- real NB201 only
@pytest.mark.data
@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
@pytest.mark.parametrize("env_id", [e for e in ENVS if "NB201" in e], ids=_short)
def test_nb201_real_incumbent_against_table(
    request: pytest.FixtureRequest, env_id: str, dataset: str
) -> None:
    bench = real_nb201_factory(request)(dataset)
    env = gym.make(env_id, dataset=dataset, benchmark=bench, horizon=25)
    assert env.unwrapped.benchmark.reward_metric == "valid@12"  # type: ignore[attr-defined]
    assert env.unwrapped.benchmark.report_metric == "test@200"  # type: ignore[attr-defined]
    replay_against_model(env, _mode(env_id), 150, seed=3, max_queries=None)


def test_continuous_decode_repairs_an_invalid_argmax() -> None:
    env = gym.make("nasgym/NBGraphContinuous-v0", benchmark=CORA)
    space = CORA.space
    env.reset(seed=0)
    scores = np.full((space.num_slots, space.max_choices), -1.0, dtype=np.float32)
    skip = space.ops.index("skip")
    scores[0, 2] = 1.0  # link pattern 2
    scores[1:, skip] = 1.0  # all four nodes prefer skip: an invalid cell
    scores[3, space.ops.index("gcn")] = 0.9  # node 3's runner-up loses least
    _, _, _, _, info = env.step(scores.ravel())
    assert info["arch"] == "link=[0,0,1,1] ops=[skip,skip,gcn,skip]"
    assert info["queries"] == 1 and info["invalid_action"] is None
