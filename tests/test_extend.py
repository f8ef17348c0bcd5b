"""nasgym.extend: spaces, benchmarks and registration, tested with hand-made tables."""

from __future__ import annotations

import math
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    InvalidArchitectureError,
    UnknownKeywordError,
    UnknownOptionError,
)
from nasgym.extend import (
    CategoricalSpace,
    GraphView,
    Metric,
    SurrogateBenchmark,
    TableBenchmark,
    register_benchmark_envs,
)
from nasgym.registration import mode_siblings
from nasgym.spaces.nb201 import NB201Space

MODES = ("Edit", "Query", "Continuous")


def pair_space(**kwargs: Any) -> CategoricalSpace:
    """Two slots over the same 3 ops; order does not matter (a set of two ops)."""
    return CategoricalSpace(
        "pair",
        {"a": ["x", "y", "z"], "b": ["x", "y", "z"]},
        canonical=lambda arch: tuple(sorted(arch)),
        **kwargs,
    )


def toy_space() -> CategoricalSpace:
    return CategoricalSpace(
        "toy",
        {
            "op": ["a", "b", "c", "d"],
            "width": ["8", "16", "32"],
            "act": ["relu", "gelu"],
        },
        valid=lambda arch: arch[0] != 3 or arch[1] != 2 or "op d needs width <= 16",
    )


def table(space: CategoricalSpace, **kwargs: Any) -> TableBenchmark:
    vectors = space.codes_to_vectors(np.arange(space.size))
    score = 40.0 + 5.0 * vectors.sum(axis=1) + 0.1 * space.canonical_codes
    options: dict[str, Any] = {
        "dataset": "demo",
        "reward_metric": "valid",
        "report_metric": "test",
    }
    options.update(kwargs.pop("options", {}))
    metrics = {
        "valid": Metric("valid", score),
        "test": Metric("test", score - 1.0),
        "latency_ms": Metric("cost", 1.0 + vectors.max(axis=1), unit="ms"),
        "train_s": Metric("cost", 100.0 + vectors.min(axis=1)),
    }
    metrics.update(kwargs.pop("metrics", {}))
    return TableBenchmark(space, metrics, time_metric="train_s", **options, **kwargs)


_COUNTER = iter(range(10**6))


def register(bench: Any, **kwargs: Any) -> dict[str, str]:
    return register_benchmark_envs(f"test/T{next(_COUNTER)}", bench, **kwargs)


# ----------------------------------------------------------------------- space
def test_space_basics_and_strings() -> None:
    space = toy_space()
    assert space.size == 24 and space.num_valid == 22
    arch = (3, 1, 0)
    assert space.to_string(arch) == "op=d,width=16,act=relu"
    assert space.from_string("act=relu,op=d,width=16") == arch
    with pytest.raises(InvalidArchitectureError, match="needs width <= 16"):
        space.decode([3, 2, 0])
    with pytest.raises(InvalidArchitectureError, match="no choice 'e'"):
        space.from_string("op=e,width=16,act=relu")
    with pytest.raises(InvalidArchitectureError, match="slot=choice"):
        space.from_string("op=a,width=16")
    assert space.node_types[:4] == ("op=a", "op=b", "op=c", "op=d")
    adjacency, ops = space.graph_tables
    code = space.code(arch)
    assert ops[code].tolist() == [3, 4 + 1, 7 + 0] and adjacency[code].sum() == 0
    assert space.from_networkx(space.to_networkx(arch)) == arch


def test_space_rejects_bad_definitions() -> None:
    with pytest.raises(UnknownOptionError, match="non-empty mapping"):
        CategoricalSpace("s", {})
    with pytest.raises(UnknownOptionError, match="no duplicates"):
        CategoricalSpace("s", {"a": ["x", "x"]})
    with pytest.raises(UnknownOptionError, match="without ','"):
        CategoricalSpace("s", {"a": ["x,y"]})
    with pytest.raises(UnknownOptionError, match=r"more than nasgym\.extend"):
        CategoricalSpace("s", {f"s{i}": [str(c) for c in range(10)] for i in range(7)})
    with pytest.raises(UnknownOptionError, match="boolean array of 4"):
        CategoricalSpace("s", {"a": ["x", "y"], "b": ["x", "y"]}, valid=[True, False])


