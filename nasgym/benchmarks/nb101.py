"""NAS-Bench-101 measurements (and EC-NAS-Bench's) as compact nasgym tables.

nasgym never reads the official files at run time: an importer converts them once
into a table in :func:`nasgym.data.cache_dir` (written atomically with an embedded
checksum) and :class:`NB101Benchmark` reads the table (once per process).

Sources:

* ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord`` (official NB101,
  :func:`import_nb101_tfrecord` -> ``nb101.npz``). Each TFRecord record is UTF-8
  JSON ``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]`` (as
  ``nasbench/api.py`` reads it): the hash as 32 hex chars, the epoch budget (4, 12,
  36 or 108), the pruned adjacency matrix as a string of ``n * n`` digits (row by
  row), the labels joined by commas, and a base64 serialized ``ModelMetrics``
  protobuf (:class:`ModelMetrics`, decoded by :func:`decode_model_metrics`). One
  record per training run: 3 repeats per (cell, budget). The final evaluation
  (``evaluation_data[2]``, read as the last entry) gives the stored values.
* EC-NAS-Bench's measured runs (``ec_nasbench_energy_results_and_graphs.tar.xz`` or
  its extracted tree, :func:`import_ecnas` -> ``ecnas.npz``): 4-epoch runs of the
  cells of two small sub-spaces, ``4V9E`` (91 cells x 3 repeats) and ``5V9E``
  (2,532 cells x 1 run; it contains the 91 ``4V9E`` cells).

Table layout (``N`` cells sorted by hash, ``E`` epoch budgets, ``R`` run slots):

==================  ==============  =============================================
array               shape / dtype   content
==================  ==============  =============================================
``hash``            (N, 16) uint8   official hash (bytes of the 32 hex chars)
``num_vertices``    (N,) uint8      vertices of the pruned cell
``adjacency``       (N, 7) uint8    ``np.packbits`` of the 7x7 zero-padded matrix
``ops``             (N, 7) uint8    index in :data:`~nasgym.spaces.nb101.OPS`,
                                    255 padding
``params``          (N,) int64      trainable parameters
``epochs``          (E,) int64      epoch budgets present, ascending
``valid``/``test``  (N, E, R)       final validation / test accuracy (fraction)
``train_time_s``    (N, E, R)       training seconds of the run
``energy_kwh``,     (N, E, R)       EC-NAS only: total energy (kWh) and CO2-eq
``co2_g``                           (g) of the run
``run_group``       (N, E, R) int8  index into ``group_names`` (-1 = no run)
==================  ==============  =============================================

Missing runs are NaN. Floats are stored as ``float32`` when that is exact for every
value (NB101's accuracies are float32 numbers), else ``float64``. The benchmark
reports accuracies in percent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import math
import os
import re
import struct
import tarfile
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from nasgym.benchmarks import tfrecord
from nasgym.data import (
    COST,
    FRACTION,
    ValueRange,
    cache_dir,
    check_ranges,
    data_dir,
    describe_paths,
    find_table,
    read_table,
    sha256_file,
    table_search_path,
    write_table,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    UnknownOptionError,
    add_data_page,
    data_errors,
    data_page,
    unknown_option,
)
from nasgym.objectives import CostSpec, unknown_cost
from nasgym.spaces.nb101 import (
    INPUT,
    INTERIOR_OPS,
    MAX_EDGES,
    MAX_VERTICES,
    OPS,
    OUTPUT,
    NB101Cell,
    from_naslib,
    invalid_reason,
    nb101_hash,
    prune,
)

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]

#: Table names accepted by :class:`NB101Benchmark`, and their files.
TABLE_FILES: dict[str, str] = {"full": "nb101.npz", "ecnas": "ecnas.npz"}
#: Official NB101 record files, in order of preference (the full file is a superset).
RECORD_FILES: tuple[str, ...] = ("nasbench_full.tfrecord", "nasbench_only108.tfrecord")
#: EC-NAS-Bench archive name (see docs/data.md#ec-nas-bench).
ECNAS_ARCHIVE = "ec_nasbench_energy_results_and_graphs.tar.xz"
#: NASLib / NAS-Bench-Suite-Zero reference file used by :func:`verify_nb101`.
NASLIB_REFERENCE = "zc_nasbench101.json.xz"
#: Every metric name; ``energy_kwh`` and ``co2_g`` only in EC-NAS tables.
METRICS: tuple[str, ...] = (
    "valid",
    "test",
    "train_time_s",
    "params",
    "energy_kwh",
    "co2_g",
)
#: Metrics where higher is better (the others are costs).
ACCURACY_METRICS: tuple[str, ...] = ("valid", "test")
#: Cost objectives (``objectives=[...]`` names) -> (metric, unit, description).
COST_OBJECTIVES: dict[str, tuple[str, str, str]] = {
    "train_time": ("train_time_s", "s", "training time of a run (mean over repeats)"),
    "params": ("params", "count", "trainable parameters"),
    "energy_kwh": ("energy_kwh", "kWh", "EC-NAS-Bench total energy of a run"),
    "co2": ("co2_g", "g", "EC-NAS-Bench CO2-equivalent of a run"),
}
#: ``repeat=`` choices of :meth:`NB101Benchmark.query` besides an int index.
REPEAT_MODES: tuple[str, ...] = ("mean", "all", "random")

_RUN_METRICS = ("valid", "test", "train_time_s", "energy_kwh", "co2_g")
_PAD_OP = 255
_HEX = re.compile(r"[0-9a-f]{32}")
_HASH_BYTES = 16


# ---------------------------------------------------------------------------
# model_metrics.proto
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EvaluationData:
    """One ``nasbench.EvaluationData`` message (proto2; absent fields are 0/"")."""

    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0
    checkpoint_path: str = ""


@dataclass(frozen=True)
class ModelMetrics:
    """One ``nasbench.ModelMetrics`` message.

    Attributes:
        evaluation_data: Evaluations during training: at step 0, halfway, final.
        trainable_parameters: Parameter count.
        total_time: Seconds for all training and evaluation.
    """

    evaluation_data: tuple[EvaluationData, ...] = ()
    trainable_parameters: int = 0
    total_time: float = 0.0


_EVAL_FIELDS = (
    "current_epoch",
    "training_time",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
)


def _double(value: tfrecord.FieldValue, wire: int, what: str) -> float:
    if wire != tfrecord.FIXED64 or not isinstance(value, bytes):
        raise ValueError(f"{what} has wire type {wire}, expected fixed64 (double)")
    return float(struct.unpack("<d", value)[0])


def _decode_evaluation(buf: bytes) -> EvaluationData:
    values: dict[str, Any] = {}
    for number, wire, value in tfrecord.iter_fields(buf):
        if 1 <= number <= 5:
            name = _EVAL_FIELDS[number - 1]
            values[name] = _double(value, wire, f"EvaluationData.{name}")
        elif number == 6:
            if wire != tfrecord.LENGTH_DELIMITED or not isinstance(value, bytes):
                raise ValueError("EvaluationData.checkpoint_path is not a string")
            values["checkpoint_path"] = value.decode("utf-8")
    return EvaluationData(**values)


def decode_model_metrics(buf: bytes) -> ModelMetrics:
    """Decode a serialized ``ModelMetrics`` (unknown fields are skipped).

    Raises:
        ValueError: The bytes are not a well-formed message of this type.
    """
    evaluations: list[EvaluationData] = []
    params = 0
    total = 0.0
    for number, wire, value in tfrecord.iter_fields(buf):
        if number == 1:
            if wire != tfrecord.LENGTH_DELIMITED or not isinstance(value, bytes):
                raise ValueError("ModelMetrics.evaluation_data is not a message")
            evaluations.append(_decode_evaluation(value))
        elif number == 2:
            if wire != tfrecord.VARINT or not isinstance(value, int):
                raise ValueError("ModelMetrics.trainable_parameters is not a varint")
            params = tfrecord.to_signed64(value)
        elif number == 3:
            total = _double(value, wire, "ModelMetrics.total_time")
    return ModelMetrics(tuple(evaluations), params, total)


def encode_model_metrics(metrics: ModelMetrics) -> bytes:
    """Serialize a :class:`ModelMetrics` (inverse of :func:`decode_model_metrics`)."""
    out = b""
    for ev in metrics.evaluation_data:
        body = b"".join(
            tfrecord.encode_double_field(i + 1, float(getattr(ev, name)))
            for i, name in enumerate(_EVAL_FIELDS)
        )
        if ev.checkpoint_path:
            body += tfrecord.encode_bytes_field(6, ev.checkpoint_path.encode("utf-8"))
        out += tfrecord.encode_bytes_field(1, body)
    out += tfrecord.encode_varint_field(2, int(metrics.trainable_parameters))
    out += tfrecord.encode_double_field(3, float(metrics.total_time))
    return out


def encode_nb101_record(
    module_hash: str, epochs: int, cell: NB101Cell, metrics: ModelMetrics
) -> bytes:
    """One record's data in the official NB101 layout (for tests and tools).

    Args:
        module_hash: The official hash (32 hex chars).
        epochs: The epoch budget.
        cell: The (pruned) cell, stored as given.
        metrics: The run's metrics.
    """
    adjacency = "".join(str(x) for row in cell.matrix for x in row)
    raw = base64.b64encode(encode_model_metrics(metrics)).decode("ascii")
    return json.dumps(
        [module_hash, int(epochs), adjacency, ",".join(cell.ops), raw]
    ).encode("utf-8")


# ---------------------------------------------------------------------------
# Building tables
# ---------------------------------------------------------------------------
@dataclass
class _Source:
    kind: str
    file: str
    sha256: str
    records: int


class _Runs:
    """Accumulates runs (one per record / results file), then builds the arrays."""

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = tuple(metrics)
        self.hashes = bytearray()
        self.epochs = array("q")
        self.group = array("b")
        self.params = array("q")
        self.values = {m: array("d") for m in self.metrics}
        self.cells: dict[bytes, NB101Cell] = {}

    def __len__(self) -> int:
        return len(self.epochs)

    def add(
        self, key: bytes, epochs: int, group: int, params: int, values: Sequence[float]
    ) -> None:
        self.hashes += key
        self.epochs.append(epochs)
        self.group.append(group)
        self.params.append(params)
        for name, value in zip(self.metrics, values, strict=True):
            self.values[name].append(value)

    def build(self, where: str) -> dict[str, np.ndarray]:
        count = len(self)
        if count == 0:
            raise CorruptDataError(f"{where} holds no NB101 runs")
        keys = np.frombuffer(bytes(self.hashes), dtype=np.uint8).reshape(count, 16)
        hi, lo = _split_hash(keys)
        order = np.lexsort((lo, hi))
        new = np.ones(count, dtype=bool)
        new[1:] = (hi[order][1:] != hi[order][:-1]) | (lo[order][1:] != lo[order][:-1])
        row_sorted = np.cumsum(new) - 1
        row = np.empty(count, dtype=np.int64)
        row[order] = row_sorted
        unique_keys = keys[order][new]
        n = unique_keys.shape[0]

        runs_epochs = np.frombuffer(self.epochs, dtype=np.int64)
        epochs = np.unique(runs_epochs)
        e_idx = np.searchsorted(epochs, runs_epochs)
        group = np.frombuffer(self.group, dtype=np.int8)
        # rank of each run within its (cell, epochs) slot: group first, then order
        slot_order = np.lexsort((np.arange(count), group, e_idx, row))
        slot = row[slot_order] * epochs.size + e_idx[slot_order]
        first = np.ones(count, dtype=bool)
        first[1:] = slot[1:] != slot[:-1]
        starts = np.flatnonzero(first)
        sizes = np.diff(np.append(starts, count))
        rank_sorted = np.arange(count) - np.repeat(starts, sizes)
        rank = np.empty(count, dtype=np.int64)
        rank[slot_order] = rank_sorted
        repeats = int(rank.max()) + 1

        params = np.frombuffer(self.params, dtype=np.int64)
        row_params = np.zeros(n, dtype=np.int64)
        row_params[row] = params
        bad = np.flatnonzero(row_params[row] != params)
        if bad.size:
            key = keys[int(bad[0])].tobytes().hex()
            raise CorruptDataError(
                f"{where}: runs of cell {key} disagree on trainable_parameters"
            )

        arrays: dict[str, np.ndarray] = {
            "hash": np.ascontiguousarray(unique_keys),
            "params": row_params,
            "epochs": epochs.astype(np.int64),
        }
        shape = (n, epochs.size, repeats)
        for name in self.metrics:
            table = np.full(shape, np.nan, dtype=np.float64)
            table[row, e_idx, rank] = np.frombuffer(self.values[name], dtype=np.float64)
            arrays[name] = _compact_float(table)
        run_group = np.full(shape, -1, dtype=np.int8)
        run_group[row, e_idx, rank] = group
        arrays["run_group"] = run_group

        num_vertices = np.zeros(n, dtype=np.uint8)
        dense = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        ops = np.full((n, MAX_VERTICES), _PAD_OP, dtype=np.uint8)
        for i in range(n):
            cell = self.cells[unique_keys[i].tobytes()]
            v = cell.num_vertices
            num_vertices[i] = v
            dense[i, :v, :v] = cell.matrix
            ops[i, :v] = cell.op_indices
        arrays["num_vertices"] = num_vertices
        arrays["adjacency"] = np.packbits(dense.reshape(n, -1), axis=1)
        arrays["ops"] = ops
        return arrays


def _compact_float(values: FloatArray) -> np.ndarray:
    as32 = values.astype(np.float32)
    if np.array_equal(as32.astype(np.float64), values, equal_nan=True):
        return as32
    return values


def _split_hash(keys: NDArray[np.uint8]) -> tuple[NDArray[np.uint64], ...]:
    """High and low big-endian 64-bit halves of ``(n, 16)`` hash bytes."""
    keys = np.ascontiguousarray(keys, dtype=np.uint8)
    hi = keys[:, :8].copy().view(">u8").reshape(-1).astype(np.uint64)
    lo = keys[:, 8:].copy().view(">u8").reshape(-1).astype(np.uint64)
    return hi, lo


def _hash_key(text: object, where: str) -> bytes:
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise CorruptDataError(f"{where}: {text!r} is not an NB101 hash (32 hex chars)")
    return bytes.fromhex(text)


def _write(
    arrays: dict[str, np.ndarray],
    kind: str,
    groups: Sequence[str],
    sources: Sequence[_Source],
    dest: Path | None,
) -> Path:
    path = dest if dest is not None else cache_dir() / TABLE_FILES[kind]
    _check_values(
        ", ".join(s.file for s in sources) or "the source",
        arrays,
        fix="The source is damaged or not NB101 data: replace it with an intact "
        f"copy; {data_page(_DATA_PAGE[kind])}",
    )
    arrays = dict(arrays)
    arrays["kind"] = np.asarray(kind)
    arrays["group_names"] = np.array(list(groups), dtype=np.str_)
    arrays["sources/kind"] = np.array([s.kind for s in sources], dtype=np.str_)
    arrays["sources/file"] = np.array([s.file for s in sources], dtype=np.str_)
    arrays["sources/sha256"] = np.array([s.sha256 for s in sources], dtype=np.str_)
    arrays["sources/records"] = np.array([s.records for s in sources], dtype=np.int64)
    write_table(path, arrays)
    return path


# ---------------------------------------------------------------------------
# Official NB101 TFRecords
# ---------------------------------------------------------------------------
@data_errors("nb101")
def find_nb101_records(path: str | os.PathLike[str]) -> Path:
    """The record file to import from ``path`` (a file, or a directory holding one).

    A directory is searched (itself, then ``nasbench/``, ``nas-bench-101/`` and
    ``nasbench101/``) for :data:`RECORD_FILES`, preferring the full file.

    Raises:
        BenchmarkDataMissingError: Nothing found (the message lists the names).
    """
    root = Path(path).expanduser()
    if root.is_file():
        return root
    if root.is_dir():
        for sub in (".", "nasbench", "nas-bench-101", "nasbench101"):
            for name in RECORD_FILES:
                candidate = root / sub / name
                if candidate.is_file():
                    return candidate
    raise BenchmarkDataMissingError(
        f"no NB101 record file at {root}; expected {' or '.join(RECORD_FILES)} (the "
        f"official NAS-Bench-101 downloads) or a directory holding one"
    )


def _parse_record(data: bytes, where: str) -> tuple[str, int, str, str, ModelMetrics]:
    try:
        row = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptDataError(f"{where}: not a JSON NB101 record ({exc})") from exc
    if not isinstance(row, list) or len(row) != 5:
        raise CorruptDataError(
            f"{where}: expected [module_hash, epochs, raw_adjacency, raw_operations, "
            f"raw_metrics], got {str(row)[:120]}"
        )
    module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = row
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
        raise CorruptDataError(f"{where}: epochs {epochs!r} is not a positive int")
    if not isinstance(raw_adjacency, str) or not isinstance(raw_operations, str):
        raise CorruptDataError(f"{where}: adjacency and operations must be strings")
    if not isinstance(raw_metrics, str):
        raise CorruptDataError(f"{where}: raw_metrics must be a base64 string")
    try:
        metrics = decode_model_metrics(base64.b64decode(raw_metrics))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptDataError(f"{where}: undecodable ModelMetrics ({exc})") from exc
    if not metrics.evaluation_data:
        raise CorruptDataError(f"{where}: ModelMetrics has no evaluation_data")
    return module_hash, epochs, raw_adjacency, raw_operations, metrics


def _parse_cell(raw_adjacency: str, raw_operations: str, where: str) -> NB101Cell:
    ops = raw_operations.split(",")
    n = len(ops)
    if len(raw_adjacency) != n * n or set(raw_adjacency) - {"0", "1"}:
        raise CorruptDataError(
            f"{where}: adjacency {raw_adjacency!r} is not {n}x{n} binary digits"
        )
    try:
        cell = NB101Cell(
            tuple(
                tuple(int(c) for c in raw_adjacency[r * n : (r + 1) * n])
                for r in range(n)
            ),
            tuple(ops),
        )
    except InvalidArchitectureError as exc:
        raise CorruptDataError(f"{where}: {exc}") from exc
    reason = invalid_reason(cell)
    if reason is not None:
        raise CorruptDataError(f"{where}: invalid cell {cell}: {reason}")
    return prune(cell)


@data_errors("nb101")
def import_nb101_tfrecord(
    path: str | os.PathLike[str],
    *,
    dest: Path | None = None,
    check_hashes: bool = True,
) -> Path:
    """Import an official NAS-Bench-101 record file into ``nb101.npz``.

    Reads every record (CRC-checked), decodes the JSON row and its ``ModelMetrics``,
    and stores for every cell its pruned graph, parameters and, for every epoch
    budget and repeat, the final validation/test accuracy and training time. An
    existing table at ``dest`` is replaced.

    Args:
        path: ``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or a
            directory holding one (the full file is preferred).
        dest: Table to write; default ``cache_dir() / "nb101.npz"``.
        check_hashes: Recompute every cell's official hash and require it to equal
            the record's (about 70 microseconds per cell).

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: No record file at ``path``.
        CorruptDataError: A record is truncated, fails its CRC, or is malformed
            (the message names the file and the byte offset), or a cell does not
            hash to its record's hash.
    """
    source = find_nb101_records(path)
    runs = _Runs(("valid", "test", "train_time_s"))
    raw_cells: dict[bytes, tuple[str, str, int]] = {}
    name = str(source)
    for offset, data in tfrecord.iter_records_with_offsets(source):
        where = f"{name}: record at byte offset {offset}"
        module_hash, epochs, raw_adj, raw_ops, metrics = _parse_record(data, where)
        key = _hash_key(module_hash, where)
        if key not in raw_cells:
            raw_cells[key] = (raw_adj, raw_ops, offset)
        final = metrics.evaluation_data[-1]
        runs.add(
            key,
            epochs,
            0,
            metrics.trainable_parameters,
            (final.validation_accuracy, final.test_accuracy, final.training_time),
        )
    for key, (raw_adj, raw_ops, offset) in raw_cells.items():
        where = f"{name}: record at byte offset {offset}"
        cell = _parse_cell(raw_adj, raw_ops, where)
        if check_hashes and nb101_hash(cell) != key.hex():
            raise CorruptDataError(
                f"{where}: cell {cell} has official hash {nb101_hash(cell)}, but the "
                f"record says {key.hex()}"
            )
        runs.cells[key] = cell
    arrays = runs.build(name)
    sources = [_Source("nb101-tfrecord", source.name, sha256_file(source), len(runs))]
    return _write(arrays, "full", ["nb101"], sources, dest)


# ---------------------------------------------------------------------------
# EC-NAS-Bench
# ---------------------------------------------------------------------------
_ECNAS_RESULT = re.compile(
    r"(?:^|/)energy/(?P<space>[^/]+)/(?P<epochs>\d+)_epochs/[^/]+/"
    r"(?P<hash>[0-9a-f]{32})/repeat_(?P<repeat>\d+)/results\.json$"
)
_ECNAS_GRAPHS = re.compile(r"(?:^|/)generated_graphs_(?P<space>[^/]+)\.json$")
_ECNAS_LABELS: dict[int, str] = {
    -1: INPUT,
    -2: OUTPUT,
    **{i: op for i, op in enumerate(INTERIOR_OPS)},
}


def _ecnas_files(root: Path) -> Iterator[tuple[str, bytes]]:
    """``(posix path, content)`` of the results and graph files under ``root``."""
    if root.is_file():
        try:
            with tarfile.open(root, "r:*") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    if _ECNAS_RESULT.search(member.name) or _ECNAS_GRAPHS.search(
                        member.name
                    ):
                        handle = tar.extractfile(member)
                        if handle is not None:
                            yield member.name, handle.read()
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as exc:
            raise CorruptDataError(f"cannot read EC-NAS archive {root}: {exc}") from exc
        return
    for path in sorted(root.rglob("*.json")):
        posix = path.relative_to(root).as_posix()
        if _ECNAS_RESULT.search(posix) or _ECNAS_GRAPHS.search(posix):
            yield posix, path.read_bytes()


def _load_json(content: bytes, where: str) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptDataError(f"{where}: not valid JSON ({exc})") from exc


def _ecnas_cell(entry: Any, where: str) -> NB101Cell:
    try:
        matrix, labels = entry
        cell = NB101Cell.from_numpy(
            np.asarray(matrix), [_ECNAS_LABELS[int(x)] for x in labels]
        )
    except (ValueError, TypeError, KeyError, InvalidArchitectureError) as exc:
        raise CorruptDataError(f"{where}: malformed graph entry ({exc})") from exc
    reason = invalid_reason(cell)
    if reason is not None:
        raise CorruptDataError(f"{where}: invalid cell {cell}: {reason}")
    return prune(cell)


def _ecnas_run(result: Any, budget: int, where: str) -> tuple[int, list[float]]:
    try:
        final = result["evaluation_results"][-1]
        if float(final["epochs"]) != float(budget):
            raise CorruptDataError(
                f"{where}: last evaluation at epoch {final['epochs']}, but the "
                f"folder says {budget} epochs"
            )
        values = [
            float(final["validation_accuracy"]),
            float(final["test_accuracy"]),
            float(final["training_time"]),
            float(result["total_energy (kWh)"]),
            float(result["total_co2eq (g)"]),
        ]
        return int(result["trainable_params"]), values
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise CorruptDataError(
            f"{where}: unexpected EC-NAS results layout ({type(exc).__name__}: {exc})"
        ) from exc


@data_errors("ecnas")
def import_ecnas(path: str | os.PathLike[str], *, dest: Path | None = None) -> Path:
    """Import EC-NAS-Bench's measured runs into ``ecnas.npz`` (an NB101-format table).

    Every ``results.json`` under ``.../energy/<space>/<E>_epochs/<xx>/<hash>/
    repeat_<k>/`` is one run of the cell ``generated_graphs_<space>.json`` maps
    ``<hash>`` to (labels -1 input, -2 output, 0..2 the official interior op order);
    each cell must reproduce its hash. Per run the table keeps the final
    evaluation's validation/test accuracy and training time, the run's total energy
    (``total_energy (kWh)``) and CO2-eq (``total_co2eq (g)``), and its space as the
    run group (``"4V9E"`` or ``"5V9E"``). A cell's runs fill its run slots by
    group, then repeat number, so the 91 cells of both spaces have 4 runs.

    Args:
        path: ``ec_nasbench_energy_results_and_graphs.tar.xz``, an extracted copy,
            or a directory holding either (e.g. ``$NASGYM_DATA_DIR`` or its
            ``ec-nas-bench/``).
        dest: Table to write; default ``cache_dir() / "ecnas.npz"``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: ``path`` holds no EC-NAS results.
        CorruptDataError: A file is unreadable or inconsistent (the message names
            it), or a cell does not hash to its key.
    """
    root = _find_ecnas(Path(path).expanduser())
    graphs: dict[str, dict[str, Any]] = {}
    results: list[tuple[str, int, str, int, str, Any]] = []
    for name, content in _ecnas_files(root):
        where = f"{root}: {name}"
        match = _ECNAS_GRAPHS.search(name)
        if match:
            table = _load_json(content, where)
            if not isinstance(table, dict):
                raise CorruptDataError(f"{where}: expected a hash -> graph mapping")
            graphs[match["space"]] = table
            continue
        match = _ECNAS_RESULT.search(name)
        assert match is not None
        results.append(
            (
                match["space"],
                int(match["epochs"]),
                match["hash"],
                int(match["repeat"]),
                where,
                _load_json(content, where),
            )
        )
    if not results:
        raise BenchmarkDataMissingError(
            f"no EC-NAS results.json files in {root}; expected {ECNAS_ARCHIVE} or "
            f"its extracted tree (.../train_model_results/energy/<space>/...)"
        )
    groups = sorted({r[0] for r in results})
    runs = _Runs(_RUN_METRICS)
    for space, budget, model_hash, _, where, result in sorted(
        results, key=lambda r: (groups.index(r[0]), r[2], r[1], r[3])
    ):
        if isinstance(result, dict) and "model_hash" in result:
            if result["model_hash"] != model_hash:
                raise CorruptDataError(
                    f"{where}: model_hash {result['model_hash']!r} differs from its "
                    f"folder {model_hash}"
                )
        key = bytes.fromhex(model_hash)
        if key not in runs.cells:
            graph = graphs.get(space, {}).get(model_hash)
            if graph is None:
                raise CorruptDataError(
                    f"{where}: hash {model_hash} is missing from "
                    f"generated_graphs_{space}.json"
                )
            cell = _ecnas_cell(graph, f"generated_graphs_{space}.json[{model_hash}]")
            if nb101_hash(cell) != model_hash:
                raise CorruptDataError(
                    f"generated_graphs_{space}.json: cell {cell} has official hash "
                    f"{nb101_hash(cell)}, not its key {model_hash}"
                )
            runs.cells[key] = cell
        params, values = _ecnas_run(result, budget, where)
        runs.add(key, budget, groups.index(space), params, values)
    arrays = runs.build(str(root))
    if root.is_file():
        digest = sha256_file(root)
    else:
        combined = hashlib.sha256()
        for name, content in _ecnas_files(root):
            combined.update(f"{name} {hashlib.sha256(content).hexdigest()}\n".encode())
        digest = combined.hexdigest()
    sources = [_Source("ecnas", root.name, digest, len(runs))]
    return _write(arrays, "ecnas", groups, sources, dest)


def _find_ecnas(root: Path) -> Path:
    if not root.exists():
        raise BenchmarkDataMissingError(
            f"{root} does not exist; expected {ECNAS_ARCHIVE} or its extracted tree"
        )
    if root.is_dir():
        for candidate in (root / ECNAS_ARCHIVE, root / "ec-nas-bench" / ECNAS_ARCHIVE):
            if candidate.is_file():
                return candidate
    return root


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def _hash_array(hashes: Any) -> NDArray[np.uint8]:
    """``(n, 16)`` uint8 from hex strings, 16-byte keys, or such an array."""
    if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint8:
        if hashes.ndim == 2 and hashes.shape[1] == _HASH_BYTES:
            return hashes
        raise InvalidArchitectureError(
            f"hash arrays must have shape (n, 16), got {hashes.shape}"
        )
    if isinstance(hashes, (str, bytes)):
        hashes = [hashes]
    out = bytearray()
    count = 0
    for h in hashes:
        if isinstance(h, bytes) and len(h) == _HASH_BYTES:
            out += h
        elif isinstance(h, str) and _HEX.fullmatch(h):
            out += bytes.fromhex(h)
        else:
            raise InvalidArchitectureError(
                f"{h!r} is not an NB101 hash (32 lowercase hex chars or 16 bytes)"
            )
        count += 1
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(count, _HASH_BYTES)


class NB101Table:
    """A loaded NB101-format table (read-only arrays; see the module docstring).

    Attributes:
        path: The table file.
        checksum: Content checksum stored in the file.
        kind: ``"full"`` (official NB101) or ``"ecnas"``.
        arrays: Every array, read-only.
        epochs: Epoch budgets present.
        group_names: Run group names (``("nb101",)`` or EC-NAS's spaces).
    """

    def __init__(self, path: Path, checksum: str, arrays: Mapping[str, np.ndarray]):
        self.path = path
        self.checksum = checksum
        self.arrays = dict(arrays)
        for value in self.arrays.values():
            value.setflags(write=False)
        self.kind = str(self.arrays["kind"])
        self.epochs: tuple[int, ...] = tuple(int(e) for e in self.arrays["epochs"])
        self.group_names: tuple[str, ...] = tuple(
            str(g) for g in self.arrays["group_names"]
        )
        self._hi, self._lo = _split_hash(self.arrays["hash"])
        self._dup_hi = bool(np.any(self._hi[1:] == self._hi[:-1]))

    def __len__(self) -> int:
        return int(self.arrays["hash"].shape[0])

    def __repr__(self) -> str:
        return (
            f"NB101Table(path={str(self.path)!r}, kind={self.kind!r}, cells={len(self)}"
            f", epochs={self.epochs})"
        )

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names present (:data:`METRICS` order)."""
        return tuple(m for m in METRICS if m == "params" or m in self.arrays)

    @property
    def sources(self) -> tuple[dict[str, str | int], ...]:
        """Sources the table was built from (kind, file, sha256, records)."""
        a = self.arrays
        return tuple(
            {"kind": str(k), "file": str(f), "sha256": str(h), "records": int(r)}
            for k, f, h, r in zip(
                a["sources/kind"],
                a["sources/file"],
                a["sources/sha256"],
                a["sources/records"],
                strict=True,
            )
        )

    def lookup(self, hashes: Any) -> IndexArray:
        """Row of every hash (vectorised binary search); ``-1`` where absent.

        Args:
            hashes: A hex string, a 16-byte key, a sequence of these, or an
                ``(n, 16)`` ``uint8`` array.

        Returns:
            ``(n,)`` ``int64`` row indices.

        Raises:
            InvalidArchitectureError: A hash is malformed.
        """
        keys = _hash_array(hashes)
        qhi, qlo = _split_hash(keys)
        size = len(self)
        if size == 0:
            return np.full(qhi.shape, -1, dtype=np.int64)
        idx = np.searchsorted(self._hi, qhi, side="left").astype(np.int64)
        at = np.minimum(idx, size - 1)
        found = (idx < size) & (self._hi[at] == qhi) & (self._lo[at] == qlo)
        result = np.where(found, at, -1)
        if self._dup_hi:  # pragma: no cover - 64-bit prefix collision, ~1e-8
            for i in np.flatnonzero(~found & (idx < size) & (self._hi[at] == qhi)):
                j = int(idx[i])
                while j < size and self._hi[j] == qhi[i]:
                    if self._lo[j] == qlo[i]:
                        result[i] = j
                        break
                    j += 1
        return result

    def hash_at(self, index: int) -> str:
        """Official hash (hex) of a row."""
        return bytes(self.arrays["hash"][int(index)]).hex()

    def hashes_hex(self) -> list[str]:
        """Official hashes of every row (hex, sorted)."""
        return [bytes(row).hex() for row in self.arrays["hash"]]

    def cell(self, index: int) -> NB101Cell:
        """The (pruned) cell of a row."""
        i = int(index)
        n = int(self.arrays["num_vertices"][i])
        bits = np.unpackbits(self.arrays["adjacency"][i], count=MAX_VERTICES**2)
        matrix = bits.reshape(MAX_VERTICES, MAX_VERTICES)[:n, :n]
        return NB101Cell(
            tuple(tuple(int(x) for x in r) for r in matrix),
            tuple(OPS[int(k)] for k in self.arrays["ops"][i, :n]),
        )

    @cached_property
    def cells(self) -> Sequence[NB101Cell]:
        """Every row's cell, as a lazy sequence (for ``sample(population=...)``)."""
        return _CellSequence(self, np.arange(len(self), dtype=np.int64))

    def num_edges(self) -> IndexArray:
        """Edge count of every row."""
        bits = np.unpackbits(self.arrays["adjacency"], axis=1, count=MAX_VERTICES**2)
        edges: IndexArray = bits.sum(axis=1, dtype=np.int64)
        return edges

    def vertex_edge_histogram(self, rows: IndexArray | None = None) -> IndexArray:
        """Counts of cells by ``[vertices, edges]``: an ``(8, 10)`` array.

        Feed it to ``sample(rng, "nb101-dist", histogram=...)``.
        """
        vertices = self.arrays["num_vertices"].astype(np.int64)
        edges = self.num_edges()
        if rows is not None:
            vertices, edges = vertices[rows], edges[rows]
        hist = np.zeros((MAX_VERTICES + 1, MAX_EDGES + 1), dtype=np.int64)
        np.add.at(hist, (vertices, np.minimum(edges, MAX_EDGES)), 1)
        return hist


class _CellSequence(Sequence[NB101Cell]):
    def __init__(self, table: NB101Table, rows: IndexArray) -> None:
        self._table = table
        self._rows = rows

    def __len__(self) -> int:
        return int(self._rows.size)

    @overload
    def __getitem__(self, index: int) -> NB101Cell: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[NB101Cell]: ...

    def __getitem__(self, index: int | slice) -> NB101Cell | Sequence[NB101Cell]:
        if isinstance(index, slice):
            return _CellSequence(self._table, self._rows[index])
        return self._table.cell(int(self._rows[index]))


_CACHE: dict[tuple[str, int, int], NB101Table] = {}
#: The possible values of a table's arrays: accuracies are fractions in [0, 1]
#: (NaN: a missing repeat), costs are never negative, every cell has a size.
VALUE_RANGES: dict[str, ValueRange] = {
    "valid": FRACTION,
    "test": FRACTION,
    "train_time_s": COST,
    "energy_kwh": COST,
    "co2_g": COST,
    "params": ValueRange(0.0, required=True),
}
_DATA_PAGE = {"full": "nb101", "ecnas": "ecnas"}


def _check_values(where: str | Path, arrays: dict[str, np.ndarray], fix: str) -> None:
    """:data:`VALUE_RANGES`, and a value of every cell at every epoch.

    A missing repeat is NaN, but a cell needs one run with a validation and a test
    accuracy at each epoch: without it the env could not answer a query.
    """
    check_ranges(where, arrays, VALUE_RANGES, fix=fix)
    epochs = np.asarray(arrays.get("epochs", ()))
    for name in ("valid", "test"):
        if name not in arrays:
            continue
        empty = ~np.isfinite(np.asarray(arrays[name], dtype=np.float64)).any(axis=2)
        if empty.any():
            cell, epoch = (int(i) for i in np.argwhere(empty)[0])
            at = int(epochs[epoch]) if epoch < epochs.size else epoch
            raise CorruptDataError(
                f"{where}: {name} is NaN in every run of {int(empty.sum()):,} "
                f"(cell, epoch) pair(s) (first: cell {cell}, epoch {at}); every cell "
                f"needs a value. {fix}"
            )


_REQUIRED: dict[str, tuple[int, ...]] = {
    "hash": (-1, _HASH_BYTES),
    "num_vertices": (-1,),
    "adjacency": (-1, MAX_VERTICES),
    "ops": (-1, MAX_VERTICES),
    "params": (-1,),
    "epochs": (-1,),
    "valid": (-1, -1, -1),
    "test": (-1, -1, -1),
    "train_time_s": (-1, -1, -1),
    "run_group": (-1, -1, -1),
    "kind": (),
    "group_names": (-1,),
}


def _read(path: Path, kind: str) -> NB101Table:
    arrays = read_table(path, _REQUIRED)
    fix = (
        f"delete it and run {_import_command(kind)} again ({path}); "
        f"{data_page(_DATA_PAGE[kind])}"
    )
    _check_values(path, arrays, fix)
    n = arrays["hash"].shape[0]
    shape = (n, arrays["epochs"].shape[0], arrays["run_group"].shape[2])
    for name in (*_RUN_METRICS, "run_group"):
        if name in arrays and arrays[name].shape != shape:
            raise CorruptDataError(
                f"{path}: array {name!r} has shape {arrays[name].shape}, expected "
                f"{shape}; {fix}"
            )
    for name in ("num_vertices", "adjacency", "ops", "params"):
        if arrays[name].shape[0] != n:
            raise CorruptDataError(
                f"{path}: array {name!r} has the wrong length; {fix}"
            )
    if str(arrays["kind"]) != kind:
        raise CorruptDataError(
            f"{path} holds a {str(arrays['kind'])!r} table, expected {kind!r}; {fix}"
        )
    hi, lo = _split_hash(arrays["hash"])
    if n > 1 and not np.all(
        (hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] > lo[:-1]))
    ):
        raise CorruptDataError(f"{path}: hashes are not sorted and unique; {fix}")
    with np.load(path, allow_pickle=False) as npz:
        checksum = str(npz["__sha256__"])
    return NB101Table(path, checksum, arrays)


