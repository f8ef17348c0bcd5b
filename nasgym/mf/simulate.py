"""Simulated asynchronous workers: drive an ask/tell optimizer on simulated time.

:func:`simulate` replays ``K`` workers that train jobs of an
:class:`~nasgym.mf.protocol.MFOptimizer` on a
:class:`~nasgym.mf.fidelity.FidelityBenchmark`, charging each job to a
:class:`~nasgym.mf.fidelity.Ledger`. Everything happens in one process on a simulated
clock, so a run is a pure function of the optimizer's seed, the benchmark and ``K``:
no real parallelism, no race.

The rules:

* Time starts at 0 with every worker idle. Whenever workers are idle, they ask the
  optimizer for a job one after another, lowest worker index first.
* A job's duration is what the ledger charges for it: seconds when the benchmark has
  training times (``bench.cost_unit == "s"``), else the epochs trained (the epochs
  proxy). A continuation on a resumable benchmark lasts only its difference; a job
  at or below a fidelity already trained lasts 0.
* A job is charged when it starts. It starts only when its whole charge fits what
  is left of the budget (in the ledger's unit: queries, epochs or seconds). The
  first job that does not fit ends the search: nothing starts after it, and it is
  not run (the optimizer asked for it, but is never told a score).
* Jobs already running when the search ends still finish and are told (their
  charge was booked within the budget). This differs from syne-tune's simulator,
  which stops at a wall-clock deadline and drops the jobs still running: here the
  budget counts training charged, and what was paid for is always delivered.
* Results are told at their simulated finish time, in finish order; jobs finishing
  at the same time are told in worker-index order, before any idle worker asks
  again. A worker whose ``ask`` returns ``None`` waits for the next finish; when no
  job is running and ``ask`` returns ``None``, the optimizer is finished.
* The incumbent is the best score among the results at the highest fidelity told
  so far (Hyperband's convention: a low-fidelity score does not compete with a
  full-fidelity one); its report value is what a time-budget curve shows.

With ``workers=1`` this is exactly the sequential loop ask, evaluate, book, tell.

Example:
    >>> from nasgym.mf.fidelity import Ledger
    >>> from nasgym.mf.testing import TinyBenchmark, TinyOptimizer
    >>> bench = TinyBenchmark()
    >>> trace = simulate(
    ...     TinyOptimizer(nvec=bench.nvec, fidelities=bench.fidelities, seed=0),
    ...     bench,
    ...     Ledger(bench, budget=60, unit="seconds"),
    ...     workers=2,
    ... )
    >>> trace.stop_reason, [r.worker for r in trace.rows][:4]
    ('budget', [1, 1, 0, 0])
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

from nasgym.error import UnknownOptionError
from nasgym.mf.fidelity import Charge, FidelityBenchmark, Ledger
from nasgym.mf.protocol import Job, MFOptimizer

#: Why a simulation ended: the next job did not fit the budget, the optimizer had
#: nothing more to run, or ``max_jobs`` jobs were started.
STOP_REASONS = ("budget", "finished", "max_jobs")


@dataclass(frozen=True)
class TraceRow:
    """One finished job.

    Attributes:
        job: The job (architecture vector and fidelity).
        worker: Index of the worker that ran it (``0..workers-1``).
        start: Simulated start time, in :attr:`Trace.time_unit`.
        end: Simulated finish time (when the optimizer was told its score).
        score: The search score at the job's fidelity (percent).
        report: The architecture's report value (test accuracy at the largest
            fidelity; NB301: its 98-epoch surrogate validation accuracy).
        charge: What the job cost (seconds or epochs, see :attr:`Trace.time_unit`);
            its duration, ``end - start``.
        budget_used: Ledger budget used (in the ledger's unit) when it started,
            its own charge included.
        incumbent_score: Score of the incumbent after this result.
        incumbent_report: Report value of the incumbent after this result.
        incumbent_fidelity: Fidelity of the incumbent after this result.
    """

    job: Job
    worker: int
    start: float
    end: float
    score: float
    report: float
    charge: float
    budget_used: float
    incumbent_score: float
    incumbent_report: float
    incumbent_fidelity: int

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "vector": list(self.job.vector),
            "fidelity": self.job.fidelity,
            "worker": self.worker,
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "report": self.report,
            "charge": self.charge,
            "budget_used": self.budget_used,
            "incumbent_score": self.incumbent_score,
            "incumbent_report": self.incumbent_report,
            "incumbent_fidelity": self.incumbent_fidelity,
        }


@dataclass
class Trace:
    """What :func:`simulate` did: one :class:`TraceRow` per finished job.

    Attributes:
        rows: Finished jobs in finish order (ties: worker index).
        workers: Number of simulated workers.
        time_unit: ``"s"`` or ``"epochs"`` (the benchmark's cost unit).
        budget: The ledger's budget.
        budget_unit: The ledger's unit.
        stop_reason: One of :data:`STOP_REASONS`.
        unstarted: The job that did not fit the budget (``None`` otherwise).
    """

    rows: list[TraceRow] = field(default_factory=list)
    workers: int = 1
    time_unit: str = "s"
    budget: float = 0.0
    budget_unit: str = "queries"
    stop_reason: str = "finished"
    unstarted: Job | None = None

    @property
    def makespan(self) -> float:
        """Simulated time of the last finish (0 without jobs)."""
        return max((r.end for r in self.rows), default=0.0)

    def incumbent_at(self, time: float) -> float:
        """Report value of the incumbent at simulated ``time`` (NaN before any)."""
        value = math.nan
        for row in self.rows:
            if row.end > time:
                break
            value = row.incumbent_report
        return value


def check_workers(workers: object, name: str = "workers") -> int:
    """Return ``workers`` as an int, or raise naming the accepted values.

    Args:
        workers: The number of simulated workers to check.
        name: The argument's name as the caller spells it (``sim_workers`` in
            the env), so the error names what to change.

    Raises:
        UnknownOptionError: Not an integer of at least 1.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UnknownOptionError(
            f"{name} (simulated parallel workers) must be an integer >= 1, got "
            f"{workers!r}"
        )
    return workers


def duration(bench: FidelityBenchmark, charge: Charge) -> float:
    """The simulated duration of a charge: seconds, or epochs for the proxy."""
    return float(charge.cost) if bench.cost_unit == "s" else float(charge.epochs)


@dataclass(order=True)
class _Running:
    end: float
    worker: int
    start: float = field(compare=False)
    job: Job = field(compare=False)
    score: float = field(compare=False)
    report: float = field(compare=False)
    charge: float = field(compare=False)
    budget_used: float = field(compare=False)


#: The incumbent: (fidelity, score, report, vector) of the best result so far.
Incumbent = tuple[int, float, float, tuple[int, ...]]


def finish_next(
    running: list[_Running], idle: list[int], best: Incumbent | None
) -> tuple[float, list[TraceRow], Incumbent | None]:
    """Pop the jobs finishing at the next finish time (worker order) from ``running``.

    Their workers go back to ``idle`` (kept sorted) and the incumbent is updated
    result by result (the best score at the highest fidelity; ties keep the first).
    ``running`` must not be empty.

    Returns:
        The finish time, the finished jobs' rows and the incumbent after them.
    """
    now = running[0].end
    rows: list[TraceRow] = []
    while running and running[0].end == now:
        done = heapq.heappop(running)
        if best is None or (done.job.fidelity, done.score) > best[:2]:
            best = (done.job.fidelity, done.score, done.report, done.job.vector)
        rows.append(
            TraceRow(
                done.job,
                done.worker,
                done.start,
                done.end,
                done.score,
                done.report,
                done.charge,
                done.budget_used,
                best[1],
                best[2],
                best[0],
            )
        )
        idle.append(done.worker)
    idle.sort()
    return now, rows, best


def simulate(
    optimizer: MFOptimizer,
    bench: FidelityBenchmark,
    ledger: Ledger,
    *,
    workers: int = 1,
    max_jobs: int | None = None,
) -> Trace:
    """Run ``optimizer`` with ``workers`` simulated workers until the budget ends.

    See the module docstring for the exact rules.

    Args:
        optimizer: Any :class:`~nasgym.mf.protocol.MFOptimizer`.
        bench: The benchmark jobs are evaluated on.
        ledger: Charges the jobs; its budget and unit end the search.
        workers: Number of simulated parallel workers (``>= 1``).
        max_jobs: Stop after starting this many jobs (``None``: no limit).

    Returns:
        The :class:`Trace` of finished jobs.

    Raises:
        UnknownOptionError: ``workers`` or ``max_jobs`` is not a positive integer,
            or a job asks for a fidelity the benchmark does not have.
        InvalidActionError: A job's vector does not fit ``bench.nvec``.
    """
    workers = check_workers(workers)
    if max_jobs is not None and (
        isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1
    ):
        raise UnknownOptionError(
            f"max_jobs must be a positive integer, got {max_jobs!r}"
        )
    trace = Trace(
        workers=workers,
        time_unit=bench.cost_unit,
        budget=float(ledger.budget),
        budget_unit=ledger.unit,
    )
    idle = list(range(workers))  # kept sorted: lowest index asks first
    running: list[_Running] = []
    now = 0.0
    started = 0
    best: Incumbent | None = None
    stop: str | None = None
    while True:
        while idle and stop is None:
            if max_jobs is not None and started >= max_jobs:
                stop = "max_jobs"
                break
            job = optimizer.ask()
            if job is None:
                break
            vector = bench.check_vector(job.vector)
            fidelity = bench.check_fidelity(job.fidelity)
            ev = bench.evaluate(vector, fidelity)
            charge = ledger.price(vector, fidelity, ev.cost)
            if not ledger.fits(charge):
                stop, trace.unstarted = "budget", job
                break
            ledger.book(vector, fidelity, ev.cost)
            started += 1
            worker = idle.pop(0)
            took = duration(bench, charge)
            heapq.heappush(
                running,
                _Running(
                    now + took,
                    worker,
                    now,
                    Job(vector, fidelity),
                    ev.score,
                    ev.report,
                    took,
                    ledger.used(),
                ),
            )
        if not running:
            trace.stop_reason = stop or "finished"
            return trace
        now, rows, best = finish_next(running, idle, best)
        for row in rows:
            optimizer.tell(row.job, row.score)
        trace.rows.extend(rows)


def sequential(
    optimizer: MFOptimizer, bench: FidelityBenchmark, ledger: Ledger
) -> list[tuple[Job, float]]:
    """The plain loop ask, evaluate, book, tell; ``(job, score)`` in order.

    The reference :func:`simulate` with one worker must equal (tests check it).
    Stops when ``ask`` returns ``None`` or the next job does not fit the budget.
    """
    out: list[tuple[Job, float]] = []
    while True:
        job = optimizer.ask()
        if job is None:
            return out
        vector = bench.check_vector(job.vector)
        ev = bench.evaluate(vector, job.fidelity)
        if not ledger.fits(ledger.price(vector, job.fidelity, ev.cost)):
            return out
        ledger.book(vector, job.fidelity, ev.cost)
        optimizer.tell(job, ev.score)
        out.append((job, ev.score))
