"""Every bad input to a nasgym env fails with a clear error naming the problem."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.benchmarks.nbgraph import DATASETS as NBGRAPH_DATASETS
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.envs.nb201 import DATASETS as NB201_DATASETS
from nasgym.error import InvalidActionError, UnknownOptionError
from nasgym.registration import ENVS
from nasgym.rewards import REWARDS
from nasgym.spaces.nb201 import NB201Space
from nasgym.spaces.nbgraph import NBGraphSpace

FAKE_NB201 = FakeBenchmark(NB201Space(), seed=0)
CORA = NBGraphBenchmark("cora")
ALL_IDS = list(ENVS)


def _short(env_id: str) -> str:
    return env_id.split("/")[1].removesuffix("-v0")


def make(env_id: str, **kwargs: Any) -> gym.Env[Any, Any]:
    kwargs.setdefault("benchmark", FAKE_NB201 if "NB201" in env_id else CORA)
    return gym.make(env_id, **kwargs)


def env_id_of(space: str, mode: str) -> str:
    return f"nasgym/{space}{mode}-v0"


# ------------------------------------------------------------------- construction
@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_unknown_dataset_lists_valid_ones(env_id: str) -> None:
    valid = NB201_DATASETS if "NB201" in env_id else NBGRAPH_DATASETS
    with pytest.raises(UnknownOptionError, match="unknown dataset 'mnist'") as err:
        gym.make(env_id, dataset="mnist")
    for dataset in valid:
        assert repr(dataset) in str(err.value)


@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_unknown_reward_lists_valid_ones(env_id: str) -> None:
    with pytest.raises(UnknownOptionError, match="unknown reward 'accuracy'") as err:
        make(env_id, reward="accuracy")
    for name in REWARDS:
        assert repr(name) in str(err.value)


@pytest.mark.parametrize("alpha", [0, -1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_bad_alpha(env_id: str, alpha: float) -> None:
    with pytest.raises(UnknownOptionError, match="alpha must be a positive number"):
        make(env_id, reward="power", alpha=alpha)


@pytest.mark.parametrize("horizon", [0, -5, 2.5, "10", None, True])
def test_bad_horizon(horizon: Any) -> None:
    for env_id in ALL_IDS:
        with pytest.raises(
            UnknownOptionError, match="horizon must be a positive integer"
        ):
            make(env_id, horizon=horizon)


@pytest.mark.parametrize("max_queries", [0, -1, 1.5, "5", True])
def test_bad_max_queries(max_queries: Any) -> None:
    for env_id in ALL_IDS:
        with pytest.raises(UnknownOptionError, match="max_queries must be a positive"):
            make(env_id, max_queries=max_queries)


@pytest.mark.parametrize("top_k", [0, -2, 3.0, None, False])
def test_bad_top_k(top_k: Any) -> None:
    for env_id in ALL_IDS:
        with pytest.raises(
            UnknownOptionError, match="top_k must be a positive integer"
        ):
            make(env_id, top_k=top_k)


def test_good_integer_options_accept_numpy_integers() -> None:
    env = make(
        "nasgym/NB201Edit-v0",
        horizon=np.int64(3),
        max_queries=np.int32(9),
        top_k=np.int8(2),
    )
    base = env.unwrapped
    assert (base.horizon, base.max_queries, base.top_k) == (3, 9, 2)  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "low", None])
def test_bad_invalid_reward(value: Any) -> None:
    for env_id in ALL_IDS:
        with pytest.raises(UnknownOptionError, match="invalid_reward must be a finite"):
            make(env_id, invalid_reward=value)


@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_unknown_invalid_action_option(env_id: str) -> None:
    with pytest.raises(
        UnknownOptionError,
        match=r"unknown invalid_action 'ignore'.*'penalize', 'raise'",
    ):
        make(env_id, invalid_action="ignore")


@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_unknown_render_mode(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium warns before the env raises
        with pytest.raises(
            UnknownOptionError, match=r"unknown render_mode 'svg'.*'ansi'.*'rgb_array'"
        ):
            make(env_id, render_mode="svg")


@pytest.mark.parametrize("mode", ["Edit", "Query", "Continuous"])
def test_benchmark_over_the_wrong_space(mode: str) -> None:
    with pytest.raises(UnknownOptionError, match="needs a benchmark over NB201Space"):
        gym.make(env_id_of("NB201", mode), benchmark=FakeBenchmark(NBGraphSpace()))
    with pytest.raises(UnknownOptionError, match="needs a benchmark over NBGraphSpace"):
        gym.make(env_id_of("NBGraph", mode), benchmark=FAKE_NB201)


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
def test_benchmark_that_is_not_a_benchmark(space: str) -> None:
    with pytest.raises(UnknownOptionError, match="TabularBenchmark"):
        gym.make(env_id_of(space, "Edit"), benchmark="cifar10")


@pytest.mark.parametrize("mode", ["Edit", "Query", "Continuous"])
def test_nb201_test_metric_as_reward_metric(mode: str) -> None:
    env_id = env_id_of("NB201", mode)
    for metric in ("test@200", "test@12"):
        with pytest.raises(
            UnknownOptionError,
            match=rf"'{metric}' is a test-split metric and test accuracy is never "
            "rewarded",
        ):
            gym.make(env_id, reward_metric=metric)
    bench = FakeBenchmark(FAKE_NB201.space)
    bench.reward_metric = "test"
    with pytest.raises(UnknownOptionError, match="test accuracy is never rewarded"):
        gym.make(env_id, benchmark=bench)


@pytest.mark.parametrize("mode", ["Edit", "Query", "Continuous"])
def test_nbgraph_benchmark_with_test_reward_metric(mode: str) -> None:
    bench = FakeBenchmark(NBGraphSpace())
    bench.reward_metric = "test"
    with pytest.raises(UnknownOptionError, match="test accuracy is never rewarded"):
        gym.make(env_id_of("NBGraph", mode), benchmark=bench)


def test_unknown_nb201_metric_lists_valid_ones() -> None:
    with pytest.raises(
        UnknownOptionError, match=r"unknown NB201 metric 'acc'.*'valid@12'"
    ):
        gym.make("nasgym/NB201Edit-v0", reward_metric="acc")
    with pytest.raises(
        UnknownOptionError, match=r"unknown NB201 metric 'top1'.*'test@200'"
    ):
        gym.make("nasgym/NB201Edit-v0", report_metric="top1")


@pytest.mark.parametrize("num_envs", [0, -1, 2.0, True])
def test_bad_num_envs(num_envs: Any) -> None:
    with pytest.raises(UnknownOptionError, match="num_envs must be a positive integer"):
        gym.make_vec("nasgym/NBGraphQuery-v0", num_envs=num_envs)


# -------------------------------------------------------------------------- steps
@pytest.mark.parametrize("env_id", ALL_IDS, ids=_short)
def test_step_before_reset(env_id: str) -> None:
    env = make(env_id)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(env.action_space.sample())
    with pytest.raises(gym.error.ResetNeeded, match=r"call reset\(\) before step\(\)"):
        env.unwrapped.step(env.action_space.sample())


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
def test_out_of_range_edit_action(space: str) -> None:
    env = make(env_id_of(space, "Edit"))
    env.reset(seed=0)
    n = env.action_space.n  # type: ignore[attr-defined]
    for action in (-1, n, n + 10):
        with pytest.raises(
            InvalidActionError,
            match=rf"edit action {action} is out of range 0..{n - 1}",
        ):
            env.step(action)
    for action in (1.5, "3", [1, 2]):
        with pytest.raises(InvalidActionError, match="edit actions must be integers"):
            env.step(action)


def _masked_action(env: gym.Env[Any, Any], *, same: bool) -> int:
    """A masked edit: one that changes nothing (``same``) or breaks validity."""
    base = env.unwrapped
    space = base.search_space  # type: ignore[attr-defined]
    code = base.search_info()["arch_code"]  # type: ignore[attr-defined]
    vector = space.codes_to_vectors(code)
    slots, choices = space.edit_table
    mask = base.action_masks()  # type: ignore[attr-defined]
    for action in np.flatnonzero(~mask):
        if (choices[action] == vector[slots[action]]) == same:
            return int(action)
    raise AssertionError("no such masked action")


def _all_but_one_skip(env: gym.Env[Any, Any]) -> None:
    """Walk an NBGraph edit env to a cell with exactly one non-skip op."""
    space: NBGraphSpace = env.unwrapped.search_space  # type: ignore[attr-defined]
    skip = space.ops.index("skip")
    for slot in (2, 3, 4):
        vector = space.codes_to_vectors(env.unwrapped.search_info()["arch_code"])  # type: ignore[attr-defined]
        if vector[slot] != skip:
            env.step(int(space.edit_offsets[slot] + skip))
    vector = space.codes_to_vectors(env.unwrapped.search_info()["arch_code"])  # type: ignore[attr-defined]
    if vector[1] == skip:
        env.step(int(space.edit_offsets[1]))  # gat on node 1
    vector = space.codes_to_vectors(env.unwrapped.search_info()["arch_code"])  # type: ignore[attr-defined]
    assert vector[1] != skip and (vector[2:] == skip).all()


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
def test_masked_edit_raises_naming_action_and_reason(space: str) -> None:
    env = make(env_id_of(space, "Edit"), invalid_action="raise")
    _, info = env.reset(seed=0)
    action = _masked_action(env, same=True)
    desc = env.unwrapped.search_space.describe_edit(action)  # type: ignore[attr-defined]
    with pytest.raises(InvalidActionError) as err:
        env.step(action)
    message = str(err.value)
    assert f"edit action {action} ({desc}) is masked" in message
    assert "it would not change the architecture" in message
    assert "action_masks()" in message
    # The rejected step changed nothing: a legal edit still works from the same state.
    assert env.unwrapped.step_count == 0  # type: ignore[attr-defined]
    legal = int(np.flatnonzero(env.unwrapped.action_masks())[0])  # type: ignore[attr-defined]
    _, _, _, _, after = env.step(legal)
    assert after["invalid_action"] is None and after["arch_code"] != info["arch_code"]


def test_masked_edit_to_all_skip_raises_with_reason() -> None:
    env = make("nasgym/NBGraphEdit-v0", invalid_action="raise")
    env.reset(seed=3)
    _all_but_one_skip(env)
    action = _masked_action(env, same=False)
    with pytest.raises(InvalidActionError) as err:
        env.step(action)
    message = str(err.value)
    assert f"edit action {action} (set op1 to skip) is masked" in message
    assert "not a valid architecture" in message and "'skip'" in message


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
@pytest.mark.parametrize("same", [True, False], ids=["no-change", "invalid"])
def test_masked_edit_is_penalised_by_default(space: str, same: bool) -> None:
    if space == "NB201" and not same:
        pytest.skip("every NB201 cell is valid: only no-op edits are masked")
    env = make(env_id_of(space, "Edit"), invalid_reward=-0.25, horizon=50)
    _, info = env.reset(seed=3)
    if not same:
        _all_but_one_skip(env)
        _, _, _, _, info = env.step(
            int(np.flatnonzero(env.unwrapped.action_masks())[0])
        )  # type: ignore[attr-defined]
    obs_before = env.unwrapped._observation()  # type: ignore[attr-defined]
    t_before = int(env.unwrapped.step_count)  # type: ignore[attr-defined]
    action = _masked_action(env, same=same)
    obs, reward, terminated, truncated, after = env.step(action)
    assert reward == -0.25 and not terminated and not truncated
    assert (
        after["arch_code"] == info["arch_code"] and after["queries"] == info["queries"]
    )
    assert after["new_query"] is False
    assert after["best_valid_accuracy"] == info["best_valid_accuracy"]
    message = after["invalid_action"]
    assert isinstance(message, str) and f"edit action {action} " in message
    assert "masked" in message
    assert ("would not change" in message) == same
    np.testing.assert_array_equal(obs["adjacency"], obs_before["adjacency"])
    assert env.unwrapped.step_count == t_before + 1  # type: ignore[attr-defined]
    legal = int(np.flatnonzero(after["action_mask"])[0])
    _, _, _, _, cleared = env.step(legal)
    assert cleared["invalid_action"] is None


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
def test_out_of_range_query_action(space: str) -> None:
    env = make(env_id_of(space, "Query"))
    env.reset(seed=0)
    nvec = env.action_space.nvec  # type: ignore[attr-defined]
    slot_names = env.unwrapped.search_space.slot_names  # type: ignore[attr-defined]
    too_big = np.zeros_like(nvec)
    too_big[1] = nvec[1]
    with pytest.raises(
        InvalidActionError,
        match=rf"slot '{slot_names[1]}' has choice {nvec[1]}, "
        rf"valid range 0..{nvec[1] - 1}",
    ):
        env.step(too_big)
    negative = np.zeros_like(nvec)
    negative[-1] = -1
    with pytest.raises(
        InvalidActionError, match=rf"slot '{slot_names[-1]}' has choice -1"
    ):
        env.step(negative)
    for wrong in (
        np.zeros(len(nvec) - 1, np.int64),
        np.zeros(len(nvec) + 1, np.int64),
        np.zeros((2, len(nvec)), np.int64),
        np.zeros(len(nvec), np.float32),
        3,
    ):
        with pytest.raises(
            InvalidActionError, match=rf"integer arrays of shape \({len(nvec)},\)"
        ):
            env.step(wrong)


@pytest.mark.parametrize("invalid_action", ["penalize", "raise"])
def test_nbgraph_all_skip_query(invalid_action: str) -> None:
    env = make(
        "nasgym/NBGraphQuery-v0", invalid_action=invalid_action, invalid_reward=-1.0
    )
    env.reset(seed=0)
    good = np.array([3, 0, 1, 8, 8])
    all_skip = np.array([3, 8, 8, 8, 8])
    _, _, _, _, info = env.step(good)
    if invalid_action == "raise":
        with pytest.raises(
            InvalidActionError,
            match=r"query action \[3, 8, 8, 8, 8\] is not a valid architecture: "
            r"all four",
        ):
            env.step(all_skip)
        return
    _, reward, terminated, truncated, after = env.step(all_skip)
    assert reward == -1.0 and not terminated and not truncated
    assert (
        after["arch_code"] == info["arch_code"] and after["queries"] == info["queries"]
    )
    assert after["new_query"] is False
    assert "[3, 8, 8, 8, 8] is not a valid architecture" in after["invalid_action"]
    assert "'skip'" in after["invalid_action"]
    # As the very first query, too: nothing is queried and the graph stays empty.
    obs, _ = env.reset(seed=1)
    obs, reward, _, _, first = env.step(all_skip)
    assert reward == -1.0 and first["queries"] == 0 and first["arch_code"] == -1
    assert not obs["node_mask"].any()


@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
def test_non_finite_or_misshaped_continuous_action(space: str) -> None:
    env = make(env_id_of(space, "Continuous"))
    env.reset(seed=0)
    width = env.action_space.shape[0]  # type: ignore[index]
    for bad_value in (np.nan, np.inf, -np.inf):
        action = np.zeros(width, dtype=np.float32)
        action[width // 2] = bad_value
        with pytest.raises(
            InvalidActionError,
            match=rf"not finite: 1 of {width} entries are NaN or inf \(first at index "
            rf"{width // 2}: {bad_value}\)",
        ) as err:
            env.step(action)
        assert "shape" not in str(err.value)  # issue 15.12: not a shape error
    for wrong in (np.zeros(width - 1, np.float32), np.zeros((1, width), np.float32)):
        with pytest.raises(InvalidActionError, match=r"got shape"):
            env.step(wrong)
    # Out-of-box but finite values are clipped, not rejected.
    _, _, _, _, info = env.step(np.full(width, 5.0, dtype=np.float32))
    assert info["arch_code"] != -1
