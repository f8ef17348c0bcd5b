"""NB101Edit-v0 and NB101Query-v0 on EC-NAS-Bench's real table.

EC-NAS covers only 2,532 cells of the NB101 space, so the tests also pin that edits
leading outside the table are masked (and explained), and that the neighbour table
equals a brute-force pass over :func:`nasgym.spaces.nb101.apply_edit`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasgym.benchmarks.nb101 import NB101Benchmark
from nasgym.envs.nb101 import (
    PAIRS,
    NB101EditEnv,
    NB101QueryEnv,
    nb101_tables,
    neighbour_rows,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownOptionError,
)
from nasgym.spaces.nb101 import (
    INTERIOR_OPS,
    NUM_EDIT_ACTIONS,
    OPS,
    apply_edit,
    graph_arrays,
    is_valid,
    nb101_hash,
)

pytestmark = pytest.mark.data


def edit_env(bench: NB101Benchmark, **kwargs: Any) -> NB101EditEnv:
    env = gym.make("nasgym/NB101Edit-v0", benchmark=bench, **kwargs).unwrapped
    assert isinstance(env, NB101EditEnv)
    return env


def query_env(bench: NB101Benchmark, **kwargs: Any) -> NB101QueryEnv:
    env = gym.make("nasgym/NB101Query-v0", benchmark=bench, **kwargs).unwrapped
    assert isinstance(env, NB101QueryEnv)
    return env


def brute_mask(bench: NB101Benchmark, local: int) -> np.ndarray:
    tables = nb101_tables(bench)
    cell = tables.cell(local)
    mask = np.zeros(NUM_EDIT_ACTIONS, dtype=bool)
    for a in range(NUM_EDIT_ACTIONS):
        result = apply_edit(cell, a)
        mask[a] = (
            result is not None
            and nb101_hash(result) != tables.hashes[local]
            and bench.contains(result)
        )
    return mask


# ------------------------------------------------------------------ masks
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(local=st.integers(0, 2531))
def test_mask_equals_brute_force_over_apply_edit(
    ecnas_bench: NB101Benchmark, local: int
) -> None:
    tables = nb101_tables(ecnas_bench)
    assert np.array_equal(tables.masks[local], brute_mask(ecnas_bench, local))
    for a in np.flatnonzero(tables.masks[local]):
        target = tables.neighbours[local, a]
        result = apply_edit(tables.cell(local), int(a))
        assert result is not None and nb101_hash(result) == tables.hashes[target]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**31 - 1))
def test_masked_walk_stays_valid_and_in_table(
    ecnas_bench: NB101Benchmark, seed: int
) -> None:
    env = edit_env(ecnas_bench, horizon=30)
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    for _ in range(30):
        mask = env.action_masks()
        assert np.array_equal(mask, info["action_mask"])
        assert np.array_equal(mask, brute_mask(ecnas_bench, env._cur))
        assert env.observation_space.contains(obs)
        obs, _, _, truncated, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        assert info["invalid_action"] is None
        cell = env.current_cell
        assert cell is not None and is_valid(cell)
        assert ecnas_bench.contains(cell) and nb101_hash(cell) == info["arch"]
        if truncated:
            break


def test_observation_is_the_table_cell(ecnas_bench: NB101Benchmark) -> None:
    env = edit_env(ecnas_bench)
    obs, info = env.reset(seed=4)
    cell = env.current_cell
    assert cell is not None
    adjacency, op_index = graph_arrays(cell)
    assert np.array_equal(obs["adjacency"], adjacency.astype(np.float32))
    pad = op_index < 0
    labels = np.where(pad, len(OPS), op_index)
    assert np.array_equal(obs["ops"].argmax(axis=1), labels)
    assert np.array_equal(obs["node_mask"], (~pad).astype(np.float32))
    assert info["arch_code"] == info["arch_class"] == int(ecnas_bench.indices(cell)[0])


def test_masked_edit_penalize_and_raise(ecnas_bench: NB101Benchmark) -> None:
    env = edit_env(ecnas_bench, invalid_reward=-0.5)
    _, before = env.reset(seed=0)
    masked = int(np.flatnonzero(~env.action_masks())[0])
    _, reward, _, _, info = env.step(masked)
    assert reward == -0.5
    assert info["arch"] == before["arch"] and info["queries"] == before["queries"]
    assert not info["new_query"]
    assert f"edit action {masked}" in info["invalid_action"]
    assert "action_masks()" in info["invalid_action"]
    assert env.step_count == 1
    strict = edit_env(ecnas_bench, invalid_action="raise")
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match=f"edit action {masked}"):
        strict.step(masked)


def test_edit_outside_the_table_is_masked_and_explained(
    ecnas_bench: NB101Benchmark,
) -> None:
    """A valid edit whose result EC-NAS does not hold is masked, with that reason."""
    tables = nb101_tables(ecnas_bench)
    for local in range(len(tables)):
        cell = tables.cell(local)
        for a in range(NUM_EDIT_ACTIONS):
            result = apply_edit(cell, a)
            if (
                result is not None
                and nb101_hash(result) != tables.hashes[local]
                and not ecnas_bench.contains(result)
            ):
                break
        else:
            continue
        break
    else:  # pragma: no cover - EC-NAS is a small subspace
        pytest.fail("every edit of every EC-NAS cell stays in the table")
    assert not tables.masks[local, a]
    env = edit_env(ecnas_bench)
    env.reset(seed=0)
    env._cur = local
    *_, info = env.step(a)
    assert "does not hold" in info["invalid_action"]


def test_neighbour_table_is_cached_next_to_the_table(
    ecnas_bench: NB101Benchmark,
) -> None:
    tables = nb101_tables(ecnas_bench)
    _ = tables.neighbours
    path = tables._cache_path()
    assert path.parent == Path(ecnas_bench.data.path).parent and path.is_file()
    assert np.array_equal(tables._neighbour_rows(), np.load(path))


def test_slow_first_build_says_what_it_caches_where(
    ecnas_bench: NB101Benchmark,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 15.19: the first NB101 build ran 100 s with no output.
    import shutil

    from nasgym.envs import nb101 as envs_nb101

    copy = tmp_path / "ecnas.npz"
    shutil.copy(ecnas_bench.data.path, copy)
    bench = NB101Benchmark("ecnas", path=copy)
    monkeypatch.setattr(envs_nb101, "ANNOUNCE_S", 0.0)
    tables = nb101_tables(bench)
    serial = tables.neighbours
    err = capsys.readouterr().err
    path = tables._cache_path()
    assert f"building the edit table of {bench.name}" in err
    assert f"cached in {path}" in err and path.is_file()
    assert "NB101 edit table" in err and "cells" in err  # the tqdm bar
    assert np.array_equal(serial, nb101_tables(ecnas_bench).neighbours)
    # Fast builds (the estimate below ANNOUNCE_S) stay quiet.
    monkeypatch.setattr(envs_nb101, "ANNOUNCE_S", 1e9)
    path.unlink()
    envs_nb101._TABLES.clear()
    _ = nb101_tables(NB101Benchmark("ecnas", path=copy)).neighbours
    assert capsys.readouterr().err == ""


def test_parallel_neighbour_build_equals_serial(ecnas_bench: NB101Benchmark) -> None:
    tables = nb101_tables(ecnas_bench)
    serial = tables._neighbour_rows()
    kind, path = ecnas_bench.data.kind, str(ecnas_bench.data.path)
    head = tables.rows[:150].tolist()
    assert np.array_equal(neighbour_rows(kind, path, head), serial[:150])
    assert np.array_equal(neighbour_rows(kind, path, head, workers=2), serial[:150])


# --------------------------------------------------------------- samplers
@pytest.mark.parametrize("sampler", ["uniform", "bananas", "nb101", "nb101-dist"])
def test_samplers_start_in_the_table_deterministically(
    ecnas_bench: NB101Benchmark, sampler: str
) -> None:
    starts = []
    for _ in range(2):
        env = edit_env(ecnas_bench, sampler=sampler)
        starts.append([env.reset(seed=s)[1]["arch"] for s in range(6)])
    assert starts[0] == starts[1]
    assert len(set(starts[0])) > 1
    assert all(ecnas_bench.contains(h) for h in starts[0])


def test_unknown_sampler_and_table(ecnas_bench: NB101Benchmark) -> None:
    with pytest.raises(UnknownOptionError, match="'uniform'") as err:
        edit_env(ecnas_bench, sampler="random")
    assert "'bananas'" in str(err.value) and "'nb101'" in str(err.value)
    with pytest.raises(UnknownOptionError, match="'full'"):
        gym.make("nasgym/NB101Edit-v0", table="nb201")
    with pytest.raises(UnknownOptionError, match="epochs"):
        edit_env(ecnas_bench, epochs=108)
    with pytest.raises(UnknownOptionError, match="NB101Benchmark"):
        gym.make("nasgym/NB101Query-v0", benchmark=object())


def test_missing_table_names_file_and_command(tmp_path: Path) -> None:
    for env_id in ("nasgym/NB101Edit-v0", "nasgym/NB101Query-v0"):
        with pytest.raises(BenchmarkDataMissingError, match=r"ecnas\.npz") as err:
            gym.make(env_id, table="ecnas", path=tmp_path)
        assert "nasgym data import ecnas" in str(err.value)


# ---------------------------------------------------------- info vs table
def test_info_matches_the_benchmark(ecnas_bench: NB101Benchmark) -> None:
    env = edit_env(ecnas_bench, max_queries=40, horizon=200)
    rng = np.random.default_rng(1)
    _, info = env.reset(seed=9)
    sim = 0.0
    seen = set()
    while True:
        h = info["arch"]
        assert info["valid_accuracy"] == pytest.approx(ecnas_bench.query(h, "valid"))
        assert info["test_accuracy"] == pytest.approx(ecnas_bench.query(h, "test"))
        if h not in seen:
            seen.add(h)
            sim += ecnas_bench.query(h, "train_time_s")
        assert info["sim_time_s"] == pytest.approx(sim)
        best = info["best_arch"]
        assert info["best_test_accuracy"] == pytest.approx(
            ecnas_bench.query(best, "test")
        )
        assert info["regret"] == pytest.approx(
            ecnas_bench.optimum("test")[0] - info["best_test_accuracy"]
        )
        if info["budget_exhausted"]:
            break
        _, _, _, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    assert info["queries"] == len(seen) == 40


def test_reward_is_power_six_of_validation(ecnas_bench: NB101Benchmark) -> None:
    env = edit_env(ecnas_bench)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert reward == pytest.approx((info["valid_accuracy"] / 100.0) ** 6)
    exp = edit_env(ecnas_bench, reward="exp", alpha=3.0)
    exp.reset(seed=0)
    _, reward, _, _, info = exp.step(int(np.flatnonzero(exp.action_masks())[0]))
    assert reward == pytest.approx(math.exp(3.0 * (info["valid_accuracy"] / 100 - 1)))


def test_budget_start_from_incumbent(ecnas_bench: NB101Benchmark) -> None:
    env = edit_env(ecnas_bench, max_queries=3)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    while not info["budget_exhausted"]:
        *_, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    _, info = env.reset()
    assert info["arch"] == info["best_arch"] and info["queries"] == 3
    assert not info["new_query"]


# ------------------------------------------------------------------ query
def cell_action(bench: NB101Benchmark, local: int) -> np.ndarray:
    """The Query action of a table cell (7-vertex padded; unused vertices off-path)."""
    cell = nb101_tables(bench).cell(local)
    n = cell.num_vertices
    # place vertex i < n - 1 at i and the output at 6; extra vertices stay isolated
    where = [*range(n - 1), 6]
    bits = np.zeros(len(PAIRS), dtype=np.int64)
    for u, w in cell.edges():
        bits[PAIRS.index((where[u], where[w]))] = 1
    ops = np.zeros(5, dtype=np.int64)
    for v in range(1, n - 1):
        ops[v - 1] = INTERIOR_OPS.index(cell.ops[v])
    return np.concatenate([bits, ops])


def test_query_reaches_table_cells(ecnas_bench: NB101Benchmark) -> None:
    env = query_env(ecnas_bench)
    obs, info = env.reset(seed=0)
    assert info["arch"] is None and info["queries"] == 0
    assert not obs["node_mask"].any() and obs["ops"][:, -1].all()
    tables = nb101_tables(ecnas_bench)
    for local in (0, 17, 2000):
        _, _, _, _, info = env.step(cell_action(ecnas_bench, local))
        assert info["invalid_action"] is None
        assert info["arch"] == tables.hashes[local]
    _, _, _, _, again = env.step(cell_action(ecnas_bench, 0))
    assert again["queries"] == 3 and not again["new_query"]


def test_query_invalid_and_absent_cells_cost_nothing(
    ecnas_bench: NB101Benchmark,
) -> None:
    env = query_env(ecnas_bench, invalid_reward=-1.0)
    env.reset(seed=0)
    empty = np.zeros(26, dtype=np.int64)
    _, reward, _, _, info = env.step(empty)
    assert reward == -1.0 and info["queries"] == 0
    assert "input does not reach the output" in info["invalid_action"]
    dense = np.ones(26, dtype=np.int64)  # 21 edges
    _, _, _, _, info = env.step(dense)
    assert "edges after pruning" in info["invalid_action"]
    chain = np.zeros(26, dtype=np.int64)  # 0->1->2->3->4->5->6: a 7-vertex cell
    for u in range(6):
        chain[PAIRS.index((u, u + 1))] = 1
    _, _, _, _, info = env.step(chain)
    assert "does not hold" in info["invalid_action"] and info["queries"] == 0
    strict = query_env(ecnas_bench, invalid_action="raise")
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match="not a valid NB101 cell"):
        strict.step(empty)


# ----------------------------------------------------------------- agents
def test_maskable_ppo_smoke(ecnas_bench: NB101Benchmark) -> None:
    sb3_contrib = pytest.importorskip("sb3_contrib")
    env = gym.make("nasgym/NB101Edit-v0", benchmark=ecnas_bench, horizon=20)
    model = sb3_contrib.MaskablePPO(
        "MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0
    )
    model.learn(256)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks())
    *_, info = env.step(int(action))
    assert info["invalid_action"] is None
