"""Registry of the benchmark data nasgym knows, for ``nasgym data status|import``.

* ``nb201``: nasgym's compact table ``nb201.npz``, built by ``nasgym data import nb201
  PATH`` from the official NATS-Bench archive and/or the NB201 CSV tables.
* ``nbgraph``: the ``nas-bench-graph`` package, whose wheel ships its data files
  (``nas_bench_graph/light/*.bench``); nothing to import.

Nothing here imports a benchmark package or reads a table at import time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nasgym.data import sha256_file
from nasgym.error import (
    BenchmarkDataMissingError,
    Error,
    UnknownOptionError,
    unknown_option,
)

#: Benchmarks listed by :func:`status`.
BENCHMARKS: tuple[str, ...] = (
    "nb201",
    "hw-nas-bench-360",
    "nbgraph",
    "nb101",
    "ecnas",
    "nb301",
    "ofa",
)

_NBGRAPH_PACKAGE = "nas_bench_graph"


def _import_nb201(path: Path) -> list[Path]:
    from nasgym.benchmarks.nb201 import curves_path, import_nb201

    table = import_nb201(path)
    curves = curves_path(table)
    return [table, curves] if curves.is_file() else [table]


def _import_nb101(path: Path) -> list[Path]:
    from nasgym.benchmarks.nb101 import import_nb101_tfrecord

    return [import_nb101_tfrecord(path)]


def _import_ecnas(path: Path) -> list[Path]:
    from nasgym.benchmarks.nb101 import import_ecnas

    return [import_ecnas(path)]


def _import_hw360(path: Path) -> list[Path]:
    from nasgym.benchmarks.hw360 import import_hw360

    return [import_hw360(path)]


def _import_ofa(path: Path) -> list[Path]:
    from nasgym.benchmarks.ofa import import_ofa

    return [import_ofa(path)]


#: Benchmark name -> importer (a directory or file -> tables written).
IMPORTERS: dict[str, Callable[[Path], list[Path]]] = {
    "nb201": _import_nb201,
    "nb101": _import_nb101,
    "ecnas": _import_ecnas,
    "hw-nas-bench-360": _import_hw360,
    "ofa": _import_ofa,
}


def _nb201_status() -> dict[str, Any]:
    from nasgym.benchmarks.nb201 import (
        DATASETS,
        TABLE_FILE,
        NB201Benchmark,
        curves_coverage,
        curves_path,
        load_table,
        missing_table_message,
    )
    from nasgym.data import find_table

    row: dict[str, Any] = {
        "name": "nb201",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": list(DATASETS),
        "coverage": {},
        "sources": [],
        "error": None,
    }
    found = find_table(TABLE_FILE)
    if found is None:
        row["error"] = missing_table_message()
        return row
    row["path"] = str(found)
    try:
        coverage: dict[str, dict[str, int]] = {}
        for dataset in DATASETS:
            bench = NB201Benchmark(dataset, path=found)
            coverage[dataset] = {m: bench.coverage(m) for m in bench.metrics}
        row["coverage"] = coverage
        row["costs"] = _cost_list(bench.costs())
        row["checksum"] = bench.checksum
        row["sources"] = [dict(s) for s in bench.sources]
        row["present"] = True
    except Error as exc:  # corrupt table
        row["error"] = str(exc)
        return row
    if curves_path(found).is_file():
        try:
            table = load_table(found)
            row["curves"] = curves_coverage(table)
        except Error as exc:  # corrupt curves: the table itself is still usable
            row["error"] = f"per-epoch curves unusable: {exc}"
    return row


def _hw360_status() -> dict[str, Any]:
    from nasgym.benchmarks import hw360

    row: dict[str, Any] = {
        "name": "hw-nas-bench-360",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": ["nb201 (cifar100 task)"],
        "error": None,
    }
    found = hw360.find()
    if found is None:
        row["error"] = hw360.missing_table_message()
        return row
    row["path"] = str(found)
    try:
        table = hw360.load_table(found)
        row["checksum"] = table.checksum
        row["present"] = True
    except Error as exc:
        row["error"] = str(exc)
    return row


def _cost_list(costs: Mapping[str, Any]) -> list[str]:
    """``"name (unit)"`` of each cost objective (``CostSpec`` values)."""
    return [f"{name} ({spec.unit})" for name, spec in costs.items()]


def _nbgraph_status() -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": "nbgraph",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": [],
        "files": [],
        "error": None,
    }
    spec = importlib.util.find_spec(_NBGRAPH_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        row["error"] = (
            "the nas-bench-graph package is not installed; "
            "`pip install nas-bench-graph` provides its data"
        )
        return row
    light = Path(locations[0]) / "light"
    row["path"] = str(light)
    files = sorted(light.glob("*.bench"))
    if not files:
        row["error"] = (
            f"nas-bench-graph is installed but {light} holds no *.bench files; "
            f"reinstall it with `pip install --force-reinstall nas-bench-graph`"
        )
        return row
    row["files"] = [{"path": str(f), "sha256": sha256_file(f)} for f in files]
    row["datasets"] = [f.stem for f in files]
    from nasgym.benchmarks.nbgraph import NBGraphBenchmark
    from nasgym.objectives import CostSpec

    row["costs"] = _cost_list(
        {
            n: CostSpec(n, u, t)
            for n, (_, u, t) in NBGraphBenchmark.cost_objectives.items()
        }
    )
    row["present"] = True
    return row


def _nb101_status(kind: str) -> dict[str, Any]:
    from nasgym.benchmarks.nb101 import TABLE_FILES, load_table, missing_table_message
    from nasgym.data import find_table

    row: dict[str, Any] = {
        "name": "nb101" if kind == "full" else "ecnas",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": ["cifar10"],
        "sources": [],
        "error": None,
    }
    found = find_table(TABLE_FILES[kind])
    if found is None:
        row["error"] = missing_table_message(kind)
        return row
    row["path"] = str(found)
    try:
        table = load_table(kind, found)
        row["checksum"] = sha256_file(found)
        row["sources"] = [dict(source) for source in table.sources]
        row["coverage"] = {"cifar10": {f"cells ({kind})": len(table)}}
        from nasgym.benchmarks.nb101 import COST_OBJECTIVES
        from nasgym.objectives import CostSpec

        row["costs"] = _cost_list(
            {
                name: CostSpec(name, unit, text)
                for name, (metric, unit, text) in COST_OBJECTIVES.items()
                if metric in table.metrics
            }
        )
        row["present"] = True
    except Error as exc:
        row["error"] = str(exc)
    return row


def _nb301_status() -> dict[str, Any]:
    from nasgym.benchmarks.nb301 import REQUIRED_FILES, digest_mismatch, surrogate_dir

    row: dict[str, Any] = {
        "name": "nb301",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": ["cifar10"],
        "files": [],
        "error": None,
    }
    try:
        directory = surrogate_dir()
    except Error as exc:
        row["error"] = str(exc)
        return row
    row["path"] = str(directory)
    row["costs"] = ["train_time (s, predicted)"]
    errors: list[str] = []
    for name in REQUIRED_FILES:
        try:
            digest = sha256_file(directory / name)
        except OSError as exc:
            errors.append(f"cannot read {directory / name}: {exc}")
            continue
        row["files"].append({"path": str(directory / name), "sha256": digest})
        mismatch = digest_mismatch(directory / name, digest)
        if mismatch is not None:
            errors.append(str(mismatch))
    if errors:
        row["error"] = "\n".join(errors)
        return row
    row["present"] = True
    return row


def _ofa_status() -> dict[str, Any]:
    from nasgym.benchmarks import ofa

    row: dict[str, Any] = {
        "name": "ofa",
        "present": False,
        "path": None,
        "checksum": None,
        "datasets": ["imagenet (predicted top-1)"],
        "error": None,
    }
    from nasgym.data import find_table

    found = find_table(ofa.TABLE_FILE)
    if found is None:
        row["error"] = ofa.missing_table_message()
        return row
    row["path"] = str(found)
    try:
        table = ofa.load_table(found)
        row["checksum"] = table.checksum
        row["costs"] = [
            f"{name} ({unit})"
            for name, (unit, _) in ofa.OFABenchmark.cost_objectives.items()
        ]
        row["present"] = True
    except Error as exc:
        row["error"] = str(exc)
    return row


def status() -> list[dict[str, Any]]:
    """Describe every benchmark nasgym knows and whether its data is available.

    Returns:
        One dict per benchmark of :data:`BENCHMARKS`, with keys ``name``, ``present``,
        ``path``, ``checksum``, ``datasets`` and ``error`` (why it is not available,
        else ``None``). ``nb201`` adds ``coverage`` (dataset -> metric -> number of
        architectures with a value) and ``sources``; ``nbgraph`` adds ``files``
        (``path`` and ``sha256`` of each ``.bench`` file).
    """
    return [
        _nb201_status(),
        _hw360_status(),
        _nbgraph_status(),
        _nb101_status("full"),
        _nb101_status("ecnas"),
        _nb301_status(),
        _ofa_status(),
    ]


def _fmt_coverage(coverage: dict[str, int]) -> str:
    return "  ".join(f"{metric} {count:,}" for metric, count in coverage.items())


def format_status(rows: Sequence[dict[str, Any]]) -> str:
    """Render :func:`status` rows as an aligned text table with detail lines.

    Args:
        rows: Rows as returned by :func:`status`.

    Returns:
        Multi-line text, no trailing newline.
    """
    header = ("benchmark", "status", "datasets", "path")
    table = [header]
    for row in rows:
        state = "present" if row.get("present") else "missing"
        if not row.get("present") and row.get("path"):
            state = "corrupt"
        table.append(
            (
                str(row["name"]),
                state,
                ", ".join(row.get("datasets") or []) or "-",
                str(row.get("path") or "-"),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    lines: list[str] = []
    for k, line in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        lines.append("  ".join([*cells, line[-1]]).rstrip())
        if k == 0:
            continue
        row = rows[k - 1]
        indent = " " * (widths[0] + 2)
        if row.get("checksum"):
            lines.append(f"{indent}checksum  {row['checksum']}")
        if row.get("costs"):
            lines.append(f"{indent}costs  {', '.join(row['costs'])}")
        for dataset, coverage in (row.get("coverage") or {}).items():
            lines.append(f"{indent}{dataset}: {_fmt_coverage(coverage)}")
        if row.get("curves"):
            lines.append(
                f"{indent}per-epoch curves (archs): {_fmt_coverage(row['curves'])}"
            )
        for source in row.get("sources") or []:
            lines.append(
                f"{indent}source  {source['kind']} {source['file']} "
                f"({source['records']:,} archs, sha256 {source['sha256'][:16]}...)"
            )
        for entry in row.get("files") or []:
            lines.append(
                f"{indent}{Path(entry['path']).name}  sha256 {entry['sha256']}"
            )
        lines.extend(
            f"{indent}{text}"
            for text in str(row.get("error") or "").split("\n")
            if text
        )
    return "\n".join(lines)


def import_data(name: str, path: str | os.PathLike[str]) -> list[Path]:
    """Import a benchmark's source files into nasgym's table cache.

    Args:
        name: Benchmark name, one of :data:`IMPORTERS` (``"nb201"``, ``"nb101"``,
            ``"ecnas"``).
        path: The source directory (see the benchmark's importer).

    Returns:
        The tables written.

    Raises:
        UnknownOptionError: No importer for ``name`` (lists the valid names).
        BenchmarkDataMissingError: ``path`` does not exist or holds no usable data.
        CorruptDataError: The source files are damaged or inconsistent.
    """
    if name not in IMPORTERS:
        if name == "nb301":
            raise UnknownOptionError(
                "'nb301' needs no import: nasgym runs the surrogate files in place; "
                "put new_model.onnx, encoding.json and config_space.json under "
                "$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex/ (see `nasgym data "
                "status`)"
            )
        if name in BENCHMARKS:
            raise UnknownOptionError(
                f"{name!r} needs no import: its data ships with its package (see "
                f"`nasgym data status`); importable benchmarks: "
                f"{', '.join(repr(n) for n in IMPORTERS)}"
            )
        raise unknown_option("benchmark to import", name, IMPORTERS)
    source = Path(path).expanduser()
    if not source.exists():
        raise BenchmarkDataMissingError(
            f"cannot import {name}: {source} does not exist"
        )
    return IMPORTERS[name](source)


def verify_data(name: str) -> str:
    """Check an imported table against independent reference values.

    ``nb101``: the 500 real 108-epoch validation accuracies of NAS-Bench-Suite-Zero
    (``$NASGYM_DATA_DIR/naslib-zc/zc_nasbench101.json.xz``) must match the imported
    table (each reference is one training run, so it must equal one of the cell's
    repeats to 1e-3).

    Returns:
        The verification report as text.

    Raises:
        UnknownOptionError: No verifier for ``name``.
        CorruptDataError: The table disagrees with the references.
        BenchmarkDataMissingError: The table or the reference file is missing.
    """
    if name != "nb101":
        raise unknown_option("benchmark to verify", name, ("nb101",))
    from nasgym.benchmarks.nb101 import verify_nb101
    from nasgym.error import CorruptDataError

    report = verify_nb101()
    if not report.ok:
        raise CorruptDataError(report.message)
    return report.message