def test_space_mask_and_graph_view() -> None:
    mask = np.ones((2, 2), dtype=bool)
    mask[1, 1] = False
    view = GraphView(
        ("in", "x", "y", "out"),
        4,
        lambda arch: (
            [(0, 1), (1, 2), (2, 3)],
            ["in", "xy"[arch[0]], "xy"[arch[1]], "out"],
        ),
    )
    space = CategoricalSpace(
        "m", {"a": ["x", "y"], "b": ["x", "y"]}, valid=mask, graph=view
    )
    assert space.num_valid == 3
    assert space.invalid_reason(np.array([1, 1])) == "excluded by the space's mask"
    graph = space.to_networkx((0, 1))
    assert [graph.nodes[v]["op"] for v in graph] == ["in", "x", "y", "out"]
    assert space.from_networkx(graph) == (0, 1)


slot_counts = st.integers(1, 3)


@st.composite
def spaces(draw: st.DrawFn) -> tuple[CategoricalSpace, bool]:
    n = draw(slot_counts)
    k = draw(st.integers(1, 4))
    size = k**n
    mask = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    mask[draw(st.integers(0, size - 1))] = True
    symmetric = draw(st.booleans())
    space = CategoricalSpace(
        f"h{n}x{k}",
        {f"s{i}": [f"c{j}" for j in range(k)] for i in range(n)},
        canonical=(lambda arch: tuple(sorted(arch))) if symmetric else None,
        valid=mask,
    )
    return space, symmetric


@settings(max_examples=60, deadline=None)
@given(spaces())
def test_space_invariants(case: tuple[CategoricalSpace, bool]) -> None:
    space, symmetric = case
    canon = space.canonical_codes
    for code in range(space.size):
        vector = space.codes_to_vectors(code)
        valid = bool(space.valid_mask[code])
        assert valid == space.is_valid(vector) == (space.invalid_reason(vector) is None)
        if not valid:
            continue
        arch = space.from_code(code)
        assert space.code(arch) == code
        assert space.decode(space.encode(arch)) == arch
        assert space.from_string(space.to_string(arch)) == arch
        # canonical form: idempotent, a valid member of its own class
        rep = int(canon[code])
        assert int(canon[rep]) == rep and space.valid_mask[rep]
        assert space.canonical(space.canonical(arch)) == space.canonical(arch)
        # edit masks only lead to valid, different architectures
        mask = space.edit_masks(np.array([code]))[0]
        targets = space.apply_edits(
            np.full(space.num_edits, code), np.arange(space.num_edits)
        )
        assert (space.valid_mask[targets[mask]]).all() and (targets[mask] != code).all()
    valid = space.valid_codes
    keys = [
        tuple(sorted(v)) if symmetric else tuple(v)
        for v in space.codes_to_vectors(valid).tolist()
    ]
    for i, a in enumerate(valid):
        for j, b in enumerate(valid):
            assert (keys[i] == keys[j]) == (canon[a] == canon[b])


# ------------------------------------------------------------------ benchmarks
def test_table_benchmark_partial_restricts_space() -> None:
    space = toy_space()
    values = np.full(space.size, np.nan)
    measured = [0, 5, 7, 11]
    values[measured] = [60.0, 70.0, 80.0, 75.0]
    bench = TableBenchmark(
        space,
        {"v": Metric("valid", values), "t": Metric("test", values - 1)},
        dataset="d",
        reward_metric="v",
        report_metric="t",
    )
    assert bench.num_measured == 4 and bench.space.num_valid == 4
    assert bench.full_space is space and bench.space.valid_codes.tolist() == measured
    reason = bench.space.invalid_reason(space.codes_to_vectors(1))
    assert reason == "not measured by toy/d (4 of 22 cells have 'v' and 't')"
    assert bench.optimum() == 79.0
    (ids,) = [register(bench)]
    env = gym.make(ids["Query"], max_queries=4, horizon=50)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(space.codes_to_vectors(1))
    assert reward == 0.0 and "not measured" in info["invalid_action"]
    env.action_space.seed(0)
    hit = set()
    for _ in range(40):
        *_, info = env.step(env.action_space.sample())
        if info["invalid_action"] is None:
            hit.add(info["arch_code"])
    assert hit <= set(measured) and hit
    edit = gym.make(ids["Edit"], horizon=30)
    edit.reset(seed=3)
    for _ in range(30):
        legal = np.flatnonzero(edit.unwrapped.action_masks())
        if legal.size == 0:
            break
        *_, info = edit.step(int(legal[0]))
        assert info["arch_code"] in measured


