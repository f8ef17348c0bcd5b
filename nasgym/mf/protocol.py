"""The ask/tell interface of a multi-fidelity optimizer.

A multi-fidelity optimizer (successive halving, Hyperband, BOHB, ASHA, or a user's
own) proposes *jobs*, an architecture at an epoch budget, and is told their scores
when they finish. It never sees the benchmark, the clock or the budget: whoever
drives it (the multi-fidelity env's adapter, or a simulator of parallel workers)
decides when a job runs and when its result arrives, so the same optimizer runs with
one worker or many, on simulated or real time::

    opt = factory(nvec=(5,) * 6, fidelities=(12, 200), seed=0)
    job = opt.ask()  # a Job, or None: nothing to propose until a running job ends
    ...
    opt.tell(job, score)

An optimizer returns ``None`` from :meth:`MFOptimizer.ask` when it must wait for
results it has already asked for (a synchronous rung of successive halving); once
nothing is running and it still returns ``None``, it is finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Job:
    """One proposal: an architecture (an integer vector over ``nvec``) at a fidelity.

    Attributes:
        vector: One integer per slot of the benchmark's ``nvec``.
        fidelity: An epoch budget from the benchmark's ``fidelities``.
    """

    vector: tuple[int, ...]
    fidelity: int


@runtime_checkable
class MFOptimizer(Protocol):
    """What a driver needs of a multi-fidelity optimizer.

    Constructed as ``factory(nvec=..., fidelities=..., seed=..., **config)``:
    ``nvec`` the choices per slot, ``fidelities`` the benchmark's epoch budgets in
    increasing order, ``seed`` the only source of randomness.
    """

    def ask(self) -> Job | None:
        """The next job to run, or ``None`` when waiting for (or out of) results."""

    def tell(self, job: Job, score: float) -> None:
        """The search score (higher is better) of a job previously asked for."""