def _import_command(kind: str) -> str:
    return (
        "`nasgym data import nb101 PATH`"
        if kind == "full"
        else ("`nasgym data import ecnas PATH`")
    )


def missing_table_message(
    kind: str = "full", expected: Sequence[Path] | None = None
) -> str:
    """Explain where a table is expected and the command that creates it.

    Args:
        kind: ``"full"`` (``nb101.npz``) or ``"ecnas"`` (``ecnas.npz``).
        expected: Paths looked at; default the table on every directory of
            :func:`nasgym.data.table_search_path`.
    """
    filename = TABLE_FILES[kind]
    paths = expected or [d / filename for d in table_search_path()]
    looked = describe_paths(paths)
    if kind == "full":
        what = (
            f"`nasgym data import nb101 PATH`, where PATH is the official "
            f"{RECORD_FILES[1]} or {RECORD_FILES[0]} (or a directory holding one)"
        )
        title = "NB101"
    else:
        root = data_dir()
        suggested = "PATH"
        if root is not None and (root / "ec-nas-bench" / ECNAS_ARCHIVE).is_file():
            suggested = str(root / "ec-nas-bench" / ECNAS_ARCHIVE)
        what = f"`nasgym data import ecnas {suggested}`" + (
            f", where PATH is {ECNAS_ARCHIVE} or its extracted directory"
            if suggested == "PATH"
            else ""
        )
        title = "EC-NAS-Bench"
    other = "ecnas" if kind == "full" else "full"
    also = ""
    if expected is None and find_table(TABLE_FILES[other]) is not None:
        also = (
            f" The {'EC-NAS-Bench' if other == 'ecnas' else 'NB101'} table "
            f"{TABLE_FILES[other]} is imported: use it with table={other!r} (e.g. "
            f"gym.make('nasgym/NB101Query-v0', table={other!r}))."
        )
    return (
        f"{title} table {filename} not found; looked for {looked}.{also} "
        f"Create it with {what}; {data_page(_DATA_PAGE[kind])}"
    )