def test_benchmark_validation_errors() -> None:
    space = toy_space()
    with pytest.raises(UnknownOptionError, match="percent"):
        table(
            space, metrics={"valid": Metric("valid", np.full(space.size, 0.5) + 99.9)}
        )
    with pytest.raises(UnknownOptionError, match="expected 24"):
        table(space, metrics={"valid": Metric("valid", [1.0, 2.0])})
    with pytest.raises(UnknownOptionError, match=r"declared as nasgym\.extend\.Metric"):
        TableBenchmark(
            space,
            {"valid": np.zeros(24)},
            dataset="d",
            reward_metric="valid",
            report_metric="valid",
        )  # type: ignore[dict-item]
    with pytest.raises(UnknownOptionError, match="unknown metric kind"):
        Metric("accuracy")
    with pytest.raises(UnknownOptionError, match="declared a cost"):
        table(space, options={"reward_metric": "latency_ms"})
    with pytest.raises(UnknownOptionError, match="reward_metric"):
        table(space, options={"reward_metric": "nope"})
    with pytest.raises(BenchmarkDataMissingError, match="no architecture"):
        table(space, metrics={"valid": Metric("valid", np.full(space.size, np.nan))})
    vectors = np.array([[0, 0, 0], [0, 0, 0]])
    with pytest.raises(UnknownOptionError, match="2 times"):
        TableBenchmark(
            space,
            {"v": Metric("valid", [1.0, 2.0])},
            dataset="d",
            reward_metric="v",
            report_metric="v",
            vectors=vectors,
        )


def test_reward_guard_follows_declarations_not_names() -> None:
    space = toy_space()
    n = space.size
    acc = np.linspace(50, 90, n)
    # a metric *named* "valid" but declared a test split is refused ...
    named_valid = TableBenchmark(
        space,
        {"valid": Metric("test", acc)},
        dataset="d",
        reward_metric="valid",
        report_metric="valid",
    )
    with pytest.raises(UnknownOptionError, match="'valid' is a test-split metric"):
        gym.make(register(named_valid)["Query"])
    # ... and one *named* "test@5" but declared validation is rewarded.
    named_test = TableBenchmark(
        space,
        {"test@5": Metric("valid", acc), "final": Metric("test", acc)},
        dataset="d",
        reward_metric="test@5",
        report_metric="final",
    )
    env = gym.make(register(named_test)["Query"])
    assert env.unwrapped.benchmark.reward_split == "valid"
    # test-only benchmarks must opt in, with a reason that runs then carry
    with pytest.raises(UnknownOptionError, match="reward_split_reason"):
        TableBenchmark(
            space,
            {"acc": Metric("test", acc)},
            dataset="d",
            reward_metric="acc",
            report_metric="acc",
            reward_split="test",
        )
    opt_in = TableBenchmark(
        space,
        {"acc": Metric("test", acc)},
        dataset="d",
        reward_metric="acc",
        report_metric="acc",
        reward_split="test",
        reward_split_reason="only test numbers are published",
    )
    env = gym.make(register(opt_in)["Query"])
    bench = env.unwrapped.benchmark
    assert (bench.reward_split, bench.reward_split_reason) == (
        "test",
        "only test numbers are published",
    )


