"""The four baseline agents (random search, REA, local search, REINFORCE).

Checked on NAS-Bench-Graph (offline, from its wheel), on the real NAS-Bench-201 table
(``data``-marked, through the ``nb201_table`` fixture) and on synthetic
``FakeBenchmark`` tables: exact budgets, seeded determinism, blindness to test
accuracy, truncation handling, the algorithms' defining behaviour, errors and the
``nasgym.agents`` entry points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.benchmarks.base import FloatArray
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.leaderboard.protocol import SearchAgent, load_agent, make_agent
from nasgym.spaces.base import CategoricalSearchSpace
from nasgym.spaces.nb201 import NB201Space
from nasgym.spaces.nbgraph import NBGraphSpace
from nasgym_agents.baselines import (
    LocalSearch,
    RandomSearch,
    RegularizedEvolution,
    Reinforce,
    common,
)

AGENTS: dict[str, type[Any]] = {
    "random": RandomSearch,
    "rea": RegularizedEvolution,
    "ls": LocalSearch,
    "reinforce": Reinforce,
}
BUDGET = 50


# ----------------------------------------------------------------- helpers
class Recorder(gym.Wrapper[Any, Any, Any, Any]):
    """Records every evaluated architecture and checks the budget is never passed."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.budget = env.unwrapped.max_queries  # type: ignore[attr-defined]
        self.codes: list[int] = []  # new queries, in order
        self.steps = 0
        self.resets = 0
        self.last_info: dict[str, Any] = {}
        self.actions: list[Any] = []
        self.step_infos: list[dict[str, Any]] = []

    def _record(self, info: dict[str, Any]) -> None:
        assert info["queries"] <= self.budget
        if info["new_query"]:
            self.codes.append(int(info["arch_code"]))
        assert info["queries"] == len(self.codes)
        self.last_info = info

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if kwargs.get("seed") is not None:
            self.codes = []
        self.resets += 1
        obs, info = self.env.reset(**kwargs)
        self._record(info)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        assert not self.last_info["budget_exhausted"], "stepped after the budget"
        out = self.env.step(action)
        self.steps += 1
        self.actions.append(np.array(action))
        self.step_infos.append(out[4])
        self._record(out[4])
        return out


class ShuffledTest(FakeBenchmark[Any]):
    """The fake benchmark with its test accuracies permuted among valid codes."""

    def _load(self) -> Mapping[str, FloatArray]:
        tables = dict(super()._load())
        valid = self.space.valid_codes
        test = tables["test"].copy()
        test[valid] = test[np.random.default_rng(99).permutation(valid)]
        tables["test"] = test
        return tables


class Additive(FakeBenchmark[Any]):
    """Validation accuracy additive over slots: a single one-slot local optimum."""

    def _load(self) -> Mapping[str, FloatArray]:
        tables = dict(super()._load())
        rng = np.random.default_rng(7)
        weights = rng.normal(size=(self.space.num_slots, self.space.max_choices))
        vectors = self.space.codes_to_vectors(np.arange(self.space.size))
        score = weights[np.arange(self.space.num_slots), vectors].sum(axis=1)
        valid = 50.0 + 5.0 * score
        valid[~self.space.valid_mask] = np.nan
        tables["valid"] = valid
        tables["test"] = valid.copy()
        return tables


def _space(kind: str) -> CategoricalSearchSpace[Any]:
    return NB201Space() if kind == "NB201" else NBGraphSpace()


def _benchmark(request: pytest.FixtureRequest, where: str) -> Any:
    """``None`` (the env's own dataset) or the real NB201 cifar10 benchmark."""
    if where != "real-nb201":
        return None
    from nasgym.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark("cifar10", path=request.getfixturevalue("nb201_table"))


def _env(env_id: str, benchmark: Any = None, **kwargs: Any) -> Recorder:
    if benchmark is not None:
        kwargs["benchmark"] = benchmark
    kwargs.setdefault("max_queries", BUDGET)
    return Recorder(gym.make(env_id, **kwargs))


