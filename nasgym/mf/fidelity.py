"""Fidelities and simulated training costs of NB201, NB101 and NB301.

A :class:`FidelityBenchmark` names an architecture by an integer vector over
:attr:`~FidelityBenchmark.nvec` (NB201: its 6 edge ops; NB101: one slot, the table
row; NB301: the 32 choices of the NB301 Query env) and answers, at an epoch budget
from :attr:`~FidelityBenchmark.fidelities`, the search score (a validation accuracy
where the data has one), a report value and the simulated cost of training from
scratch. :class:`Ledger` charges queries: a configuration continued from a lower
budget pays only the difference when the benchmark models training as resumable.

Per benchmark:

* NB201 (``12`` and ``200`` epochs): the two budgets are separate NATS-Bench training
  schedules (each with its own learning-rate decay), so they are not resumable. The
  cost is NATS-Bench ``train_time_s@hp`` when the imported table has it for every
  architecture (the official NATS archive); otherwise (the CSV tables) the cost is
  an *epochs proxy*: :attr:`cost_unit` is ``"epochs"`` and a seconds budget raises.
  The score is ``valid@hp``; the CSV tables have no ``valid@200``, so the score at
  200 epochs is then ``test@200`` and :attr:`score_splits` says so. With
  ``NB201Fidelity(curve=True)`` the fidelities are instead epochs 1..200 of the
  200-epoch schedule (CIFAR-10, from the official archive's per-epoch curves):
  resumable, costed in the seconds trained up to each epoch.
* NB101 (the table's budgets: 4/12/36/108 for the official file, 4 for EC-NAS):
  every budget was trained from scratch, so not resumable. Cost ``train_time_s``.
* NB301 (surrogate epochs 1..98): the surrogate models points on one training
  curve, so it is resumable; the cost is the surrogate's predicted runtime.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownOptionError,
    unknown_option,
)

IntArray = NDArray[np.int64]

#: Units a search budget can be counted in.
BUDGET_UNITS: tuple[str, ...] = ("queries", "epochs", "seconds")


@dataclass(frozen=True)
class Evaluation:
    """One architecture at one fidelity, trained from scratch.

    Attributes:
        score: The search metric at that fidelity (percent).
        report: The report metric (test accuracy at the largest fidelity, percent).
        cost: Training cost from scratch in :attr:`FidelityBenchmark.cost_unit`.
    """

    score: float
    report: float
    cost: float


class FidelityBenchmark(ABC):
    """A benchmark seen through epoch budgets and simulated training costs."""

    name: str
    fidelities: tuple[int, ...]
    resumable: bool
    resumable_reason: str
    nvec: tuple[int, ...]

    @property
    @abstractmethod
    def cost_unit(self) -> str:
        """``"s"`` (simulated seconds) or ``"epochs"`` (the epochs proxy)."""

    @property
    @abstractmethod
    def cost_source(self) -> str:
        """Where the cost comes from, in words (recorded in run headers)."""

    @property
    def score_splits(self) -> dict[int, str]:
        """The split (``"valid"`` / ``"test"``) of the score at every fidelity."""
        return dict.fromkeys(self.fidelities, "valid")

    @abstractmethod
    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation: ...

    def check_fidelity(self, fidelity: int) -> int:
        """Return ``fidelity`` as an int, or raise naming the declared ones.

        Raises:
            UnknownOptionError: The benchmark has no such fidelity.
        """
        if isinstance(fidelity, (bool, float)) or int(fidelity) not in self.fidelities:
            if len(self.fidelities) > 8:
                raise UnknownOptionError(
                    f"{self.name} has no fidelity {fidelity!r}; epochs must be an "
                    f"integer in {self.fidelities[0]}..{self.fidelities[-1]}"
                )
            raise unknown_option(
                f"fidelity (epochs) of {self.name}", fidelity, self.fidelities
            )
        return int(fidelity)

    def check_vector(self, vector: ArrayLike) -> tuple[int, ...]:
        """Validate an architecture vector against :attr:`nvec`.

        Raises:
            InvalidActionError: Wrong length or an entry out of range.
        """
        values = np.asarray(vector).reshape(-1)
        if values.shape[0] != len(self.nvec):
            raise InvalidActionError(
                f"{self.name}: architecture vector has {values.shape[0]} entries, "
                f"expected {len(self.nvec)}"
            )
        out = tuple(int(v) for v in values)
        for i, (v, n) in enumerate(zip(out, self.nvec, strict=True)):
            if not 0 <= v < n:
                raise InvalidActionError(
                    f"{self.name}: entry {i} is {v}, expected 0..{n - 1}"
                )
        return out

    def evaluate(self, vector: ArrayLike, fidelity: int) -> Evaluation:
        """Score, report value and from-scratch cost of an architecture.

        Raises:
            UnknownOptionError: A fidelity the benchmark does not have.
            InvalidActionError: A malformed architecture vector.
        """
        return self._evaluate(self.check_vector(vector), self.check_fidelity(fidelity))

    def arch_string(self, vector: tuple[int, ...]) -> str:
        """The architecture of a vector as a string (default: its entries)."""
        return ",".join(str(v) for v in vector)

    @property
    def optimum(self) -> float:
        """The best report value of any architecture (NaN where unknown)."""
        return math.nan

    def header(self) -> dict[str, Any]:
        """What a run header records about fidelities and costs."""
        return {
            "benchmark": self.name,
            "fidelities": [self.fidelities[0], self.fidelities[-1]]
            if len(self.fidelities) > 8
            else list(self.fidelities),
            "resumable": self.resumable,
            "resumable_reason": self.resumable_reason,
            "cost_unit": self.cost_unit,
            "cost_source": self.cost_source,
            "score_splits": {str(k): v for k, v in self.score_splits.items()},
        }


class NB201Fidelity(FidelityBenchmark):
    """NB201 at 12 and 200 epochs, or at every epoch of the 200-epoch schedule.

    By default the fidelities are the two NATS-Bench schedules (see the module doc
    for costs and scores). With ``curve=True`` they are epochs ``1..200`` of the
    200-epoch schedule, read from the per-epoch curves that only the official
    NATS-Bench archive has (``nasgym data import nb201 PATH`` writes them beside the
    table): the score is the validation accuracy after that epoch, the cost the
    seconds trained up to it, and a continued configuration pays only the epochs
    it adds (``resumable``). The archive has per-epoch *validation* accuracy for
    CIFAR-10 only; on CIFAR-100 and ImageNet16-120 its per-epoch numbers are on
    the original test set, which holds the test split, so ``curve=True`` refuses
    them rather than reward test data.

    Args:
        dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``.
        path: An NB201 table (default: the imported one).
        curve: Use the per-epoch curves (fidelities ``1..200``).

    Raises:
        BenchmarkDataMissingError: ``curve=True`` without complete curves for the
            dataset (the message says how many architectures have one and what to
            import).
    """

    fidelities: tuple[int, ...] = (12, 200)
    resumable = False
    resumable_reason = "the 12- and 200-epoch runs are separate NATS-Bench schedules"
    nvec = (5,) * 6

    def __init__(
        self,
        dataset: str = "cifar10",
        *,
        path: str | os.PathLike[str] | None = None,
        curve: bool = False,
    ) -> None:
        from nasgym.benchmarks.nb201 import NB201Benchmark

        self.bench = NB201Benchmark(dataset, path=path)
        self.name = f"nb201/{dataset}"
        self.curve = bool(curve)
        if self.curve:
            self._init_curve(dataset)
            self._report = self.bench.table(self.bench.report_metric)
            return
        tables = self.bench.tables
        self._score: dict[int, NDArray[np.float64]] = {}
        self._splits: dict[int, str] = {}
        for hp in self.fidelities:
            for split in ("valid", "test"):
                metric = f"{split}@{hp}"
                if metric in tables and self._complete(metric):
                    self._score[hp], self._splits[hp] = tables[metric], split
                    break
            else:
                self.bench.require_complete(f"valid@{hp}")
        self._times: dict[int, NDArray[np.float64]] | None = {}
        for hp in self.fidelities:
            metric = f"train_time_s@{hp}"
            if metric in tables and self._complete(metric):
                self._times[hp] = tables[metric]
            else:
                self._times = None
                break
        self._report = tables[self.bench.report_metric]

    def _init_curve(self, dataset: str) -> None:
        from nasgym.benchmarks.nb201 import (
            ARCHIVE_NAME,
            CURVE_EPOCHS,
            NUM_ARCHS,
            load_curves,
            load_table,
        )

        curves = load_curves(load_table(self.bench.table_path), dataset)
        if curves.covered < NUM_ARCHS:
            why = (
                " (the official archive evaluates the validation split of "
                f"{dataset} only after the last epoch)"
                if dataset != "cifar10"
                else ""
            )
            raise BenchmarkDataMissingError(
                f"per-epoch NB201 curves cover {curves.covered:,} of {NUM_ARCHS:,} "
                f"architectures on {dataset}{why}; curve=True needs all of them: "
                f"import the complete official NATS-Bench archive ({ARCHIVE_NAME}/) "
                "with `nasgym data import nb201 PATH`, or use curve=False (the "
                "12- and 200-epoch schedules)"
            )
        self.fidelities = tuple(range(1, CURVE_EPOCHS + 1))
        self.resumable = True
        self.resumable_reason = (
            "epochs are points on one 200-epoch training run of NATS-Bench"
        )
        self._curve_valid = curves.valid
        self._curve_time = curves.train_time_s
        self._times = {}
        self._splits = dict.fromkeys(self.fidelities, "valid")

    def _complete(self, metric: str) -> bool:
        return self.bench.coverage(metric) == self.bench.space.size

    def arch_string(self, vector: tuple[int, ...]) -> str:
        """The NB201 cell string, e.g. ``|nor_conv_3x3~0|+|...|``."""
        from nasgym.spaces.nb201 import NB201Arch

        return NB201Arch(tuple(vector)).to_str()

    @property
    def optimum(self) -> float:
        """The best report value (test accuracy at 200 epochs) in the table."""
        return float(np.nanmax(self._report))

    @property
    def cost_unit(self) -> str:
        """See :attr:`FidelityBenchmark.cost_unit`."""
        return "epochs" if self._times is None else "s"

    @property
    def cost_source(self) -> str:
        """See :attr:`FidelityBenchmark.cost_source`."""
        if self._times is None:
            return (
                "epochs proxy: the table has no complete train_time_s "
                "(import the official NATS-Bench archive for seconds)"
            )
        if self.curve:
            return "NATS-Bench train-all-time up to each epoch of the 200-epoch run"
        return "NATS-Bench train_time_s@hp"

    @property
    def score_splits(self) -> dict[int, str]:
        """``valid@hp`` where complete, else ``test@hp`` (CSV tables at 200)."""
        return dict(self._splits)

    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation:
        code = int(self.bench.space.vectors_to_codes(np.asarray([vector]))[0])
        if self.curve:
            return Evaluation(
                float(self._curve_valid[code, fidelity - 1]),
                float(self._report[code]),
                float(self._curve_time[code, fidelity - 1]),
            )
        cost = (
            float(fidelity)
            if self._times is None
            else float(self._times[fidelity][code])
        )
        return Evaluation(
            float(self._score[fidelity][code]), float(self._report[code]), cost
        )


class NB101Fidelity(FidelityBenchmark):
    """NB101 at the table's epoch budgets; one slot: the table row.

    Args:
        table: ``"full"`` or ``"ecnas"``.
        path: The table file (default: the imported one).
    """

    resumable = False
    resumable_reason = "NB101 trained every epoch budget from scratch"

    def __init__(
        self, table: str = "full", *, path: str | os.PathLike[str] | None = None
    ) -> None:
        from nasgym.benchmarks.nb101 import NB101Benchmark

        self.bench = NB101Benchmark(table, path=path)
        self.name = self.bench.name
        self.fidelities = tuple(int(e) for e in self.bench.epochs)
        self._rows = self.bench.rows
        self.nvec = (int(self._rows.size),)
        hashes = self.bench.hashes()
        self._hashes: list[str] | None = hashes
        self._values = {
            (m, e): np.asarray(self.bench.query(hashes, m, epochs=e), dtype=np.float64)
            for m in ("valid", "train_time_s")
            for e in self.fidelities
        }
        self._report = np.asarray(
            self.bench.query(hashes, "test", epochs=self.fidelities[-1])
        )

    @property
    def cost_unit(self) -> str:
        """See :attr:`FidelityBenchmark.cost_unit`."""
        return "s"

    @property
    def cost_source(self) -> str:
        """See :attr:`FidelityBenchmark.cost_source`."""
        return "NB101 train_time_s of the budget's runs (mean over repeats)"

    def arch_string(self, vector: tuple[int, ...]) -> str:
        """The official hash of the table row."""
        if self._hashes is None:
            self._hashes = self.bench.hashes()
        return self._hashes[vector[0]]

    @property
    def optimum(self) -> float:
        """The best report value (test accuracy at the largest budget)."""
        return float(np.nanmax(self._report))

    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation:
        i = vector[0]
        return Evaluation(
            float(self._values["valid", fidelity][i]),
            float(self._report[i]),
            float(self._values["train_time_s", fidelity][i]),
        )


class NB301Fidelity(FidelityBenchmark):
    """NB301 surrogate at epochs 1..98, resumable, runtime-costed.

    The report value is the surrogate's 98-epoch validation accuracy (the surrogate
    predicts no test accuracy).

    Args:
        path: The surrogate folder (default: the imported one).
    """

    fidelities = tuple(range(1, 99))
    resumable = True
    resumable_reason = "surrogate epochs are points on one training curve"

    def __init__(self, *, path: str | os.PathLike[str] | None = None) -> None:
        from nasgym.benchmarks.nb301 import NB301Surrogate
        from nasgym.spaces.darts import MAX_SOURCE, NUM_CELLS, NUM_OPS, NUM_PAIRS

        self.surrogate = NB301Surrogate(path)
        self.name = "nb301"
        self.nvec = tuple(
            n
            for _ in range(NUM_CELLS)
            for j in range(NUM_PAIRS)
            for n in (MAX_SOURCE[j] + 1 - j % 2, NUM_OPS)
        )
        self._shape = (NUM_CELLS, NUM_PAIRS, 2)
        self._cache: dict[tuple[tuple[int, ...], int], tuple[float, float]] = {}

    @property
    def cost_unit(self) -> str:
        """See :attr:`FidelityBenchmark.cost_unit`."""
        return "s"

    @property
    def cost_source(self) -> str:
        """See :attr:`FidelityBenchmark.cost_source`."""
        return "NB301 (YAHPO) surrogate runtime output"

    @property
    def optimum(self) -> float:
        """100: the surrogate's optimum is unknown (regret is an upper bound).

        Regret is measured against a perfect 100 %, as the NB301 envs do.
        """
        return 100.0

    def _predict(self, vector: tuple[int, ...], epoch: int) -> tuple[float, float]:
        key = (vector, epoch)
        if key not in self._cache:
            arr = np.asarray(vector, dtype=np.int8).reshape(self._shape)[..., ::-1]
            arr = arr.astype(np.int8)
            first = arr[:, 0::2, 1]
            arr[:, 1::2, 1] += arr[:, 1::2, 1] >= first
            acc, runtime = self.surrogate.predict(arr[None], epoch, validate=False)
            self._cache[key] = (float(acc[0]), float(runtime[0]))
        return self._cache[key]

    def _evaluate(self, vector: tuple[int, ...], fidelity: int) -> Evaluation:
        score, cost = self._predict(vector, fidelity)
        return Evaluation(score, self._predict(vector, 98)[0], cost)


@dataclass
class Charge:
    """What one query cost: in the benchmark's cost unit and in epochs."""

    cost: float
    epochs: int
    resumed_from: int | None