def load_table(
    kind: str = "full", path: str | os.PathLike[str] | None = None
) -> NB101Table:
    """Read an NB101-format table once per process (cached by path, mtime, size).

    Args:
        kind: ``"full"`` or ``"ecnas"``.
        path: A table file or a directory holding it; default: search
            :func:`nasgym.data.table_search_path`.

    Raises:
        UnknownOptionError: Unknown ``kind``.
        BenchmarkDataMissingError: No table (the message gives the import command).
        CorruptDataError: The table fails its integrity checks.
    """
    if kind not in TABLE_FILES:
        raise unknown_option("NB101 table", kind, TABLE_FILES)
    filename = TABLE_FILES[kind]
    if path is None:
        found = find_table(filename)
        if found is None:
            raise BenchmarkDataMissingError(missing_table_message(kind))
        resolved = found
    else:
        resolved = Path(path).expanduser()
        if resolved.is_dir():
            resolved = resolved / filename
        if not resolved.is_file():
            raise BenchmarkDataMissingError(missing_table_message(kind, [resolved]))
    resolved = resolved.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    table = _CACHE.get(key)
    if table is None:
        try:
            table = _read(resolved, kind)
        except CorruptDataError as exc:
            raise add_data_page(exc, _DATA_PAGE[kind]) from exc.__cause__
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = table
    return table


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------
ArchLike = NB101Cell | str | bytes


