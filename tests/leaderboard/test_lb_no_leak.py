"""The harness hides every test-derived value from agents (and still records it)."""

import json

import gymnasium as gym
import lb_agents
import numpy as np
import pytest
from lb_helpers import ENV, use_test_agents

import nasgym  # noqa: F401  (registers the envs)
from nasgym.leaderboard.config import EnvConfig
from nasgym.leaderboard.execute import RunTask, execute_run
from nasgym.wrappers import HideTestInfo, QueryLog
from nasgym.wrappers.hide_test import hide_test_keys, is_test_key


@pytest.fixture(autouse=True)
def _agents(monkeypatch):
    use_test_agents(monkeypatch)


def test_an_agent_that_looks_for_test_values_finds_none() -> None:
    lb_agents.PEEKED.clear()
    outcome = execute_run(RunTask(EnvConfig(ENV, {"dataset": "cora"}), "peek", 0, 15))
    assert outcome.error is None, outcome.traceback
    assert lb_agents.PEEKED, "the peeking agent did not run in this process"
    assert lb_agents.PEEKED == {key: [] for key in lb_agents.PEEKED}
    # ... while the harness still recorded them for the results.
    assert outcome.data is not None
    lines = [json.loads(line) for line in outcome.data.decode().splitlines()]
    rows = [line for line in lines if line.get("type") == "query"] or lines[1:-1]
    assert len(rows) == 15
    assert all(np.isfinite(row["test"]) and np.isfinite(row["regret"]) for row in rows)
    assert np.isfinite(lines[-1]["regret"])


def test_the_peeking_agent_does_find_them_without_the_wrapper() -> None:
    """The spy is not blind: on a plain env (full info, a QueryLog) it finds leaks."""
    env = QueryLog(gym.make(ENV, dataset="cora", max_queries=5))
    env.reset(seed=0)
    agent = lb_agents.Peeking(env, seed=12345)
    agent.run()
    found = lb_agents.PEEKED.pop("12345")
    assert "info['test_accuracy']" in found and "info['regret']" in found
    assert "get_wrapper_attr('records')" in found


def test_gym_make_keeps_the_full_info_and_the_wrapper_hides_it() -> None:
    env = gym.make(ENV, dataset="cora", max_queries=3)
    _, info = env.reset(seed=0)
    assert {"test_accuracy", "best_test_accuracy", "regret"} <= set(info)
    hidden = HideTestInfo(QueryLog(gym.make(ENV, dataset="cora", max_queries=3)))
    _, info = hidden.reset(seed=0)
    assert not any(is_test_key(key) for key in info)
    assert "valid_accuracy" in info and "best_valid_accuracy" in info
    with pytest.raises(AttributeError, match="hidden from agents"):
        hidden.get_wrapper_attr("records")


def test_hide_test_keys_filters_nested_mappings() -> None:
    info = {
        "valid_accuracy": 1.0,
        "regret": 2.0,
        "objectives": {"valid_accuracy": 1.0, "test_accuracy": 3.0},
        "benchmark_test_accuracy": 4.0,
    }
    assert hide_test_keys(info) == {
        "valid_accuracy": 1.0,
        "objectives": {"valid_accuracy": 1.0},
    }