@dataclass
class Ledger:
    """Charges queries; a resumable benchmark pays only the continuation.

    Args:
        bench: The benchmark.
        budget: Budget in ``unit``.
        unit: One of :data:`BUDGET_UNITS`.

    Raises:
        UnknownOptionError: An unknown unit.
        BenchmarkDataMissingError: A seconds budget on a benchmark without costs.
    """

    bench: FidelityBenchmark
    budget: float
    unit: str = "queries"
    queries: int = 0
    epochs: int = 0
    cost: float = 0.0
    trained: dict[tuple[int, ...], tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.unit not in BUDGET_UNITS:
            raise unknown_option("budget unit", self.unit, BUDGET_UNITS)
        if self.unit == "seconds" and self.bench.cost_unit != "s":
            raise BenchmarkDataMissingError(
                f"{self.bench.name} has no simulated training times "
                f"({self.bench.cost_source}); use budget_unit='epochs' or 'queries'"
            )

    def price(self, vector: tuple[int, ...], fidelity: int, full: float) -> Charge:
        """The charge of a query without booking it (``full``: from-scratch cost)."""
        done = self.trained.get(vector)
        if self.bench.resumable and done is not None:
            prev_f, prev_cost = done
            if fidelity <= prev_f:
                return Charge(0.0, 0, prev_f)
            return Charge(max(full - prev_cost, 0.0), fidelity - prev_f, prev_f)
        return Charge(full, fidelity, None)

    def used(self) -> float:
        """Budget used so far, in :attr:`unit`."""
        return {"queries": float(self.queries), "epochs": float(self.epochs)}.get(
            self.unit, self.cost
        )

    def amount(self, charge: Charge) -> float:
        """What ``charge`` takes from the budget."""
        return {"queries": 1.0, "epochs": float(charge.epochs)}.get(
            self.unit, charge.cost
        )

    def fits(self, charge: Charge) -> bool:
        """Whether booking ``charge`` stays within the budget."""
        return self.used() + self.amount(charge) <= self.budget + 1e-9

    def book(self, vector: tuple[int, ...], fidelity: int, full: float) -> Charge:
        """Charge a query and remember what was trained."""
        charge = self.price(vector, fidelity, full)
        self.queries += 1
        self.epochs += charge.epochs
        self.cost += charge.cost
        prev = self.trained.get(vector)
        if prev is None or fidelity > prev[0]:
            self.trained[vector] = (fidelity, full)
        return charge
