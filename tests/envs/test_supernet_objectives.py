"""``objectives=[...]`` in the Supernet201 envs: exact params/FLOPs costs, MONAS forms.

The costs are checked against networks built and counted directly
(:class:`nasgym.oneshot.nn.nb201.NB201Network`,
:func:`nasgym.oneshot.zero_cost.params_of` and the forward-hook counter
:func:`nasgym.oneshot.zero_cost.flops_of`), the rewards against hand computation, and
the vector env against single envs on equal fixed weights.
"""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from tiny_supernet import tiny_supernet
from vector_checks import assert_vector_rewards_match_singles

import nasgym  # noqa: F401
from nasgym import zero_cost
from nasgym.envs.supernet import Supernet201QueryEnv, cell_costs
from nasgym.error import UnknownOptionError
from nasgym.oneshot.nn.nb201 import NB201Network
from nasgym.oneshot.supernet import Supernet
from nasgym.spaces.nb201 import NB201Arch, NB201Space
from nasgym.wrappers import LinearScalarization

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPACE = NB201Space()
#: Channels 4, one cell per stage, 8x8 grey digits (10 classes).
TINY = tiny_supernet(channels=4)
SHAPE = (1, 8, 8)
THREE = ["valid_accuracy", "params", "flops"]


def make(mode: str, **kwargs: Any) -> Any:
    return gym.make(
        f"nasgym/Supernet201{mode}-v0", disable_env_checker=True, **{**TINY, **kwargs}
    )


def counted(code: int, C: int = 4, N: int = 1, shape: tuple[int, ...] = SHAPE) -> Any:
    """``(params, flops)`` in millions of the NB201 network of ``code``, counted."""
    net = NB201Network(SPACE.from_code(code), C=C, N=N, in_channels=shape[0])
    return zero_cost.params_of(net) / 1e6, zero_cost.flops_of(net, shape) / 1e6


