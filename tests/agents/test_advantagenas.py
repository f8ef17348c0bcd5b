"""AdvantageNAS and its REINFORCE baseline (nasgym_agents.advantagenas).

The estimator is checked against hand-computed values on a stub supernet (zero-op
rule, ``g = A (a - p)``, Adam's first step, the REINFORCE baseline), the schedule's
step counts, learning on a stub whose best cell is known, seeded determinism, and
the leaderboard agents on a tiny real supernet env (one query per architecture
step) with their error paths.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from tiny_supernet import tiny_supernet

import nasgym  # noqa: F401  (registers the ids)
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.leaderboard.agents import load_agent
from nasgym.spaces.nb201 import NB201Arch, NB201Space
from nasgym_agents.advantagenas import (
    AdvantageNAS,
    AdvantageNASConfig,
    OneShotSearch,
    ReinforceSupernet,
    zero_op_credit,
)
from nasgym_agents.advantagenas.agent import PAPER_ARCH_STEPS, softmax
from nasgym_agents.advantagenas.standalone import format_report, main, search_report

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = tiny_supernet(train_steps_per_query=0)


class StubSupernet:
    """Advantages and losses from fixed tables; records every call."""

    def __init__(self, good: tuple[int, ...] = (3, 1, 2, 4, 3, 1)) -> None:
        self.good = good
        self.weight_steps = 0
        self.images_trained = 0
        self.trained: list[tuple[int, ...]] = []
        self.scored: list[tuple[int, ...]] = []
        self.schedule: int | None = None

    def set_schedule(self, steps: int | None) -> None:
        self.schedule = steps

    def train_step(self, choice: tuple[int, ...]) -> float:
        self.trained.append(tuple(choice))
        self.weight_steps += 1
        self.images_trained += 4
        return 1.0

    def edge_advantages(self, choice: tuple[int, ...]) -> tuple[np.ndarray, float]:
        """The good op lowers the loss (A < 0), every other op raises it."""
        self.scored.append(tuple(choice))
        adv = np.where(np.array(choice) == np.array(self.good), -1.0, 1.0)
        return adv * np.arange(1, 7) / 10, float(adv.sum())

    def validation_loss(self, choice: tuple[int, ...]) -> float:
        self.scored.append(tuple(choice))
        return float(np.sum(np.array(choice) != np.array(self.good)))


def test_zero_op_rule_by_hand() -> None:
    ema = np.zeros((6, 5))
    first = zero_op_credit(
        np.array([0.2, -0.4, 9.0, 0.1, 0.3, 0.5]),
        np.array([3, 2, 0, 1, 4, 3]),
        ema,
        0.05,
    )
    assert first[2] == 0.0  # none sampled on edge 2, all EMAs there still 0
    assert ema[0, 3] == pytest.approx(0.01) and ema[1, 2] == pytest.approx(-0.02)
    assert ema[2].tolist() == [0.0] * 5  # the zero op's own A is never averaged
    second = zero_op_credit(np.full(6, 7.0), np.array([0, 0, 0, 0, 0, 0]), ema, 0.05)
    assert second[0] == pytest.approx(0.01) and second[1] == 0.0  # max(-0.02, 0, ..)
    assert second[3] == pytest.approx(0.005)


def test_zero_op_is_never_rewarded_when_every_op_helps() -> None:
    # The official adv_grad takes the max over all candidates, none's 0 included:
    # on an edge whose ops all lower the loss (negative EMAs) none is neutral (0),
    # not credited with the least negative EMA (which would reinforce it).
    ema = np.zeros((6, 5))
    ema[:, 1:] = -np.arange(1.0, 5.0)  # every non-zero op lowers the loss
    out = zero_op_credit(np.full(6, 5.0), np.array([0, 0, 0, 1, 2, 3]), ema, 0.05)
    np.testing.assert_array_equal(out[:3], 0.0)
    assert ema[:3, 0].tolist() == [0.0] * 3  # none's observed dL/da is 0
    assert out[3] == 5.0 and ema[3, 1] == pytest.approx(-1 + 0.05 * 6)
    ema[0, 3] = 0.7  # one harmful op: none is credited as that worst op
    assert zero_op_credit(np.zeros(6), np.zeros(6, np.int64), ema, 0.05)[0] == 0.7


def test_zero_op_ema_starts_from_the_first_observation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nasgym_agents.advantagenas.agent as module

    seen: list[np.ndarray] = []

    def spy(adv: np.ndarray, pick: np.ndarray, ema: np.ndarray, c: float) -> Any:
        out = zero_op_credit(adv, pick, ema, c)
        seen.append(ema.copy())
        return out

    monkeypatch.setattr(module, "zero_op_credit", spy)
    stub = StubSupernet()
    OneShotSearch(AdvantageNASConfig(warmup_steps=0), seed=0).run(stub, 2)  # type: ignore[arg-type]
    first = np.array(stub.scored[0])
    adv, _ = stub.edge_advantages(tuple(first))
    adv[first == 0] = 0.0
    # official EMA: the first observation initialises it (coefficient 1)
    np.testing.assert_allclose(seen[0][np.arange(6), first], adv)


def test_search_continues_the_weight_schedule_of_a_trained_supernet() -> None:
    stub = StubSupernet()
    stub.weight_steps = 7  # e.g. a shared warm-up already run
    cfg = AdvantageNASConfig(warmup_steps=2)
    OneShotSearch(cfg, seed=0).run(stub, 3)  # type: ignore[arg-type]
    assert stub.schedule == 7 + 2 + 3


def test_first_architecture_step_by_hand() -> None:
    stub = StubSupernet()
    cfg = AdvantageNASConfig(warmup_steps=2, arch_grad_clip=None, arch_weight_decay=0.0)
    method = OneShotSearch(cfg, seed=0)
    result = method.run(stub, 1)  # type: ignore[arg-type]
    (a,) = stub.scored
    adv, _ = stub.edge_advantages(a)
    adv[np.array(a) == 0] = 0.0  # zero-op rule at step 1: EMAs are 0
    probs = softmax(np.ones((6, 5)))
    onehot = np.eye(5)[list(a)]
    grad = adv[:, None] * (onehot - probs)
    # Adam's first step is lr * sign(g) (bias-corrected m / sqrt(v))
    expected = 1.0 - cfg.arch_lr * np.sign(grad)
    np.testing.assert_allclose(result.theta, expected, rtol=0, atol=1e-9)
    assert stub.schedule == 3 and len(stub.trained) == 3  # 2 warm-up + 1 interleaved
    assert result.weight_steps == 3 and result.arch_steps == 1


def test_reinforce_uses_the_loss_minus_its_moving_average() -> None:
    stub = StubSupernet()
    cfg = AdvantageNASConfig(
        estimator="reinforce", warmup_steps=0, arch_grad_clip=None, arch_weight_decay=0
    )
    method = OneShotSearch(cfg, seed=1)
    method.run(stub, 2)  # type: ignore[arg-type]
    first, second = stub.scored
    l1, l2 = stub.validation_loss(first), stub.validation_loss(second)
    # step 1: baseline = L1, advantage 0, so theta is unchanged by it; step 2: A =
    # L2 - L1 (the EMA after step 1 is still L1)
    probs = softmax(np.ones((6, 5)))
    grad = (l2 - l1) * (np.eye(5)[list(second)] - probs)
    np.testing.assert_allclose(
        method.theta, 1.0 - cfg.arch_lr * np.sign(grad), rtol=0, atol=1e-9
    )


@pytest.mark.parametrize("estimator", ["advantage", "reinforce"])
def test_learns_the_best_cell_of_a_stub(estimator: str) -> None:
    stub = StubSupernet()
    cfg = AdvantageNASConfig.scaled(300, estimator=estimator, warmup_steps=0)
    result = OneShotSearch(cfg, seed=0).run(stub, 300)  # type: ignore[arg-type]
    assert result.arch == stub.good
    assert result.probabilities[np.arange(6), list(stub.good)].min() > 0.3


def test_seeded_runs_are_identical_and_seeds_differ() -> None:
    cfg = AdvantageNASConfig.scaled(20, warmup_steps=3)
    runs = [OneShotSearch(cfg, seed=s).run(StubSupernet(), 20) for s in (4, 4, 5)]  # type: ignore[arg-type]
    np.testing.assert_array_equal(runs[0].theta, runs[1].theta)
    assert not np.array_equal(runs[0].theta, runs[2].theta)


def test_config_errors_and_scaling() -> None:
    assert AdvantageNASConfig().arch_lr == 3e-4  # the paper's value
    assert AdvantageNASConfig.scaled(PAPER_ARCH_STEPS).arch_lr == pytest.approx(3e-4)
    assert AdvantageNASConfig.scaled(100).arch_lr == pytest.approx(
        3e-4 * PAPER_ARCH_STEPS / 100
    )
    assert AdvantageNASConfig().warmup_for(40) == 50  # 50 : 40 epochs
    for bad in (
        {"estimator": "darts"},
        {"query": "best"},
        {"zero_ema": 0.0},
        {"arch_betas": (1.0, 0.9)},
        {"warmup_steps": -1},
        {"arch_lr": float("nan")},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AdvantageNASConfig(**bad).check()


@pytest.mark.parametrize("name", ["advantagenas", "reinforce_supernet"])
def test_leaderboard_agent_spends_one_query_per_architecture_step(name: str) -> None:
    env = gym.make("nasgym/Supernet201Query-v0", max_queries=4, **TINY)
    agent = load_agent(name)(env, seed=0)
    assert isinstance(agent, AdvantageNAS)
    assert isinstance(agent, ReinforceSupernet) == (name == "reinforce_supernet")
    agent.run()
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert info["queries"] == 4 and info["budget_exhausted"]
    assert agent.result is not None and agent.result.arch_steps == 4
    # warm-up round(1.25 * 4) = 5, then 3 interleaved steps (none after the last query)
    assert info["weight_steps"] == 8 == agent.result.weight_steps
    assert info["arch"] == NB201Arch(agent.result.arch).to_str()  # the last argmax
    summary = agent.summary()
    assert list(summary["arch"]) == list(agent.result.arch)


def test_agent_error_paths() -> None:
    tabular = gym.make(
        "nasgym/NB201Query-v0",
        benchmark=FakeBenchmark(NB201Space(), seed=0),
        max_queries=5,
    )
    with pytest.raises(ValueError, match="Supernet201"):
        AdvantageNAS(tabular, seed=0)
    edit = gym.make("nasgym/Supernet201Edit-v0", max_queries=3, **TINY)
    with pytest.raises(ValueError, match="Supernet201Query"):
        AdvantageNAS(edit, seed=0)
    trains = gym.make(
        "nasgym/Supernet201Query-v0",
        max_queries=3,
        **{**TINY, "train_steps_per_query": 1},
    )
    with pytest.warns(UserWarning, match="train_steps_per_query=0"):
        AdvantageNAS(trains, seed=0)
    unbudgeted = gym.make("nasgym/Supernet201Query-v0", **TINY)
    with pytest.raises(ValueError, match="no budget"):
        AdvantageNAS(unbudgeted, seed=0)


def test_standalone_report_and_cli(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    report = search_report(channels=2, batch_size=16, arch_steps=3, device="cpu")
    assert report["arch_steps"] == 3 and report["weight_steps"] == 4 + 3
    assert 0 <= report["supernet_valid_accuracy"] <= 100 and report["benchmark"] is None
    assert "images/s" in format_report(report)
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "--channels",
                "2",
                "--arch-steps",
                "2",
                "--device",
                "cpu",
                "--estimator",
                "reinforce",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert "reinforce on digits" in capsys.readouterr().out and out.is_file()
    assert main(["--dataset", "cifar10", "--arch-steps", "2"]) == 2
    assert "data_dir" in capsys.readouterr().err


def test_comparison_harness_gives_every_method_the_same_budget() -> None:
    """docs/supernet_compare.py: paired seeds, equal weight steps, paired table."""
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
    try:
        from supernet_compare import METHODS, run_seed, tables
    finally:
        sys.path.pop(0)
    args = argparse.Namespace(
        dataset="digits",
        channels=2,
        arch_steps=3,
        warmup=2,
        eval_images=64,
        epochs=1,
        methods=list(METHODS),
    )
    rows = run_seed(args, 0)  # asserts W + A weight steps for every searching method
    assert [r["method"] for r in rows] == list(METHODS)
    assert all(0 <= r["standalone_valid"] <= 100 for r in rows)
    assert rows[-1]["supernet_valid"] is None  # the no-search floor
    again = run_seed(argparse.Namespace(**{**vars(args), "methods": ["advantage"]}), 0)
    assert again[0]["arch"] == rows[0]["arch"]  # seeded
    by = {r["method"]: r["standalone_valid"] for r in rows}
    diff = by["advantage"] - by["reinforce"]
    tally = "2 / 0 / 0" if diff > 0 else "0 / 0 / 2" if diff < 0 else "0 / 2 / 0"
    text = tables(rows + [{**r, "seed": 1} for r in rows], list(METHODS))
    assert f"| REINFORCE (same harness) | {diff:+.2f} ± 0.00 | {tally} |" in text
