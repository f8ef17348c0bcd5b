"""NB201 data layer: importers, table loading, integrity checks, official semantics.

Real-data tests (``@pytest.mark.data``) import the staged files under
``NASGYM_DATA_DIR`` into temporary cache directories; the other tests build small
synthetic sources (random numbers, never real data) in ``tmp_path``.
"""

from __future__ import annotations

import bz2
import csv
import json
import lzma
import math
import pickle
import shutil
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from nasgym import datastore
from nasgym.benchmarks import nb201
from nasgym.benchmarks.nb201 import (
    ARCHIVE_NAME,
    CSV_12,
    CSV_200,
    DATASETS,
    NUM_ARCHS,
    TABLE_FILE,
    NB201Benchmark,
    import_csv_tables,
    import_nats_archive,
    import_nb201,
)
from nasgym.data import write_table
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    UnknownOptionError,
)
from nasgym.spaces.nb201 import NB201Arch, NB201Space

try:  # the conftest module as pytest imported it (rootdir/tests on sys.path)
    from conftest import missing_data
except ImportError:  # pragma: no cover - tests/ became a package
    from tests.conftest import missing_data

RECORDED = (0, 11, 284)

# --------------------------------------------------------------------------
# synthetic sources
# --------------------------------------------------------------------------
COLS_200 = (
    "CIFAR10TestAccuracy200Epochs",
    "CIFAR100TestAccuracy200Epochs",
    "ImageNetTestAccuracy200Epochs",
)
COLS_12 = (
    "cifar10-test",
    "cifar10-val",
    "cifar100-test",
    "cifar100-val",
    "imagenet-test",
    "imagenet-val",
)


@lru_cache(maxsize=1)
def synthetic_strings() -> tuple[str, ...]:
    """All cells in an order different from code order (reversed codes)."""
    space = NB201Space()
    vectors = space.codes_to_vectors(np.arange(NUM_ARCHS)[::-1])
    return tuple(NB201Arch(tuple(int(x) for x in v)).to_str() for v in vectors)


def synthetic_values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {c: rng.uniform(5.0, 95.0, NUM_ARCHS) for c in (*COLS_200, *COLS_12)}


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with lzma.open(path, "wt", encoding="utf-8", newline="", preset=0) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_synthetic_csvs(
    directory: Path,
    values: dict[str, np.ndarray],
    strings: tuple[str, ...] | list[str] | None = None,
    *,
    drop: str | None = None,
    nrows: int = NUM_ARCHS,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    strings = list(strings or synthetic_strings())
    header = [*COLS_200, "ArchitectureString"]
    rows: list[list[object]] = [
        [*(repr(float(values[c][i])) for c in COLS_200), strings[i]]
        for i in range(nrows)
    ]
    write_csv(directory / CSV_200, header, rows)
    header = ["index", "arch_str", *COLS_12]
    rows = [
        [i, synthetic_strings()[i], *(repr(float(values[c][i])) for c in COLS_12)]
        for i in range(nrows)
    ]
    if drop is not None:
        k = header.index(drop)
        header.pop(k)
        for row in rows:
            row.pop(k)
    write_csv(directory / CSV_12, header, rows)
    return directory


@pytest.fixture(scope="module")
def synthetic(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, np.ndarray]]:
    values = synthetic_values()
    root = tmp_path_factory.mktemp("nb201-synthetic")
    source = write_synthetic_csvs(root / "src", values)
    table = import_csv_tables(source, dest=root / "table" / TABLE_FILE)
    return table, values


