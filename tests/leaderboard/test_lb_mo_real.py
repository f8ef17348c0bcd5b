"""Multi-objective runs on a real benchmark (NAS-Bench-Graph latency, from its wheel).

REA on the scalarised (MONAS weighted) objective, and the harness end to end: the
recorded objectives are the env's, the recorded true front is the exact front of
its objective table, and the report's hypervolume regret follows from them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.cli import main
from nasgym.leaderboard.store import read_run
from nasgym.pareto import front_of_table
from nasgym_agents.baselines.evolution import RegularizedEvolution

ENV = "nasgym/NBGraphQuery-v0"
NAMES = ["valid_accuracy", "latency"]


def _rea(budget: int, fitness: str, **kwargs: Any) -> tuple[list[str], list[float]]:
    """Archs REA queried, and the scalar rewards of its steps."""
    env = gym.make(ENV, objectives=NAMES, max_queries=budget, **kwargs)
    rewards: list[float] = []
    archs: list[str] = []

    class Spy(gym.Wrapper[Any, Any, Any, Any]):
        def step(self, action: Any) -> Any:
            out = self.env.step(action)
            if out[4]["new_query"]:
                archs.append(out[4]["arch"])
                rewards.append(float(out[1]))
            return out

    RegularizedEvolution(Spy(env), seed=3, fitness=fitness).run()
    return archs, rewards


def test_rea_on_the_reward_equals_rea_on_accuracy_when_cost_weighs_nothing() -> None:
    same = _rea(120, "reward", mo_reward="weighted", mo_alpha=1.0)
    plain = _rea(120, "valid_accuracy", mo_reward="weighted", mo_alpha=1.0)
    assert same[0] == plain[0]


def test_rea_on_the_weighted_reward_optimises_it() -> None:
    kwargs = {"mo_reward": "weighted", "mo_alpha": 0.5}
    scalar = _rea(150, "reward", **kwargs)
    plain = _rea(150, "valid_accuracy", **kwargs)
    assert scalar[0] != plain[0]
    # the scalarised search finds better values of the objective it selects on
    assert np.mean(scalar[1][-50:]) > np.mean(plain[1][-50:])


def test_rea_on_the_reward_refuses_a_vector_reward() -> None:
    env = gym.make(ENV, objectives=NAMES, max_queries=20)
    with pytest.raises(ValueError, match="mo_reward='weighted'"):
        RegularizedEvolution(env, seed=0, fitness="reward").run()
    with pytest.raises(ValueError, match="fitness must be one of"):
        RegularizedEvolution(env, seed=0, fitness="test_accuracy")


def test_harness_records_the_env_objectives_and_true_front(tmp_path: Path) -> None:
    out = tmp_path / "board"
    argv = [
        "leaderboard", "run", "--env", ENV, "--env-kwargs",
        "objectives=valid_accuracy,latency", "mo_reward=constrained",
        "cost_threshold=0.002", "--agents", "random,rea", "--seeds", "2",
        "--budget", "40", "--checkpoints", "40", "--out", str(out), "--workers", "2",
        "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    env = gym.make(ENV, objectives=NAMES, max_queries=40)
    table = env.unwrapped.objective_table(NAMES, accuracy="test")
    expected = front_of_table(NAMES, table)
    valid = env.unwrapped.objective_table(NAMES, accuracy="valid")
    paths = sorted((out / "runs").glob("*/*/seed-*.jsonl"))
    assert len(paths) == 4
    for path in paths:
        run = read_run(path)
        assert run.header["objectives"] == NAMES
        np.testing.assert_allclose(run.header["true_front"]["front"], expected.front)
        for record in run.records:
            objectives = record["objectives"]
            latency = objectives["latency"]
            assert record["constraint_violated"] == (latency > 0.002)
            # the recorded pair is a row of the env's own table
            hits = np.isclose(valid[:, 1], latency) & np.isclose(
                valid[:, 0], objectives["valid_accuracy"]
            )
            assert hits.any()
    assert main(["leaderboard", "report", str(out), "--reps", "100"]) == 0
    rows = list(csv.DictReader((out / "report" / "multi-objective.csv").open()))
    assert {r["agent"] for r in rows} == {"random", "rea"}
    for row in rows:
        assert float(row["true_hv"]) == pytest.approx(expected.hypervolume)
        assert 0.0 < float(row["hv_regret_mean"]) < expected.hypervolume
        assert 0.0 <= float(row["violation_share_mean"]) <= 1.0
