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
once per process. The tables built from a dataset are kept in nasgym's cache
directory, stamped with checksums of the wheel's files, so later processes load them
without unpickling the wheel's data again.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import cache
from operator import itemgetter
from pathlib import Path
from types import ModuleType

import numpy as np

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.data import cache_dir, cached_arrays, sha256_file
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    data_errors,
    unknown_option,
)
from nasgym.spaces.nbgraph import (
    GNNArch,
    NBGraphSpace,
    cache_name,
    import_wheel,
    wheel_fingerprint,
    wheel_keys,
)

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


#: Layout version of the per-dataset table cache; a file of another one is rebuilt.
_TABLES_CACHE_VERSION = 1


def _read_wheel_tables(wheel: ModuleType, dataset: str) -> dict[str, FloatArray]:
    """Read one dataset with the wheel's ``light_read``; tables over all codes."""
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
    key_list: list[int] = unique_keys.tolist()
    missing = [k for k in key_list if k not in bench]
    if missing:
        raise CorruptDataError(
            f"nas-bench-graph {dataset!r}: {len(missing)} architecture keys have no "
            f"entry (first: {missing[0]}); reinstall with "
            f"`pip install --force-reinstall nas-bench-graph`"
        )
    entries = [bench[k] for k in key_list]
    tables: dict[str, FloatArray] = {}
    for metric, (field, scale) in _FIELDS.items():
        per_key = (
            np.fromiter(map(itemgetter(field), entries), np.float64, len(entries))
            * scale
        )
        table = np.full(space.size, np.nan, dtype=np.float64)
        table[valid] = per_key[inverse.reshape(-1)]
        tables[metric] = table
    return tables


def _bench_file(wheel: ModuleType, dataset: str) -> Path | None:
    """The wheel's data file of ``dataset`` (where ``light_read`` reads it), if any."""
    source = inspect.getsourcefile(wheel.light_read)
    if source is None:
        return None
    path = Path(source).parent / "light" / f"{dataset}.bench"
    return path if path.is_file() else None


@cache
@data_errors("nbgraph")
def _dataset_tables(dataset: str) -> Mapping[str, FloatArray]:
    """Return read-only tables over codes of one dataset.

    The tables are built from the wheel's data file once and then kept in nasgym's
    cache directory, stamped with the wheel's fingerprint and the checksum of that
    file (:func:`nasgym.data.cached_arrays`): a changed wheel or data file is read
    again, and a damaged cache file is detected and rebuilt.
    """
    wheel = import_wheel()
    bench_file = _bench_file(wheel, dataset)
    if bench_file is None:  # let light_read say what is missing
        tables = _read_wheel_tables(wheel, dataset)
    else:
        space = NBGraphSpace(proteins=dataset == "proteins")
        stamp = {
            "cache_version": str(_TABLES_CACHE_VERSION),
            "dataset": dataset,
            "bench_sha256": sha256_file(bench_file),
            **wheel_fingerprint(wheel),
        }
        invalid = ~space.valid_mask

        def check(arrays: dict[str, np.ndarray]) -> str | None:
            for metric in _FIELDS:
                if not np.array_equal(np.isnan(arrays[metric]), invalid):
                    return f"{metric}: missing values are not exactly the invalid codes"
            return None

        path = cache_dir() / "nbgraph" / cache_name(f"tables-{dataset}", stamp)
        tables = cached_arrays(
            path,
            stamp,
            {metric: (space.size,) for metric in _FIELDS},
            lambda: dict(_read_wheel_tables(wheel, dataset)),
            what=f"NAS-Bench-Graph {dataset!r} tables",
            check=check,
        )
    out: dict[str, FloatArray] = {}
    for metric in _FIELDS:
        table = np.asarray(tables[metric], dtype=np.float64)
        table.setflags(write=False)
        out[metric] = table
    return out


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