# --------------------------------------------------------------------------
# synthetic: import, re-indexing, API
# --------------------------------------------------------------------------
def test_synthetic_csv_import_maps_columns_and_reindexes(synthetic) -> None:
    table, values = synthetic
    strings = synthetic_strings()
    mapping = {
        "cifar10": {
            "test@200": "CIFAR10TestAccuracy200Epochs",
            "valid@12": "cifar10-val",
            "test@12": "cifar10-test",
        },
        "cifar100": {
            "test@200": "CIFAR100TestAccuracy200Epochs",
            "valid@12": "cifar100-val",
            "test@12": "cifar100-test",
        },
        "ImageNet16-120": {
            "test@200": "ImageNetTestAccuracy200Epochs",
            "valid@12": "imagenet-val",
            "test@12": "imagenet-test",
        },
    }
    for dataset, metrics in mapping.items():
        bench = NB201Benchmark(dataset, path=table)
        assert bench.metrics == ("valid@12", "test@12", "test@200")
        assert bench.cost_metrics == ()
        assert bench.time_metric is None
        for metric, column in metrics.items():
            # official order -> codes and back
            by_index = bench.table(metric)[bench.index_to_code]
            np.testing.assert_array_equal(by_index, values[column])
            assert bench.coverage(metric) == NUM_ARCHS
            bench.require_complete(metric)
    bench = NB201Benchmark("cifar10", path=table)
    for i in (0, 1, 777, NUM_ARCHS - 1):
        arch = bench.arch_at(i)
        assert arch.to_str() == strings[i]
        assert bench.index_of(arch) == i
        assert (
            bench.query(arch, "test@200") == values["CIFAR10TestAccuracy200Epochs"][i]
        )
    np.testing.assert_array_equal(
        bench.code_to_index[bench.index_to_code], np.arange(NUM_ARCHS)
    )
    assert (
        bench.index_to_code.dtype == np.int64 and bench.code_to_index.dtype == np.int64
    )
    assert [s["file"] for s in bench.sources] == [CSV_200, CSV_12]


def test_unknown_dataset_and_metric(synthetic) -> None:
    with pytest.raises(UnknownOptionError, match="ImageNet16-120"):
        NB201Benchmark("imagenet")
    with pytest.raises(UnknownOptionError, match="valid@12"):
        NB201Benchmark("cifar10", reward_metric="valid")
    bench = NB201Benchmark("cifar10", path=synthetic[0])
    with pytest.raises(UnknownOptionError, match="test@200"):
        bench.table("valid@200")  # not in a CSV-only table


def test_arch_at_out_of_range(synthetic) -> None:
    bench = NB201Benchmark("cifar10", path=synthetic[0])
    for bad in (-1, NUM_ARCHS):
        with pytest.raises(InvalidArchitectureError, match=r"out of range 0\.\.15624"):
            bench.arch_at(bad)
    with pytest.raises(InvalidArchitectureError, match="integer"):
        bench.arch_at("3")  # type: ignore[arg-type]


def test_table_cached_per_process_and_reloaded_after_reimport(tmp_path) -> None:
    values = synthetic_values(1)
    source = write_synthetic_csvs(tmp_path / "src", values)
    table = import_csv_tables(source, dest=tmp_path / TABLE_FILE)
    a = NB201Benchmark("cifar10", path=table)
    b = NB201Benchmark("cifar100", path=table)
    assert a.table("test@200") is not None and b.table("test@200") is not None
    assert a._table_data() is b._table_data()  # read once
    time.sleep(0.01)
    bumped = {k: v + 1e-4 for k, v in values.items()}  # within merge tolerance
    write_synthetic_csvs(tmp_path / "src", bumped)
    import_csv_tables(source, dest=table)
    c = NB201Benchmark("cifar10", path=table)
    i = 5
    assert c.query(c.arch_at(i), "test@200") == bumped[COLS_200[0]][i]


def test_load_time_under_one_second(synthetic) -> None:
    nb201._CACHE.clear()
    start = time.perf_counter()
    NB201Benchmark("cifar10", path=synthetic[0]).table("test@200")
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------
# synthetic: CSV errors, merging
# --------------------------------------------------------------------------
def test_csv_missing_column(tmp_path) -> None:
    source = write_synthetic_csvs(tmp_path, synthetic_values(), drop="cifar10-val")
    with pytest.raises(
        CorruptDataError, match=r"lacks column\(s\) cifar10-val"
    ) as info:
        import_csv_tables(source, dest=tmp_path / TABLE_FILE)
    assert CSV_12 in str(info.value)


