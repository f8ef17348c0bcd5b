"""The multi-fidelity optimizers on the real NB201 table (12 and 200 epochs)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_mf_drivers import run_async, run_sequential

from nasgym.mf.fidelity import NB201Fidelity
from nasgym.mf.protocol import Job
from nasgym_agents.mf import (
    ASHA,
    BOHB,
    Hyperband,
    OptunaHyperband,
    RandomSearchTime,
    REATime,
    SuccessiveHalving,
)

pytestmark = pytest.mark.data

ALL = (
    SuccessiveHalving,
    Hyperband,
    BOHB,
    ASHA,
    RandomSearchTime,
    REATime,
    OptunaHyperband,
)


@pytest.fixture(scope="module")
def bench(nb201_table: Path) -> NB201Fidelity:
    return NB201Fidelity("cifar10", path=nb201_table)


def _make(cls: Any, bench: NB201Fidelity, seed: int = 0, **config: Any) -> Any:
    return cls(nvec=bench.nvec, fidelities=bench.fidelities, seed=seed, **config)


@pytest.mark.parametrize("cls", ALL)
def test_every_optimizer_runs_on_nb201(cls: Any, bench: NB201Fidelity) -> None:
    if cls is OptunaHyperband:
        pytest.importorskip("optuna")
    logs = [
        run_async(_make(cls, bench, seed=7), bench, 60, workers=4, seed=0)
        for _ in range(2)
    ]
    assert logs[0].asked == logs[1].asked  # determinism under the seed
    assert {j.fidelity for j in logs[0].asked} <= {12, 200}
    assert len(logs[0].results) == 60
    if cls in (RandomSearchTime, REATime):
        assert {j.fidelity for j in logs[0].asked} == {200}
    else:
        assert 12 in {j.fidelity for j in logs[0].asked}


def test_successive_halving_on_nb201(bench: NB201Fidelity) -> None:
    sh = _make(SuccessiveHalving, bench, n_configs=9, max_brackets=3)
    assert sh.rungs == (12, 200)
    log = run_sequential(sh, bench, 1000)
    assert Counter(log.fidelities()) == {12: 27, 200: 9}
    for bracket in sh.brackets:
        (low, below), (high, above) = bracket.history
        scores = {v: bench.evaluate(v, 12).score for v in below}
        best = sorted(below, key=lambda v: -scores[v])[:3]
        assert (low, high) == (12, 200)
        assert sorted(above) == sorted(best)


def test_hyperband_brackets_on_nb201(bench: NB201Fidelity) -> None:
    hb = _make(Hyperband, bench, max_brackets=4)
    run_sequential(hb, bench, 1000)
    sizes = [[(f, len(v)) for f, v in b.history] for b in hb.brackets]
    # s_max = 1: bracket s=1 starts ceil(2/2 * 3) = 3 at 12 epochs and promotes
    # one; bracket s=0 is ceil(2/1 * 1) = 2 at 200 epochs.
    assert sizes == [[(12, 3), (200, 1)], [(200, 2)]] * 2


def test_asha_on_nb201_never_waits(bench: NB201Fidelity) -> None:
    asha = _make(ASHA, bench)

    def on_ask(job: Job) -> None:
        if job.fidelity == 200:
            rung = asha.results[0]
            assert job.vector in [r[2] for r in rung.top(len(rung) // 3)]

    log = run_async(asha, bench, 120, workers=8, seed=1, on_ask=on_ask)
    assert log.nones_while_pending == 0
    assert len(asha.promotions) >= len(asha.results[0]) // 3 - 8 > 0


def test_bohb_on_nb201_random_first(bench: NB201Fidelity) -> None:
    bohb = _make(BOHB, bench, random_fraction=0)
    log = run_sequential(bohb, bench, 80)
    assert bohb.min_points_in_model == 7
    assert bohb.sampled["model"] > 0
    # The first 9 results (7 + 2) are needed before the first model draw.
    first_model = bohb.sampled["random"]
    assert first_model >= 9
    assert len(log.results) == 80
