"""A tiny in-memory fidelity benchmark and optimizer, for tests and examples.

:class:`TinyBenchmark` is a :class:`~nasgym.mf.fidelity.FidelityBenchmark` of 9
architectures at 1, 3 and 9 epochs whose scores and costs are simple closed forms, so
a test can compute every expected number by hand. :class:`TinyOptimizer` is a seeded
:class:`~nasgym.mf.protocol.MFOptimizer` (random jobs, optionally in synchronous
batches that wait for their results) for exercising drivers without a real
multi-fidelity algorithm.

Example:
    >>> bench = TinyBenchmark()
    >>> bench.evaluate([2, 1], 3)
    Evaluation(score=59.0, report=74.0, cost=9.0)
"""

from __future__ import annotations

import numpy as np

from nasgym.error import UnknownOptionError
from nasgym.mf.fidelity import Evaluation, FidelityBenchmark
from nasgym.mf.protocol import Job


class TinyBenchmark(FidelityBenchmark):
    """Nine architectures ``(a, b)``, ``a, b in 0..2``, at 1, 3 and 9 epochs.

    ``score = 40 + 5 a + 3 b + 2 k (1 + a)`` with ``k`` the index of the fidelity
    ``f`` in ``(1, 3, 9)``; ``report = 60 + 5 a + 4 b``; training from scratch costs
    ``f * (1 + a)`` seconds.

    Args:
        resumable: Whether continuing from a lower fidelity pays only the difference.
        costs: ``False`` makes the cost an epochs proxy (``cost_unit == "epochs"``),
            like the NB201 CSV tables.
    """

    fidelities = (1, 3, 9)
    nvec = (3, 3)

    def __init__(self, *, resumable: bool = False, costs: bool = True) -> None:
        self.name = "tiny"
        self.resumable = resumable
        self.resumable_reason = (
            "tiny: declared resumable" if resumable else "tiny: declared not resumable"
        )
        self._costs = costs

    @property
    def cost_unit(self) -> str:
        """See :attr:`FidelityBenchmark.cost_unit`."""
        return "s" if self._costs else "epochs"

    @property
    def cost_source(self) -> str:
        """See :attr:`FidelityBenchmark.cost_source`."""
        return "tiny: f * (1 + a) seconds" if self._costs else "epochs proxy"

    @property
    def optimum(self) -> float:
        """The best report value, ``60 + 5 * 2 + 4 * 2``."""
        return 78.0

    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation:
        a, b = vector
        score = 40.0 + 5 * a + 3 * b + 2.0 * self.fidelities.index(fidelity) * (1 + a)
        report = 60.0 + 5 * a + 4 * b
        cost = float(fidelity * (1 + a)) if self._costs else float(fidelity)
        return Evaluation(score, report, cost)


class TinyOptimizer:
    """Seeded random jobs: a uniform architecture at a uniform fidelity.

    Args:
        nvec: Choices per slot.
        fidelities: The benchmark's fidelities.
        seed: Seeds the job stream.
        n_jobs: How many jobs to propose in all (``None``: without end).
        batch: With a batch size, propose that many jobs, then return ``None`` until
            all of them are told (a synchronous rung); ``None``: never wait.

    Attributes:
        told: ``(job, score)`` in the order the results arrived.

    Raises:
        UnknownOptionError: A non-positive ``n_jobs`` or ``batch``.
    """

    def __init__(
        self,
        *,
        nvec: tuple[int, ...],
        fidelities: tuple[int, ...],
        seed: int,
        n_jobs: int | None = None,
        batch: int | None = None,
    ) -> None:
        for name, value in (("n_jobs", n_jobs), ("batch", batch)):
            if value is not None and value < 1:
                raise UnknownOptionError(f"{name} must be positive, got {value!r}")
        self.nvec = tuple(int(n) for n in nvec)
        self.fidelities = tuple(int(f) for f in fidelities)
        self.rng = np.random.default_rng(seed)
        self.n_jobs = n_jobs
        self.batch = batch
        self.asked = 0
        self.pending = 0
        self.told: list[tuple[Job, float]] = []

    def ask(self) -> Job | None:
        """The next random job, or ``None`` (out of jobs, or waiting for a batch)."""
        if self.n_jobs is not None and self.asked >= self.n_jobs:
            return None
        if self.batch is not None and self.asked % self.batch == 0 and self.pending:
            return None
        vector = tuple(int(self.rng.integers(n)) for n in self.nvec)
        fidelity = self.fidelities[int(self.rng.integers(len(self.fidelities)))]
        self.asked += 1
        self.pending += 1
        return Job(vector, fidelity)

    def tell(self, job: Job, score: float) -> None:
        """Record a result."""
        self.pending -= 1
        self.told.append((job, score))