def test_csv_wrong_row_count(tmp_path) -> None:
    source = write_synthetic_csvs(tmp_path, synthetic_values(), nrows=NUM_ARCHS - 1)
    with pytest.raises(CorruptDataError, match="15,624 data rows, expected 15,625"):
        import_csv_tables(source, dest=tmp_path / TABLE_FILE)


def test_csvs_disagreeing_arch_order(tmp_path) -> None:
    strings = list(synthetic_strings())
    strings[7], strings[8] = strings[8], strings[7]
    source = write_synthetic_csvs(tmp_path, synthetic_values(), strings)
    with pytest.raises(CorruptDataError, match="disagree at data row 7"):
        import_csv_tables(source, dest=tmp_path / TABLE_FILE)


def test_csv_bad_number_and_bad_arch(tmp_path) -> None:
    values = synthetic_values()
    source = write_synthetic_csvs(tmp_path / "a", values)
    rows = list(csv.reader(lzma.open(source / CSV_12, "rt", newline="")))
    rows[1 + 42][3] = "n/a"
    write_csv(source / CSV_12, rows[0], rows[1:])
    with pytest.raises(CorruptDataError, match="data row 42, column 'cifar10-val'"):
        import_csv_tables(source, dest=tmp_path / TABLE_FILE)
    strings = list(synthetic_strings())
    strings[3] = "|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    source = write_synthetic_csvs(tmp_path / "b", values, strings)
    rows = list(csv.reader(lzma.open(source / CSV_12, "rt", newline="")))
    rows[1 + 3][1] = strings[3]
    write_csv(source / CSV_12, rows[0], rows[1:])
    with pytest.raises(CorruptDataError, match="data row 3"):
        import_csv_tables(source, dest=tmp_path / TABLE_FILE)


def test_merge_conflict_is_reported(tmp_path) -> None:
    values = synthetic_values()
    dest = tmp_path / TABLE_FILE
    import_csv_tables(write_synthetic_csvs(tmp_path / "a", values), dest=dest)
    changed = {k: v.copy() for k, v in values.items()}
    changed["cifar100-val"][123] += 0.01
    with pytest.raises(CorruptDataError, match="cifar100/valid@12") as info:
        import_csv_tables(write_synthetic_csvs(tmp_path / "b", changed), dest=dest)
    assert "official index 123" in str(info.value)
    # a different architecture order is refused as well
    strings = list(synthetic_strings())
    strings[0], strings[1] = strings[1], strings[0]
    directory = tmp_path / "c"
    directory.mkdir()
    header = [*COLS_200, "ArchitectureString"]
    rows = [[*(1.0, 2.0, 3.0), s] for s in strings]
    write_csv(directory / CSV_200, header, rows)
    with pytest.raises(CorruptDataError, match="architecture at official index 0"):
        import_csv_tables(directory, dest=dest)


def test_single_csv_merges_into_existing_table(tmp_path) -> None:
    values = synthetic_values()
    dest = tmp_path / TABLE_FILE
    source = write_synthetic_csvs(tmp_path / "a", values)
    only_200 = tmp_path / "only200"
    only_200.mkdir()
    shutil.copy(source / CSV_200, only_200 / CSV_200)
    import_csv_tables(only_200, dest=dest)
    assert NB201Benchmark("cifar10", path=dest).metrics == ("test@200",)
    only_12 = tmp_path / "only12"
    only_12.mkdir()
    shutil.copy(source / CSV_12, only_12 / CSV_12)
    import_csv_tables(only_12, dest=dest)
    bench = NB201Benchmark("cifar10", path=dest)
    assert bench.metrics == ("valid@12", "test@12", "test@200")
    assert len(bench.sources) == 2


