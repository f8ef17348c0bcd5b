"""``fitness="reward"``: local search and L2NAS ranking by the env's scalar reward.

Runs on the embedded NAS-Bench-Graph (cora), no data needed. The default
(``fitness="valid_accuracy"``) must keep every stored result unchanged, so it is
checked to be the behaviour of an agent made without the option.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym_agents.baselines.common import FITNESS, check_fitness, step_fitness
from nasgym_agents.baselines.evolution import RegularizedEvolution
from nasgym_agents.baselines.local_search import LocalSearch
from nasgym_agents.l2nas import L2NAS

QUERY = "nasgym/NBGraphQuery-v0"
CONTINUOUS = "nasgym/NBGraphContinuous-v0"
NAMES = ["valid_accuracy", "latency"]


class Spy(gym.Wrapper[Any, Any, Any, Any]):
    """Records the new queries' architectures, rewards and constraint flags."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.archs: list[str] = []
        self.rewards: list[float] = []
        self.violated: list[bool] = []
        self.accuracy: list[float] = []

    def step(self, action: Any) -> Any:
        out = self.env.step(action)
        info = out[4]
        if info["new_query"]:
            self.archs.append(str(info["arch"]))
            self.rewards.append(float(np.asarray(out[1]).ravel()[0]))
            self.violated.append(bool(info.get("constraint_violated", False)))
            self.accuracy.append(float(info["valid_accuracy"]))
        return out


def _ls(budget: int, seed: int, **kwargs: Any) -> Spy:
    fitness = kwargs.pop("fitness", None)
    env = Spy(gym.make(QUERY, max_queries=budget, **kwargs))
    agent_kwargs = {} if fitness is None else {"fitness": fitness}
    LocalSearch(env, seed=seed, **agent_kwargs).run()
    return env


def _l2nas(budget: int, seed: int, **kwargs: Any) -> Spy:
    fitness = kwargs.pop("fitness", None)
    env = Spy(gym.make(CONTINUOUS, max_queries=budget, **kwargs))
    agent_kwargs = {} if fitness is None else {"fitness": fitness}
    L2NAS(env, seed=seed, **agent_kwargs).run()
    return env


CONSTRAINED = {
    "objectives": NAMES,
    "mo_reward": "constrained",
    "cost_threshold": 0.0027,  # about the 25th percentile of cora latencies
}


def test_check_fitness() -> None:
    assert FITNESS == ("valid_accuracy", "reward")
    assert check_fitness("reward") == "reward"
    with pytest.raises(ValueError, match="fitness must be one of"):
        check_fitness("test_accuracy")


def test_step_fitness_reads_accuracy_or_reward() -> None:
    info = {"valid_accuracy": 81.5}
    assert step_fitness(info, 0.25, "valid_accuracy") == 81.5
    assert step_fitness(info, 0.25, "reward") == 0.25
    rejected = {"valid_accuracy": 0.0, "invalid_action": "bad"}
    assert step_fitness(rejected, 0.25, "reward") is None
    with pytest.raises(ValueError, match="mo_reward='weighted'"):
        step_fitness(info, np.array([0.5, 0.1]), "reward")


@pytest.mark.parametrize("run", [_ls, _l2nas])
def test_default_is_valid_accuracy(run: Any) -> None:
    """The explicit default queries what an agent made without the option does."""
    plain = run(40, 1, **CONSTRAINED)
    explicit = run(40, 1, fitness="valid_accuracy", **CONSTRAINED)
    assert plain.archs == explicit.archs


def test_rea_default_is_unchanged() -> None:
    env_a = Spy(gym.make(QUERY, max_queries=40))
    env_b = Spy(gym.make(QUERY, max_queries=40))
    RegularizedEvolution(env_a, seed=2).run()
    RegularizedEvolution(env_b, seed=2, fitness="valid_accuracy").run()
    assert env_a.archs == env_b.archs


@pytest.mark.parametrize("run", [_ls, _l2nas])
def test_reward_equals_accuracy_when_cost_weighs_nothing(run: Any) -> None:
    """With mo_alpha=1 the weighted reward ranks like validation accuracy."""
    kwargs = {"objectives": NAMES, "mo_reward": "weighted", "mo_alpha": 1.0}
    on_reward = run(60, 4, fitness="reward", **kwargs)
    on_accuracy = run(60, 4, fitness="valid_accuracy", **kwargs)
    if run is _ls:  # same ranking, same climb
        assert on_reward.archs == on_accuracy.archs
    else:  # the critic's standardised targets are the same up to rounding
        assert on_reward.archs[:20] == on_accuracy.archs[:20]


def test_ls_on_the_constrained_reward_climbs_inside_the_threshold() -> None:
    """Ranked by the constrained reward, LS spends fewer queries outside it."""
    share_reward, share_accuracy = [], []
    best_reward, best_accuracy = [], []
    for seed in range(4):
        on_reward = _ls(120, seed, fitness="reward", **CONSTRAINED)
        on_accuracy = _ls(120, seed, fitness="valid_accuracy", **CONSTRAINED)
        share_reward.append(np.mean(on_reward.violated))
        share_accuracy.append(np.mean(on_accuracy.violated))
        best_reward.append(max(on_reward.rewards))
        best_accuracy.append(max(on_accuracy.rewards))
    assert np.mean(share_reward) < np.mean(share_accuracy)
    assert np.mean(best_reward) >= np.mean(best_accuracy)


def test_l2nas_on_the_constrained_reward_learns_the_constraint() -> None:
    shares: dict[str, list[float]] = {"reward": [], "valid_accuracy": []}
    for seed in range(2):
        for fitness in shares:
            env = _l2nas(80, seed, fitness=fitness, **CONSTRAINED)
            shares[fitness].append(float(np.mean(env.violated[20:])))
    assert np.mean(shares["reward"]) < np.mean(shares["valid_accuracy"])


@pytest.mark.parametrize("run", [_ls, _l2nas])
def test_a_vector_reward_is_refused(run: Any) -> None:
    with pytest.raises(ValueError, match="mo_reward='weighted'"):
        run(30, 0, fitness="reward", objectives=NAMES)


def test_ls_refuses_reward_fitness_on_an_edit_env() -> None:
    env = gym.make("nasgym/NBGraphEdit-v0", max_queries=10)
    with pytest.raises(ValueError, match="query envs"):
        LocalSearch(env, seed=0, fitness="reward")


def test_bad_fitness_is_refused() -> None:
    env = gym.make(QUERY, max_queries=10)
    with pytest.raises(ValueError, match="fitness must be one of"):
        LocalSearch(env, seed=0, fitness="best")
    with pytest.raises(ValueError, match="fitness must be one of"):
        L2NAS(gym.make(CONTINUOUS, max_queries=10), seed=0, fitness="best")
