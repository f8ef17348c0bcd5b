"""GDAS as a leaderboard agent on the Supernet201 env (nasgym_agents.darts.agent).

The straight-through gradient is checked against torch autograd, the supernet's
two edge gradients against finite differences and against ``edge_advantages``, and
the agent on a tiny real supernet env: one query per architecture step, seeded
determinism, learning towards the best cell of a stub, and its error paths.
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
from nasgym.leaderboard.agents import load_agent  # noqa: E402
from nasgym.oneshot.supernet import Supernet  # noqa: E402
from nasgym.spaces.nb201 import NB201Arch, NB201Space  # noqa: E402
from nasgym_agents.darts import GDAS, GDASAgentConfig, gdas_alpha_grad  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = tiny_supernet(train_steps_per_query=0)


def test_alpha_gradient_matches_autograd_of_the_straight_through_weights() -> None:
    rng = np.random.default_rng(0)
    for tau in (10.0, 1.0, 0.1):
        alpha = rng.standard_normal((6, 5))
        gumbel = -np.log(-np.log(rng.random((6, 5))))
        a = torch.tensor(alpha, requires_grad=True)
        y = torch.softmax((torch.log_softmax(a, dim=1) + torch.tensor(gumbel)) / tau, 1)
        pick = y.argmax(dim=1)
        hard = torch.nn.functional.one_hot(pick, 5).double() - y.detach() + y
        sampled, other = rng.standard_normal(6), rng.standard_normal(6)
        upstream = torch.tensor(np.repeat(other[:, None], 5, axis=1))
        upstream[torch.arange(6), pick] = torch.tensor(sampled)
        (hard * upstream).sum().backward()
        assert a.grad is not None
        ours = gdas_alpha_grad(alpha, gumbel, tau, pick.numpy(), sampled, other)
        np.testing.assert_allclose(ours, a.grad.numpy(), rtol=1e-10, atol=1e-12)


def _pair(seed: int = 3) -> tuple[Supernet, Supernet]:
    kwargs = {k: v for k, v in TINY.items() if k != "train_steps_per_query"}
    one, two = Supernet(seed=seed, **kwargs), Supernet(seed=seed, **kwargs)
    return one, two


def test_edge_gradients_match_advantages_and_finite_differences() -> None:
    one, two = _pair()
    cell = (3, 1, 2, 0, 3, 4)
    grad_a, grad_s, loss = one.edge_gradients(cell)
    adv, loss2 = two.edge_advantages(cell)
    np.testing.assert_allclose(grad_a, adv, rtol=1e-5, atol=1e-7)
    assert loss == pytest.approx(loss2, rel=1e-6)
    # the offset gradient against a central difference on the same batch
    index = torch.from_numpy(two._val.next())
    x, y = two._x_val[index], two._y_val[index]
    two.model.train()
    eps = 1e-3
    for edge in (0, 3, 5):

        def loss_at(delta: float, edge: int = edge) -> float:
            shifted = torch.zeros(1, 6)
            shifted[0, edge] = delta
            with torch.no_grad():
                logits = two.model(x, [cell], None, shifted)[0]
            return float(torch.nn.functional.cross_entropy(logits, y))

        one_again, _ = _pair()
        one_again._val.next()  # the batch ``two`` just drew
        _, s, _ = one_again.edge_gradients(cell)
        numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
        assert s[edge] == pytest.approx(numeric, rel=2e-2, abs=1e-4)
    assert np.isfinite(grad_s).all() and np.abs(grad_s).sum() > 0


def test_offsets_of_zero_leave_the_forward_unchanged() -> None:
    one, _ = _pair()
    x = one._x_val[:8]
    cells = [(3, 1, 2, 0, 3, 4)]
    with torch.no_grad():
        plain = one.model(x, cells)
        shifted = one.model(x, cells, None, torch.zeros(1, 6))
    assert torch.equal(plain, shifted)
    with pytest.raises(ValueError, match="offsets must have shape"):
        one.model(x, cells, None, torch.zeros(2, 6))
    with pytest.raises(ValueError, match="single subnetwork"):
        one.model(x, cells * 2, None, torch.zeros(2, 6))


def test_leaderboard_agent_spends_one_query_per_architecture_step() -> None:
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=4, **TINY)
    agent = load_agent("gdas")(env, seed=0, warmup_steps=2)
    assert isinstance(agent, GDAS)
    agent.run()
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert info["queries"] == 4 and info["budget_exhausted"]
    assert agent.result is not None and agent.result.arch_steps == 4
    # 2 warm-up steps, then one weight step between consecutive queries
    assert info["weight_steps"] == 5 == agent.result.weight_steps
    assert info["arch"] == NB201Arch(agent.result.arch).to_str()
    taus = [row["tau"] for row in agent.result.history]
    assert taus[0] == 10.0 and taus[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in itertools.pairwise(taus))
    summary = agent.summary()
    assert list(summary["arch"]) == list(agent.result.arch)


def _history(seed: int) -> list[dict[str, object]]:
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=3, **TINY)
    agent = GDAS(env, seed=seed)
    agent.run()
    assert agent.result is not None
    return [{**h, "alpha": None} for h in agent.result.history] + [
        {"alpha": agent.result.alpha.round(12).tolist()}
    ]


def test_seeded_runs_are_identical_and_seeds_differ() -> None:
    assert _history(1) == _history(1)
    assert _history(1) != _history(2)


class StubSupernet(Supernet):
    """The op matching ``good`` lowers the loss on every edge; no network."""

    good = (3, 1, 2, 4, 3, 1)

    def __init__(self) -> None:  # no data, no model
        self.weight_steps = 0

    def set_schedule(self, steps: int | None) -> None:
        pass

    def train_step(self, choice: object) -> float:
        self.weight_steps += 1
        return 0.0

    def edge_gradients(self, choice: object) -> tuple[np.ndarray, np.ndarray, float]:
        match = np.array(choice) == np.array(self.good)
        return np.where(match, -1.0, 1.0), np.zeros(6), float((~match).sum())


def test_learns_the_best_cell_of_a_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    env = gym.make(
        "nasgym/NB201Query-v0",
        benchmark=FakeBenchmark(NB201Space(), seed=0),
        max_queries=300,
    )
    stub = StubSupernet()
    monkeypatch.setattr(
        "nasgym_agents.darts.agent._env_supernet", lambda env, name: stub
    )
    agent = GDAS(env, seed=0, arch_lr=0.05)
    agent.run()
    assert agent.result is not None and agent.result.arch == StubSupernet.good


def test_config_and_env_errors() -> None:
    for bad in (
        {"query": "best"},
        {"arch_lr": -1.0},
        {"tau_min": 0.0},
        {"tau_min": 2.0, "tau_max": 1.0},
        {"arch_betas": (1.0, 0.9)},
        {"warmup_steps": -1},
    ):
        with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
            GDASAgentConfig(**bad).check()  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword"):
        GDASAgentConfig(temperature=1.0)  # type: ignore[call-arg]
    tabular = gym.make(
        "nasgym/NB201Query-v0",
        benchmark=FakeBenchmark(NB201Space(), seed=0),
        max_queries=5,
    )
    with pytest.raises(ValueError, match="Supernet201"):
        GDAS(tabular, seed=0)
    edit = gym.make("nasgym/Supernet201Edit-v0", max_queries=3, **TINY)
    with pytest.raises(ValueError, match="Supernet201Query"):
        GDAS(edit, seed=0)
    trains = gym.make(
        "nasgym/Supernet201Query-v0",
        max_queries=3,
        **{**TINY, "train_steps_per_query": 1},
    )
    with pytest.warns(UserWarning, match="train_steps_per_query=0"):
        GDAS(trains, seed=0)