def _run(name: str, env: Recorder, seed: int, **config: Any) -> list[int]:
    agent = AGENTS[name](env, seed=seed, **config)
    agent.run()
    return list(env.codes)


# Every agent on every Query env; local search also on every Edit env.
CASES = [
    pytest.param(name, f"nasgym/{space}{mode}-v0", where, marks=marks, id=ident)
    for space, where, marks in (
        ("NBGraph", "cora", ()),
        ("NB201", "real-nb201", (pytest.mark.data,)),
    )
    for mode in ("Query", "Edit")
    for name in AGENTS
    if mode == "Query" or name == "ls"
    for ident in [f"{name}-{space}{mode}"]
]


# ------------------------------------------------------- budget, determinism
@pytest.mark.parametrize(("name", "env_id", "where"), CASES)
def test_spends_exact_budget_deterministically(
    request: pytest.FixtureRequest, name: str, env_id: str, where: str
) -> None:
    bench = _benchmark(request, where)
    env = _env(env_id, bench)
    agent = AGENTS[name](env, seed=3)
    assert isinstance(agent, SearchAgent)
    agent.run()
    first = list(env.codes)
    assert len(first) == BUDGET
    assert env.last_info["queries"] == BUDGET and env.last_info["budget_exhausted"]
    assert np.isfinite(env.last_info["best_valid_accuracy"])
    agent.run()  # run() restarts the search with reset(seed=seed)
    assert env.codes == first
    assert _run(name, _env(env_id, bench), seed=3) == first  # a fresh env and agent
    other = _run(name, _env(env_id, bench), seed=4)
    assert len(other) == BUDGET and other != first


@pytest.mark.parametrize(("name", "env_id", "where"), CASES)
def test_short_episodes_are_continued(
    request: pytest.FixtureRequest, name: str, env_id: str, where: str
) -> None:
    """With horizon 4 the budget spans many episodes; resets never add queries."""
    env = _env(env_id, _benchmark(request, where), horizon=4)
    codes = _run(name, env, seed=0)
    assert len(codes) == BUDGET
    assert env.resets > BUDGET // 4  # truncations were answered with reset()


# ---------------------------------------------------------- test blindness
@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
@pytest.mark.parametrize(
    ("name", "mode"),
    [(name, "Query") for name in AGENTS] + [("ls", "Edit")],
)
def test_decisions_ignore_test_accuracy(space: str, name: str, mode: str) -> None:
    env_id = f"nasgym/{space}{mode}-v0"
    plain, shuffled = FakeBenchmark(_space(space)), ShuffledTest(_space(space))
    assert not np.allclose(plain.table("test"), shuffled.table("test"), equal_nan=True)
    env_a = _env(env_id, plain, max_queries=120)
    env_b = _env(env_id, shuffled, max_queries=120)
    assert _run(name, env_a, seed=1) == _run(name, env_b, seed=1)
    best_tests = {env.last_info["best_test_accuracy"] for env in (env_a, env_b)}
    assert len(best_tests) == 2  # the shuffle did change what test accuracy reads


# ------------------------------------------------------------ the algorithms
@pytest.mark.parametrize("space", ["NB201", "NBGraph"])
@pytest.mark.parametrize("mode", ["Query", "Edit"])
def test_local_search_climbs_to_the_optimum_of_an_additive_table(
    space: str, mode: str
) -> None:
    """An additive table has one local optimum under one-slot moves: the global one."""
    bench = Additive(_space(space))
    optimum = bench.optimum("valid")
    for seed in range(3):
        env = _env(f"nasgym/{space}{mode}-v0", bench, max_queries=400)
        LocalSearch(env, seed=seed).run()
        assert env.last_info["best_valid_accuracy"] == optimum


