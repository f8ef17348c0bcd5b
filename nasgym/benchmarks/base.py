"""The tabular-benchmark protocol: per-architecture metric tables over codes.

A benchmark binds a search space to real measured data for one dataset. Metrics are
named explicitly (``"valid@12"`` is validation accuracy after 12 epochs, ``"test@200"``
test accuracy after 200 epochs; spaces without fidelities use ``"valid"`` and
``"test"``). Accuracies are in percent. Rewards must only ever use validation metrics;
test metrics are for reporting. What a metric is comes from the benchmark
(:meth:`TabularBenchmark.metric_split`), not from its name; a benchmark that publishes
only test numbers says so with ``reward_split = "test"`` and a reason.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from nasgym.error import (
    BenchmarkDataMissingError,
    unknown_option,
)
from nasgym.objectives import CostSpec, unknown_cost
from nasgym.spaces.base import ArchT, CategoricalSearchSpace, IntArray

FloatArray = NDArray[np.float64]
BenchT = TypeVar("BenchT", bound="TabularBenchmark[Any]")


def metric_kind(metric: str) -> str:
    """Return the kind of a metric name: ``"valid"``, ``"test"`` or a cost name."""
    return metric.split("@", 1)[0]


class TabularBenchmark(ABC, Generic[ArchT]):
    """Measured metrics for every architecture of a search space on one dataset.

    Subclasses fill :attr:`_tables` (metric name -> float64 array indexed by code, NaN
    where the architecture is invalid) in :meth:`_load`. Loading happens on first use.

    Attributes:
        space: The search space.
        dataset: Dataset name.
        reward_metric: The default metric rewards are computed from (a validation one).
        report_metric: The default metric reported as test accuracy.
    """

    #: Metrics this benchmark provides, in display order.
    metrics: tuple[str, ...] = ()
    #: Cost metrics (a subset of :attr:`metrics`), e.g. ``"latency_s"``.
    cost_metrics: tuple[str, ...] = ()
    #: Metric giving simulated training seconds per query, when the data has one.
    time_metric: str | None = None
    #: Whether isomorphic architectures share one measured entry, so that querying one
    #: member of a class makes the others free revisits (True for NAS-Bench-Graph).
    shares_isomorphs: bool = False
    #: Cost objectives (``objectives=[...]`` names) -> (metric, unit, description);
    #: only those whose metric the benchmark has are offered (see :meth:`costs`).
    cost_objectives: Mapping[str, tuple[str, str, str]] = {}
    #: The split rewards may come from: ``"valid"``, or ``"test"`` for a benchmark
    #: that publishes no validation numbers (declared, with
    #: :attr:`reward_split_reason`; runs and leaderboard reports show it).
    reward_split: str = "valid"
    #: Why a ``reward_split = "test"`` benchmark rewards test numbers.
    reward_split_reason: str | None = None

    def __init__(
        self,
        space: CategoricalSearchSpace[ArchT],
        dataset: str,
        *,
        reward_metric: str,
        report_metric: str,
    ) -> None:
        self.space = space
        self.dataset = dataset
        self.reward_metric = reward_metric
        self.report_metric = report_metric
        self._tables: dict[str, FloatArray] | None = None

    @abstractmethod
    def _load(self) -> Mapping[str, FloatArray]:
        """Load every metric table (called once, lazily)."""

    @property
    def tables(self) -> Mapping[str, FloatArray]:
        """All metric tables, loaded on first access."""
        if self._tables is None:
            tables = {
                k: np.asarray(v, dtype=np.float64) for k, v in self._load().items()
            }
            for key, table in tables.items():
                if table.shape != (self.space.size,):
                    raise ValueError(
                        f"{type(self).__name__}: table {key!r} has shape {table.shape},"
                        f" expected ({self.space.size},)"
                    )
                table.setflags(write=False)
            self._tables = tables
        return self._tables

    def table(self, metric: str) -> FloatArray:
        """Return the read-only table of ``metric`` over codes.

        Raises:
            UnknownOptionError: The benchmark has no such metric (lists the valid ones).
        """
        if metric not in self.metrics:
            raise unknown_option(f"metric for {self.name}", metric, self.metrics)
        return self.tables[metric]

    def metric_split(self, metric: str) -> str:
        """What ``metric`` is: ``"valid"``, ``"test"`` or ``"cost"``.

        nasgym's own benchmarks follow the naming rule ``valid[@fidelity]`` /
        ``test[@fidelity]`` (anything else is a cost); benchmarks built with
        :mod:`nasgym.extend` return what each metric was declared to be.
        """
        kind = metric_kind(metric)
        return kind if kind in ("valid", "test") else "cost"

    def with_metrics(
        self: BenchT,
        *,
        reward_metric: str | None = None,
        report_metric: str | None = None,
    ) -> BenchT:
        """A shallow copy that rewards / reports other metrics (same tables).

        Raises:
            UnknownOptionError: A metric the benchmark does not have.
        """
        for role, metric in (
            ("reward_metric", reward_metric),
            ("report_metric", report_metric),
        ):
            if metric is not None and metric not in self.metrics:
                raise unknown_option(f"{role} of {self.name}", metric, self.metrics)
        other = copy.copy(self)
        other.reward_metric = reward_metric or self.reward_metric
        other.report_metric = report_metric or self.report_metric
        return other

    @property
    def name(self) -> str:
        """``"<space>/<dataset>"``."""
        return f"{self.space.name}/{self.dataset}"

    def query_codes(self, codes: IntArray, metric: str) -> FloatArray:
        """Vectorised lookup of ``metric`` for an array of codes."""
        return self.table(metric)[np.asarray(codes, dtype=np.int64)]

    def query(self, arch: ArchT, metric: str | None = None) -> float:
        """Return one metric of one architecture.

        Args:
            arch: An architecture value of :attr:`space`.
            metric: Metric name; default :attr:`reward_metric`.

        Raises:
            InvalidArchitectureError: ``arch`` is not valid in the space.
        """
        code = self.space.valid_code(arch)
        table: FloatArray = self.table(metric or self.reward_metric)
        value: float = table.item(code)
        return value

    def optimum(self, metric: str | None = None) -> float:
        """Best value of a metric over the space (max for accuracies, min for costs)."""
        table = self.table(metric or self.report_metric)
        if metric in self.cost_metrics:
            return float(np.nanmin(table))
        return float(np.nanmax(table))

    def best_code(self, metric: str | None = None) -> int:
        """Code of the architecture attaining :meth:`optimum`."""
        table = self.table(metric or self.report_metric)
        if metric in self.cost_metrics:
            return int(np.nanargmin(table))
        return int(np.nanargmax(table))

    def summary(self) -> dict[str, Any]:
        """Optimum of every metric, for docs and ``nasgym data status``."""
        return {metric: self.optimum(metric) for metric in self.metrics}

    # ------------------------------------------------------------ objectives
    def costs(self) -> dict[str, CostSpec]:
        """The cost objectives available, by name (complete tables only).

        A cost whose metric covers only some architectures (e.g. FLOPs from a
        partial NATS-Bench archive) is not offered: asking for it raises with the
        coverage (see :meth:`cost_table`).
        """
        out: dict[str, CostSpec] = {}
        for name, (metric, unit, text) in self.cost_objectives.items():
            if metric in self.metrics and self._complete(metric):
                out[name] = CostSpec(name, unit, text)
        return out

    def _complete(self, metric: str) -> bool:
        table = self.table(metric)
        return bool(np.isfinite(table[self.space.valid_mask]).all())

    def cost_table(self, name: str) -> FloatArray:
        """The read-only table (over codes) of cost objective ``name``, raw units.

        Raises:
            UnknownOptionError: The benchmark has no such cost (lists those it has).
            BenchmarkDataMissingError: The cost exists but covers only some
                architectures.
        """
        spec = self.cost_objectives.get(name)
        if spec is None or spec[0] not in self.metrics:
            raise unknown_cost(self.name, name, tuple(self.costs()))
        table = self.table(spec[0])
        if not self._complete(spec[0]):
            covered = int(np.isfinite(table[self.space.valid_mask]).sum())
            raise BenchmarkDataMissingError(
                f"{self.name}: cost {name!r} (metric {spec[0]!r}) covers only "
                f"{covered:,} of {int(self.space.valid_mask.sum()):,} architectures; "
                f"import a complete source (see `nasgym data status`); complete costs: "
                f"{', '.join(repr(c) for c in self.costs()) or 'none'}"
            )
        return table
