"""Simulated asynchronous workers (nasgym.mf.simulate) on a hand-made benchmark."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from nasgym.error import BenchmarkDataMissingError, UnknownOptionError
from nasgym.mf.fidelity import Ledger
from nasgym.mf.protocol import Job
from nasgym.mf.simulate import Trace, sequential, simulate
from nasgym.mf.testing import TinyBenchmark, TinyOptimizer


def _opt(bench: TinyBenchmark, seed: int = 0, **kwargs: int) -> TinyOptimizer:
    return TinyOptimizer(
        nvec=bench.nvec, fidelities=bench.fidelities, seed=seed, **kwargs
    )


def _run(workers: int, seed: int = 0, budget: float = 300.0, **kw: int) -> Trace:
    bench = TinyBenchmark()
    return simulate(
        _opt(bench, seed, **kw),
        bench,
        Ledger(bench, budget=budget, unit="seconds"),
        workers=workers,
    )


def test_one_worker_equals_the_sequential_loop() -> None:
    bench = TinyBenchmark()
    trace = simulate(_opt(bench), bench, Ledger(bench, 300.0, "seconds"), workers=1)
    plain = sequential(_opt(bench), bench, Ledger(bench, 300.0, "seconds"))
    assert [(r.job, r.score) for r in trace.rows] == plain
    # One worker: each job starts when the previous one ends.
    ends = [0.0] + [r.end for r in trace.rows[:-1]]
    assert [r.start for r in trace.rows] == ends
    assert trace.rows[-1].end == pytest.approx(sum(r.charge for r in trace.rows))


@pytest.mark.parametrize("workers", [1, 4, 16])
def test_same_seed_same_trace_for_every_worker_count(workers: int) -> None:
    a, b = _run(workers), _run(workers)
    assert [r.to_json() for r in a.rows] == [r.to_json() for r in b.rows]
    assert a.stop_reason == b.stop_reason == "budget"
    assert _run(workers, seed=1).rows != a.rows


@pytest.mark.parametrize("workers", [1, 4, 16])
def test_worker_schedule_invariants(workers: int) -> None:
    trace = _run(workers)
    rows = trace.rows
    assert {r.worker for r in rows} <= set(range(workers))
    # Told in finish order; each worker runs one job at a time.
    assert [r.end for r in rows] == sorted(r.end for r in rows)
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for r in rows:
        assert r.end - r.start == pytest.approx(r.charge)
        by_worker.setdefault(r.worker, []).append((r.start, r.end))
    for spans in by_worker.values():
        spans.sort()
        assert all(s1 >= e0 for (_, e0), (s1, _) in itertools.pairwise(spans))
    # Never idle while work could start (the optimizer never waits here): a job
    # starts at 0 or when some job ends.
    ends = {0.0} | {r.end for r in rows}
    assert all(r.start in ends for r in rows)
    # The charged total stays within the budget, and the next job did not fit.
    assert sum(r.charge for r in rows) <= trace.budget + 1e-9
    assert trace.unstarted is not None
    bench = TinyBenchmark()
    extra = bench.evaluate(trace.unstarted.vector, trace.unstarted.fidelity).cost
    assert sum(r.charge for r in rows) + extra > trace.budget


def test_more_workers_finish_sooner_with_the_same_charge() -> None:
    one, many = _run(1), _run(4)
    assert many.makespan < one.makespan
    assert len(many.rows) == pytest.approx(len(one.rows), abs=1)


def test_ties_are_told_in_worker_order() -> None:
    # Every job on architecture (0, 0) at fidelity 1 costs 1 s: all workers finish
    # together, and are told lowest index first.
    class Same:
        def __init__(self) -> None:
            self.told: list[int] = []

        def ask(self) -> Job:
            return Job((0, 0), 1)

        def tell(self, job: Job, score: float) -> None:
            self.told.append(len(self.told))

    bench = TinyBenchmark()
    trace = simulate(Same(), bench, Ledger(bench, 8, "queries"), workers=4)
    assert [(r.worker, r.start, r.end) for r in trace.rows] == [
        (w, float(t), float(t + 1)) for t in range(2) for w in range(4)
    ]


def test_results_arrive_at_finish_time_never_earlier() -> None:
    # A synchronous batch of 3 waits for its slowest job before the next batch.
    bench = TinyBenchmark()
    opt = _opt(bench, batch=3, n_jobs=9)
    trace = simulate(opt, bench, Ledger(bench, 10_000.0, "seconds"), workers=3)
    assert trace.stop_reason == "finished" and len(trace.rows) == 9
    first, second = trace.rows[:3], trace.rows[3:6]
    assert min(r.start for r in second) == max(r.end for r in first)
    assert [j for j, _ in opt.told] == [r.job for r in trace.rows]


def test_incumbent_is_the_best_score_at_the_highest_fidelity() -> None:
    trace = _run(4)
    best: tuple[int, float, float] | None = None
    for r in trace.rows:
        key = (r.job.fidelity, r.score, r.report)
        if best is None or key[:2] > best[:2]:
            best = key
        assert (r.incumbent_fidelity, r.incumbent_score, r.incumbent_report) == best
    assert math.isnan(trace.incumbent_at(-1.0))
    assert trace.incumbent_at(trace.makespan) == trace.rows[-1].incumbent_report


@pytest.mark.parametrize(
    "unit,budget", [("queries", 7), ("epochs", 40), ("seconds", 90)]
)
def test_budget_exhaustion_in_each_unit(unit: str, budget: float) -> None:
    bench = TinyBenchmark()
    ledger = Ledger(bench, budget, unit)
    trace = simulate(_opt(bench), bench, ledger, workers=3)
    assert trace.stop_reason == "budget" and ledger.used() <= budget
    amounts = {
        "queries": len(trace.rows),
        "epochs": sum(r.job.fidelity for r in trace.rows),
        "seconds": sum(r.charge for r in trace.rows),
    }
    assert amounts[unit] == pytest.approx(ledger.used())
    if unit == "queries":
        assert len(trace.rows) == budget


def test_epochs_proxy_durations_are_epochs() -> None:
    bench = TinyBenchmark(costs=False)
    trace = simulate(_opt(bench), bench, Ledger(bench, 50, "epochs"), workers=2)
    assert trace.time_unit == "epochs"
    assert all(r.charge == r.job.fidelity for r in trace.rows)
    with pytest.raises(BenchmarkDataMissingError, match="budget_unit='epochs'"):
        Ledger(bench, 50, "seconds")


def test_resumable_continuation_lasts_the_difference() -> None:
    class Climb:
        def __init__(self) -> None:
            self.jobs = [Job((1, 0), 1), Job((1, 0), 9), Job((1, 0), 3)]

        def ask(self) -> Job | None:
            return self.jobs.pop(0) if self.jobs else None

        def tell(self, job: Job, score: float) -> None:
            pass

    bench = TinyBenchmark(resumable=True)
    trace = simulate(Climb(), bench, Ledger(bench, 1000, "seconds"), workers=1)
    # (1, 0) costs 2 s per epoch: 1 epoch = 2 s, then 9 epochs = 18 - 2 = 16 s more,
    # then 3 epochs is already trained: free.
    assert [r.charge for r in trace.rows] == [2.0, 16.0, 0.0]
    assert [r.end for r in trace.rows] == [2.0, 18.0, 18.0]


def test_max_jobs_and_error_paths() -> None:
    assert len(_run(2, budget=1e3).rows) > 0
    bench = TinyBenchmark()
    trace = simulate(_opt(bench), bench, Ledger(bench, 1e9, "seconds"), max_jobs=5)
    assert trace.stop_reason == "max_jobs" and len(trace.rows) == 5
    for bad in (0, -1, 1.5, True, "4"):
        with pytest.raises(UnknownOptionError, match="workers"):
            simulate(_opt(bench), bench, Ledger(bench, 10, "queries"), workers=bad)  # type: ignore[arg-type]

    class WrongFidelity:
        def ask(self) -> Job:
            return Job((0, 0), 2)

        def tell(self, job: Job, score: float) -> None:
            pass

    with pytest.raises(UnknownOptionError, match=r"fidelity.*2.*1, 3, 9"):
        simulate(WrongFidelity(), bench, Ledger(bench, 10, "queries"))


@pytest.mark.data
def test_simulate_on_the_real_nb201_table(nb201_table: Path) -> None:
    from nasgym.mf.fidelity import NB201Fidelity

    bench = NB201Fidelity("cifar10", path=nb201_table)
    runs = []
    for workers in (1, 4, 16):
        opt = TinyOptimizer(nvec=bench.nvec, fidelities=bench.fidelities, seed=3)
        ledger = Ledger(bench, 4000, "epochs")
        runs.append(simulate(opt, bench, ledger, workers=workers))
    for trace in runs:
        assert trace.time_unit == "epochs" and trace.stop_reason == "budget"
        assert sum(r.charge for r in trace.rows) <= 4000
        assert all(0 < r.report < 100 for r in trace.rows)

    # Same proposals (the optimizer never waits), different schedules.
    def asked(trace: Trace) -> list[Job]:
        return [r.job for r in sorted(trace.rows, key=lambda r: (r.start, r.worker))]

    assert asked(runs[0])[:5] == asked(runs[2])[:5]
    assert runs[2].makespan < runs[0].makespan
