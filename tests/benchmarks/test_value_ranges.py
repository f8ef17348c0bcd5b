"""Tables with intact checksums but impossible values are refused (issue 15.3).

A checksum proves that a file is the one nasgym wrote, not that its values are sane:
these tests write real tables back with one impossible value (so the checksum
matches) and import real sources edited the same way.
"""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasgym.benchmarks import hw360, nb101
from nasgym.benchmarks.nb201 import NB201Benchmark, import_csv_tables
from nasgym.data import ValueRange, check_ranges, write_table
from nasgym.error import CorruptDataError


def rewrite(source: Path, dest: Path, key: str, index: Any, value: float) -> Path:
    """``source`` with ``arrays[key][index] = value``, written with a valid checksum."""
    with np.load(source, allow_pickle=False) as npz:
        arrays = {k: npz[k].copy() for k in npz.files if not k.startswith("__")}
    arrays[key][index] = value
    write_table(dest, arrays)
    return dest


def test_check_ranges_names_file_metric_index_count_and_fix() -> None:
    arrays = {"acc": np.array([50.0, 101.0, np.nan, -3.0]), "t": np.array([1.0])}
    with pytest.raises(CorruptDataError) as err:
        check_ranges("x.npz", arrays, {"acc": ValueRange(0, 100)}, fix="FIX IT")
    text = str(err.value)
    assert text.startswith("x.npz: acc has 2 impossible value(s) of 4")
    assert "first at index 1: 101.0" in text and "in [0, 100] or NaN" in text
    assert text.endswith("FIX IT")
    check_ranges("x.npz", arrays, {"t": ValueRange(0, required=True)}, fix="")
    with pytest.raises(CorruptDataError, match="index 2: nan"):
        check_ranges("x.npz", arrays, {"acc": ValueRange(required=True)}, fix="")
    with pytest.raises(CorruptDataError, match="index 0: inf"):
        check_ranges("x.npz", {"t": np.array([np.inf])}, {"t": ValueRange()}, fix="")


@pytest.mark.data
@pytest.mark.parametrize(
    ("key", "value"),
    [("cifar10/valid@12", 100.5), ("cifar100/test@200", -1.0)],
)
def test_nb201_load_refuses_impossible_values(
    nb201_table: Path, tmp_path: Path, key: str, value: float
) -> None:
    bad = rewrite(nb201_table, tmp_path / "nb201.npz", key, 7, value)
    with pytest.raises(CorruptDataError) as err:
        NB201Benchmark(key.split("/")[0], path=bad).coverage("valid@12")
    text = str(err.value)
    assert str(bad) in text and f"{key} has 1 impossible value(s)" in text
    assert "nasgym data import nb201" in text
    assert text.endswith("see docs/data.md#nas-bench-201")


@pytest.mark.data
def test_nb201_import_refuses_impossible_values(
    data_root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "nas-bench-201"
    shutil.copytree(data_root / "nas-bench-201", source)
    csv = source / "mini-bench-arch-cell-accs.csv.xz"
    csv.chmod(0o644)
    lines = lzma.decompress(csv.read_bytes()).decode().splitlines(keepends=True)
    header = lines[0].strip().split(",")
    row = lines[2].split(",")
    row[header.index("cifar10-val")] = "182.83"
    lines[2] = ",".join(row)
    csv.write_bytes(lzma.compress("".join(lines).encode()))
    with pytest.raises(CorruptDataError) as err:
        import_csv_tables(source, dest=tmp_path / "out.npz")
    text = str(err.value)
    assert "mini-bench-arch-cell-accs.csv" in text
    assert "cifar10/valid@12 has 1 impossible value(s)" in text and "182.83" in text
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.data
@pytest.mark.parametrize(
    ("key", "index", "value", "shown"),
    [
        ("valid", (3, 0, 0), 1.5, "valid has 1 impossible"),
        ("train_time_s", (5, 0, 1), -2.0, "train_time_s has 1 impossible"),
        ("params", 2, -1, "params has 1 impossible"),
        ("test", (4, 0, slice(None)), np.nan, "test is NaN in every run of 1"),
    ],
)
def test_nb101_load_refuses_impossible_values(
    ecnas_bench: Any, tmp_path: Path, key: str, index: Any, value: float, shown: str
) -> None:
    bad = rewrite(ecnas_bench._path, tmp_path / "ecnas.npz", key, index, value)
    with pytest.raises(CorruptDataError) as err:
        nb101.load_table("ecnas", bad)
    assert shown in str(err.value) and str(bad) in str(err.value)
    assert str(err.value).endswith("see docs/data.md#ec-nas-bench")


@pytest.mark.data
def test_hw360_import_and_load_refuse_negative_costs(
    data_root: Path, tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    good = hw360.import_hw360(data_root / "hw-nas-bench-360", dest=tmp_path / "ok.npz")
    bad = rewrite(good, tmp_path / "hw360.npz", "cifar100/energy_mj/pi5-onnx", 9, -1)
    with pytest.raises(CorruptDataError, match="energy_mj/pi5-onnx has 1 impossible"):
        hw360.load_table(bad)
    table = pq.read_table(data_root / "hw-nas-bench-360" / "dataset.parquet")
    column = table.column("lat_ms_median").to_numpy().copy()
    column[0] = -5.0
    table = table.set_column(
        table.schema.get_field_index("lat_ms_median"), "lat_ms_median", pa.array(column)
    )
    pq.write_table(table, tmp_path / "dataset.parquet")
    with pytest.raises(CorruptDataError) as err:
        hw360.import_hw360(tmp_path / "dataset.parquet", dest=tmp_path / "new.npz")
    assert "dataset.parquet" in str(err.value) and "-5.0" in str(err.value)
    assert str(err.value).endswith("see docs/data.md#hw-nas-bench-360")