def test_local_search_moves_to_the_first_improving_neighbour() -> None:
    """After the random start, each new query is a one-slot neighbour of the anchor,
    and the anchor moves only to a neighbour that beats it."""
    bench = Additive(NB201Space())
    space, valid = bench.space, bench.table("valid")
    env = _env("nasgym/NB201Query-v0", bench, max_queries=200)
    codes = _run("ls", env, seed=5, num_init=10)
    start = max(codes[:10], key=lambda c: valid[c])
    anchor, checked = start, 0
    for code in codes[10:]:
        diff = space.codes_to_vectors(code) != space.codes_to_vectors(anchor)
        if int(diff.sum()) != 1:
            break  # a restart: the climb before it reached a local optimum
        checked += 1
        if valid[code] > valid[anchor]:
            anchor = code
    assert checked > 20


def test_mutation_changes_the_requested_number_of_slots() -> None:
    env = _env("nasgym/NBGraphQuery-v0", max_queries=10)
    rng = np.random.default_rng(0)
    parent = np.array([1, 2, 3, 4, 5], dtype=np.int64)
    for k in (1, 2, 5):
        rea = RegularizedEvolution(env, seed=0, num_mutations=k)
        for _ in range(50):
            child = rea.mutate(parent, rng)
            assert int((child != parent).sum()) == k
            assert (child >= 0).all() and (child < 9).all()
    assert (parent == [1, 2, 3, 4, 5]).all()


def test_reinforce_matches_a_torch_reference() -> None:
    """Replaying the run through torch's Categorical and Adam/SGD gives its logits."""
    torch = pytest.importorskip("torch")
    for optimizer in ("adam", "sgd"):
        env = _env(
            "nasgym/NBGraphQuery-v0", FakeBenchmark(NBGraphSpace()), max_queries=60
        )
        lr = 0.05 if optimizer == "adam" else 5.0
        agent = Reinforce(env, seed=2, learning_rate=lr, optimizer=optimizer)
        agent.run()

        logits = torch.zeros((5, 9), dtype=torch.float64, requires_grad=True)
        opt = (
            torch.optim.Adam([logits], lr=lr, betas=(0.9, 0.999), eps=1e-8)
            if optimizer == "adam"
            else torch.optim.SGD([logits], lr=lr)
        )
        num = den = 0.0
        for action, info in zip(env.actions, env.step_infos, strict=True):
            if info["invalid_action"] is not None:
                continue
            reward = info["valid_accuracy"] / 100.0
            num, den = 0.9 * num + 0.1 * reward, 0.9 * den + 0.1
            log_prob = torch.log_softmax(logits, dim=1)[range(5), action].sum()
            loss = -(reward - num / den) * log_prob
            opt.zero_grad()
            loss.backward()
            opt.step()
        np.testing.assert_allclose(agent.logits, logits.detach().numpy(), atol=1e-9)
        assert np.abs(agent.logits).max() > 0.1  # it learned something


def test_reinforce_collapsed_policy_still_spends_its_budget() -> None:
    """A huge learning rate collapses the policy onto revisits; uniform proposals
    after ``max_revisits`` free steps in a row keep the search going."""
    env = _env("nasgym/NBGraphQuery-v0", max_queries=40)
    agent = Reinforce(env, seed=0, learning_rate=1.0)
    agent.run()
    assert len(env.codes) == 40
    assert (agent.probabilities().max(axis=1) > 0.99).all()
    assert env.steps > 40 + agent.max_revisits


# ------------------------------------------------------ real-data comparison
@pytest.mark.data
def test_search_agents_beat_random_search_on_nb201(
    request: pytest.FixtureRequest,
) -> None:
    """Mean best *validation* accuracy after 150 queries on CIFAR-10, seeds 0-99.

    Measured gains over random search: REA about +0.66, LS about +0.97 points (above
    0.45 on every block of 20 seeds), REINFORCE (lr 0.01) +0.19 with a standard error
    of 0.06 over these 100 paired seeds. The REINFORCE check is a paired comparison
    that asks for the gain to exceed two standard errors.
    """
    bench = _benchmark(request, "real-nb201")
    best: dict[str, np.ndarray] = {}
    for name in AGENTS:
        values = []
        for seed in range(100):
            env = _env("nasgym/NB201Query-v0", bench, max_queries=150)
            _run(name, env, seed=seed)
            values.append(env.last_info["best_valid_accuracy"])
        best[name] = np.asarray(values)
    assert best["rea"].mean() > best["random"].mean() + 0.3
    assert best["ls"].mean() > best["random"].mean() + 0.3
    gain = best["reinforce"] - best["random"]
    assert gain.mean() > 2 * gain.std(ddof=1) / np.sqrt(gain.size)