def test_surrogate_benchmark_is_called_once_per_architecture() -> None:
    space = toy_space()
    calls: list[int] = []

    def predict(vectors: np.ndarray) -> dict[str, np.ndarray]:
        calls.append(len(vectors))
        rng = np.random.default_rng(len(calls))  # seeded noise: same tables each run
        noise = rng.normal(size=len(vectors))
        return {
            "v": 60 + vectors.sum(axis=1) + noise,
            "t": 59 + vectors.sum(axis=1),
            "lat": 1.0 + vectors[:, 1],
        }

    bench = SurrogateBenchmark(
        space,
        predict,
        {"v": Metric("valid"), "t": Metric("test"), "lat": Metric("cost", unit="ms")},
        dataset="s",
        reward_metric="v",
        report_metric="t",
        batch_size=5,
    )
    assert bench.optimum() == 59 + 5  # (3, 2, 1) is invalid: best sum 5
    assert calls == [5, 5, 5, 5, 2]  # 22 valid architectures, once each
    assert np.isnan(bench.table("v")[~space.valid_mask]).all()
    ids = register(lambda: bench)
    env = gym.make(
        ids["Query"], objectives=["valid_accuracy", "lat"], disable_env_checker=True
    )
    env.reset(seed=0)
    _, reward, *_ = env.step(np.array([1, 1, 1]))
    assert len(reward) == 2 and calls == [5, 5, 5, 5, 2]
    bad = SurrogateBenchmark(
        space,
        lambda v: {"v": np.full(len(v), np.nan), "t": np.zeros(len(v))},
        {"v": Metric("valid"), "t": Metric("test")},
        dataset="s",
        reward_metric="v",
        report_metric="t",
    )
    with pytest.raises(UnknownOptionError, match="finite values"):
        _ = bad.tables


def test_from_dataframe_one_benchmark_per_dataset() -> None:
    space = CategoricalSpace("df", {"op": ["conv", "pool"], "k": ["3", "5"]})
    frame = pd.DataFrame(
        {
            "op": ["conv", "pool", "conv", "conv"],
            "k": ["3", "5", "5", "3"],
            "task": ["a", "a", "a", "b"],
            "acc": [70.0, 60.0, 80.0, 50.0],
        }
    )
    metrics = {
        "valid": Metric("valid", column="acc"),
        "test": Metric("test", column="acc"),
    }
    benches = TableBenchmark.from_dataframe(
        space,
        frame,
        metrics,
        dataset_column="task",
        reward_metric="valid",
        report_metric="test",
    )
    assert isinstance(benches, dict) and sorted(benches) == ["a", "b"]
    assert benches["a"].num_measured == 3 and benches["b"].num_measured == 1
    ids = register(benches)
    assert gym.make(ids["Query"]).unwrapped.benchmark.dataset == "a"
    assert gym.make(ids["Query"], dataset="b").unwrapped.optimum == 50.0
    with pytest.raises(UnknownOptionError, match="dataset of"):
        gym.make(ids["Query"], dataset="c")
    with pytest.raises(UnknownOptionError, match="unknown choice"):
        TableBenchmark.from_dataframe(
            space,
            frame.assign(op="x"),
            metrics,
            dataset="a",
            reward_metric="valid",
            report_metric="test",
        )
    with pytest.raises(UnknownOptionError, match="exactly one"):
        TableBenchmark.from_dataframe(
            space, frame, metrics, reward_metric="valid", report_metric="test"
        )


# ---------------------------------------------------------------- registration
@pytest.fixture(scope="module")
def toy_ids() -> dict[str, str]:
    return register(lambda: table(toy_space()))


@pytest.mark.parametrize("mode", MODES)
def test_registered_envs_pass_checkers(toy_ids: dict[str, str], mode: str) -> None:
    for render_mode in (None, "ansi"):
        env = gym.make(toy_ids[mode], render_mode=render_mode)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gym_check_env(env.unwrapped)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore", message=r".*unconventional shape.*", category=UserWarning
        )
        sb3_check_env(
            gym.make(toy_ids[mode]).unwrapped, warn=True, skip_render_check=True
        )


def rollout(
    env: gym.Env[Any, Any], seed: int, steps: int = 40
) -> list[tuple[Any, ...]]:
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    out = []
    for _ in range(steps):
        action = env.action_space.sample()
        if isinstance(env.action_space, gym.spaces.Discrete):
            legal = np.flatnonzero(env.unwrapped.action_masks())
            action = int(legal[int(action) % legal.size])
        _, reward, _, truncated, info = env.step(action)
        out.append((reward, info["arch"], info["best_test_accuracy"], info["queries"]))
        if truncated:
            env.reset()
    return out


@pytest.mark.parametrize("mode", MODES)
def test_registered_envs_are_deterministic_and_keep_the_info_contract(
    toy_ids: dict[str, str], mode: str
) -> None:
    env = gym.make(toy_ids[mode], horizon=15)
    assert rollout(env, 4) == rollout(gym.make(toy_ids[mode], horizon=15), 4)
    reference = gym.make(
        f"nasgym/NB201{mode}-v0", benchmark=FakeBenchmark(NB201Space())
    )
    _, ref_info = reference.reset(seed=0)
    _, info = env.reset(seed=0)
    assert set(info) == set(ref_info)
    step_info = env.step(env.action_space.sample())[-1]
    assert set(step_info) == set(reference.step(reference.action_space.sample())[-1])
    assert mode_siblings(toy_ids[mode]) == toy_ids


