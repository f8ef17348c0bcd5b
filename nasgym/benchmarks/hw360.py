"""HW-NAS-Bench-360: on-device latency and energy of every NAS-Bench-201 cell.

The source is one Parquet file, ``hw-nas-bench-360/dataset.parquet`` (GitHub
``roldebijvank/HW-NAS-Bench-360``; see the data docs for its licence status): 187,500
rows, one per NB201 official index (``arch_idx``, 0..15,624), device/runtime pair
(``pi5`` with ``litert``, ``onnx`` and ``torchmobile``; ``pixel`` with ``litert``) and
task (``cifar100``, ``ninapro``, ``darcy``), with the median latency in milliseconds
(``lat_ms_median``) and the energy in millijoules (``energy_mj``, not measured on the
Pixel).

``nasgym data import hw-nas-bench-360 PATH`` converts it once (reading Parquet needs
``pyarrow``) into nasgym's compact ``hw360.npz`` in :func:`nasgym.data.cache_dir`, so
envs never need ``pyarrow``. Arrays are in official index order and keyed
``"<task>/latency_ms/<device>-<runtime>"``, ``"<task>/energy_mj/<device>-<runtime>"``
plus ``"<task>/accuracy"`` (the file's own accuracy column, kept to check the index
mapping against NATS-Bench).

NB201 envs read the ``cifar100`` task rows for every dataset: the networks measured
for that task take 32x32 RGB inputs and 100 classes, the closest of the three tasks
to NB201's CIFAR-10/100 and ImageNet16-120 networks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasgym.data import (
    PERCENT,
    ValueRange,
    cache_dir,
    check_ranges,
    find_table,
    read_table,
    sha256_file,
    write_table,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    data_errors,
    data_page,
    require,
)
from nasgym.spaces.nb201 import EDGES, OPS

#: File name of nasgym's compact table.
TABLE_FILE = "hw360.npz"
#: Name of the source file.
SOURCE_FILE = "dataset.parquet"
#: Device/runtime pairs, as nasgym names them (``device-runtime``).
DEVICES: tuple[str, ...] = ("pi5-litert", "pi5-onnx", "pi5-torchmobile", "pixel-litert")
#: Tasks of the source.
TASKS: tuple[str, ...] = ("cifar100", "ninapro", "darcy")
#: The task NB201 envs read (see the module docstring).
NB201_TASK = "cifar100"
#: Number of NB201 architectures (official indices).
NUM_ARCHS = len(OPS) ** len(EDGES)

_COLUMNS = (
    "arch_idx",
    "device",
    "framework",
    "task",
    "lat_ms_median",
    "energy_mj",
    "accuracy",
)


@dataclass(frozen=True)
class HW360Table:
    """A loaded ``hw360.npz``.

    Attributes:
        path: The table file.
        checksum: Content checksum stored in the file.
        arrays: ``"<task>/<metric>/<device>"`` (and ``"<task>/accuracy"``) -> values
            in official NB201 index order (read-only).
        source_sha256: SHA-256 of the Parquet file it was built from.
    """

    path: Path
    checksum: str
    arrays: Mapping[str, np.ndarray]
    source_sha256: str

    def devices(self, metric: str, task: str = NB201_TASK) -> tuple[str, ...]:
        """Devices with values of ``metric`` (``latency_ms`` or ``energy_mj``)."""
        return tuple(d for d in DEVICES if f"{task}/{metric}/{d}" in self.arrays)


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    pq = require(
        "pyarrow.parquet", extra="data", purpose="reading HW-NAS-Bench-360's Parquet"
    )
    try:
        table = pq.read_table(path, columns=list(_COLUMNS))
    except Exception as exc:  # ArrowInvalid, OSError, KeyError on missing columns
        raise CorruptDataError(
            f"cannot read {path} as HW-NAS-Bench-360 ({exc}); expected a Parquet file "
            f"with columns {', '.join(_COLUMNS)}"
        ) from exc
    return {
        name: table.column(name).to_numpy(zero_copy_only=False) for name in _COLUMNS
    }


@data_errors("hw-nas-bench-360")
def import_hw360(path: str | os.PathLike[str], *, dest: Path | None = None) -> Path:
    """Convert HW-NAS-Bench-360's ``dataset.parquet`` into ``hw360.npz``.

    Args:
        path: The Parquet file or a directory holding ``dataset.parquet`` (also
            ``hw-nas-bench-360/dataset.parquet`` below it).
        dest: Table to write; default ``cache_dir() / TABLE_FILE``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: No Parquet file at ``path``.
        MissingExtraError: pyarrow is not installed (the ``data`` extra).
        CorruptDataError: The file lacks columns, or a device/task does not cover
            every NB201 index exactly once.
    """
    root = Path(path).expanduser()
    candidates = [root, root / SOURCE_FILE, root / "hw-nas-bench-360" / SOURCE_FILE]
    source = next((c for c in candidates if c.is_file()), None)
    if source is None:
        raise BenchmarkDataMissingError(
            f"no HW-NAS-Bench-360 file at {root}; pass {SOURCE_FILE} or a directory "
            f"holding it (e.g. $NASGYM_DATA_DIR/hw-nas-bench-360)"
        )
    columns = _read_parquet(source)
    pair = np.char.add(
        np.char.add(columns["device"].astype(str), "-"),
        columns["framework"].astype(str),
    )
    task = columns["task"].astype(str)
    index = columns["arch_idx"].astype(np.int64)
    arrays: dict[str, np.ndarray] = {}
    for t in TASKS:
        for device in DEVICES:
            rows = np.flatnonzero((task == t) & (pair == device))
            idx = index[rows]
            if (
                rows.size != NUM_ARCHS
                or np.unique(idx).size != NUM_ARCHS
                or idx.min() != 0
                or idx.max() != NUM_ARCHS - 1
            ):
                raise CorruptDataError(
                    f"{source}: task {t!r} device {device!r} has {rows.size:,} rows; "
                    f"expected each NB201 index 0..{NUM_ARCHS - 1} exactly once"
                )
            for metric, column in (
                ("latency_ms", "lat_ms_median"),
                ("energy_mj", "energy_mj"),
            ):
                values = np.full(NUM_ARCHS, np.nan)
                values[idx] = columns[column][rows].astype(np.float64)
                if np.isfinite(values).all():
                    arrays[f"{t}/{metric}/{device}"] = values
                elif np.isfinite(values).any():
                    raise CorruptDataError(
                        f"{source}: {column} of task {t!r} device {device!r} is "
                        f"missing for some architectures"
                    )
    accuracy = columns["accuracy"].astype(np.float64)
    for t in TASKS:
        rows = np.flatnonzero((task == t) & (pair == DEVICES[0]))
        values = np.full(NUM_ARCHS, np.nan)
        values[index[rows]] = accuracy[rows]
        arrays[f"{t}/accuracy"] = values
    check_ranges(
        source,
        arrays,
        value_ranges(arrays),
        fix="The file is damaged or not HW-NAS-Bench-360 data: replace it with an "
        f"intact copy; {data_page('hw-nas-bench-360')}",
    )
    arrays["source_sha256"] = np.asarray(sha256_file(source))
    target = dest or cache_dir() / TABLE_FILE
    write_table(target, arrays)
    return target


def value_ranges(keys: Iterable[str]) -> dict[str, ValueRange]:
    """The possible values of each ``task/metric[/device]`` column among ``keys``.

    Latency and energy are never negative; every architecture has a value. The
    accuracy of the classification tasks is a percentage; Darcy's score is a
    regression metric (it can be negative), so only its finiteness is checked (NaN:
    an architecture without a score).
    """
    ranges: dict[str, ValueRange] = {}
    for key in keys:
        task, _, metric = key.partition("/")
        if metric.startswith(("latency_ms", "energy_mj")):
            ranges[key] = ValueRange(0.0, required=True)
        elif metric == "accuracy":
            ranges[key] = ValueRange() if task == "darcy" else PERCENT
    return ranges


def missing_table_message() -> str:
    """Where ``hw360.npz`` is expected and how to create it."""
    from nasgym.data import data_dir, describe_paths, table_search_path

    looked = describe_paths([d / TABLE_FILE for d in table_search_path()])
    root = data_dir()
    where = (
        str(root / "hw-nas-bench-360")
        if root is not None and (root / "hw-nas-bench-360" / SOURCE_FILE).is_file()
        else "PATH"
    )
    return (
        f"HW-NAS-Bench-360 table {TABLE_FILE} not found; looked for {looked}. Create "
        f"it with `nasgym data import hw-nas-bench-360 {where}` (PATH: the "
        f"{SOURCE_FILE} file or its directory; needs pyarrow); "
        f"{data_page('hw-nas-bench-360')}"
    )


_CACHE: dict[tuple[str, int, int], HW360Table] = {}


def find() -> Path | None:
    """The ``hw360.npz`` on :func:`nasgym.data.table_search_path`, if any."""
    return find_table(TABLE_FILE)


@data_errors("hw-nas-bench-360")
def load_table(path: str | os.PathLike[str] | None = None) -> HW360Table:
    """Read ``hw360.npz`` once per process (cached by path, mtime and size).

    Raises:
        BenchmarkDataMissingError: No table (the message says how to import it).
        CorruptDataError: The table fails its checks.
    """
    resolved = Path(path).expanduser() if path is not None else find()
    if resolved is None or not resolved.is_file():
        raise BenchmarkDataMissingError(missing_table_message())
    resolved = resolved.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    table = _CACHE.get(key)
    if table is None:
        arrays = read_table(resolved, {"source_sha256": ()})
        sha = str(arrays.pop("source_sha256"))
        for name, array in arrays.items():
            if array.shape != (NUM_ARCHS,) or array.dtype.kind != "f":
                raise CorruptDataError(
                    f"{resolved}: array {name!r} has shape {array.shape}, expected "
                    f"({NUM_ARCHS},) floats; delete it and import again"
                )
            array.setflags(write=False)
        check_ranges(
            resolved,
            arrays,
            value_ranges(arrays),
            fix="delete it and run `nasgym data import hw-nas-bench-360 PATH` again; "
            f"{data_page('hw-nas-bench-360')}",
        )
        with np.load(resolved, allow_pickle=False) as npz:
            checksum = str(npz["__sha256__"])
        table = HW360Table(resolved, checksum, arrays, sha)
        _CACHE[key] = table
    return table