# --------------------------------------------------------------------------
# synthetic: table corruption and missing table
# --------------------------------------------------------------------------
def test_truncated_table(synthetic, tmp_path) -> None:
    copy = tmp_path / TABLE_FILE
    data = synthetic[0].read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError) as info:
        NB201Benchmark("cifar10", path=copy).table("test@200")
    assert str(copy) in str(info.value)


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_flipped_bytes_in_table(synthetic, tmp_path, where) -> None:
    copy = tmp_path / TABLE_FILE
    data = bytearray(synthetic[0].read_bytes())
    start = int(len(data) * where)
    for k in range(start, start + 8):
        data[k] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError) as info:
        NB201Benchmark("cifar100", path=copy).table("test@200")
    assert str(copy) in str(info.value)


def test_misshapen_tables(tmp_path) -> None:
    bad_ops = tmp_path / "ops.npz"
    write_table(bad_ops, {"ops": np.zeros((10, 6), dtype=np.uint8)})
    with pytest.raises(CorruptDataError, match="'ops' has shape"):
        NB201Benchmark(path=bad_ops).table("test@200")
    ops = NB201Space().codes_to_vectors(np.arange(NUM_ARCHS)).astype(np.uint8)
    bad_metric = tmp_path / "metric.npz"
    write_table(bad_metric, {"ops": ops, "cifar10/test@200": np.zeros(5)})
    with pytest.raises(CorruptDataError, match="cifar10/test@200"):
        NB201Benchmark(path=bad_metric).table("test@200")
    repeated = tmp_path / "repeated.npz"
    write_table(repeated, {"ops": np.zeros_like(ops)})
    with pytest.raises(CorruptDataError, match="repeats"):
        NB201Benchmark(path=repeated).table("test@200")


def test_missing_table_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    bench = NB201Benchmark("cifar10")  # constructing needs no data
    with pytest.raises(BenchmarkDataMissingError) as info:
        bench.table("test@200")
    message = str(info.value)
    assert str(tmp_path / "cache" / TABLE_FILE) in message
    assert "`nasgym data import nb201 PATH`" in message
    # a data dir with NB201 sources is named in the command
    root = tmp_path / "data"
    (root / "nas-bench-201").mkdir(parents=True)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(root))
    with pytest.raises(BenchmarkDataMissingError) as info:
        NB201Benchmark("cifar100").coverage("test@200")
    message = str(info.value)
    assert f"`nasgym data import nb201 {root}`" in message
    assert str(root / "nasgym" / TABLE_FILE) in message
    # an explicit path is named too
    with pytest.raises(BenchmarkDataMissingError, match="nowhere"):
        NB201Benchmark(path=tmp_path / "nowhere.npz").table("test@200")


def test_unrecognised_import_path(tmp_path) -> None:
    with pytest.raises(BenchmarkDataMissingError, match="nas-bench-201/"):
        import_nb201(tmp_path)
    with pytest.raises(BenchmarkDataMissingError, match="does not exist"):
        import_nb201(tmp_path / "missing")


def test_archive_pickle_is_restricted(tmp_path) -> None:
    archive = tmp_path / ARCHIVE_NAME
    archive.mkdir()
    meta = {"meta_archs": list(synthetic_strings()), "total_archs": NUM_ARCHS}
    with bz2.open(archive / "meta.pickle.pbz2", "wb") as handle:
        pickle.dump(meta, handle)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with bz2.open(archive / "000005.pickle.pbz2", "wb") as handle:
        pickle.dump({"12": Evil()}, handle)
    with pytest.raises(CorruptDataError, match=r"000005\.pickle\.pbz2") as info:
        import_nats_archive(archive, dest=tmp_path / TABLE_FILE)
    assert "refusing" in str(info.value)
    assert not marker.exists()


