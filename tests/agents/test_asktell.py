"""The ask/tell adapter and the Optuna agents built on it.

The adapter is driven by small hand-written optimizers (exact budgets, revisits,
invalid vectors, determinism, bad proposals); each Optuna agent runs on
NAS-Bench-Graph (offline) and on the real NB201 and NB101 tables, and through the
leaderboard harness.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.cli import main
from nasgym.leaderboard.protocol import load_agent
from nasgym_agents.asktell import (
    MAX_RESTARTS,
    AskTellAgent,
    AskTellOptimizer,
    OptunaCMAES,
    OptunaNSGA2,
    OptunaRandom,
    OptunaTPE,
    Outcome,
    SearchProblem,
    restart_seed,
)

GRAPH = "nasgym/NBGraphQuery-v0"
#: Two vectors of NAS-Bench-Graph (cora) whose architectures are isomorphic.
ISOMORPHS = ([0, 2, 8, 2, 4], [0, 4, 8, 2, 2])
SINGLE = {
    "optuna-tpe": OptunaTPE,
    "optuna-cmaes": OptunaCMAES,
    "optuna-random": OptunaRandom,
}


class Recorder(gym.Wrapper[Any, Any, Any, Any]):
    """Counts env steps and records the architecture of every new query."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.steps = 0
        self.archs: list[str] = []
        self.last_info: dict[str, Any] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.last_info = info
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        out = self.env.step(action)
        self.steps += 1
        info = out[4]
        if info["new_query"]:
            self.archs.append(info["arch"])
        assert info["queries"] == len(self.archs) <= self.env.unwrapped.max_queries  # type: ignore[attr-defined]
        self.last_info = info
        return out