@pytest.mark.data
def test_reinforce_learns_with_a_larger_step(request: pytest.FixtureRequest) -> None:
    """With learning rate 0.05 the policy gradient clearly pays off by 150 queries."""
    bench = _benchmark(request, "real-nb201")
    means = {}
    for name, config in (("random", {}), ("reinforce", {"learning_rate": 0.05})):
        values = []
        for seed in range(20):
            env = _env("nasgym/NB201Query-v0", bench, max_queries=150)
            _run(name, env, seed=seed, **config)
            values.append(env.last_info["best_valid_accuracy"])
        means[name] = float(np.mean(values))
    assert means["reinforce"] > means["random"] + 0.3


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", list(AGENTS))
def test_env_without_budget_is_rejected(name: str) -> None:
    env = gym.make("nasgym/NBGraphQuery-v0")
    with pytest.raises(ValueError, match=r"no budget \(max_queries is None\)"):
        AGENTS[name](env, seed=0)


@pytest.mark.parametrize("name", list(AGENTS))
def test_budget_beyond_the_space_is_rejected(name: str) -> None:
    env = gym.make("nasgym/NBGraphQuery-v0", max_queries=59_041)
    with pytest.raises(ValueError, match="can never be spent"):
        AGENTS[name](env, seed=0)


@pytest.mark.parametrize("name", ["random", "rea", "reinforce"])
def test_whole_architecture_agents_need_a_query_env(name: str) -> None:
    env = gym.make("nasgym/NBGraphEdit-v0", max_queries=10)
    with pytest.raises(ValueError, match="MultiDiscrete"):
        AGENTS[name](env, seed=0)


def test_local_search_rejects_continuous_envs() -> None:
    env = gym.make("nasgym/NBGraphContinuous-v0", max_queries=10)
    with pytest.raises(ValueError, match="MultiDiscrete"):
        LocalSearch(env, seed=0)


@pytest.mark.parametrize(
    ("name", "config", "match"),
    [
        ("rea", {"population_size": 0}, "population_size"),
        ("rea", {"sample_size": 1.5}, "sample_size"),
        ("rea", {"num_mutations": 6}, "num_mutations"),
        ("ls", {"num_init": True}, "num_init"),
        ("reinforce", {"optimizer": "rmsprop"}, "optimizer"),
        ("reinforce", {"learning_rate": -1.0}, "learning_rate"),
        ("reinforce", {"baseline_momentum": 1.0}, "baseline_momentum"),
        ("reinforce", {"max_revisits": 0}, "max_revisits"),
    ],
)
def test_bad_settings_are_rejected(
    name: str, config: dict[str, Any], match: str
) -> None:
    env = gym.make("nasgym/NBGraphQuery-v0", max_queries=10)
    with pytest.raises(ValueError, match=match):
        AGENTS[name](env, seed=0, **config)


def test_a_search_that_cannot_progress_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    class NothingNew(gym.Wrapper[Any, Any, Any, Any]):
        def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, {**info, "new_query": False}

    monkeypatch.setattr(common, "STALL_LIMIT", 30)
    env = NothingNew(gym.make("nasgym/NBGraphQuery-v0", max_queries=100))
    with pytest.raises(RuntimeError, match="30 steps in a row"):
        RandomSearch(env, seed=0).run()


# ------------------------------------------------------------- entry points
def test_agents_load_through_entry_points() -> None:
    assert load_agent("rea") is RegularizedEvolution
    for name, cls in AGENTS.items():
        assert load_agent(name) is cls
    env = Recorder(gym.make("nasgym/NBGraphEdit-v0", max_queries=20))
    agent = make_agent("ls", env, seed=0, num_init=5)
    agent.run()
    assert len(env.codes) == 20
