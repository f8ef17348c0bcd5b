"""UNAS as a leaderboard agent on the Supernet201 env (nasgym_agents.unas.agent).

The first-order relaxation is checked against the sparse supernet's own forward, the
agent on a tiny real supernet env (one query per architecture step, seeded
determinism for both estimators, the entry point), on stub supernets where the best
cell and the latency optimum are known, and its error paths.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from tiny_supernet import tiny_supernet

torch = pytest.importorskip("torch")

import nasgym  # noqa: E402, F401  (registers the ids)
from nasgym.benchmarks.fake import FakeBenchmark  # noqa: E402
from nasgym.error import UnknownOptionError  # noqa: E402
from nasgym.leaderboard.agents import load_agent  # noqa: E402
from nasgym.oneshot.supernet import Supernet  # noqa: E402
from nasgym.spaces.nb201 import NB201Arch, NB201Space  # noqa: E402
from nasgym_agents.unas import UNAS, UnasAgentConfig  # noqa: E402
from nasgym_agents.unas.agent import linear_coefficients, one_hot  # noqa: E402
from nasgym_agents.unas.latency import LatencyTable  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = tiny_supernet(train_steps_per_query=0)


def test_linear_coefficients_reproduce_the_sparse_forward_to_first_order() -> None:
    """``f(z) + <G, w - onehot(z)>`` matches the forward with scales and offsets."""
    kwargs = {k: v for k, v in TINY.items() if k != "train_steps_per_query"}
    one, two = Supernet(seed=5, **kwargs), Supernet(seed=5, **kwargs)
    cell = (3, 1, 2, 0, 4, 3)
    a, s, loss = one.edge_gradients(cell, split="train")
    grad = linear_coefficients(cell, a, s)
    index = torch.from_numpy(two._train.next())
    x, y = two._x_train[index], two._y_train[index]
    x = x.double()
    two.model.double().train()  # float64: differences of 1e-5 in the loss
    delta = 1e-4 * np.random.default_rng(0).standard_normal((6, 5))
    rows = np.arange(6)

    def loss_at(w: np.ndarray) -> float:
        scales = torch.tensor(w[rows, list(cell)])[None]
        offsets = torch.tensor(w.sum(axis=1) - w[rows, list(cell)])[None]
        with torch.no_grad():  # ReLU kinks make larger steps nonlinear
            logits = two.model(x, [cell], scales, offsets)[0]
        return float(torch.nn.functional.cross_entropy(logits, y))

    base = one_hot(cell).numpy()
    assert loss_at(base) == pytest.approx(loss, rel=1e-5)
    central = (loss_at(base + delta) - loss_at(base - delta)) / 2
    # float32 gradients and ReLU kinks: agreement to a few per cent
    assert central == pytest.approx(float((grad * delta).sum()), rel=0.05)
    with pytest.raises(UnknownOptionError, match=r"'test'.*'val', 'train'"):
        one.edge_gradients(cell, split="test")


def test_entry_point_spends_one_query_per_architecture_step() -> None:
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=4, **TINY)
    agent = load_agent("unas")(env, seed=0, warmup_steps=2)
    assert isinstance(agent, UNAS)
    agent.run()
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert info["queries"] == 4 and info["budget_exhausted"]
    assert agent.result is not None and agent.result.arch_steps == 4
    assert info["weight_steps"] == 5 == agent.result.weight_steps
    assert info["arch"] == NB201Arch(agent.result.arch).to_str()
    assert agent.result.latency_ms is None  # no latency term by default
    rows = agent.result.history
    assert all(np.isfinite(r["objective"]) and r["c"] == 0.0 for r in rows)
    for r in rows:  # f(z) is the gap objective of the sample's two losses
        gap = r["train_loss"] + 0.5 * abs(r["val_loss"] - r["train_loss"])
        assert r["objective"] == pytest.approx(gap, rel=1e-6)
    assert list(agent.summary()["arch"]) == list(agent.result.arch)


def _history(seed: int, estimator: str) -> list[object]:
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=3, **TINY)
    agent = UNAS(env, seed=seed, estimator=estimator)
    agent.run()
    assert agent.result is not None
    return [*agent.result.history, agent.result.alpha.round(12).tolist()]


@pytest.mark.parametrize("estimator", ["rebar", "reinforce"])
def test_seeded_runs_are_identical_and_seeds_differ(estimator: str) -> None:
    assert _history(1, estimator) == _history(1, estimator)
    assert _history(1, estimator) != _history(2, estimator)


class StubSupernet(Supernet):
    """The op of ``good`` lowers both losses on every edge; no network."""

    good = (3, 1, 2, 4, 3, 1)

    def __init__(self, flat: bool = False) -> None:  # no data, no model
        self.weight_steps = 0
        self.flat = flat

    def set_schedule(self, steps: int | None) -> None:
        pass

    def train_step(self, choice: object) -> float:
        self.weight_steps += 1
        return 0.0

    def edge_gradients(
        self, choice: object, *, split: str = "val"
    ) -> tuple[np.ndarray, np.ndarray, float]:
        if self.flat:
            return np.zeros(6), np.zeros(6), 1.0
        match = np.array(choice) == np.array(self.good)
        loss = float((~match).sum()) + (0.5 if split == "val" else 0.0)
        return np.where(match, -1.0, 1.0), np.zeros(6), loss


def _stub_env(
    monkeypatch: pytest.MonkeyPatch, stub: StubSupernet, queries: int
) -> gym.Env:
    env = gym.make(
        "nasgym/NB201Query-v0",
        benchmark=FakeBenchmark(NB201Space(), seed=0),
        max_queries=queries,
    )
    monkeypatch.setattr("nasgym_agents.unas.agent._env_supernet", lambda e, n: stub)
    return env


@pytest.mark.parametrize("estimator", ["rebar", "reinforce"])
def test_learns_the_best_cell_of_a_stub(
    monkeypatch: pytest.MonkeyPatch, estimator: str
) -> None:
    env = _stub_env(monkeypatch, StubSupernet(), 400)
    agent = UNAS(env, seed=0, arch_lr=0.05, estimator=estimator)
    agent.run()
    assert agent.result is not None and agent.result.arch == StubSupernet.good


def _op_cost_table() -> LatencyTable:
    """Latency = sum of per-op costs (ms): 3x3 conv dear, none/skip cheap."""
    cost = np.array([0.05, 0.1, 1.0, 3.0, 0.6])
    vectors = NB201Space().codes_to_vectors(np.arange(5**6))
    return LatencyTable("pi5-litert", cost[vectors].sum(axis=1))


@pytest.mark.parametrize("estimator", ["rebar", "reinforce"])
def test_latency_term_moves_cells_below_the_target(
    monkeypatch: pytest.MonkeyPatch, estimator: str
) -> None:
    table = _op_cost_table()
    latencies = []
    for weight in (0.0, 0.5):
        env = _stub_env(monkeypatch, StubSupernet(flat=True), 300)
        agent = UNAS(
            env,
            seed=0,
            latency=table,
            arch_lr=0.05,
            estimator=estimator,
            latency_weight=weight,
            latency_target_ms=1.0,
            latency_fit_samples=500,
        )
        agent.run()
        assert agent.result is not None
        cs = [row["c"] for row in agent.result.history]
        if weight == 0:
            assert set(cs) == {0.0}
        else:  # c ramps from 0 to the weight over half the budget, then stays
            assert cs[0] == 0.0 and cs[150] == pytest.approx(0.5) == cs[-1]
            assert all(b >= a for a, b in itertools.pairwise(cs))
        assert agent.result.latency_ms == table.latency(agent.result.arch)
        latencies.append(agent.result.latency_ms)
    assert latencies[1] <= 1.0 < latencies[0]


def test_config_and_env_errors() -> None:
    for bad, word in (
        ({"estimator": "gumbel"}, "estimator"),
        ({"query": "best"}, "query"),
        ({"arch_lr": 0.0}, "arch_lr"),
        ({"tau": -1.0}, "tau"),
        ({"gap_lambda": float("nan")}, "gap_lambda"),
        ({"baseline_decay": 1.0}, "baseline_decay"),
        ({"arch_betas": (1.0, 0.9)}, "arch_betas"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"latency_ramp_steps": 1.5}, "latency_ramp_steps"),
        ({"latency_target_ms": 0.0}, "latency_target_ms"),
        ({"latency_device": "pi4"}, "latency device"),
    ):
        with pytest.raises(UnknownOptionError, match=word):
            UnasAgentConfig(**bad).check()  # type: ignore[arg-type]
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=3, **TINY)
    with pytest.raises(TypeError, match="temperature"):
        UNAS(env, seed=0, temperature=1.0)
    tabular = gym.make(
        "nasgym/NB201Query-v0",
        benchmark=FakeBenchmark(NB201Space(), seed=0),
        max_queries=5,
    )
    with pytest.raises(ValueError, match="Supernet201"):
        UNAS(tabular, seed=0)
    edit = gym.make("nasgym/Supernet201Edit-v0", max_queries=3, **TINY)
    with pytest.raises(ValueError, match="Supernet201Query"):
        UNAS(edit, seed=0)
    trains = gym.make(
        "nasgym/Supernet201Query-v0",
        max_queries=3,
        **{**TINY, "train_steps_per_query": 1},
    )
    with pytest.warns(UserWarning, match="train_steps_per_query=0"):
        UNAS(trains, seed=0)