class NB101Benchmark:
    """NAS-Bench-101-format measurements, keyed by the official cell hash.

    The table is found and read on first use, so constructing a benchmark is cheap
    and works before the import has run.

    Metrics (:data:`METRICS`): ``"valid"`` / ``"test"`` (final accuracy of a run, in
    percent), ``"train_time_s"`` (training seconds), ``"params"`` (trainable
    parameters; no epochs or repeats) and, for EC-NAS, ``"energy_kwh"`` and
    ``"co2_g"`` (total energy and CO2-eq of a run). ``"valid@108"`` is shorthand
    for ``metric="valid", epochs=108``.

    Args:
        table: ``"full"`` (official NB101, ``nb101.npz``) or ``"ecnas"``
            (EC-NAS-Bench's measured 4-epoch runs, ``ecnas.npz``).
        path: A table file or a directory holding it; default: search
            :func:`nasgym.data.table_search_path`.
        subspace: EC-NAS only: ``"4V9E"`` or ``"5V9E"`` keeps that space's cells
            and runs; ``None`` (default) keeps every cell with all its runs.

    Raises:
        UnknownOptionError: Unknown table name.

    Example:
        >>> bench = NB101Benchmark("ecnas")  # doctest: +SKIP
        >>> bench.optimum("test")  # doctest: +SKIP
        (76.25200152397156, '...')
    """

    def __init__(
        self,
        table: str = "full",
        *,
        path: str | os.PathLike[str] | None = None,
        subspace: str | None = None,
    ) -> None:
        if table not in TABLE_FILES:
            raise unknown_option("NB101 table", table, TABLE_FILES)
        if subspace is not None and table != "ecnas":
            raise UnknownOptionError(
                f"subspace={subspace!r} applies to the 'ecnas' table only"
            )
        self.table_name = table
        self.subspace = subspace
        self._path = path
        self._data: NB101Table | None = None
        self._view: dict[str, np.ndarray] | None = None
        self._rows_in: NDArray[np.bool_] | None = None
        self._optima: dict[tuple[str, int | None], tuple[float, str]] = {}

    # ----------------------------------------------------------------- loading
    @property
    def data(self) -> NB101Table:
        """The loaded table (read on first access)."""
        if self._data is None:
            self._data = load_table(self.table_name, self._path)
        return self._data

    def _values(self) -> tuple[dict[str, np.ndarray], NDArray[np.bool_]]:
        """Per-metric run arrays restricted to the subspace, and the row mask."""
        if self._view is None or self._rows_in is None:
            data = self.data
            groups = data.arrays["run_group"]
            view = {m: data.arrays[m] for m in _RUN_METRICS if m in data.arrays}
            if self.subspace is None:
                rows_in = np.any(groups >= 0, axis=(1, 2))
            else:
                if self.subspace not in data.group_names:
                    raise unknown_option(
                        f"subspace of {data.path.name}", self.subspace, data.group_names
                    )
                g = data.group_names.index(self.subspace)
                keep = groups == g
                order = np.argsort(~keep, axis=2, kind="stable")
                width = max(int(keep.sum(axis=2).max()), 1)
                kept = np.take_along_axis(keep, order, axis=2)[:, :, :width]
                for name, values in list(view.items()):
                    moved = np.take_along_axis(values, order, axis=2)[:, :, :width]
                    view[name] = np.where(kept, moved, np.nan).astype(values.dtype)
                rows_in = np.any(keep, axis=(1, 2))
            for value in view.values():
                value.setflags(write=False)
            self._view, self._rows_in = view, rows_in
        return self._view, self._rows_in

    @property
    def name(self) -> str:
        """``"nb101"``, ``"ecnas"`` or ``"ecnas/<subspace>"``."""
        base = "nb101" if self.table_name == "full" else "ecnas"
        return base if self.subspace is None else f"{base}/{self.subspace}"

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metrics the table holds."""
        return self.data.metrics

    @property
    def epochs(self) -> tuple[int, ...]:
        """Epoch budgets the table holds."""
        return self.data.epochs

    @property
    def num_repeats(self) -> int:
        """Run slots per cell and budget (3 for official NB101)."""
        return int(self._values()[0]["valid"].shape[2])

    @property
    def rows(self) -> IndexArray:
        """Table rows of the cells in this benchmark (all, or the subspace's)."""
        return np.flatnonzero(self._values()[1]).astype(np.int64)

    def __len__(self) -> int:
        return int(self._values()[1].sum())

    @property
    def cells(self) -> Sequence[NB101Cell]:
        """The benchmark's cells, lazily (for ``sample(rng, "uniform", ...)``)."""
        return _CellSequence(self.data, self.rows)

    def hashes(self) -> list[str]:
        """Official hashes of the benchmark's cells."""
        return [self.data.hash_at(i) for i in self.rows]

    def vertex_edge_histogram(self) -> IndexArray:
        """``(8, 10)`` counts of the benchmark's cells by vertices and edges."""
        return self.data.vertex_edge_histogram(self.rows)

    # ----------------------------------------------------------------- lookups
    def indices(self, archs: ArchLike | Iterable[ArchLike]) -> IndexArray:
        """Table rows of cells or hashes; ``-1`` where absent (or outside the subspace).

        Raises:
            InvalidArchitectureError: A cell cannot be hashed (not a valid DAG) or
                a hash is malformed.
        """
        items = [archs] if isinstance(archs, (NB101Cell, str, bytes)) else list(archs)
        keys: list[str | bytes] = []
        for item in items:
            if isinstance(item, NB101Cell):
                reason = invalid_reason(item)
                if reason is not None:
                    raise InvalidArchitectureError(
                        f"{item} is not a valid NB101 cell: {reason}"
                    )
                keys.append(nb101_hash(item))
            else:
                keys.append(item)
        rows = self.data.lookup(keys) if keys else np.zeros(0, dtype=np.int64)
        _, rows_in = self._values()
        rows[rows >= 0] = np.where(rows_in[rows[rows >= 0]], rows[rows >= 0], -1)
        return rows

    def contains(self, arch: ArchLike) -> bool:
        """Whether a cell (or hash) has data in this benchmark."""
        return bool(self.indices(arch)[0] >= 0)

    def _parse_metric(self, metric: str, epochs: int | None) -> tuple[str, int | None]:
        name, sep, budget = metric.partition("@")
        if sep:
            try:
                parsed = int(budget)
            except ValueError:
                raise unknown_option("NB101 metric", metric, self.metrics) from None
            if epochs is not None and epochs != parsed:
                raise UnknownOptionError(
                    f"metric {metric!r} conflicts with epochs={epochs}"
                )
            epochs = parsed
        if name not in self.metrics:
            raise unknown_option(f"metric for {self.name}", name, self.metrics)
        if name == "params":
            return name, None
        if epochs is None:
            return name, self.epochs[-1]
        if epochs not in self.epochs:
            hint = ""
            if self.table_name == "ecnas":
                hint = (
                    "; EC-NAS holds 4-epoch runs only: for NB101 budgets import the "
                    "official data with `nasgym data import nb101 PATH`"
                )
            raise UnknownOptionError(
                f"{self.name} has no {epochs}-epoch data; epochs available: "
                f"{', '.join(map(str, self.epochs))}{hint}"
            )
        return name, epochs

    def query(
        self,
        archs: ArchLike | Iterable[ArchLike],
        metric: str = "valid",
        epochs: int | None = None,
        repeat: int | str | None = "mean",
        *,
        rng: np.random.Generator | None = None,
        missing: str = "raise",
    ) -> Any:
        """Look up one metric for one or many cells (or official hashes).

        Args:
            archs: An :class:`NB101Cell`, a hash (hex string or 16 bytes), or an
                iterable of these. Cells need not be pruned.
            metric: One of :attr:`metrics`, optionally ``"name@epochs"``.
            epochs: Epoch budget; default the largest in the table (108 / 4).
            repeat: ``"mean"`` or ``None``: mean over the runs present (NaN-aware);
                an ``int``: that run slot; ``"all"``: every slot (NaN where no run);
                ``"random"``: one present run drawn with ``rng`` per cell.
            rng: Generator for ``repeat="random"``.
            missing: ``"raise"`` (default) or ``"nan"`` for cells not in the table.

        Returns:
            A float for a single cell or hash, else a ``float64`` array of shape
            ``(n,)`` (``(n, R)`` for ``repeat="all"``). Accuracies are in percent.

        Raises:
            UnknownOptionError: Unknown metric, epochs, repeat or missing mode.
            InvalidArchitectureError: An invalid cell, a malformed hash, or (with
                ``missing="raise"``) a cell the table does not hold.
        """
        single = isinstance(archs, (NB101Cell, str, bytes))
        name, budget = self._parse_metric(metric, epochs)
        if missing not in ("raise", "nan"):
            raise unknown_option("missing mode", missing, ("raise", "nan"))
        items: list[ArchLike]
        if isinstance(archs, (NB101Cell, str, bytes)):
            items = [archs]
        else:
            items = list(archs)
        rows = self.indices(items)
        absent = rows < 0
        if absent.any() and missing == "raise":
            first = items[int(np.flatnonzero(absent)[0])]
            label = first if isinstance(first, str) else str(first)
            raise InvalidArchitectureError(
                f"{label} is not in {self.name} ({int(absent.sum())} of {len(items)} "
                f"queried cells are absent; {len(self):,} cells have data)"
            )
        safe = np.where(absent, 0, rows)
        if name == "params":
            out = self.data.arrays["params"][safe].astype(np.float64)
        else:
            view, _ = self._values()
            e = self.epochs.index(budget)
            runs = view[name][safe, e, :].astype(np.float64)
            if name in ACCURACY_METRICS:
                runs = runs * 100.0
            out = self._reduce(runs, repeat, rng)
        if absent.any():
            out = out.copy()
            out[absent] = np.nan
        if single:
            return out[0] if out.ndim > 1 else float(out[0])
        return out

    @staticmethod
    def _reduce(
        runs: FloatArray, repeat: int | str | None, rng: np.random.Generator | None
    ) -> FloatArray:
        present = np.isfinite(runs)
        if repeat is None or repeat == "mean":
            counts = present.sum(axis=1)
            sums = np.where(present, runs, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        if repeat == "all":
            return runs
        if repeat == "random":
            if rng is None:
                raise UnknownOptionError("repeat='random' needs rng=")
            counts = present.sum(axis=1)
            pick = np.floor(rng.random(runs.shape[0]) * np.maximum(counts, 1))
            order = np.argsort(~present, axis=1, kind="stable")
            chosen = np.take_along_axis(order, pick.astype(np.int64)[:, None], axis=1)
            values = np.take_along_axis(runs, chosen, axis=1)[:, 0]
            return np.where(counts > 0, values, np.nan)
        if isinstance(repeat, (int, np.integer)) and not isinstance(repeat, bool):
            if not 0 <= int(repeat) < runs.shape[1]:
                raise UnknownOptionError(
                    f"repeat {repeat} out of range 0..{runs.shape[1] - 1}"
                )
            return runs[:, int(repeat)]
        raise unknown_option("repeat", repeat, (*REPEAT_MODES, "an int"))

    def costs(self) -> dict[str, CostSpec]:
        """The cost objectives this table provides (:data:`COST_OBJECTIVES`)."""
        return {
            name: CostSpec(name, unit, text)
            for name, (metric, unit, text) in COST_OBJECTIVES.items()
            if metric in self.metrics
        }

    def cost_metric(self, name: str) -> str:
        """The metric behind cost objective ``name``.

        Raises:
            UnknownOptionError: The table has no such cost (lists the ones it has).
        """
        if name not in self.costs():
            raise unknown_cost(self.name, name, tuple(self.costs()))
        return COST_OBJECTIVES[name][0]

    def optimum(
        self, metric: str = "test", epochs: int | None = None
    ) -> tuple[float, str]:
        """Best mean value of a metric over the benchmark's cells, and its hash.

        Accuracies are maximised, costs (time, params, energy, CO2) minimised.

        Raises:
            UnknownOptionError: Unknown metric or epochs.
        """
        name, budget = self._parse_metric(metric, epochs)
        key = (name, budget)
        if key not in self._optima:
            rows = self.rows
            if name == "params":
                values = self.data.arrays["params"][rows].astype(np.float64)
            else:
                view, _ = self._values()
                e = self.epochs.index(budget)
                runs = view[name][rows, e, :].astype(np.float64)
                values = self._reduce(runs, "mean", None)
                if name in ACCURACY_METRICS:
                    values = values * 100.0
            if name in ACCURACY_METRICS:
                best = int(np.nanargmax(values))
            else:
                best = int(np.nanargmin(values))
            self._optima[key] = (float(values[best]), self.data.hash_at(rows[best]))
        return self._optima[key]

    def __repr__(self) -> str:
        extra = "" if self.subspace is None else f", subspace={self.subspace!r}"
        return f"{type(self).__name__}(table={self.table_name!r}{extra})"


# ---------------------------------------------------------------------------
# Verification against NASLib's real 108-epoch values
# ---------------------------------------------------------------------------
#: Criteria of :func:`verify_nb101`.
VERIFY_CRITERIA: tuple[str, ...] = ("any-repeat", "mean")


@dataclass(frozen=True)
class NB101VerifyReport:
    """Result of :func:`verify_nb101`.

    Attributes:
        table: The table checked.
        reference: The NASLib reference file.
        covered: Whether the table has the reference's budget (108 epochs).
        criterion: ``"any-repeat"`` or ``"mean"`` (see :func:`verify_nb101`).
        num_reference: Reference entries (500 keys; 292 distinct cells).
        num_found: Reference entries whose cell is in the table.
        num_matched: Entries matched under ``criterion``.
        num_matched_any_repeat: Entries equal (within tolerance) to one of the
            cell's 108-epoch runs.
        num_matched_mean: Entries equal to the mean over the cell's runs.
        max_abs_diff: Largest difference under ``criterion`` over found entries.
        tolerance: The tolerance (percent points).
        mismatches: Up to 10 ``(hash, reference, table mean)`` that fail.
        message: A one-paragraph summary.
    """

    table: Path
    reference: Path
    covered: bool
    criterion: str
    num_reference: int
    num_found: int
    num_matched: int
    num_matched_any_repeat: int
    num_matched_mean: int
    max_abs_diff: float
    tolerance: float
    mismatches: tuple[tuple[str, float, float], ...]
    message: str

    @property
    def ok(self) -> bool:
        """Covered, and every reference entry found and matched."""
        return (
            self.covered
            and self.num_found == self.num_reference
            and self.num_matched == self.num_reference
        )


@data_errors("zero-cost")
def read_naslib_reference(path: Path) -> list[tuple[NB101Cell, float]]:
    """NASLib's NB101 ``(cell, val_accuracy %)`` pairs (unpruned cells).

    Raises:
        CorruptDataError: The file is unreadable or has another layout.
    """
    try:
        if path.suffix == ".xz":
            with lzma.open(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        entries = data["nasbench101"]["cifar10"]
        return [
            (from_naslib(key), float(value["val_accuracy"]))
            for key, value in entries.items()
        ]
    except (OSError, EOFError, lzma.LZMAError, ValueError, KeyError, TypeError) as exc:
        raise CorruptDataError(
            f"cannot read NASLib reference {path}: {type(exc).__name__}: {exc}"
        ) from exc


def _verify_table(table: NB101Table | str | os.PathLike[str] | None) -> NB101Table:
    if isinstance(table, NB101Table):
        return table
    if table is None:
        try:
            return load_table("full")
        except BenchmarkDataMissingError:
            if find_table(TABLE_FILES["ecnas"]) is None:
                raise
            return load_table("ecnas")
    candidate = Path(table)
    kind = "ecnas" if candidate.name == TABLE_FILES["ecnas"] else "full"
    try:
        return load_table(kind, candidate)
    except CorruptDataError:
        return load_table("ecnas" if kind == "full" else "full", candidate)


@data_errors("zero-cost")
def _reference_path(reference: str | os.PathLike[str] | None) -> Path:
    if reference is None:
        root = data_dir()
        if root is None:
            raise BenchmarkDataMissingError(
                f"no NASLib reference: set NASGYM_DATA_DIR (expects "
                f"naslib-zc/{NASLIB_REFERENCE}) or pass reference="
            )
        path = root / "naslib-zc" / NASLIB_REFERENCE
    else:
        path = Path(reference).expanduser()
    if not path.is_file():
        raise BenchmarkDataMissingError(f"NASLib reference {path} not found")
    return path


def verify_nb101(
    table: NB101Table | str | os.PathLike[str] | None = None,
    *,
    reference: str | os.PathLike[str] | None = None,
    tolerance: float = 1e-3,
    criterion: str = "any-repeat",
) -> NB101VerifyReport:
    """Compare a table with the 500 real 108-epoch NB101 validation accuracies.

    Each NASLib key (an unpruned cell) is hashed and looked up, and its reference
    ``val_accuracy`` (percent) compared with the table's 108-epoch validation
    accuracies to ``tolerance``.

    NASLib's values are single runs, not means over the 3 repeats: the file has 500
    keys but only 292 distinct cells, and the keys of one cell carry up to three
    different values. The default criterion ``"any-repeat"`` therefore asks that
    each value equal one of the cell's runs; ``"mean"`` asks for the mean over the
    runs (which real data cannot pass). Both counts are always reported. A table
    without 108-epoch data (EC-NAS) is reported as not covering the reference.

    Args:
        table: A loaded table, a table file, or ``None`` for the ``nb101.npz`` on
            the search path (falling back to ``ecnas.npz``).
        reference: NASLib's ``zc_nasbench101.json.xz``; default
            ``$NASGYM_DATA_DIR/naslib-zc/zc_nasbench101.json.xz``.
        tolerance: Allowed absolute difference in percent points.
        criterion: ``"any-repeat"`` (default) or ``"mean"``.

    Returns:
        The report; ``report.ok`` says whether the table passed.

    Raises:
        UnknownOptionError: Unknown criterion.
        BenchmarkDataMissingError: No table or no reference file.
        CorruptDataError: A file is unreadable.
    """
    if criterion not in VERIFY_CRITERIA:
        raise unknown_option("verification criterion", criterion, VERIFY_CRITERIA)
    data = _verify_table(table)
    ref_path = _reference_path(reference)
    pairs = read_naslib_reference(ref_path)
    rows = data.lookup([nb101_hash(cell) for cell, _ in pairs])
    found = rows >= 0
    if 108 not in data.epochs:
        message = (
            f"NOT COVERED: {data.path.name} ({data.kind}) holds epochs "
            f"{', '.join(map(str, data.epochs))} only; the {len(pairs)} reference "
            f"values in {ref_path.name} are 108-epoch validation accuracies, so "
            f"none can be checked ({int(found.sum())} of the reference cells are in "
            f"the table). Import the official data with `nasgym data import nb101 "
            f"PATH` and verify that table."
        )
        return NB101VerifyReport(
            table=data.path,
            reference=ref_path,
            covered=False,
            criterion=criterion,
            num_reference=len(pairs),
            num_found=int(found.sum()),
            num_matched=0,
            num_matched_any_repeat=0,
            num_matched_mean=0,
            max_abs_diff=math.nan,
            tolerance=tolerance,
            mismatches=(),
            message=message,
        )
    e = data.epochs.index(108)
    runs = data.arrays["valid"][np.where(found, rows, 0), e, :].astype(np.float64)
    runs = runs * 100.0
    present = np.isfinite(runs)
    counts = present.sum(axis=1)
    sums = np.where(present, runs, 0.0).sum(axis=1)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    refs = np.array([value for _, value in pairs], dtype=np.float64)
    mean_diff = np.abs(means - refs)
    run_diff = np.min(
        np.where(present, np.abs(runs - refs[:, None]), np.inf), axis=1, initial=np.inf
    )
    by_mean = found & (mean_diff <= tolerance)
    by_run = found & (run_diff <= tolerance)
    if criterion == "any-repeat":
        matched, diff = by_run, run_diff
    else:
        matched, diff = by_mean, mean_diff
    bad = np.flatnonzero(found & ~matched)[:10]
    mismatches = tuple(
        (data.hash_at(int(rows[i])), float(refs[i]), float(means[i])) for i in bad
    )
    max_diff = float(np.max(diff[found])) if found.any() else math.nan
    passed = bool(found.all() and matched.all())
    message = (
        f"{'OK' if passed else 'MISMATCH'}: {int(found.sum())} of {len(pairs)} "
        f"reference entries found in {data.path.name}; {int(by_run.sum())} equal one "
        f"of their cell's 108-epoch validation runs and {int(by_mean.sum())} the "
        f"mean over the runs (tolerance {tolerance}, criterion {criterion!r}, max "
        f"|diff| {max_diff:.6g})"
    )
    return NB101VerifyReport(
        table=data.path,
        reference=ref_path,
        covered=True,
        criterion=criterion,
        num_reference=len(pairs),
        num_found=int(found.sum()),
        num_matched=int(matched.sum()),
        num_matched_any_repeat=int(by_run.sum()),
        num_matched_mean=int(by_mean.sum()),
        max_abs_diff=max_diff,
        tolerance=tolerance,
        mismatches=mismatches,
        message=message,
    )
