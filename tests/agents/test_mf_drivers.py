"""Drivers and a hand-made benchmark for the multi-fidelity optimizer tests.

The other ``test_mf_*`` files import :class:`ToyFidelity`, :func:`run_sequential`
and :func:`run_async` from here; the tests below check the helpers themselves and
the rung ladder shared by the optimizers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from nasgym.error import InvalidActionError, UnknownOptionError
from nasgym.mf.fidelity import Evaluation, FidelityBenchmark
from nasgym.mf.protocol import Job, MFOptimizer
from nasgym_agents.mf import rung_ladder


class ToyFidelity(FidelityBenchmark):
    """A tiny benchmark: ``nvec`` slots, a hidden quality per architecture.

    The score at ``f`` epochs is ``quality * (1 - exp(-f / 8))`` plus a
    per-architecture offset that shrinks as ``1 / f``, so low fidelities rank
    architectures roughly, high ones exactly; the cost is ``f`` seconds.
    """

    resumable = False
    resumable_reason = "toy"

    def __init__(
        self,
        fidelities: tuple[int, ...] = (1, 3, 9, 27),
        nvec: tuple[int, ...] = (4, 4, 4),
        seed: int = 0,
    ) -> None:
        self.name = "toy"
        self.fidelities = fidelities
        self.nvec = nvec
        rng = np.random.default_rng(seed)
        size = int(np.prod(nvec))
        # Quality grows with the slot values (a structure a model can learn).
        grid = np.stack(np.unravel_index(np.arange(size), nvec), axis=1)
        self._quality = 50.0 + 10.0 * grid.mean(axis=1) + rng.normal(0, 2, size)
        self._offset = rng.normal(0, 8, size)

    @property
    def cost_unit(self) -> str:
        return "s"

    @property
    def cost_source(self) -> str:
        return "toy: one second per epoch"

    def index(self, vector: tuple[int, ...]) -> int:
        return int(np.ravel_multi_index(vector, self.nvec))

    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation:
        i = self.index(vector)
        score = self._quality[i] * (1 - math.exp(-fidelity / 8)) + self._offset[
            i
        ] / float(fidelity)
        return Evaluation(float(score), float(self._quality[i]), float(fidelity))


@dataclass
class Log:
    """What a driver saw: results in tell order and ``None`` answers of ask."""

    results: list[tuple[Job, float]] = field(default_factory=list)
    asked: list[Job] = field(default_factory=list)
    nones_while_pending: int = 0

    def fidelities(self) -> list[int]:
        return [job.fidelity for job, _ in self.results]


def run_sequential(opt: MFOptimizer, bench: FidelityBenchmark, max_jobs: int) -> Log:
    """One worker: ask, evaluate, tell; stop after ``max_jobs`` or when finished."""
    log = Log()
    while len(log.results) < max_jobs:
        job = opt.ask()
        if job is None:  # nothing is pending, so the optimizer is finished
            break
        log.asked.append(job)
        score = bench.evaluate(job.vector, job.fidelity).score
        opt.tell(job, score)
        log.results.append((job, score))
    return log


def run_async(
    opt: MFOptimizer,
    bench: FidelityBenchmark,
    max_jobs: int,
    *,
    workers: int,
    seed: int,
    on_ask: Any = None,
) -> Log:
    """``workers`` jobs in flight; a seeded choice of which finishes next.

    ``on_ask(job)`` is called right after each job is asked (before any other
    result arrives), for checks of the optimizer's state at that moment.
    """
    rng = np.random.default_rng(seed)
    log = Log()
    pending: list[Job] = []
    while True:
        while len(pending) < workers and len(log.asked) < max_jobs:
            job = opt.ask()
            if job is None:
                if pending:
                    log.nones_while_pending += 1
                break
            if on_ask is not None:
                on_ask(job)
            log.asked.append(job)
            pending.append(job)
        if not pending:
            return log
        job = pending.pop(int(rng.integers(len(pending))))
        score = bench.evaluate(job.vector, job.fidelity).score
        opt.tell(job, score)
        log.results.append((job, score))


# ------------------------------------------------------------------ helpers
def test_toy_benchmark_is_a_fidelity_benchmark() -> None:
    bench = ToyFidelity()
    ev = bench.evaluate((1, 2, 3), 9)
    assert ev.cost == 9.0
    assert bench.evaluate((1, 2, 3), 9) == ev
    with pytest.raises(UnknownOptionError, match="fidelity"):
        bench.evaluate((1, 2, 3), 2)
    with pytest.raises(InvalidActionError):
        bench.evaluate((1, 2, 4), 9)


class _Fixed:
    """Asks ``n`` jobs at fidelity 1, then ``None``."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.told: list[Job] = []

    def ask(self) -> Job | None:
        if self.left == 0:
            return None
        self.left -= 1
        return Job((self.left % 4, 0, 0), 1)

    def tell(self, job: Job, score: float) -> None:
        self.told.append(job)


def test_drivers_stop_and_tell_every_job() -> None:
    bench = ToyFidelity()
    seq = run_sequential(_Fixed(5), bench, 100)
    assert len(seq.results) == 5
    fixed = _Fixed(7)
    log = run_async(fixed, bench, 100, workers=3, seed=0)
    assert len(log.results) == len(fixed.told) == 7
    assert sorted(map(str, log.asked)) == sorted(map(str, fixed.told))
    assert [j for j, _ in log.results] != log.asked  # finished out of order


# ------------------------------------------------------------------ rungs
@pytest.mark.parametrize(
    ("fidelities", "eta", "expected"),
    [
        (tuple(range(1, 99)), 3, (1, 4, 11, 33, 98)),
        (tuple(range(1, 99)), 2, (2, 3, 6, 12, 25, 49, 98)),
        ((12, 200), 3, (12, 200)),
        ((4, 12, 36, 108), 3, (4, 12, 36, 108)),
        ((4, 12, 36, 108), 2, (4, 12, 36, 108)),
        ((4,), 3, (4,)),
        ((1, 3, 9, 27), 3, (1, 3, 9, 27)),
    ],
)
def test_rung_ladder(fidelities: tuple[int, ...], eta: int, expected: Any) -> None:
    rungs = rung_ladder(fidelities, eta, fidelities[0], fidelities[-1])
    assert rungs == expected
    assert set(rungs) <= set(fidelities)
    assert rungs[-1] == fidelities[-1]


def test_rung_ladder_within_min_and_max() -> None:
    rungs = rung_ladder(tuple(range(1, 99)), 3, 5, 50)
    assert rungs[0] >= 5 and rungs[-1] == 50
    assert rungs == (6, 17, 50)