class RejectSlotZero(gym.Wrapper[Any, Any, Any, Any]):
    """Rejects every vector whose first slot is 0, as an env rejects a non-cell."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.last_info: dict[str, Any] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.obs, self.last_info = obs, info
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if int(np.asarray(action)[0]) == 0:
            info = dict(self.last_info, new_query=False, invalid_action="slot 0 is 0")
            return self.obs, 0.0, False, False, info
        obs, reward, term, trunc, info = self.env.step(action)
        self.obs, self.last_info = obs, info
        return obs, reward, term, trunc, info


class Scripted:
    """Proposes a fixed list of vectors (then uniform ones); records every tell."""

    def __init__(self, problem: SearchProblem, script: list[list[int]]) -> None:
        self.problem = problem
        self.script = list(script)
        self.rng = np.random.default_rng(problem.seed)
        self.asks = 0
        self.tells: list[tuple[list[int], Outcome]] = []

    def ask(self) -> Any:
        assert self.asks == len(self.tells), "ask() twice without tell()"
        self.asks += 1
        if self.script:
            return self.script.pop(0)
        return self.rng.integers(0, np.asarray(self.problem.nvec))

    def tell(self, vector: Any, outcome: Outcome) -> None:
        assert len(self.tells) == self.asks - 1, "tell() without ask()"
        self.tells.append((list(map(int, vector)), outcome))


def _scripted(
    env: gym.Env[Any, Any],
    script: list[list[int]] | None = None,
    seed: int = 0,
    **kw: Any,
) -> tuple[AskTellAgent, list[Scripted]]:
    made: list[Scripted] = []

    def factory(problem: SearchProblem) -> AskTellOptimizer:
        # Only the first optimizer follows the script; restarted ones are uniform.
        made.append(Scripted(problem, [] if made else script or []))
        return made[-1]

    return AskTellAgent(env, seed=seed, optimizer=factory, **kw), made


def _graph(budget: int, **kw: Any) -> Recorder:
    return Recorder(gym.make(GRAPH, max_queries=budget, **kw))


# ---------------------------------------------------------------- the adapter
def test_adapter_spends_exactly_the_budget_and_tells_every_ask() -> None:
    env = _graph(25)
    agent, made = _scripted(env)
    agent.run()
    opt = made[0]
    assert opt.problem.nvec == tuple(env.action_space.nvec.tolist())
    assert opt.problem.budget == 25 and opt.problem.seed == 0
    assert opt.problem.objectives == ("valid_accuracy",)
    assert len(env.archs) == 25 == len(set(env.archs))
    assert env.last_info["budget_exhausted"]
    assert opt.asks == len(opt.tells)
    statuses = [o.status for _, o in opt.tells]
    assert statuses.count("evaluated") == 25
    assert statuses[-1] == "evaluated"  # nothing is asked after the budget is spent
    evaluated = [o.value for _, o in opt.tells if o.status == "evaluated"]
    assert max(evaluated) == env.last_info["best_valid_accuracy"]


def test_revisits_are_told_the_known_value_without_spending_budget() -> None:
    iso_a, iso_b = ISOMORPHS
    probe = gym.make(GRAPH, max_queries=5)
    probe.reset(seed=0)
    classes = [probe.step(np.array(v))[4]["arch_class"] for v in ISOMORPHS]
    assert classes[0] == classes[1]  # the premise: an isomorphic pair

    env = _graph(3)
    script = [iso_a, iso_a, iso_b, [1, 1, 1, 1, 1], iso_b, [2, 2, 2, 2, 2]]
    agent, made = _scripted(env, script)
    agent.run()
    tells = made[0].tells
    assert [o.status for _, o in tells] == [
        "evaluated", "revisit", "revisit", "evaluated", "revisit", "evaluated",
    ]  # fmt: skip
    first = tells[0][1].value
    assert isinstance(first, float)
    assert tells[1][1].value == tells[2][1].value == tells[4][1].value == first
    # The exact repeat never reached the env; the isomorph did, for free.
    assert env.steps == 4
    assert len(env.archs) == 3


def test_invalid_vectors_are_told_as_invalid_at_no_cost() -> None:
    env = RejectSlotZero(_graph(4))
    script = [[0, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [0, 3, 3, 3, 3]]
    agent, made = _scripted(env, script, seed=3)
    agent.run()
    tells = made[0].tells
    assert [o.status for _, o in tells[:4]] == [
        "invalid", "evaluated", "invalid", "invalid",
    ]  # fmt: skip
    assert all(
        o.value is None and not o.valid for _, o in tells if o.status == "invalid"
    )
    assert sum(o.status == "evaluated" for _, o in tells) == 4
    inner = env.env
    assert isinstance(inner, Recorder) and len(inner.archs) == 4
    assert inner.last_info["queries"] == 4


def test_adapter_runs_are_a_function_of_the_seed() -> None:
    def trajectory(seed: int) -> list[str]:
        env = _graph(30)
        _scripted(env, seed=seed)[0].run()
        return env.archs

    assert trajectory(4) == trajectory(4)
    assert trajectory(4) != trajectory(5)


def test_subclassing_make_optimizer_is_the_few_line_wrapper() -> None:
    class Uniform:
        def __init__(self, problem: SearchProblem) -> None:
            self.rng = np.random.default_rng(problem.seed)
            self.nvec = np.asarray(problem.nvec)

        def ask(self) -> Any:
            return self.rng.integers(0, self.nvec)

        def tell(self, vector: Any, outcome: Outcome) -> None:
            pass

    class UniformAgent(AskTellAgent):
        def make_optimizer(self, problem: SearchProblem) -> AskTellOptimizer:
            return Uniform(problem)

    assert isinstance(
        Uniform(SearchProblem((2,), ("v",), ("maximize",), 1, 0)), AskTellOptimizer
    )
    env = _graph(12)
    UniformAgent(env, seed=1).run()
    assert len(env.archs) == 12


@pytest.mark.parametrize(
    ("proposal", "match"),
    [([1, 2, 3], "5 integers"), ([0, 0, 0, 0, 9], "outside the action space"),
     ([0.5, 0, 0, 0, 0], "5 integers")],
)  # fmt: skip
def test_bad_proposals_are_refused(proposal: list[Any], match: str) -> None:
    agent, _ = _scripted(_graph(5), [proposal])
    with pytest.raises(ValueError, match=match):
        agent.run()


def test_a_stalled_optimizer_is_restarted_with_a_fresh_seed() -> None:
    """The first optimizer proposes one vector forever; its successors are uniform."""
    env = _graph(20)
    agent, made = _scripted(env, [[1, 1, 1, 1, 1]] * 1000, stall_limit=30)
    agent.run()
    assert agent.restarts == 1 and len(made) == 2
    assert made[1].problem.seed == restart_seed(0, 1) != made[0].problem.seed
    assert len(made[0].tells) == 31  # one evaluation, then 30 revisits
    assert len(env.archs) == 20
    assert restart_seed(0, 1) == restart_seed(0, 1) != restart_seed(0, 2)


def test_a_stuck_optimizer_stops_with_an_error() -> None:
    agent, _ = _scripted(_graph(5), [[1, 1, 1, 1, 1]] * 50, stall_limit=20,
                         on_stall="error")  # fmt: skip
    with pytest.raises(RuntimeError, match="20 proposals in a row"):
        agent.run()

    class Stubborn:
        def ask(self) -> list[int]:
            return [1, 1, 1, 1, 1]

        def tell(self, vector: Any, outcome: Outcome) -> None:
            pass

    agent = AskTellAgent(
        _graph(5), seed=0, optimizer=lambda p: Stubborn(), stall_limit=3
    )
    with pytest.raises(RuntimeError, match=f"{3 * MAX_RESTARTS} proposals"):
        agent.run()
    assert agent.restarts == MAX_RESTARTS - 1


def test_adapter_errors_name_the_fix() -> None:
    with pytest.raises(TypeError, match="needs an optimizer"):
        AskTellAgent(_graph(5), seed=0)
    with pytest.raises(ValueError, match="fitness must be one of"):
        _scripted(_graph(5), fitness="accuracy")
    with pytest.raises(ValueError, match="on_stall must be one of"):
        _scripted(_graph(5), on_stall="ignore")
    with pytest.raises(ValueError, match="max_queries is None"):
        _scripted(gym.make(GRAPH))
    with pytest.raises(ValueError, match="multi-objective env"):
        _scripted(_graph(5), fitness="objectives")
    vector_env = _graph(5, objectives=["valid_accuracy", "latency"])
    with pytest.raises(ValueError, match="needs a scalar reward"):
        _scripted(vector_env, fitness="reward")


def test_objectives_fitness_tells_raw_values_with_directions() -> None:
    env = _graph(6, objectives=["valid_accuracy", "latency"])
    agent, made = _scripted(env, fitness="objectives")
    agent.run()
    problem = made[0].problem
    assert problem.objectives == ("valid_accuracy", "latency")
    assert problem.directions == ("maximize", "minimize") and problem.multi_objective
    value = made[0].tells[-1][1].value
    assert isinstance(value, tuple) and len(value) == 2
    raw = env.last_info["objectives"]
    assert value == (raw["valid_accuracy"], raw["latency"])


# ------------------------------------------------------------- Optuna agents
def _optuna_run(cls: type[Any], seed: int, budget: int = 30, **kw: Any) -> Recorder:
    env_kw = kw.pop("env_kwargs", {})
    env = _graph(budget, **env_kw)
    cls(env, seed=seed, **kw).run()
    return env


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_optuna_agents_spend_exact_budgets_reproducibly(name: str) -> None:
    cls = SINGLE[name]
    assert load_agent(name) is cls
    first = _optuna_run(cls, seed=7)
    assert len(first.archs) == 30 == len(set(first.archs))
    assert first.last_info["budget_exhausted"]
    assert _optuna_run(cls, seed=7).archs == first.archs
    assert _optuna_run(cls, seed=8).archs != first.archs


def test_optuna_study_sees_every_outcome() -> None:
    env = _graph(40)
    agent = OptunaTPE(env, seed=2, n_startup_trials=5)
    agent.run()
    assert agent.study is not None
    trials = agent.study.trials
    assert all(t.state.name == "COMPLETE" for t in trials)
    # One trial per proposal: every distinct vector, plus exact repeats.
    assert len(trials) >= len(agent.history) >= 40
    values = [t.value for t in trials]
    assert max(values) == env.last_info["best_valid_accuracy"]
    assert agent.config()["n_startup_trials"] == 5
    assert agent.config()["sampler"] == "TPESampler"


@pytest.fixture
def optuna_records(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[pytest.LogCaptureFixture]:
    """Optuna's log records (Optuna's logger does not propagate by default)."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.INFO, logger="optuna"):
            yield caplog
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(before)


