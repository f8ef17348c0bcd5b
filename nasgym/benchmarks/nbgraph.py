"""NAS-Bench-Graph measurements, read from the ``nas-bench-graph`` wheel.

The wheel ships one table per dataset, keyed by ``Arch(link, ops).valid_hash()``
(one entry per isomorphism class). This module spreads each entry over every code of
:class:`~nasgym.spaces.nbgraph.NBGraphSpace` in the class, so lookups are plain array
indexing. Metrics:

* ``"valid"`` / ``"test"``: validation / test accuracy in percent (the wheel's
  ``valid_perf`` / ``perf`` times 100);
* ``"latency_s"``: inference latency in seconds (``latency``);
* ``"params_m"``: number of parameters in millions (``para``).

The wheel is imported, and a dataset read, only on first use; each dataset is read
once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import numpy as np

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    data_errors,
    unknown_option,
)
from nasgym.spaces.nbgraph import GNNArch, NBGraphSpace, import_wheel, wheel_keys

#: Datasets of NAS-Bench-Graph; ``"proteins"`` uses the five-operation space.
DATASETS: tuple[str, ...] = (
    "cora",
    "citeseer",
    "pubmed",
    "cs",
    "physics",
    "photo",
    "computers",
    "arxiv",
    "proteins",
)

# nasgym metric -> (wheel field, scale)
_FIELDS: dict[str, tuple[str, float]] = {
    "valid": ("valid_perf", 100.0),
    "test": ("perf", 100.0),
    "latency_s": ("latency", 1.0),
    "params_m": ("para", 1.0),
}


@cache
@data_errors("nbgraph")
def _dataset_tables(dataset: str) -> Mapping[str, FloatArray]:
    """Read one dataset from the wheel and return read-only tables over codes."""
    wheel = import_wheel()
    try:
        bench = wheel.light_read(dataset)
    except FileNotFoundError as exc:
        raise BenchmarkDataMissingError(
            f"the nas-bench-graph package has no data for {dataset!r} ({exc}); "
            f"reinstall it with `pip install --force-reinstall nas-bench-graph`"
        ) from exc
    proteins = dataset == "proteins"
    space = NBGraphSpace(proteins=proteins)
    keys = wheel_keys(proteins)
    valid = space.valid_codes
    unique_keys, inverse = np.unique(keys[valid], return_inverse=True)
    missing = [int(k) for k in unique_keys if int(k) not in bench]
    if missing:
        raise CorruptDataError(
            f"nas-bench-graph {dataset!r}: {len(missing)} architecture keys have no "
            f"entry (first: {missing[0]}); reinstall with "
            f"`pip install --force-reinstall nas-bench-graph`"
        )
    tables: dict[str, FloatArray] = {}
    for metric, (field, scale) in _FIELDS.items():
        per_key = np.array([float(bench[int(k)][field]) for k in unique_keys]) * scale
        table = np.full(space.size, np.nan, dtype=np.float64)
        table[valid] = per_key[inverse.reshape(-1)]
        table.setflags(write=False)
        tables[metric] = table
    return tables


class NBGraphBenchmark(TabularBenchmark[GNNArch]):
    """NAS-Bench-Graph on one dataset.

    Args:
        dataset: One of :data:`DATASETS`. ``"proteins"`` uses
            ``NBGraphSpace(proteins=True)``, every other dataset the nine-op space.

    Raises:
        UnknownOptionError: ``dataset`` is not one of :data:`DATASETS`.
    """

    space: NBGraphSpace
    metrics = ("valid", "test", "latency_s", "params_m")
    cost_metrics = ("latency_s", "params_m")
    shares_isomorphs = True
    cost_objectives = {
        "latency": ("latency_s", "s", "NAS-Bench-Graph inference latency"),
        "params": ("params_m", "M", "NAS-Bench-Graph parameter count (millions)"),
    }

    def __init__(self, dataset: str = "cora") -> None:
        if dataset not in DATASETS:
            raise unknown_option("dataset", dataset, DATASETS)
        super().__init__(
            NBGraphSpace(proteins=dataset == "proteins"),
            dataset,
            reward_metric="valid",
            report_metric="test",
        )

    @property
    def name(self) -> str:
        """``"nbgraph/<dataset>"`` (also for proteins)."""
        return f"nbgraph/{self.dataset}"

    def _load(self) -> Mapping[str, FloatArray]:
        """Return the cached tables of :attr:`dataset`, reading the wheel if needed.

        Raises:
            BenchmarkDataMissingError: The ``nas-bench-graph`` wheel is not installed.
        """
        return _dataset_tables(self.dataset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dataset={self.dataset!r})"
