"""Random search and REA at the largest fidelity (nasgym_agents.mf.timed)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
from test_mf_drivers import ToyFidelity, run_async, run_sequential

from nasgym.error import UnknownOptionError
from nasgym_agents.baselines import RegularizedEvolution
from nasgym_agents.mf import RandomSearchTime, REATime


@pytest.mark.parametrize("cls", [RandomSearchTime, REATime])
def test_every_job_is_at_the_largest_fidelity(cls: Any) -> None:
    bench = ToyFidelity()
    log = run_async(
        cls(nvec=bench.nvec, fidelities=bench.fidelities, seed=0),
        bench,
        80,
        workers=4,
        seed=0,
    )
    assert set(log.fidelities()) == {27} and log.nones_while_pending == 0


def test_random_search_max_configs() -> None:
    bench = ToyFidelity()
    rs = RandomSearchTime(
        nvec=bench.nvec, fidelities=bench.fidelities, seed=0, max_configs=7
    )
    assert len(run_sequential(rs, bench, 100).results) == 7


class Recorder(gym.Wrapper[Any, Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.steps: list[tuple[tuple[int, ...], float]] = []

    def step(self, action: Any) -> Any:
        out = self.env.step(action)
        self.steps.append(
            (tuple(int(a) for a in action), float(out[4]["valid_accuracy"]))
        )
        return out


def test_rea_time_with_one_worker_is_the_rea_baseline() -> None:
    env = Recorder(gym.make("nasgym/NBGraphQuery-v0", max_queries=60))
    RegularizedEvolution(env, seed=3).run()
    nvec = tuple(int(n) for n in env.action_space.nvec)
    rea = REATime(nvec=nvec, fidelities=(1,), seed=3)
    for vector, accuracy in env.steps:
        job = rea.ask()
        assert job is not None and job.vector == vector
        rea.tell(job, accuracy)
    assert len(env.steps) >= 60


def test_rea_time_population_ages() -> None:
    bench = ToyFidelity()
    rea = REATime(
        nvec=bench.nvec, fidelities=bench.fidelities, seed=0, population_size=5
    )
    log = run_sequential(rea, bench, 30)
    assert [v for v, _ in rea.population] == [j.vector for j, _ in log.results[-5:]]


def test_rea_time_children_differ_from_their_parent_in_num_mutations_slots() -> None:
    bench = ToyFidelity(nvec=(6,) * 5)
    rea = REATime(nvec=bench.nvec, fidelities=bench.fidelities, seed=0, num_mutations=2)
    parent = (1, 2, 3, 4, 5)
    for _ in range(20):
        child = rea.mutate(parent)
        assert sum(a != b for a, b in zip(child, parent, strict=True)) == 2


def test_rea_time_bad_settings() -> None:
    with pytest.raises(UnknownOptionError, match="num_mutations=3 exceeds"):
        REATime(nvec=(4, 1, 4), fidelities=(1,), seed=0, num_mutations=3)
    with pytest.raises(UnknownOptionError, match="population_size"):
        REATime(nvec=(4,), fidelities=(1,), seed=0, population_size=0)
