"""NB301Edit-v0, NB301Continuous-v0 and NB301Query-v0 on the real YAHPO surrogate."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasgym.benchmarks.nb301 import MODEL_FILE, NB301Surrogate
from nasgym.envs.keyed import KeyedNASEnv
from nasgym.envs.nb301 import (
    SCORE_WIDTH,
    NB301ContinuousEnv,
    NB301EditEnv,
    NB301QueryEnv,
    genotype_key,
    graph_observation,
    legal_edits,
)
from nasgym.error import BenchmarkDataMissingError, InvalidActionError
from nasgym.error import UnknownOptionError as OptionError
from nasgym.spaces.darts import (
    NUM_EDITS,
    OPS,
    DartsGenotype,
    apply_edit,
    array_keys,
    decode_scores,
    edit_masks,
    encode_scores,
    from_array,
    sample_bananas_array,
    to_node_graph,
)

pytestmark = pytest.mark.data


def make(env_id: str, surrogate: NB301Surrogate, **kwargs: Any) -> Any:
    env = gym.make(f"nasgym/NB301{env_id}-v0", surrogate=surrogate, **kwargs)
    assert isinstance(env.unwrapped, KeyedNASEnv)
    return env.unwrapped


def brute_mask(g: DartsGenotype) -> np.ndarray:
    """Valid, different network, by applying every edit."""
    mask = np.zeros(NUM_EDITS, dtype=bool)
    for a in range(NUM_EDITS):
        edited = apply_edit(g, a, check=False)
        mask[a] = edited.is_valid and edited.key() != g.key()
    return mask


# ------------------------------------------------------------------ edit
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**31 - 1))
def test_masked_walk_matches_brute_force(
    nb301_surrogate: NB301Surrogate, seed: int
) -> None:
    env = make("Edit", nb301_surrogate, horizon=15)
    assert isinstance(env, NB301EditEnv)
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    for _ in range(15):
        g = env.genotype
        assert g is not None and g.is_valid and g.key() == info["arch"]
        mask = env.action_masks()
        assert np.array_equal(mask, brute_mask(g))
        assert np.array_equal(mask, info["action_mask"])
        assert env.observation_space.contains(obs)
        action = int(rng.choice(np.flatnonzero(mask)))
        obs, _, _, truncated, info = env.step(action)
        assert info["invalid_action"] is None
        assert info["arch"] == apply_edit(g, action).key()
        if truncated:
            break


def test_observation_is_the_node_graph(nb301_surrogate: NB301Surrogate) -> None:
    arr = sample_bananas_array(20, 3)
    for row in arr:
        obs = graph_observation(row)
        adjacency, labels, flags = to_node_graph(from_array(row))
        assert np.array_equal(obs["adjacency"], adjacency.astype(np.float32))
        assert np.array_equal(obs["ops"].argmax(axis=1), labels)
        assert np.array_equal(obs["cell"], flags.astype(np.float32))
        assert obs["node_mask"].all() and obs["ops"].sum() == 30


def test_info_matches_the_surrogate(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Edit", nb301_surrogate, epoch=50)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=1)
    sim = 0.0
    seen: set[str] = set()
    for _ in range(12):
        g = DartsGenotype.from_key(info["arch"])
        acc, runtime = nb301_surrogate.predict_one(g, 50)
        assert info["valid_accuracy"] == pytest.approx(acc)
        assert info["test_accuracy"] == info["valid_accuracy"]  # no test value
        if info["arch"] not in seen:
            seen.add(info["arch"])
            sim += runtime
        assert info["sim_time_s"] == pytest.approx(sim, rel=1e-9)
        assert info["arch_code"] == info["arch_class"] == -1
        assert info["regret"] == pytest.approx(100.0 - info["best_test_accuracy"])
        *_, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))


def test_reward_is_power_32_of_validation(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Edit", nb301_surrogate)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert reward == pytest.approx((info["valid_accuracy"] / 100.0) ** 32)


def test_masked_edit_penalize_and_raise(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Edit", nb301_surrogate, invalid_reward=-0.25)
    _, before = env.reset(seed=0)
    masked = np.flatnonzero(~env.action_masks())
    reasons = set()
    for a in masked[:: max(1, masked.size // 12)]:
        _, reward, _, _, info = env.step(int(a))
        assert reward == -0.25 and info["arch"] == before["arch"]
        assert info["queries"] == 1 and not info["new_query"]
        assert f"edit action {int(a)}" in info["invalid_action"]
        reasons.add(info["invalid_action"].split(": ")[-1].split(";")[0][:20])
    assert len(reasons) >= 3  # same op, same input, sibling input, too-late input
    strict = make("Edit", nb301_surrogate, invalid_action="raise")
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match="is masked"):
        strict.step(int(masked[0]))


def test_revisits_use_the_cache(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Edit", nb301_surrogate)
    _, start = env.reset(seed=5)
    a = int(np.flatnonzero(env.action_masks())[0])
    *_, info = env.step(a)
    back = [
        b
        for b in np.flatnonzero(env.action_masks())
        if apply_edit(env.genotype, int(b)).key() == start["arch"]
    ]
    assert back
    calls = len(env._values)
    *_, info = env.step(int(back[0]))
    assert info["arch"] == start["arch"] and not info["new_query"]
    assert info["queries"] == 2 and len(env._values) == calls


def test_unknown_sampler(nb301_surrogate: NB301Surrogate) -> None:
    with pytest.raises(OptionError, match="'bananas'"):
        make("Edit", nb301_surrogate, sampler="uniform")
    with pytest.raises(OptionError, match="epoch"):
        make("Edit", nb301_surrogate, epoch=99)
    with pytest.raises(OptionError, match="NB301Surrogate"):
        gym.make("nasgym/NB301Query-v0", surrogate="model.onnx")


def test_missing_surrogate_file_names_it(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = data_root / "nas-bench-301-yahpo" / "v1_iaml_ex"
    for name in ("encoding.json", "config_space.json"):
        shutil.copy(source / name, tmp_path / name)
    for kind in ("Edit", "Continuous", "Query"):
        with pytest.raises(BenchmarkDataMissingError, match=MODEL_FILE):
            gym.make(f"nasgym/NB301{kind}-v0", path=tmp_path)
    monkeypatch.delenv("NASGYM_DATA_DIR")
    with pytest.raises(BenchmarkDataMissingError, match="NASGYM_DATA_DIR"):
        gym.make("nasgym/NB301Edit-v0")


# ------------------------------------------------------------------ query
def query_vector(g: DartsGenotype) -> np.ndarray:
    """The Query action of a genotype (second inputs relative to the first)."""
    out = []
    for cell in g.cells:
        for j, (op, src) in enumerate(cell):
            value = src
            if j % 2 == 1:
                first = cell[j - 1][1]
                value = src - (src > first)
            out += [value, OPS.index(op)]
    return np.asarray(out, dtype=np.int64)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(vector=st.data())
def test_every_query_vector_is_a_valid_genotype(
    nb301_surrogate: NB301Surrogate, vector: st.DataObject
) -> None:
    env = make("Query", nb301_surrogate)
    assert isinstance(env, NB301QueryEnv)
    env.reset(seed=0)
    nvec = env.action_space.nvec
    action = np.asarray(
        [vector.draw(st.integers(0, int(n) - 1)) for n in nvec], dtype=np.int64
    )
    obs, _, _, _, info = env.step(action)
    assert info["invalid_action"] is None
    g = DartsGenotype.from_key(info["arch"])
    assert g.is_valid and env.observation_space.contains(obs)
    assert env.genotype is not None
    assert np.array_equal(query_vector(env.genotype), action)


def test_query_round_trip_and_revisit(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Query", nb301_surrogate)
    obs, info = env.reset(seed=0)
    assert info["arch"] is None and not obs["node_mask"].any()
    g = from_array(sample_bananas_array(1, 7)[0])
    *_, info = env.step(query_vector(g))
    assert info["arch"] == g.key() and info["queries"] == 1
    swapped = from_array(g.to_array()[:, [1, 0, 2, 3, 4, 5, 6, 7]])
    *_, info = env.step(query_vector(swapped))  # same network, pairs swapped
    assert info["arch"] == g.key() and info["queries"] == 1 and not info["new_query"]


def test_query_over_budget_is_rejected(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Query", nb301_surrogate, max_queries=1, invalid_action="raise")
    env.reset(seed=0)
    arr = sample_bananas_array(2, 1)
    env.step(query_vector(from_array(arr[0])))
    env.step(query_vector(from_array(arr[0])))  # a revisit is free
    with pytest.raises(InvalidActionError, match="budget"):
        env.step(query_vector(from_array(arr[1])))


# ------------------------------------------------------------- continuous
def test_continuous_decodes_per_methods_2_1(nb301_surrogate: NB301Surrogate) -> None:
    env = make("Continuous", nb301_surrogate, top_k=3)
    assert isinstance(env, NB301ContinuousEnv)
    obs, info = env.reset(seed=0)
    assert info["arch"] is None and obs.shape == (2 * SCORE_WIDTH + 4,)
    rng = np.random.default_rng(0)
    kept: list[tuple[float, np.ndarray]] = []
    for _ in range(8):
        action = rng.uniform(-1, 1, SCORE_WIDTH).astype(np.float32)
        obs, _, _, _, info = env.step(action)
        g = decode_scores(action.reshape(2, 14, 8))
        assert info["arch"] == g.key()
        if info["new_query"]:
            kept.append((info["valid_accuracy"], encode_scores(g).ravel()))
        top = sorted(kept, key=lambda p: -p[0])[:3]
        feats = np.stack([f for _, f in top])
        assert np.allclose(obs[:SCORE_WIDTH], feats.mean(axis=0), atol=1e-6)
        assert np.allclose(
            obs[SCORE_WIDTH : 2 * SCORE_WIDTH], feats.std(axis=0), atol=1e-6
        )
    one_hot = encode_scores(from_array(sample_bananas_array(1, 2)[0])).ravel()
    *_, info = env.step(one_hot)  # its own encoding decodes back to it
    assert info["arch"] == from_array(sample_bananas_array(1, 2)[0]).key()
    env.reset(seed=0)  # a seeded reset forgets the history
    obs = env.step(np.zeros(SCORE_WIDTH, np.float32))[0]
    assert not obs[SCORE_WIDTH : 2 * SCORE_WIDTH].any()


def test_invalid_genotype_vectors_raise(nb301_surrogate: NB301Surrogate) -> None:
    """Reading an input twice or a later node cannot be expressed: such entries are
    out of range and raise, naming the pair; nothing is queried."""
    env = make("Query", nb301_surrogate)
    env.reset(seed=0)
    g = from_array(sample_bananas_array(1, 4)[0])
    vector = query_vector(g)
    vector[2] = 1  # normal pair 1 (node 0) has only one *other* input to choose
    with pytest.raises(InvalidActionError, match="input of pair 1 of the normal cell"):
        env.step(vector)
    vector = query_vector(g)
    vector[16] = 2  # reduce pair 0 (node 0) reads input 2, a later node
    with pytest.raises(InvalidActionError, match="input of pair 0 of the reduce cell"):
        env.step(vector)
    assert env.search_info()["queries"] == 0


def test_fast_paths_equal_the_space_functions() -> None:
    arr = sample_bananas_array(3000, 11)
    arr[::2, :, :, 0] = arr[::2, :, ::-1, 0]  # vary ops between siblings
    assert np.array_equal(np.stack([legal_edits(a) for a in arr]), edit_masks(arr))
    assert [genotype_key(a) for a in arr] == array_keys(arr)


def test_nan_action_is_not_finite_not_a_shape_error(nb301_surrogate: Any) -> None:
    env = make("Continuous", nb301_surrogate)
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[3] = np.nan
    with pytest.raises(InvalidActionError, match=r"not finite: 1 of \d+ entries"):
        env.step(action)
    with pytest.raises(InvalidActionError, match=r"got shape \(1, \d+\)"):
        env.step(action[None])