def test_archive_file_is_streamed_with_a_size_cap(tmp_path, monkeypatch) -> None:
    # Issue 15.13: a 177-byte file decompressed whole reached 459 MB in memory.
    import tracemalloc

    from nasgym.benchmarks import nb201

    archive = tmp_path / ARCHIVE_NAME
    archive.mkdir()
    meta = {"meta_archs": list(synthetic_strings()), "total_archs": NUM_ARCHS}
    with bz2.open(archive / "meta.pickle.pbz2", "wb") as handle:
        pickle.dump(meta, handle)
    bomb = archive / "000005.pickle.pbz2"
    with bz2.open(bomb, "wb") as handle:  # 48 MiB of distinct 1 KiB strings
        pickle.dump({"12": [bytes([i % 251]) * 1024 for i in range(48 << 10)]}, handle)
    assert bomb.stat().st_size < 100_000
    monkeypatch.setattr(nb201, "MAX_ARCHIVE_FILE_BYTES", 2 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptDataError) as info:
            import_nats_archive(archive, dest=tmp_path / TABLE_FILE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = str(info.value)
    assert (
        "000005.pickle.pbz2" in text and "decompresses to more than 2,097,152" in text
    )
    assert text.endswith("see docs/data.md#nas-bench-201")
    assert peak < 16 << 20, f"peak {peak:,} bytes: the file was not streamed"


# --------------------------------------------------------------------------
# datastore
# --------------------------------------------------------------------------
def test_datastore_status_and_import(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    rows = {row["name"]: row for row in datastore.status()}
    assert set(rows) == {
        "nb201",
        "hw-nas-bench-360",
        "nbgraph",
        "nb101",
        "ecnas",
        "nb301",
        "ofa",
    }
    assert "nasgym data import hw-nas-bench-360" in rows["hw-nas-bench-360"]["error"]
    assert rows["nb201"]["present"] is False
    assert "nasgym data import nb201" in rows["nb201"]["error"]
    # Every benchmark that needs files says how to get them when they are absent.
    assert "nasgym data import nb101" in rows["nb101"]["error"]
    assert "nasgym data import ecnas" in rows["ecnas"]["error"]
    assert rows["nb301"]["present"] is False
    assert "new_model.onnx" in rows["nb301"]["error"]
    source = write_synthetic_csvs(tmp_path / "src", synthetic_values())
    written = datastore.import_data("nb201", str(source))
    assert written == [tmp_path / "cache" / TABLE_FILE]
    row = {row["name"]: row for row in datastore.status()}["nb201"]
    assert row["present"] is True
    assert row["path"] == str(written[0])
    assert len(row["checksum"]) == 64
    assert row["coverage"]["cifar10"]["test@200"] == NUM_ARCHS
    text = datastore.format_status(datastore.status())
    assert "nb201" in text and "present" in text and row["checksum"] in text
    with pytest.raises(UnknownOptionError, match="'nb201'"):
        datastore.import_data("nb999", str(source))
    with pytest.raises(UnknownOptionError, match="needs no import"):
        datastore.import_data("nbgraph", str(source))
    with pytest.raises(BenchmarkDataMissingError, match="does not exist"):
        datastore.import_data("nb201", str(tmp_path / "nope"))


def test_datastore_nbgraph_row() -> None:
    row = {row["name"]: row for row in datastore.status()}["nbgraph"]
    if not row["present"]:
        pytest.skip("nas-bench-graph not installed")
    assert "cora" in row["datasets"]
    assert all(len(f["sha256"]) == 64 for f in row["files"])


# --------------------------------------------------------------------------
# real data: CSV tables
# --------------------------------------------------------------------------
@pytest.mark.data
def test_real_csv_optima(nb201_table) -> None:
    optima = {
        "cifar10": (94.37, 6111),
        "cifar100": (73.51, 9930),
        "ImageNet16-120": (47.31, 857),
    }
    means = {"cifar10": 87.06, "cifar100": 61.41, "ImageNet16-120": 33.59}
    maxima_12 = {
        "cifar10": (84.89, 89.16),
        "cifar100": (61.32, 61.18),
        "ImageNet16-120": (38.67, 38.27),
    }
    for dataset in DATASETS:
        bench = NB201Benchmark(dataset)  # found on the search path
        assert bench.table_path == nb201_table
        best, index = optima[dataset]
        assert round(bench.optimum("test@200"), 2) == best
        by_index = bench.table("test@200")[bench.index_to_code]
        argmax = set(np.flatnonzero(by_index == by_index.max()).tolist())
        assert index in argmax
        assert int(bench.code_to_index[bench.best_code("test@200")]) in argmax
        assert round(float(np.mean(bench.table("test@200"))), 2) == means[dataset]
        valid12, test12 = maxima_12[dataset]
        assert round(bench.optimum("valid@12"), 2) == valid12
        assert round(bench.optimum("test@12"), 2) == test12
        for metric in ("valid@12", "test@12", "test@200"):
            bench.require_complete(metric)
    cifar10 = NB201Benchmark("cifar10")
    # Two non-isomorphic cells tie exactly for the CIFAR-10 optimum.
    tied = cifar10.table("test@200")[cifar10.index_to_code[[6111, 13714]]]
    assert tied[0] == tied[1]
    assert cifar10.arch_at(6111).unique_str() != cifar10.arch_at(13714).unique_str()
    assert cifar10.index_of(cifar10.arch_at(6111)) == 6111
    assert round(cifar10.query(cifar10.arch_at(0), "test@200"), 4) == 85.8633
    assert round(cifar10.query(cifar10.arch_at(0), "valid@12"), 3) == 63.364
    assert cifar10.query(cifar10.arch_at(0), "test@12") == 69.55


@pytest.mark.data
def test_real_arch_strings_round_trip(nb201_table, data_root) -> None:
    bench = NB201Benchmark("cifar10", path=nb201_table)
    for name, column in ((CSV_200, "ArchitectureString"), (CSV_12, "arch_str")):
        with lzma.open(data_root / "nas-bench-201" / name, "rt", newline="") as handle:
            reader = csv.reader(handle)
            j = next(reader).index(column)
            strings = [row[j] for row in reader]
        assert len(strings) == NUM_ARCHS
        for i, text in enumerate(strings):
            arch = NB201Arch.from_str(text)
            assert arch.to_str() == text
            assert bench.arch_at(i) == arch
            assert bench.index_of(arch) == i


@pytest.mark.data
def test_real_naslib_encoding_rank_correlation(nb201_table, data_root) -> None:
    path = data_root / "naslib-zc" / "zc_nasbench201.json.xz"
    if not path.is_file():
        missing_data(f"{path} is missing")
    with lzma.open(path, "rt") as handle:
        entries = json.load(handle)["nasbench201"]["cifar10"]
    assert len(entries) == 491
    bench = NB201Benchmark("cifar10", path=nb201_table)
    ours, theirs = [], []
    for key, record in entries.items():
        ops = tuple(int(x) for x in key.strip("()").split(","))
        ours.append(bench.query(NB201Arch.from_naslib(ops), "test@200"))
        theirs.append(record["val_accuracy"])
    assert spearman(np.array(ours), np.array(theirs)) > 0.95


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged."""
    order = np.argsort(x, kind="mergesort")
    ranked = np.empty(len(x))
    ranked[order] = np.arange(len(x), dtype=float)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranked)
    return (sums / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def test_spearman_helper() -> None:
    a = np.array([1.0, 2.0, 2.0, 5.0, 3.0])
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    np.testing.assert_allclose(ranks(a), [0.0, 1.5, 1.5, 4.0, 3.0])


# --------------------------------------------------------------------------
# real data: NATS-Bench archive vs the official API
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def archive_dir(data_root) -> Path:
    directory = data_root / "nats-bench" / ARCHIVE_NAME
    if not (directory / "meta.pickle.pbz2").is_file():
        missing_data(f"{directory} is missing")
    return directory


def official_api(directory: Path):
    nats_bench = pytest.importorskip("nats_bench")
    return nats_bench.create(str(directory), "tss", fast_mode=True, verbose=False)


@pytest.fixture
def archive_table(nb201_table, archive_dir, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "archive-cache"))
    return import_nats_archive(archive_dir)


def assert_matches_official(table: Path, directory: Path, indices) -> None:
    api = official_api(directory)
    for dataset in DATASETS:
        bench = NB201Benchmark(dataset, path=table)
        valid_dataset = "cifar10-valid" if dataset == "cifar10" else dataset
        for index in indices:
            arch = bench.arch_at(index)
            assert arch.to_str() == api.arch(index)

            def ours(metric: str, arch: NB201Arch = arch, bench=bench) -> float:
                return bench.query(arch, metric)

            for hp in ("12", "200"):
                valid = api.get_more_info(index, valid_dataset, hp=hp, is_random=False)
                test = api.get_more_info(index, dataset, hp=hp, is_random=False)
                assert ours(f"valid@{hp}") == valid["valid-accuracy"]
                assert ours(f"test@{hp}") == test["test-accuracy"]
                assert ours(f"train_time_s@{hp}") == valid["train-all-time"]
            cost = api.get_cost_info(index, dataset, hp="200")
            assert ours("flops_m") == cost["flops"]
            assert ours("params_m") == cost["params"]
            if cost["latency"] is None:
                assert math.isnan(ours("latency_s"))
            else:
                assert ours("latency_s") == cost["latency"]


@pytest.mark.data
def test_real_archive_equals_official_api(archive_table, archive_dir) -> None:
    assert_matches_official(archive_table, archive_dir, RECORDED)
    for dataset in DATASETS:
        bench = NB201Benchmark(dataset, path=archive_table)
        assert set(bench.metrics) == set(nb201.METRICS)
        assert bench.cost_metrics == ("flops_m", "params_m", "latency_s")
        assert bench.time_metric is None  # 3 of 15,625 is not a usable time model
        for metric in bench.metrics:
            assert bench.coverage(metric) == 3
        covered = np.flatnonzero(
            np.isfinite(bench.table("test@200")[bench.index_to_code])
        )
        assert covered.tolist() == list(RECORDED)
        with pytest.raises(BenchmarkDataMissingError) as info:
            bench.require_complete("valid@200")
        message = str(info.value)
        assert "3 of 15,625" in message and "nasgym data import nb201" in message
    assert NB201Benchmark(path=archive_table).sources[0]["records"] == 3


@pytest.mark.data
def test_real_archive_agrees_with_csvs(archive_table, nb201_table) -> None:
    compared = 0
    for dataset in DATASETS:
        archive = NB201Benchmark(dataset, path=archive_table)
        csvs = NB201Benchmark(dataset, path=nb201_table)
        for metric in set(archive.metrics) & set(csvs.metrics):
            for index in RECORDED:
                a = archive.query(archive.arch_at(index), metric)
                b = csvs.query(csvs.arch_at(index), metric)
                assert abs(a - b) <= nb201.MERGE_TOLERANCE, (dataset, metric, index)
                compared += 1
    assert compared == 3 * 3 * 3


@pytest.mark.data
def test_real_archive_with_edge_cases_equals_official_api(
    archive_dir, tmp_path
) -> None:
    """Seed-disagreeing FLOPs, a missing latency and a dropped seed, as nats_bench."""
    copy = tmp_path / ARCHIVE_NAME
    shutil.copytree(archive_dir, copy)
    path = copy / "000011.pickle.pbz2"
    with bz2.open(path, "rb") as handle:
        record = pickle.load(handle)
    runs = record["200"]["all_results"]
    runs[("cifar100", 777)]["flop"] += 1.0  # inconsistent -> seed 888's value
    runs[("cifar100", 999)]["params"] *= 1.5
    runs[("ImageNet16-120", 888)]["latency"] = None  # ignored in the mean
    del runs[("cifar10-valid", 999)]  # average over two seeds only
    record["200"]["dataset_seed"]["cifar10-valid"].remove(999)
    with bz2.open(path, "wb") as handle:
        pickle.dump(record, handle)
    table = import_nats_archive(copy, dest=tmp_path / TABLE_FILE)
    assert_matches_official(table, copy, RECORDED)


@pytest.mark.data
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_real_archive_corrupt_file_is_named(archive_dir, tmp_path, damage) -> None:
    copy = tmp_path / ARCHIVE_NAME
    shutil.copytree(archive_dir, copy)
    path = copy / "000284.pickle.pbz2"
    data = path.read_bytes()
    path.write_bytes(
        b"not bz2 at all" * 10 if damage == "garbage" else data[: len(data) // 2]
    )
    with pytest.raises(CorruptDataError) as info:
        import_nats_archive(copy, dest=tmp_path / TABLE_FILE)
    assert str(path) in str(info.value)


@pytest.mark.data
def test_real_merge_of_both_sources(
    nb201_table, data_root, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "merged"))
    merged = import_nb201(data_root)  # parent: nas-bench-201/ + nats-bench/NATS-tss-*
    archive = import_nats_archive(
        data_root / "nats-bench" / ARCHIVE_NAME, dest=tmp_path / "a" / TABLE_FILE
    )
    for dataset in DATASETS:
        bench = NB201Benchmark(dataset, path=merged)
        csvs = NB201Benchmark(dataset, path=nb201_table)
        exact = NB201Benchmark(dataset, path=archive)
        assert set(bench.metrics) == set(nb201.METRICS)
        assert bench.coverage("test@200") == NUM_ARCHS
        assert bench.coverage("valid@200") == 3
        for metric in csvs.metrics:
            only_csv = np.ones(NUM_ARCHS, dtype=bool)
            only_csv[bench.index_to_code[list(RECORDED)]] = False
            np.testing.assert_array_equal(
                bench.table(metric)[only_csv], csvs.table(metric)[only_csv]
            )
        for metric in exact.metrics:  # the archive's exact numbers take precedence
            for index in RECORDED:
                arch = bench.arch_at(index)
                assert bench.query(arch, metric) == exact.query(arch, metric)
    sources = NB201Benchmark(path=merged).sources
    assert [(s["kind"], s["records"]) for s in sources] == [
        ("csv", NUM_ARCHS),
        ("csv", NUM_ARCHS),
        ("nats-archive", 3),
    ]
    # archive first, CSVs later: the archive's values still win
    later = tmp_path / "later" / TABLE_FILE
    import_nats_archive(data_root / "nats-bench" / ARCHIVE_NAME, dest=later)
    import_csv_tables(data_root / "nas-bench-201", dest=later)
    bench = NB201Benchmark("cifar10", path=later)
    exact = NB201Benchmark("cifar10", path=archive)
    arch = bench.arch_at(11)
    assert bench.query(arch, "test@200") == exact.query(arch, "test@200")
    assert bench.coverage("test@200") == NUM_ARCHS


def test_import_nb201_detects_layouts(tmp_path) -> None:
    values = synthetic_values()
    csv_dir = write_synthetic_csvs(tmp_path / "parent" / "nas-bench-201", values)
    found = nb201.detect_sources(csv_dir)
    assert found == [("csv", csv_dir.resolve())]
    assert nb201.detect_sources(tmp_path / "parent") == found
    assert nb201.detect_sources(csv_dir / CSV_200) == found  # a file: its directory
    table = import_nb201(tmp_path / "parent", dest=tmp_path / TABLE_FILE)
    assert NB201Benchmark("cifar10", path=table).coverage("test@200") == NUM_ARCHS


def test_corrupt_existing_table_is_replaced_with_warning(tmp_path) -> None:
    dest = tmp_path / TABLE_FILE
    dest.write_bytes(b"PK\x03\x04 definitely not a table")
    source = write_synthetic_csvs(tmp_path / "src", synthetic_values())
    with pytest.warns(UserWarning, match="replacing unreadable NB201 table"):
        import_csv_tables(source, dest=dest)
    assert NB201Benchmark("cifar10", path=dest).coverage("test@12") == NUM_ARCHS