def test_costs_equal_the_counted_networks_and_their_exact_range() -> None:
    costs = cell_costs(4, 1, SHAPE, 10)
    assert set(costs) == {"params", "flops"}
    assert all(
        c.shape == (SPACE.size,) and not c.flags.writeable for c in costs.values()
    )
    codes = np.random.default_rng(0).choice(SPACE.size, 12, replace=False)
    for code in codes.tolist():
        params, flops = counted(code)
        assert costs["params"][code] == pytest.approx(params, rel=1e-12)
        assert costs["flops"][code] == pytest.approx(flops, rel=1e-12)
        arch = SPACE.from_code(code)
        closed = zero_cost.nb201_flops(arch, C=4, N=1, input_shape=SHAPE) / 1e6
        assert costs["flops"][code] == pytest.approx(closed, rel=1e-12)
    # The range: all-"none" is the cheapest cell, all-conv3x3 the dearest.
    none, conv = SPACE.code(NB201Arch((0,) * 6)), SPACE.code(NB201Arch((3,) * 6))
    for j, name in enumerate(("params", "flops")):
        assert costs[name].min() == pytest.approx(counted(none)[j], rel=1e-12)
        assert costs[name].max() == pytest.approx(counted(conv)[j], rel=1e-12)
    # NB201 size (C=16, N=5, CIFAR-10 images): arch 11's published 0.802426 M.
    big = cell_costs(16, 5, (3, 32, 32), 10)
    arch = NB201Arch.from_str(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+"
        "|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    )
    assert big["params"][SPACE.code(arch)] == pytest.approx(0.802426)


def _raw(info: dict[str, Any]) -> tuple[float, float, float]:
    params, flops = counted(int(info["arch_code"]))
    return float(info["valid_accuracy"]), params, flops


def test_vector_reward_reward_space_and_info() -> None:
    env = make("Query", objectives=THREE)
    space = env.unwrapped.reward_space
    assert space == gym.spaces.Box(
        np.array([0, -1, -1], np.float32), np.array([1, 0, 0], np.float32)
    )
    costs = cell_costs(4, 1, SHAPE, 10)
    low = np.array([costs["params"].min(), costs["flops"].min()])
    high = np.array([costs["params"].max(), costs["flops"].max()])
    _, info = env.reset(seed=0)
    assert all(np.isnan(v) for v in info["objectives"].values())
    env.action_space.seed(0)
    for _ in range(4):
        _, reward, _, _, info = env.step(env.action_space.sample())
        assert reward.shape == (3,) and reward.dtype == np.float32
        assert space.contains(reward)
        valid, params, flops = _raw(info)
        assert info["objectives"] == pytest.approx(
            {"valid_accuracy": valid, "params": params, "flops": flops}
        )
        expected = [valid / 100, *(-(np.array([params, flops]) - low) / (high - low))]
        np.testing.assert_allclose(reward, expected, rtol=1e-6, atol=1e-7)
        best = info["incumbent_objectives"]
        assert best["valid_accuracy"] == info["best_valid_accuracy"]
        best_code = SPACE.code(NB201Arch.from_str(info["best_arch"]))
        assert (best["params"], best["flops"]) == pytest.approx(counted(best_code))


def test_weighted_form_by_hand() -> None:
    env = make(
        "Edit",
        objectives=THREE,
        mo_reward="weighted",
        mo_alpha=0.7,
        cost_weights=[0.25, 0.75],
        reward="power",
        alpha=2.0,
    )
    assert env.unwrapped.reward_space is None
    costs = cell_costs(4, 1, SHAPE, 10)
    span = {n: costs[n].max() - costs[n].min() for n in costs}
    env.reset(seed=1)
    for _ in range(4):
        mask = env.unwrapped.action_masks()
        _, reward, _, _, info = env.step(int(np.flatnonzero(mask)[3]))
        assert isinstance(reward, float)
        valid, params, flops = _raw(info)
        norm_p = (params - costs["params"].min()) / span["params"]
        norm_f = (flops - costs["flops"].min()) / span["flops"]
        expected = 0.7 * (valid / 100) ** 2 - 0.3 * (0.25 * norm_p + 0.75 * norm_f)
        assert reward == pytest.approx(expected, rel=1e-9)


def test_accuracy_only_keeps_the_scalar_reward() -> None:
    env = make("Continuous", objectives=["valid_accuracy"], reward="exp", alpha=3.0)
    assert env.unwrapped.reward_space is None
    env.reset(seed=4)
    env.action_space.seed(4)
    for _ in range(2):
        _, reward, _, _, info = env.step(env.action_space.sample())
        assert isinstance(reward, float)
        assert reward == pytest.approx(np.exp(3.0 * (info["valid_accuracy"] / 100 - 1)))
        assert info["objectives"] == {"valid_accuracy": info["valid_accuracy"]}


def test_constrained_form_by_hand() -> None:
    costs = cell_costs(4, 1, SHAPE, 10)["params"]
    limit = float(np.median(costs))
    env = make(
        "Query",
        objectives=["valid_accuracy", "params"],
        mo_reward="constrained",
        cost_threshold=limit,
        constraint_penalty=-1.0,
    )
    env.reset(seed=2)
    env.action_space.seed(2)
    seen = set()
    for _ in range(8):
        _, reward, _, _, info = env.step(env.action_space.sample())
        valid, params, _ = _raw(info)
        over = params > limit
        seen.add(over)
        assert info["constraint_violated"] is over
        assert reward == (-1.0 if over else valid / 100)
    assert seen == {True, False}


def test_error_paths() -> None:
    with pytest.raises(UnknownOptionError, match="costs 'params', 'flops'") as err:
        make("Query", objectives=["valid_accuracy", "latency"])
    assert "supernet computes its costs" in str(err.value)
    with pytest.raises(UnknownOptionError, match="must include 'valid_accuracy'"):
        make("Query", objectives=["params"])
    with pytest.raises(UnknownOptionError, match="needs objectives"):
        make("Continuous", mo_reward="weighted")
    with pytest.raises(UnknownOptionError, match="needs cost_threshold"):
        make("Query", objectives=THREE, mo_reward="constrained")
    env = make("Query", objectives=THREE, benchmark_dataset=None)
    with pytest.raises(UnknownOptionError, match="shared-weight accuracy"):
        env.unwrapped.objective_table()
    with pytest.raises(UnknownOptionError, match="needs an NB201 benchmark"):
        env.unwrapped.objective_table(accuracy="test")
    with pytest.raises(UnknownOptionError, match="costs 'params', 'flops'"):
        env.unwrapped.objective_table(["valid_accuracy", "energy"], accuracy="test")
    with pytest.raises(UnknownOptionError, match="accuracy"):
        env.unwrapped.objective_table(accuracy="best")
    with pytest.raises(UnknownOptionError, match="needs names"):
        make("Query").unwrapped.objective_table()


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("Query", {"mo_reward": "weighted"}),
        ("Edit", {"mo_reward": "constrained", "cost_threshold": [0.01, 0.1]}),
        ("Continuous", {}),  # the vector form, scalarised
    ],
)
def test_checkers(mode: str, options: dict[str, Any]) -> None:
    env = make(mode, objectives=THREE, horizon=4, **options).unwrapped
    if not options:
        env = LinearScalarization(env, weights=[0.6, 0.2, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3: 2-D Dict entries are unconventional
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env)


def test_vector_env_equals_single_envs_on_equal_weights() -> None:
    kwargs = {**TINY, "eval_batches": None, "train_steps_per_query": 0}
    supernet_kwargs = {k: v for k, v in kwargs.items() if k != "train_steps_per_query"}
    names = ["valid_accuracy", "flops"]
    vec = gym.make_vec(
        "nasgym/Supernet201Query-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        objectives=names,
        horizon=3,
        **kwargs,
    )
    own = Supernet(**supernet_kwargs)
    singles = [
        Supernet201QueryEnv(supernet=own, objectives=names, horizon=3, **kwargs)
        for _ in range(2)
    ]
    assert vec.unwrapped.reward_space == singles[0].reward_space  # type: ignore[attr-defined]
    vec.reset(seed=5)
    own.reset(5)  # the vector env re-initialises its supernet from the seed
    for i, env in enumerate(singles):
        env.reset(seed=5 + i)
    vec.action_space.seed(0)
    assert_vector_rewards_match_singles(vec, singles, vec.action_space.sample, 7)
    assert torch.get_num_threads() == 1


@pytest.mark.data
def test_objective_table_with_a_benchmark_is_nb201_test_accuracy(
    nb201_table: Any,
) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark
    from nasgym.pareto import true_front

    env = make(
        "Query",
        objectives=THREE,
        benchmark_dataset="cifar10",
        benchmark_path=nb201_table,
    ).unwrapped
    table = env.objective_table(accuracy="test")
    costs = cell_costs(4, 1, SHAPE, 10)
    bench = NB201Benchmark("cifar10", path=nb201_table)
    assert table.shape == (SPACE.size, 3)
    np.testing.assert_array_equal(table[:, 0], bench.table("test@200"))
    np.testing.assert_array_equal(table[:, 1], costs["params"])
    np.testing.assert_array_equal(table[:, 2], costs["flops"])
    front = true_front(env, ["valid_accuracy", "flops"])
    assert front.accuracy == "test" and 1 <= len(front.front) < SPACE.size
    with pytest.raises(UnknownOptionError, match="shared-weight accuracy"):
        env.objective_table(accuracy="valid")


def test_objective_units_reach_the_leaderboard_header() -> None:
    from nasgym.leaderboard.objectives import _units

    env = make("Query", objectives=THREE, max_queries=5)
    assert env.unwrapped.objective_units == {
        "valid_accuracy": "%",
        "params": "M",
        "flops": "MFLOPs",
    }
    assert _units(env, list(THREE)) == {"params": "M", "flops": "MFLOPs"}
    assert make("Query", max_queries=5).unwrapped.objective_units == {}