def _independent(records: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in records.records
        if "sampled independently" in r.getMessage()
    ]


def test_cmaes_samples_integers_and_categorical_falls_back(
    optuna_records: pytest.LogCaptureFixture,
) -> None:
    agent = OptunaCMAES(_graph(20), seed=0, verbose=True)
    agent.run()
    assert agent.encoding == "integer"
    assert agent.study is not None
    dist = agent.study.trials[-1].distributions["x0"]
    assert type(dist).__name__ == "IntDistribution"
    # Past the first trial every integer slot is CMA-ES's own.
    assert not [m for m in _independent(optuna_records) if "Trial#0 " not in m]
    # Optuna's CMA-ES hands categorical parameters to its independent sampler.
    OptunaCMAES(_graph(15), seed=0, encoding="categorical", verbose=True).run()
    assert any("CategoricalDistribution" in m for m in _independent(optuna_records))


def test_invalid_vectors_are_failed_trials() -> None:
    env = RejectSlotZero(_graph(20))
    agent = OptunaRandom(env, seed=0)
    agent.run()
    assert agent.study is not None
    states = [t.state.name for t in agent.study.trials]
    assert "FAIL" in states
    assert states.count("COMPLETE") >= 20
    assert all(
        t.params["x0"] != 0 for t in agent.study.trials if t.state.name == "COMPLETE"
    )


