"""The multi-fidelity Query env: clock, budget, determinism, checkers and errors.

The central check: an ask/tell optimizer driven through the env by
:func:`nasgym.mf.env.run_optimizer` gives exactly :func:`nasgym.mf.simulate.simulate`'s
trace, for 1, 4 and 16 workers, on a hand-checkable benchmark and on real data.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import nasgym
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownKeywordError,
    UnknownOptionError,
)
from nasgym.mf.env import FidelityQueryEnv, run_optimizer
from nasgym.mf.fidelity import Ledger, NB201Fidelity
from nasgym.mf.simulate import simulate
from nasgym.mf.testing import TinyBenchmark, TinyOptimizer
from nasgym.registration import FIDELITY_ENVS
from nasgym.testing import check_nas_env
from nasgym_agents.mf import ASHA, Hyperband, RandomSearchTime

WORKERS = (1, 4, 16)


def tiny_optimizer(bench: Any, seed: int = 1, batch: int | None = None) -> Any:
    return TinyOptimizer(
        nvec=bench.nvec, fidelities=bench.fidelities, seed=seed, batch=batch
    )


# --------------------------------------------------------------------------
# the adapter reproduces simulate() exactly
# --------------------------------------------------------------------------
@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize(
    ("unit", "budget"), [("seconds", 80.0), ("epochs", 50.0), ("queries", 25.0)]
)
@pytest.mark.parametrize("resumable", [False, True])
@pytest.mark.parametrize("batch", [None, 3])
def test_adapter_equals_simulate(
    workers: int, unit: str, budget: float, resumable: bool, batch: int | None
) -> None:
    bench = TinyBenchmark(resumable=resumable)
    env = FidelityQueryEnv(bench, budget=budget, budget_unit=unit, sim_workers=workers)
    env.reset(seed=0)
    rows = run_optimizer(env, tiny_optimizer(bench, batch=batch))
    trace = simulate(
        tiny_optimizer(bench, batch=batch),
        bench,
        Ledger(bench, budget=budget, unit=unit),
        workers=workers,
    )
    assert trace.stop_reason == "budget"
    assert rows == trace.rows
    assert env.now == trace.makespan
    assert env.ledger.used() == max(r.budget_used for r in trace.rows)


@pytest.mark.parametrize("workers", WORKERS)
def test_max_queries_equals_max_jobs(workers: int) -> None:
    bench = TinyBenchmark()
    env = FidelityQueryEnv(bench, max_queries=7, sim_workers=workers)
    env.reset(seed=0)
    rows = run_optimizer(env, tiny_optimizer(bench))
    trace = simulate(
        tiny_optimizer(bench),
        bench,
        Ledger(bench, budget=math.inf),
        workers=workers,
        max_jobs=7,
    )
    assert trace.stop_reason == "max_jobs" and rows == trace.rows and len(rows) == 7


def test_optimizer_that_finishes_ends_the_run() -> None:
    bench = TinyBenchmark()
    env = FidelityQueryEnv(bench, sim_workers=4)
    env.reset(seed=0)
    opt = TinyOptimizer(nvec=bench.nvec, fidelities=bench.fidelities, seed=2, n_jobs=5)
    rows = run_optimizer(env, opt)
    assert len(rows) == 5 and len(opt.told) == 5 and not env.exhausted


@pytest.mark.data
@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("factory", [Hyperband, ASHA, RandomSearchTime])
def test_adapter_equals_simulate_on_real_nb201(
    nb201_table: Path, workers: int, factory: Any
) -> None:
    bench = NB201Fidelity("cifar10", path=nb201_table)
    env = FidelityQueryEnv(
        bench, budget=3000, budget_unit="epochs", sim_workers=workers
    )
    env.reset(seed=0)
    make = {"nvec": bench.nvec, "fidelities": bench.fidelities, "seed": 5}
    rows = run_optimizer(env, factory(**make))
    trace = simulate(
        factory(**make), bench, Ledger(bench, 3000, "epochs"), workers=workers
    )
    assert rows == trace.rows and len(rows) > 10


# --------------------------------------------------------------------------
# clock and budget
# --------------------------------------------------------------------------
def test_clock_and_info_by_hand() -> None:
    env = FidelityQueryEnv(
        TinyBenchmark(), sim_workers=2, budget=100, budget_unit="seconds"
    )
    _, info = env.reset(seed=0)
    assert info["sim_time_s"] == 0.0 and info["queries"] == 0 and not info["new_query"]
    # (2, 1) at 3 epochs: 9 s on worker 0; a worker is still idle, so no finish yet.
    _, reward, _, truncated, info = env.step([2, 1, 1])
    assert (info["sim_start"], info["sim_end"], info["worker"]) == (0.0, 9.0, 0)
    assert info["valid_accuracy"] == 59.0 and reward == pytest.approx(0.59)
    assert math.isnan(info["best_valid_accuracy"]) and info["finished"] == []
    assert info["time_unit"] == "s" and not truncated
    # (0, 0) at 1 epoch: 1 s on worker 1; both busy, so the clock runs to t=1.
    _, _, _, _, info = env.step([0, 0, 0])
    assert (info["worker"], info["sim_end"], info["sim_time_s"]) == (1, 1.0, 1.0)
    assert [f.job.vector for f in info["finished"]] == [(0, 0)]
    assert info["best_valid_accuracy"] == 40.0 and info["best_fidelity"] == 1
    assert info["best_test_accuracy"] == 60.0 and info["regret"] == 18.0
    # Worker 1 is idle again: the next job starts at t=1 and runs to t=1+9*3.
    _, _, _, _, info = env.step([2, 2, 2])
    assert (info["sim_start"], info["sim_end"], info["worker"]) == (1.0, 28.0, 1)
    assert info["sim_time_s"] == 9.0  # both busy again: worker 0 finished at 9
    assert info["best_fidelity"] == 3 and info["best_valid_accuracy"] == 59.0
    assert info["budget_used"] == 37.0 and info["queries"] == 3


@pytest.mark.parametrize(
    ("unit", "budget", "expected_jobs"),
    [("queries", 3, 3), ("epochs", 7, 3), ("seconds", 7, 2)],
)
def test_budget_exhaustion_in_each_unit(
    unit: str, budget: float, expected_jobs: int
) -> None:
    # Every job: (1, 0) at 3 epochs, 6 s; then a job that no longer fits.
    env = FidelityQueryEnv(
        TinyBenchmark(), budget=budget, budget_unit=unit, sim_workers=2
    )
    env.reset(seed=0)
    infos = []
    for _ in range(10):
        *_, truncated, info = env.step([1, 0, 1] if len(infos) < 2 else [1, 0, 0])
        infos.append(info)
        if truncated:
            break
    started = [i for i in infos if i["new_query"]]
    assert infos[-1]["budget_exhausted"] and env.exhausted
    assert env.ledger.used() <= budget
    if unit == "queries":
        assert len(started) == 3 and infos[-1]["new_query"]  # the 3rd spends it
    else:
        assert not infos[-1]["new_query"]  # that job did not fit and did not run
    assert env.jobs == len(started)
    # Jobs still training were paid for: the clock ran until they all finished.
    assert not env.running and env.now == max(i["sim_end"] for i in started)
    # Stepping on costs nothing and runs nothing.
    _, reward, _, truncated, info = env.step([2, 2, 2])
    assert reward == 0.0 and truncated and not info["new_query"]
    assert info["queries"] == len(started)
    del expected_jobs


def test_continuation_is_charged_the_difference() -> None:
    env = FidelityQueryEnv(
        TinyBenchmark(resumable=True), budget=1000, budget_unit="seconds"
    )
    env.reset(seed=0)
    *_, info = env.step([1, 1, 1])  # 3 epochs: 6 s
    assert info["sim_cost"] == 6.0
    *_, info = env.step([1, 1, 2])  # 9 epochs from 3: 18 - 6 = 12 s
    assert info["sim_cost"] == 12.0 and info["sim_start"] == 6.0
    *_, info = env.step([1, 1, 0])  # already trained further: free
    assert info["sim_cost"] == 0.0 and info["budget_used"] == 18.0


def test_seconds_budget_needs_training_times() -> None:
    with pytest.raises(BenchmarkDataMissingError, match="budget_unit='epochs'"):
        FidelityQueryEnv(TinyBenchmark(costs=False), budget=10, budget_unit="seconds")
    env = FidelityQueryEnv(TinyBenchmark(costs=False), budget=10, budget_unit="epochs")
    env.reset(seed=0)
    *_, info = env.step([0, 0, 2])
    assert info["time_unit"] == "epochs" and info["sim_time_s"] == 9.0


# --------------------------------------------------------------------------
# Gymnasium semantics
# --------------------------------------------------------------------------
def rollout(env: gym.Env[Any, Any], seed: int, steps: int = 30) -> list[Any]:
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out: list[Any] = [obs.tolist()]
    for _ in range(steps):
        obs, reward, _, truncated, info = env.step(env.action_space.sample())
        out.append((obs.tolist(), reward, info["arch"], info["sim_time_s"]))
        if truncated:
            break
    return out


def test_seeded_rollouts_are_deterministic_and_reset_semantics() -> None:
    env = FidelityQueryEnv(
        TinyBenchmark(), budget=60, budget_unit="seconds", sim_workers=3
    )
    assert rollout(env, 3) == rollout(env, 3)
    assert rollout(env, 3) != rollout(env, 4)
    env.reset(seed=0)
    env.step([1, 1, 1])
    env.reset()  # a new episode of the same search: the budget carries over
    assert env.jobs == 1
    env.reset(seed=0)  # a fresh search
    assert env.jobs == 0 and env.now == 0.0 and env.ledger.used() == 0.0


def test_horizon_truncates_episodes_only() -> None:
    env = FidelityQueryEnv(TinyBenchmark(), horizon=2)
    env.reset(seed=0)
    assert not env.step([0, 0, 0])[3]
    assert env.step([0, 1, 0])[3] and not env.exhausted


def test_tiny_env_passes_both_checkers_and_the_leaderboard_contract() -> None:
    env = FidelityQueryEnv(TinyBenchmark(), max_queries=20)
    check_env(env, skip_render_check=True)
    sb3_check_env(FidelityQueryEnv(TinyBenchmark(), max_queries=20))
    check_nas_env(FidelityQueryEnv(TinyBenchmark(), max_queries=20), steps=25)


def test_reward_ignores_test_accuracy() -> None:
    class Shifted(TinyBenchmark):
        def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Any:
            ev = super()._evaluate(vector, fidelity)
            return type(ev)(ev.score, ev.report - 30.0, ev.cost)

    for reward in ("valid", "power", "exp", "improvement"):
        a = rollout(FidelityQueryEnv(TinyBenchmark(), reward=reward, max_queries=9), 1)
        b = rollout(FidelityQueryEnv(Shifted(), reward=reward, max_queries=9), 1)
        assert [r[1] for r in a[1:]] == [r[1] for r in b[1:]]


def test_render_ansi() -> None:
    env = FidelityQueryEnv(TinyBenchmark(), render_mode="ansi")
    env.reset(seed=0)
    env.step([1, 1, 2])
    text = env.render()
    assert text is not None and "1 jobs" in text and "clock 18 s" in text
    assert FidelityQueryEnv(TinyBenchmark()).render() is None


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
def test_bad_actions_name_the_problem() -> None:
    env = FidelityQueryEnv(TinyBenchmark())
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"indexes fidelities 1\.\.9"):
        env.step([0, 0, 3])
    with pytest.raises(InvalidActionError, match="must be 3 integers"):
        env.step([0, 0])
    with pytest.raises(InvalidActionError, match="must be 3 integers"):
        env.step([0.5, 0, 0])
    assert env.jobs == 0  # nothing was charged


def test_run_optimizer_refuses_a_fidelity_the_benchmark_lacks() -> None:
    class Wrong(TinyOptimizer):
        def ask(self) -> Any:
            job = super().ask()
            return None if job is None else type(job)(job.vector, 5)

    bench = TinyBenchmark()
    env = FidelityQueryEnv(bench)
    env.reset(seed=0)
    with pytest.raises(UnknownOptionError, match=r"fidelity \(epochs\) of tiny 5"):
        run_optimizer(env, Wrong(nvec=bench.nvec, fidelities=bench.fidelities, seed=0))
    with pytest.raises(UnknownOptionError, match="FidelityQueryEnv"):
        run_optimizer(gym.make("CartPole-v1"), tiny_optimizer(bench))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sim_workers": 0}, "workers"),
        ({"budget_unit": "hours"}, "budget_unit"),
        ({"budget": -1}, "budget must be a positive number"),
        ({"max_queries": 0}, "max_queries must be a positive integer"),
        ({"horizon": 0}, "horizon must be a positive integer"),
        ({"reward": "test"}, "reward"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_options_name_the_valid_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(UnknownOptionError, match=match):
        FidelityQueryEnv(TinyBenchmark(), **kwargs)


@pytest.mark.parametrize("env_id", list(FIDELITY_ENVS))
def test_registered_ids_reject_unknown_keywords(env_id: str) -> None:
    with pytest.raises(UnknownKeywordError, match="did you mean 'sim_workers'"):
        gym.make(env_id, sim_worker=2)


def test_registered_ids_are_listed() -> None:
    assert set(FIDELITY_ENVS) <= set(nasgym.ALL_ENVS)
    assert set(FIDELITY_ENVS) == {
        "nasgym/NB201Fidelity-v0",
        "nasgym/NB101Fidelity-v0",
        "nasgym/NB301Fidelity-v0",
    }


SECTIONS = (
    "## Description",
    "## Search Space",
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Starting State",
    "## Episode End",
    "## Information",
    "## Arguments",
    "## Benchmark Data",
    "## Registered Configurations",
    "## Version History",
    "## References",
)


@pytest.mark.parametrize("env_id", list(FIDELITY_ENVS))
def test_docstrings_have_the_standard_sections(env_id: str) -> None:
    import importlib

    module, cls = FIDELITY_ENVS[env_id]
    doc = getattr(importlib.import_module(module), cls).__doc__
    positions = [doc.index(section) for section in SECTIONS]
    assert positions == sorted(positions) and env_id in doc


# --------------------------------------------------------------------------
# the registered ids on real data
# --------------------------------------------------------------------------
def real_env_kwargs(env_id: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The data fixture an id needs (imported once per session), as make kwargs."""
    if "NB201" in env_id:
        request.getfixturevalue("nb201_table")
        return {}
    if "NB101" in env_id:
        bench = request.getfixturevalue("ecnas_bench")
        return {"table": "ecnas", "path": bench.data.path}
    request.getfixturevalue("nb301_surrogate")
    return {}