@pytest.mark.parametrize("mode", MODES)
def test_vector_env_matches_single_envs(toy_ids: dict[str, str], mode: str) -> None:
    n = 3
    vec = gym.make_vec(toy_ids[mode], num_envs=n, horizon=6)
    singles = [gym.make(toy_ids[mode], horizon=6) for _ in range(n)]
    vec.reset(seed=10)
    for i, env in enumerate(singles):
        env.reset(seed=10 + i)
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = []
        for env in singles:
            space = env.action_space
            if isinstance(space, gym.spaces.Discrete):
                actions.append(
                    int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
                )
            elif isinstance(space, gym.spaces.Box):
                actions.append(rng.uniform(-1, 1, space.shape).astype(np.float32))
            else:
                actions.append(rng.integers(0, space.nvec))
        _, vrew, _, _, vinfo = vec.step(np.stack(actions))
        for i, env in enumerate(singles):
            _, reward, _, _, info = env.step(actions[i])
            assert vrew[i] == reward and vinfo["arch"][i] == info["arch"]


def test_env_kwargs_are_honoured_or_rejected(toy_ids: dict[str, str]) -> None:
    env = gym.make(toy_ids["Query"], report_metric="valid")
    assert env.unwrapped.benchmark.report_metric == "valid"
    assert env.unwrapped.optimum == env.unwrapped.benchmark.optimum("valid")
    with pytest.raises(UnknownOptionError, match="zero-cost"):
        gym.make(toy_ids["Query"], reward_metric="zc:synflow")
    with pytest.raises(UnknownOptionError, match="has only dataset 'demo'"):
        gym.make(toy_ids["Query"], dataset="cifar10")
    with pytest.raises(UnknownKeywordError, match="did you mean 'dataset'"):
        gym.make(toy_ids["Query"], datset="demo")
    with pytest.raises(UnknownOptionError, match="namespace/Name"):
        register_benchmark_envs("NoNamespace", table(toy_space()))
    with pytest.raises(UnknownOptionError, match="not a nasgym benchmark"):
        gym.make(register(lambda: 42)["Query"])


def test_builtin_envs_do_not_silently_override_with_benchmark() -> None:
    bench = FakeBenchmark(NB201Space())
    with pytest.raises(
        UnknownOptionError, match="dataset='cifar100' conflicts with benchmark="
    ):
        gym.make("nasgym/NB201Query-v0", benchmark=bench, dataset="cifar100")
    env = gym.make("nasgym/NB201Query-v0", benchmark=bench, report_metric="valid")
    assert (
        env.unwrapped.benchmark.report_metric == "valid"
        and bench.report_metric == "test"
    )
    with pytest.raises(UnknownOptionError, match="report_metric of"):
        gym.make("nasgym/NB201Query-v0", benchmark=bench, report_metric="test@200")
    assert (
        gym.make(
            "nasgym/NB201Query-v0", benchmark=bench, dataset="fake"
        ).unwrapped.dataset
        == "fake"
    )


def test_partial_builtin_style_benchmark_gets_guidance() -> None:
    bench = FakeBenchmark(toy_space())
    tables = {k: np.array(v) for k, v in bench.tables.items()}
    tables["valid"][:5] = np.nan
    bench._tables = tables
    ids = register(bench)
    expected = r"nasgym\.extend\.TableBenchmark"
    with pytest.raises(BenchmarkDataMissingError, match=expected):
        gym.make(ids["Query"])