def test_nsga2_searches_a_pareto_front_and_refuses_one_objective() -> None:
    kw = {"objectives": ["valid_accuracy", "latency"]}
    first = _optuna_run(OptunaNSGA2, 1, 40, env_kwargs=kw, population_size=8)
    assert len(first.archs) == 40
    again = _optuna_run(OptunaNSGA2, 1, 40, env_kwargs=kw, population_size=8)
    assert again.archs == first.archs
    with pytest.raises(ValueError, match="multi-objective env"):
        OptunaNSGA2(_graph(10), seed=0)


def test_single_objective_agents_on_vector_reward_envs() -> None:
    kw = {"objectives": ["valid_accuracy", "latency"]}
    env = _optuna_run(OptunaTPE, 0, 15, env_kwargs=kw)  # optimises valid accuracy
    assert len(env.archs) == 15
    multi = OptunaTPE(_graph(15, **kw), seed=0, fitness="objectives")
    multi.run()
    assert multi.study is not None and len(multi.study.directions) == 2
    with pytest.raises(ValueError, match="optuna-nsga2"):
        OptunaCMAES(_graph(10, **kw), seed=0, fitness="objectives")
    with pytest.raises(ValueError, match="needs a scalar reward"):
        OptunaTPE(_graph(10, **kw), seed=0, fitness="reward")


def test_unknown_sampler_options_are_refused_with_the_valid_list() -> None:
    with pytest.raises(
        ValueError, match=r"n_startup_trial'.*valid: .*n_startup_trials"
    ):
        OptunaTPE(_graph(5), seed=0, n_startup_trial=3)
    with pytest.raises(ValueError, match=r"valid: .*population_size"):
        OptunaNSGA2(
            _graph(5, objectives=["valid_accuracy", "latency"]), seed=0, sigma0=1
        )
    with pytest.raises(ValueError, match="encoding must be one of"):
        OptunaTPE(_graph(5), seed=0, encoding="onehot")


def test_optuna_logging_is_silent_by_default(
    optuna_records: pytest.LogCaptureFixture,
) -> None:
    import optuna

    optuna.logging.set_verbosity(logging.INFO)
    _optuna_run(OptunaTPE, 0, 5)
    _optuna_run(OptunaCMAES, 0, 5, encoding="categorical")  # warns per trial
    assert not [r for r in optuna_records.records if r.name.startswith("optuna")]
    assert optuna.logging.get_verbosity() == logging.INFO  # restored after the run
    _optuna_run(OptunaTPE, 0, 5, verbose=True)
    assert any("new study created" in r.getMessage() for r in optuna_records.records)