@pytest.mark.data
@pytest.mark.parametrize("env_id", list(FIDELITY_ENVS))
def test_real_ids_pass_checkers_contract_and_determinism(
    env_id: str, request: pytest.FixtureRequest
) -> None:
    kwargs = real_env_kwargs(env_id, request)
    env = gym.make(env_id, max_queries=15, **kwargs)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(env_id, max_queries=15, **kwargs).unwrapped)
    check_nas_env(gym.make(env_id, max_queries=15, **kwargs), steps=20)
    env = gym.make(env_id, max_queries=40, sim_workers=4, **kwargs)
    assert rollout(env, 7) == rollout(env, 7)
    assert rollout(env, 7) != rollout(env, 8)
    header = env.unwrapped.fidelity_header()
    assert header["sim_workers"] == 4 and header["max_queries"] == 40
    assert header["cost_unit"] in ("s", "epochs") and header["cost_source"]


@pytest.mark.data
def test_real_nb201_csv_tables_refuse_a_seconds_budget(nb201_table: Path) -> None:
    with pytest.raises(BenchmarkDataMissingError, match="no simulated training times"):
        gym.make("nasgym/NB201Fidelity-v0", budget=100, budget_unit="seconds")
    env = gym.make("nasgym/NB201Fidelity-v0", budget=400, budget_unit="epochs")
    env.reset(seed=0)
    *_, info = env.step(np.array([3, 3, 3, 3, 3, 3, 1]))
    assert info["time_unit"] == "epochs" and info["sim_end"] == 200.0
    assert info["score_split"] == "test"  # the CSV tables have no valid@200
    assert info["arch"].startswith("|nor_conv_3x3~0|")


def test_nasgym_list_shows_the_fidelity_ids(capsys: pytest.CaptureFixture[str]) -> None:
    from nasgym.cli import main

    assert main(["list"]) == 0
    lines = {
        line.split()[0]: line.split(None, 2)[1:]
        for line in capsys.readouterr().out.splitlines()
        if "Fidelity" in line
    }
    assert lines["nasgym/NB201Fidelity-v0"] == [
        "fidelity",
        "cifar10, cifar100, ImageNet16-120",
    ]
    assert lines["nasgym/NB301Fidelity-v0"] == ["fidelity", "cifar10"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_sim_workers_error_names_the_argument(bad: object) -> None:
    with pytest.raises(UnknownOptionError, match=r"^sim_workers \(simulated"):
        FidelityQueryEnv(TinyBenchmark(), sim_workers=bad)  # type: ignore[arg-type]
