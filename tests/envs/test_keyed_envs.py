"""Gymnasium contract of the non-enumerated envs (NB101, NB301, OFA), on real data.

Every id of :data:`nasgym.registration.GRAPH_ENVS` runs on EC-NAS-Bench's table (NB101)
or the real YAHPO ONNX surrogate (NB301): both checkers, seeded determinism, pickling,
observations in the space, the ``info`` contract, budget and revisit counting, and
the shared error paths. Space-specific behaviour is in ``test_nb101_env.py`` and
``test_nb301_env.py``.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from test_env_api import (
    INFO_TYPES,
    assert_same_rollouts,
    check_info_types,
    draw_action,
    rollout,
)

import nasgym
from nasgym.envs.keyed import KeyedNASEnv, shaped
from nasgym.error import InvalidActionError, UnknownOptionError
from nasgym.registration import ENVS, GRAPH_ENVS
from nasgym.rewards import REWARDS, RewardShaping

pytestmark = pytest.mark.data

Make = Callable[..., gym.Env[Any, Any]]


def _short(env_id: str) -> str:
    return env_id.removeprefix("nasgym/").removesuffix("-v0")


@pytest.fixture(params=list(GRAPH_ENVS), ids=_short)
def make(request: pytest.FixtureRequest) -> Make:
    """``make(**kwargs)`` of one id on its real backend."""
    env_id: str = request.param
    if "NB101" in env_id:
        base = {"benchmark": request.getfixturevalue("ecnas_bench")}
    elif "OFA" in env_id:
        base = {"benchmark": request.getfixturevalue("ofa_bench")}
    else:
        base = {"surrogate": request.getfixturevalue("nb301_surrogate")}

    def build(**kwargs: Any) -> gym.Env[Any, Any]:
        return gym.make(env_id, **{**base, **kwargs})

    build.env_id = env_id  # type: ignore[attr-defined]
    return build


def mode_of(env: gym.Env[Any, Any]) -> str:
    mode: str = env.unwrapped.mode  # type: ignore[attr-defined]
    return mode


# ---------------------------------------------------------------- registration
def test_graph_ids_are_registered_apart_from_tabular_ones() -> None:
    assert len(GRAPH_ENVS) == 8 and not set(GRAPH_ENVS) & set(ENVS)
    for env_id in GRAPH_ENVS:
        spec = gym.spec(env_id)
        assert isinstance(spec.entry_point, str)
        # NB301 ids batch their surrogate calls in a vector env; NB101 ids use a
        # SyncVectorEnv that also batches vector (multi-objective) rewards.
        module = "nb301" if "NB301" in env_id else "ofa" if "OFA" in env_id else "nb101"
        assert spec.vector_entry_point == (
            f"nasgym.envs.{module}:{env_id[7:-3]}VectorEnv"
        )
    assert nasgym.ENVS is ENVS


# -------------------------------------------------------------------- checkers
def test_gymnasium_check_env(make: Make) -> None:
    for render_mode in (None, "ansi"):
        env = make(render_mode=render_mode)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gym_check_env(env.unwrapped)


def test_sb3_check_env(make: Make) -> None:
    env = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore", message=r".*unconventional shape.*", category=UserWarning
        )
        sb3_check_env(env.unwrapped, warn=True, skip_render_check=True)


# ----------------------------------------------------------------- determinism
def test_seeded_rollouts_are_deterministic(make: Make) -> None:
    first, actions = rollout(make(horizon=25), 80, seed=7, action_seed=1)
    second, _ = rollout(make(horizon=25), 80, seed=7, action_seed=1, actions=actions)
    assert_same_rollouts(first, second)


def test_reset_seed_restarts_search_and_plain_reset_keeps_it(make: Make) -> None:
    env = make(horizon=5)
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    for _ in range(5):
        *_, info = env.step(draw_action(env, rng))
    queries = info["queries"]
    _, info = env.reset()
    assert info["queries"] >= queries  # same search: history carries over
    _, info = env.reset(seed=3)
    assert info["queries"] == (1 if mode_of(env) == "edit" else 0)


def test_pickle_round_trip_continues_identically(make: Make) -> None:
    env = make(horizon=20)
    rollout(env, 7, seed=2, action_seed=3)
    clone = pickle.loads(pickle.dumps(env))
    a, actions = rollout(env, 15, seed=0, action_seed=4, reset_first=False)
    b, _ = rollout(clone, 15, seed=0, action_seed=4, actions=actions, reset_first=False)
    assert_same_rollouts(a, b)


# ------------------------------------------------------- observations and info
@pytest.mark.parametrize("reward", REWARDS)
def test_observations_and_info_under_every_reward(make: Make, reward: str) -> None:
    env = make(reward=reward, horizon=15, max_queries=12)
    rng = np.random.default_rng(5)
    obs, info = env.reset(seed=1)
    mode = mode_of(env)
    for _ in range(40):
        assert env.observation_space.contains(obs)
        check_info_types(info, mode)
        obs, r, terminated, truncated, info = env.step(draw_action(env, rng))
        assert not terminated
        assert 0.0 <= r <= 1.0
        if truncated:
            obs, info = env.reset()


def test_info_contract_and_incumbent(make: Make) -> None:
    """Values are percent, the incumbent is the best validation seen, revisits free."""
    env = make(horizon=200)
    rng = np.random.default_rng(11)
    _, info = env.reset(seed=0)
    seen: dict[str, float] = {}
    best = -math.inf
    if info["arch"] is not None:
        seen[info["arch"]] = info["valid_accuracy"]
        best = info["valid_accuracy"]
    for _ in range(60):
        _, _, _, _, info = env.step(draw_action(env, rng))
        if info["invalid_action"] is not None:
            assert not info["new_query"]
            continue
        arch = info["arch"]
        assert info["new_query"] == (arch not in seen)
        seen[arch] = info["valid_accuracy"]
        best = max(best, info["valid_accuracy"])
        assert info["queries"] == len(seen)
        assert info["best_valid_accuracy"] == best
        assert 0.0 < info["valid_accuracy"] <= 100.0
        assert info["regret"] == pytest.approx(
            env.unwrapped._search.optimum - info["best_test_accuracy"]  # type: ignore[attr-defined]
        )
        assert seen[info["best_arch"]] == best
        assert info["sim_time_s"] is None or info["sim_time_s"] > 0


def test_test_accuracy_never_enters_reward(make: Make) -> None:
    env = make(reward="valid")
    rng = np.random.default_rng(2)
    env.reset(seed=0)
    for _ in range(20):
        _, r, _, _, info = env.step(draw_action(env, rng))
        if info["invalid_action"] is None:
            assert r == pytest.approx(info["valid_accuracy"] / 100.0)


# ---------------------------------------------------------- budget and horizon
@pytest.mark.parametrize("budget", [1, 4])
def test_max_queries_truncates_exactly_at_budget(make: Make, budget: int) -> None:
    env = make(max_queries=budget, horizon=500)
    rng = np.random.default_rng(budget)
    _, info = env.reset(seed=0)
    truncated = info["queries"] >= budget
    steps = 0
    while not truncated:
        _, _, _, truncated, info = env.step(draw_action(env, rng))
        steps += 1
        assert steps < 500
    assert info["queries"] == budget and info["budget_exhausted"]
    _, info = env.reset()  # the next episode may only revisit
    assert info["queries"] == budget
    for _ in range(10):
        *_, info = env.step(draw_action(env, rng))
        assert info["queries"] == budget
        if info["invalid_action"] is not None and "budget" in info["invalid_action"]:
            assert not info["new_query"]


@pytest.mark.parametrize("horizon", [1, 7])
def test_horizon_truncation(make: Make, horizon: int) -> None:
    env = make(horizon=horizon)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for t in range(1, 2 * horizon + 1):
        _, _, terminated, truncated, _ = env.step(draw_action(env, rng))
        assert not terminated
        assert truncated == (t == horizon)
        if truncated:
            env.reset()
            break


def test_render_ansi(make: Make) -> None:
    env = make(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "queries=" in text
    plain = make()
    plain.reset(seed=0)
    assert plain.render() is None


# ------------------------------------------------------------------ errors
def test_option_errors(make: Make) -> None:
    with pytest.raises(UnknownOptionError, match="unknown reward 'accuracy'") as err:
        make(reward="accuracy")
    for name in REWARDS:
        assert repr(name) in str(err.value)
    with pytest.raises(UnknownOptionError, match="invalid_action"):
        make(invalid_action="ignore")
    with (
        pytest.warns(UserWarning, match="render_mode"),
        pytest.raises(UnknownOptionError, match="render_mode"),
    ):
        make(render_mode="svg")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(UnknownOptionError, match="horizon"):
            make(horizon=bad)
        with pytest.raises(UnknownOptionError, match="max_queries"):
            make(max_queries=bad)
    with pytest.raises(UnknownOptionError, match="alpha"):
        make(alpha=0.0)
    with pytest.raises(UnknownOptionError, match="invalid_reward"):
        make(invalid_reward=math.nan)


def test_malformed_actions_raise(make: Make) -> None:
    env = make()
    env.reset(seed=0)
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        bad: list[Any] = [-1, int(space.n), 2.5, np.array([1, 2])]
    elif isinstance(space, gym.spaces.MultiDiscrete):
        too_big = np.asarray(space.nvec, dtype=np.int64).copy()
        bad = [too_big, -np.ones_like(too_big), too_big[:-1], too_big.astype(float)]
    else:
        bad = [np.zeros(space.shape[0] + 1), np.full(space.shape, np.nan)]
    for action in bad:
        with pytest.raises(InvalidActionError):
            env.unwrapped.step(action)


def test_step_before_reset_raises(make: Make) -> None:
    env = make().unwrapped
    with pytest.raises(gym.error.ResetNeeded):
        env.step(env.action_space.sample())


def test_action_masks_of_non_edit_envs(make: Make) -> None:
    env = make()
    env.reset(seed=0)
    unwrapped = env.unwrapped
    assert isinstance(unwrapped, KeyedNASEnv)
    space = env.action_space
    if isinstance(space, gym.spaces.MultiDiscrete):
        assert unwrapped.action_masks().all()
    elif isinstance(space, gym.spaces.Box):
        with pytest.raises(AttributeError):
            unwrapped.action_masks()


# ------------------------------------------------------------------ rewards
@pytest.mark.parametrize("name", REWARDS)
def test_scalar_shaping_matches_rewards_module(name: str) -> None:
    shaping = RewardShaping(name, alpha=7.0)
    for acc, best in [(0.9, 0.5), (0.3, 0.8), (0.5, -math.inf), (1.0, 1.0)]:
        want = float(shaping(np.array([acc]), np.array([best]))[0])
        assert shaped(shaping, acc, best) == pytest.approx(want, rel=1e-12)


def test_info_types_are_the_tabular_contract() -> None:
    assert "action_mask" not in INFO_TYPES