@pytest.fixture
def no_optuna(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "optuna" or name.startswith("optuna.") or name == "cmaes":
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    yield


@pytest.mark.parametrize("cls", [OptunaTPE, OptunaCMAES, OptunaRandom, OptunaNSGA2])
def test_missing_optuna_says_how_to_install_it(no_optuna: None, cls: type[Any]) -> None:
    with pytest.raises(ImportError, match=r'pip install "nasgym\[optuna\]"'):
        cls(_graph(5), seed=0)


def test_missing_cmaes_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def fake(name: str, *args: Any) -> Any:
        if name == "cmaes":
            raise ModuleNotFoundError("No module named 'cmaes'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(
        ImportError, match=r'optuna and cmaes.*pip install "nasgym\[optuna\]"'
    ):
        OptunaCMAES(_graph(5), seed=0)


def test_leaderboard_runs_optuna_agents_with_sampler_options(tmp_path: Path) -> None:
    out = tmp_path / "lb"
    args = [
        "leaderboard", "run", "--env", GRAPH, "--env-kwargs", "dataset=cora",
        "--agents", "optuna-tpe,optuna-random", "--seeds", "2", "--budget", "15",
        "--agent-kwargs", "optuna-tpe:n_startup_trials=4",
        "--out", str(out), "--workers", "2", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    files = sorted((out / "runs").glob("*/*/seed-*.jsonl"))
    assert len(files) == 4
    for path in files:
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(lines[1:-1]) == 15
        if "optuna-tpe" in str(path):
            assert lines[0]["agent"]["config"]["n_startup_trials"] == 4
    assert main(["leaderboard", "report", str(out)]) == 0
    assert "optuna-tpe" in (out / "report" / "report.md").read_text()


# ---------------------------------------------------------------- real data
@pytest.mark.data
@pytest.mark.parametrize("name", sorted(SINGLE))
def test_optuna_agents_on_the_real_nb201_table(nb201_table: Path, name: str) -> None:
    def run(seed: int) -> Recorder:
        env = Recorder(
            gym.make("nasgym/NB201Query-v0", dataset="cifar100", max_queries=40)
        )
        SINGLE[name](env, seed=seed).run()
        return env

    first = run(3)
    assert len(first.archs) == 40 == len(set(first.archs))
    assert first.last_info["budget_exhausted"]
    assert run(3).archs == first.archs
    assert 0.0 < first.last_info["best_valid_accuracy"] <= 100.0


@pytest.mark.data
def test_nsga2_on_the_real_nb201_table_with_latency(
    nb201_table: Path, data_root: Path
) -> None:
    from nasgym.benchmarks.hw360 import import_hw360

    import_hw360(data_root / "hw-nas-bench-360")
    env = Recorder(
        gym.make(
            "nasgym/NB201Query-v0", dataset="cifar100", max_queries=40,
            objectives=["valid_accuracy", "latency:pi5-litert"],
        )
    )  # fmt: skip
    agent = OptunaNSGA2(env, seed=0, population_size=10)
    agent.run()
    assert len(env.archs) == 40
    assert agent.study is not None and len(agent.study.best_trials) >= 1


@pytest.mark.data
def test_invalid_nb101_vectors_are_told_as_invalid(ecnas_bench: Any) -> None:
    env = Recorder(
        gym.make("nasgym/NB101Query-v0", benchmark=ecnas_bench, max_queries=30)
    )
    agent = OptunaTPE(env, seed=0)
    agent.run()
    assert len(env.archs) == 30
    statuses = [o.status for o in agent.history.values()]
    assert "invalid" in statuses  # most random NB101 vectors are no valid cell
    assert agent.study is not None
    assert any(t.state.name == "FAIL" for t in agent.study.trials)


@pytest.mark.data
def test_optuna_tpe_on_the_real_nb301_surrogate(nb301_surrogate: Any) -> None:
    def run(seed: int) -> Recorder:
        env = Recorder(
            gym.make("nasgym/NB301Query-v0", surrogate=nb301_surrogate, max_queries=15)
        )
        OptunaTPE(env, seed=seed, n_startup_trials=5).run()
        return env

    first = run(0)
    assert len(first.archs) == 15 and first.last_info["budget_exhausted"]
    assert run(0).archs == first.archs


def test_optuna_tpe_on_a_tiny_supernet201_query_env() -> None:
    from tiny_supernet import tiny_supernet

    env = Recorder(
        gym.make("nasgym/Supernet201Query-v0", max_queries=8, **tiny_supernet())
    )
    agent = OptunaTPE(env, seed=0, n_startup_trials=4)
    agent.run()
    assert len(env.archs) == 8 and env.last_info["budget_exhausted"]
    assert sum(o.status == "evaluated" for o in agent.history.values()) == 8