# --------------------------------------------------------------------- budget
@pytest.mark.parametrize("mode", ["Query", "Vector"])
def test_budget_counts_isomorphism_classes(mode: str) -> None:
    space = pair_space()
    bench = table(space)
    assert bench.shares_isomorphs and space.num_classes == 6
    # values are the class's: (0, 1) and (1, 0) are one measured entry
    assert bench.query((0, 1)) == bench.query((1, 0))
    ids = register(bench)
    if mode == "Vector":
        vec = gym.make_vec(ids["Query"], num_envs=1, max_queries=2, horizon=50)
        vec.reset(seed=0)
        ended = [False]

        def step(action: list[int]) -> dict[str, Any]:
            if ended[0]:  # the step after truncation only resets (NEXT_STEP mode)
                vec.step(np.array([action]))
            _, _, _, truncated, info = vec.step(np.array([action]))
            ended[0] = bool(truncated[0])
            return {k: v[0] for k, v in info.items() if not k.startswith("_")}
    else:
        env = gym.make(ids["Query"], max_queries=2, horizon=50)
        env.reset(seed=0)

        def step(action: list[int]) -> dict[str, Any]:
            return env.step(np.array(action))[-1]

    info = step([0, 1])
    assert (info["queries"], info["new_query"]) == (1, True)
    info = step([1, 0])  # an isomorph: a free revisit
    assert (info["queries"], info["new_query"]) == (1, False)
    assert step([2, 2])["queries"] == 2
    info = step([0, 0])  # a new class, budget spent
    assert info["queries"] == 2 and "budget" in str(info["invalid_action"])
    info = step([1, 0])  # isomorphs of evaluated classes are still free
    assert info["invalid_action"] is None and info["queries"] == 2


def test_budget_with_edit_and_continuous_counts_classes() -> None:
    bench = table(pair_space())
    ids = register(bench)
    for mode in ("Edit", "Continuous"):
        env = gym.make(ids[mode], max_queries=3, horizon=200)
        _, info = env.reset(seed=0)
        env.action_space.seed(0)
        seen = {info["arch_class"]} if info["arch_code"] >= 0 else set()
        for _ in range(200):
            action = env.action_space.sample()
            if mode == "Edit":
                action = int(
                    np.flatnonzero(env.unwrapped.action_masks())[
                        0 if action % 2 else -1
                    ]
                )
            _, _, _, truncated, info = env.step(action)
            if info["invalid_action"] is None and info["arch_code"] >= 0:
                seen.add(info["arch_class"])
            assert info["queries"] == len(seen) <= 3
            if truncated:
                break
        assert info["budget_exhausted"]


def test_invalid_action_raise_mode(toy_ids: dict[str, str]) -> None:
    env = gym.make(toy_ids["Query"], invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="needs width <= 16"):
        env.step(np.array([3, 2, 0]))
    assert math.isfinite(env.step(np.array([0, 0, 0]))[1])


def test_report_heading_prints_a_test_split_reward() -> None:
    from types import SimpleNamespace

    from nasgym.leaderboard.report import _env_heading

    run = SimpleNamespace(header={"seed": 0})
    env_runs = SimpleNamespace(
        benchmark={
            "name": "analog201/cifar10",
            "reward_metric": "analog",
            "reward_split": "test",
            "reward_split_reason": "only test accuracies are published",
        },
        runs={"random": [run]},
        optimum=91.0,
        env=SimpleNamespace(label="analognas/Analog201Query-v0"),
    )
    heading = " ".join(_env_heading(env_runs))  # type: ignore[arg-type]
    assert (
        "rewards use TEST-split numbers (only test accuracies are published)" in heading
    )
    env_runs.benchmark["reward_split"] = "valid"
    assert "TEST-split" not in " ".join(_env_heading(env_runs))  # type: ignore[arg-type]


def test_leaderboard_run_header_records_the_reward_split(tmp_path: Any) -> None:
    from nasgym.leaderboard.config import EnvConfig
    from nasgym.leaderboard.execute import RunTask, execute_run
    from nasgym.leaderboard.store import read_run

    space = toy_space()
    acc = np.linspace(50, 90, space.size)
    bench = TableBenchmark(
        space,
        {"acc": Metric("test", acc)},
        dataset="d",
        reward_metric="acc",
        report_metric="acc",
        reward_split="test",
        reward_split_reason="only test numbers are published",
    )
    ids = register(lambda: bench)
    outcome = execute_run(RunTask(EnvConfig(ids["Query"], {}), "random", 0, 8))
    assert outcome.error is None, outcome.traceback
    assert outcome.data is not None
    path = tmp_path / "run.jsonl"
    path.write_bytes(outcome.data)
    run = read_run(path)
    assert run.header["benchmark"]["reward_split"] == "test"
    assert run.header["benchmark"]["reward_split_reason"] == bench.reward_split_reason
    assert len(run.records) == 8
