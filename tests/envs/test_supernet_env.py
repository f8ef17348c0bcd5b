"""Gymnasium contract of the Supernet201 envs (nasgym.envs.supernet), tiny supernets.

Every id of :data:`nasgym.registration.SUPERNET_ENVS` passes both checkers and seeded
determinism; the ``info`` contract, query counting on ``(cell, weights)``, the
budget, the shared vector env, checkpoints, the NB201 benchmark report (``data``)
and the error paths are checked.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from test_env_api import INFO_TYPES, assert_same_rollouts, draw_action, rollout
from tiny_supernet import tiny_supernet

import nasgym
from nasgym.envs.supernet import Supernet201QueryEnv
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownOptionError,
)
from nasgym.registration import ALL_ENVS, SUPERNET_ENVS
from nasgym.spaces.nb201 import NB201Arch, NB201Space

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = tiny_supernet()
MODES = ("Query", "Edit", "Continuous")
EXTRA = {"weight_steps": (int,), "train_loss": (float,)}


def make(mode: str, **kwargs: Any) -> gym.Env[Any, Any]:
    return gym.make(f"nasgym/Supernet201{mode}-v0", **{**TINY, **kwargs})


def test_ids_are_registered_with_vector_entry_points() -> None:
    assert set(SUPERNET_ENVS) == {
        "nasgym/Supernet201-v0",
        *(f"nasgym/Supernet201{m}-v0" for m in MODES),
    }
    assert set(SUPERNET_ENVS) <= set(ALL_ENVS) and set(nasgym.ALL_ENVS) == set(ALL_ENVS)
    for env_id, (module, cls) in SUPERNET_ENVS.items():
        spec = gym.spec(env_id)
        assert spec.entry_point == f"{module}:{cls}"
        assert spec.vector_entry_point == f"{module}:{cls[:-3]}VectorEnv"
    assert SUPERNET_ENVS["nasgym/Supernet201-v0"][1] == "Supernet201QueryEnv"


@pytest.mark.parametrize("mode", MODES)
def test_checkers_and_seeded_determinism(mode: str) -> None:
    env = make(mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3: 2-D Dict entries are unconventional
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped)
    first, actions = rollout(make(mode, horizon=3), 5, seed=4, action_seed=1)
    again, _ = rollout(make(mode, horizon=3), 5, seed=4, action_seed=1, actions=actions)
    assert_same_rollouts(first, again)
    for obs, _, _, _, info in first:
        assert env.observation_space.contains(obs)
        keys = (
            set(INFO_TYPES)
            | set(EXTRA)
            | ({"action_mask"} if mode == "Edit" else set())
        )
        assert set(info) == keys
        for key, types in {**INFO_TYPES, **EXTRA}.items():
            assert type(info[key]) in types, (key, info[key])


def test_every_step_trains_and_is_a_query_until_the_budget_is_spent() -> None:
    env = make("Query", max_queries=3)
    env.reset(seed=0)
    cell = np.array([3, 3, 1, 0, 2, 4])
    for k in range(1, 4):
        _, reward, _, truncated, info = env.step(cell)
        assert info["new_query"] and info["queries"] == k and info["weight_steps"] == k
        assert reward == pytest.approx(info["valid_accuracy"] / 100)
        assert info["arch"] == NB201Arch(tuple(cell.tolist())).to_str()
        assert info["arch_code"] == int(NB201Space().vectors_to_codes(cell[None])[0])
        assert info["test_accuracy"] == info["valid_accuracy"]  # no benchmark
        assert math.isfinite(info["train_loss"])
    assert truncated and info["budget_exhausted"]
    # spent: training stops, the same cell at the same weights is a free revisit
    env.reset()
    _, _, _, _, again = env.step(cell)
    assert not again["new_query"] and again["weight_steps"] == 3
    assert again["valid_accuracy"] == info["valid_accuracy"]
    _, reward, _, _, rejected = env.step(np.array([1, 1, 1, 1, 1, 1]))
    assert reward == 0.0 and "budget" in rejected["invalid_action"]
    assert rejected["queries"] == 3


def test_without_training_revisits_are_free_and_values_match_the_supernet() -> None:
    env = make("Query", train_steps_per_query=0)
    env.reset(seed=1)
    supernet = env.unwrapped.supernet  # type: ignore[attr-defined]
    cells = [(0, 1, 2, 3, 4, 0), (3, 3, 3, 3, 3, 3)]
    infos = [env.step(np.array(c))[4] for c in cells + cells]
    assert [i["new_query"] for i in infos] == [True, True, False, False]
    assert infos[-1]["queries"] == 2 and "train_loss" not in infos[-1]
    supernet.train_step(cells[0])  # an agent's own weight step: every cell is new
    assert env.step(np.array(cells[0]))[4]["new_query"]


def test_edit_env_masks_and_penalises_no_op_edits() -> None:
    env = make("Edit")
    _, info = env.reset(seed=2)
    current = NB201Arch.from_str(info["arch"]).ops
    mask = info["action_mask"]
    assert (
        mask.sum() == 24
        and not mask[[s * 5 + op for s, op in enumerate(current)]].any()
    )
    _, reward, _, _, info = env.step(current[0])  # slot 0 -> its own op: masked
    assert reward == 0.0 and "masked" in info["invalid_action"] and info["queries"] == 1
    with pytest.raises(InvalidActionError, match="out of range"):
        env.step(30)


def test_edit_env_restarts_from_the_incumbent_once_the_budget_is_spent() -> None:
    env = make("Edit", max_queries=2)
    _, info = env.reset(seed=5)
    legal = int(np.flatnonzero(info["action_mask"])[0])
    info = env.step(legal)[4]
    assert info["budget_exhausted"] and info["queries"] == 2
    _, again = env.reset()
    assert again["arch"] == info["best_arch"] and not again["new_query"]
    assert (
        again["queries"] == 2 and again["valid_accuracy"] == info["best_valid_accuracy"]
    )


def test_continuous_env_decodes_by_argmax() -> None:
    env = make("Continuous")
    env.reset(seed=0)
    scores = np.full((6, 5), -1.0, dtype=np.float32)
    scores[np.arange(6), [4, 3, 2, 1, 0, 4]] = 1.0
    info = env.step(scores.ravel())[4]
    assert NB201Arch.from_str(info["arch"]).ops == (4, 3, 2, 1, 0, 4)
    with pytest.raises(InvalidActionError, match="shape"):
        env.step(np.zeros(3, dtype=np.float32))


def test_vector_env_shares_one_supernet_and_batches_evaluation() -> None:
    vec = gym.make_vec(
        "nasgym/Supernet201Query-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        **{**TINY, "eval_batches": None},
    )
    inner = vec.unwrapped
    supernet = inner.supernet  # type: ignore[attr-defined]
    assert all(e.supernet is supernet for e in inner.unwrapped_envs)  # type: ignore[attr-defined]
    vec.reset(seed=3)
    actions = np.array([[3, 3, 3, 3, 3, 3], [0, 1, 2, 3, 4, 0], [3, 3, 3, 3, 3, 3]])
    _, rewards, _, _, info = vec.step(actions)
    assert supernet.weight_steps == 3 and (info["weight_steps"] == 3).all()
    expected = supernet.evaluate([tuple(a) for a in actions.tolist()])
    np.testing.assert_allclose(info["valid_accuracy"], expected)
    assert rewards[0] == rewards[2]
    vec.reset(seed=3)
    assert supernet.weight_steps == 0
    np.testing.assert_array_equal(vec.step(actions)[1], rewards)


def test_checkpoint_kwarg_starts_every_seeded_search_from_it(tmp_path: Path) -> None:
    env = make("Query")
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.array([3, 3, 3, 3, 3, 3]))
    path = tmp_path / "supernet.pt"
    env.unwrapped.save_checkpoint(path)  # type: ignore[attr-defined]
    resumed = make("Query", checkpoint=path, train_steps_per_query=0)
    for seed in (0, 7):
        resumed.reset(seed=seed)
        assert resumed.unwrapped.supernet.weight_steps == 3  # type: ignore[attr-defined]
    cell = np.array([1, 2, 3, 4, 0, 1])
    same = make("Query", train_steps_per_query=0)
    same.reset(seed=0)
    same.unwrapped.load_checkpoint(path)  # type: ignore[attr-defined]
    assert (
        resumed.step(cell)[4]["valid_accuracy"] == same.step(cell)[4]["valid_accuracy"]
    )


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownOptionError, match="supernet dataset"):
        make("Query", dataset="mnist")
    with pytest.raises(UnknownOptionError, match="train_arch"):
        make("Query", train_arch="best")
    with pytest.raises(UnknownOptionError, match="train_steps_per_query"):
        make("Query", train_steps_per_query=-1)
    with pytest.raises(UnknownOptionError, match="channels"):
        make("Query", channels=0)
    with pytest.raises(UnknownOptionError, match="benchmark_dataset"):
        make("Query", benchmark_dataset="imagenet")
    with pytest.raises(
        UnknownOptionError, match=r"nasgym\.oneshot\.supernet\.Supernet"
    ):
        Supernet201QueryEnv(supernet="not a supernet")
    with pytest.raises(BenchmarkDataMissingError, match="cifar-10-batches-py"):
        make("Query", dataset="cifar10", data_dir=tmp_path, image_size=None)
    with pytest.raises(BenchmarkDataMissingError):
        make("Query", benchmark_dataset="cifar10", benchmark_path=tmp_path / "x.npz")
    with pytest.raises(InvalidActionError, match="entry 2"):
        env = make("Query")
        env.reset(seed=0)
        env.step(np.array([0, 0, 5, 0, 0, 0]))


@pytest.mark.data
def test_benchmark_accuracies_are_reported_not_rewarded(nb201_table: Path) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark

    env = make("Query", benchmark_dataset="cifar10", benchmark_path=nb201_table)
    env.reset(seed=0)
    bench = NB201Benchmark("cifar10", path=nb201_table)
    rng = np.random.default_rng(0)
    for _ in range(3):
        _, reward, _, _, info = env.step(draw_action(env, rng))
        code = info["arch_code"]
        assert info["benchmark_valid_accuracy"] == bench.table("valid@12")[code]
        assert info["benchmark_test_accuracy"] == bench.table("test@200")[code]
        assert info["test_accuracy"] == info["benchmark_test_accuracy"]
        assert reward == pytest.approx(info["valid_accuracy"] / 100)  # supernet's
    assert info["regret"] == pytest.approx(
        bench.optimum("test@200") - info["best_test_accuracy"]
    )


@pytest.mark.parametrize("seed", [2**63, 2**70, 2**128 + 5])
def test_every_gymnasium_seed_is_accepted(seed: int) -> None:
    # torch.manual_seed refuses seeds >= 2**64; Gymnasium takes any int >= 0.
    env = make("Query", horizon=3)
    env.reset(seed=seed)
    action = env.action_space.sample()
    first = env.step(action)[1]
    env.reset(seed=seed)
    assert env.step(action)[1] == first
    vec = gym.make_vec("nasgym/Supernet201Query-v0", num_envs=2, **{**TINY})
    vec.reset(seed=seed)
    vec.close()


def test_torch_seed_keeps_small_seeds_and_separates_large_ones() -> None:
    from nasgym.oneshot.supernet import torch_seed

    assert torch_seed(0) == 0 and torch_seed(2**63 - 1) == 2**63 - 1
    large = {torch_seed(2**70 + i) for i in range(50)}
    assert len(large) == 50 and all(0 <= s < 2**63 for s in large)


def test_nan_action_is_not_finite_not_a_shape_error() -> None:
    env = make("Continuous", horizon=3)
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[0] = np.nan
    with pytest.raises(InvalidActionError, match="not finite: 1 of 30 entries"):
        env.step(action)
