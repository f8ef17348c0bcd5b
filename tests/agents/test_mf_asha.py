"""ASHA (nasgym_agents.mf.asha): asynchronous promotions that never wait."""

from __future__ import annotations

from collections import Counter

import pytest
from test_mf_drivers import ToyFidelity, run_async, run_sequential

from nasgym.mf.protocol import Job
from nasgym_agents.mf import ASHA


def _make(bench: ToyFidelity, **config: object) -> ASHA:
    return ASHA(nvec=bench.nvec, fidelities=bench.fidelities, seed=0, **config)


@pytest.mark.parametrize("workers", [1, 4, 16])
def test_asha_never_waits_and_promotes_the_top_third(workers: int) -> None:
    bench = ToyFidelity()
    asha = _make(bench)
    checked = []

    def on_ask(job: Job) -> None:
        k = asha.rungs.index(job.fidelity)
        if k == 0:
            # A new configuration only when no rung could promote.
            assert all(asha.promotable(i) is None for i in range(len(asha.rungs) - 1))
            return
        # The promoted configuration is among the best floor(n / eta) finished
        # results of the rung below, at the moment of the promotion.
        below = asha.results[k - 1]
        top = [r[2] for r in below.top(len(below) // asha.eta)]
        assert job.vector in top
        checked.append(k)

    log = run_async(asha, bench, 400, workers=workers, seed=workers, on_ask=on_ask)
    assert log.nones_while_pending == 0 and len(log.asked) == 400
    assert set(checked) == {1, 2, 3}
    # A result promoted early may later fall out of the top third (Li et al.'s
    # "mispromotions"), so a rung can promote more than a third, never fewer
    # than a third of what it had when the last new configuration started.
    for k in range(len(asha.rungs) - 1):
        assert len(asha.results[k]) // 3 - workers <= len(asha.promoted[k])
        assert len(asha.promoted[k]) <= len(asha.results[k])


def test_asha_sequential_rung_counts() -> None:
    bench = ToyFidelity()
    asha = _make(bench)
    log = run_sequential(asha, bench, 81 + 27 + 9 + 3)
    counts = Counter(log.fidelities())
    # With one worker ASHA promotes as soon as a rung's top third has an
    # unpromoted member: at least a third of each rung moves up.
    for low, high in zip(asha.rungs, asha.rungs[1:], strict=False):
        assert counts[low] // 3 - 1 <= counts[high] <= counts[low]
    assert counts[27] >= 1


def test_asha_promotes_each_result_once() -> None:
    bench = ToyFidelity()
    asha = _make(bench)
    run_async(asha, bench, 300, workers=5, seed=2)
    orders = [(k, o) for k, s in enumerate(asha.promoted) for o in s]
    assert len(orders) == len(set(orders)) == len(asha.promotions)


def test_asha_max_configs_finishes() -> None:
    bench = ToyFidelity()
    asha = _make(bench, max_configs=9)
    log = run_sequential(asha, bench, 1000)
    assert asha.ask() is None
    counts = Counter(log.fidelities())
    assert counts[1] == 9 and counts[3] >= 3 and counts[9] >= 1
    # Finished: the top third of every rung is promoted.
    for k in range(len(asha.rungs) - 1):
        assert asha.promotable(k) is None


def test_asha_min_fidelity_is_an_early_stopping_rate() -> None:
    bench = ToyFidelity()
    asha = _make(bench, min_fidelity=3)
    assert asha.rungs == (3, 9, 27)
    log = run_sequential(asha, bench, 50)
    assert min(log.fidelities()) == 3
