"""NB101 data layer: official-layout TFRecord import, EC-NAS import, lookups, verify.

Synthetic record files are written in the official layout with
:func:`nasgym.benchmarks.tfrecord.write_records` and made-up metrics, into
``tmp_path``. Real-data tests (``@pytest.mark.data``) read the staged EC-NAS archive
and NASLib reference file and import them into temporary directories.
"""

from __future__ import annotations

import json
import lzma
import tarfile
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasgym.benchmarks import nb101 as nb
from nasgym.benchmarks.nb101 import (
    EvaluationData,
    ModelMetrics,
    NB101Benchmark,
    encode_nb101_record,
    import_ecnas,
    import_nb101_tfrecord,
    load_table,
    verify_nb101,
)
from nasgym.benchmarks.tfrecord import iter_records_with_offsets, write_records
from nasgym.data import write_table
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    UnknownOptionError,
)
from nasgym.spaces.nb101 import (
    INTERIOR_OPS,
    NB101Cell,
    is_valid,
    nb101_hash,
    prune,
    sample,
)

try:
    from conftest import missing_data
except ImportError:  # pragma: no cover
    from tests.conftest import missing_data

ECNAS = "ec-nas-bench/ec_nasbench_energy_results_and_graphs.tar.xz"
NASLIB = "naslib-zc/zc_nasbench101.json.xz"
LABELS = {
    -1: "input",
    -2: "output",
    0: INTERIOR_OPS[0],
    1: INTERIOR_OPS[1],
    2: INTERIOR_OPS[2],
}
EPOCHS = (4, 12, 36, 108)

Run = tuple[float, float, float]


# --------------------------------------------------------------------------
# writing official-layout files
# --------------------------------------------------------------------------
def f32(x: float) -> float:
    return float(np.float32(x))


def make_metrics(rng: np.random.Generator, epochs: int, params: int) -> ModelMetrics:
    final_valid, final_test = f32(rng.uniform(0.1, 0.95)), f32(rng.uniform(0.1, 0.95))
    time = float(rng.uniform(100, 5000))
    return ModelMetrics(
        (
            EvaluationData(0.0, 0.0, 0.1, 0.1, 0.1),
            EvaluationData(epochs / 2, time / 2, 0.5, f32(final_valid / 2), 0.4),
            EvaluationData(float(epochs), time, 0.99, final_valid, final_test),
        ),
        params,
        time * 1.1,
    )


def write_official(
    path: Path,
    cells: Sequence[NB101Cell],
    epochs: Sequence[int] = EPOCHS,
    *,
    repeats: int = 3,
    seed: int = 0,
    hashes: Sequence[str] | None = None,
) -> tuple[dict[tuple[str, int], list[Run]], dict[str, int]]:
    """Write records in shuffled order; return the expected runs and params."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, cell in enumerate(cells):
        h = hashes[i] if hashes is not None else nb101_hash(cell)
        params = int(rng.integers(200_000, 40_000_000))
        for e in epochs:
            for _ in range(repeats):
                rows.append((h, e, cell, make_metrics(rng, e, params)))
    order = rng.permutation(len(rows))
    expected: dict[tuple[str, int], list[Run]] = defaultdict(list)
    params_of: dict[str, int] = {}
    records = []
    for k in order:
        h, e, cell, metrics = rows[k]
        final = metrics.evaluation_data[-1]
        expected[(h, e)].append(
            (final.validation_accuracy, final.test_accuracy, final.training_time)
        )
        params_of[h] = metrics.trainable_parameters
        records.append(encode_nb101_record(h, e, cell, metrics))
    write_records(path, records)
    return dict(expected), params_of


def sampled_cells(count: int, seed: int = 0) -> list[NB101Cell]:
    rng = np.random.default_rng(seed)
    out: dict[str, NB101Cell] = {}
    while len(out) < count:
        c = sample(rng)
        out.setdefault(nb101_hash(c), c)
    return list(out.values())


@pytest.fixture(scope="module")
def full_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Any, Any, list[NB101Cell]]:
    path = tmp_path_factory.mktemp("nb101") / "nasbench_full.tfrecord"
    cells = sampled_cells(25)
    expected, params = write_official(path, cells)
    return path, expected, params, cells


# --------------------------------------------------------------------------
# import of official-layout records
# --------------------------------------------------------------------------
def test_import_is_value_by_value(full_file: Any, tmp_path: Path) -> None:
    path, expected, params, cells = full_file
    dest = import_nb101_tfrecord(path, dest=tmp_path / "nb101.npz")
    table = load_table("full", dest)
    assert len(table) == len(cells) and table.epochs == EPOCHS
    assert table.kind == "full" and table.group_names == ("nb101",)
    assert table.arrays["valid"].dtype == np.float32  # float32 values, stored exactly
    assert table.arrays["train_time_s"].dtype == np.float64
    assert table.sources[0]["records"] == len(cells) * 12
    assert table.sources[0]["file"] == "nasbench_full.tfrecord"
    hashes = [nb101_hash(c) for c in cells]
    rows = table.lookup(hashes)
    assert (rows >= 0).all() and len(set(rows.tolist())) == len(cells)
    assert table.hashes_hex() == sorted(hashes)
    for cell, h, row in zip(cells, hashes, rows, strict=True):
        assert table.cell(row) == prune(cell)
        assert table.hash_at(row) == h
        assert table.arrays["params"][row] == params[h]
        for e_index, e in enumerate(EPOCHS):
            for repeat, (valid, test, time) in enumerate(expected[(h, e)]):
                assert table.arrays["valid"][row, e_index, repeat] == valid
                assert table.arrays["test"][row, e_index, repeat] == test
                assert table.arrays["train_time_s"][row, e_index, repeat] == time
    # the benchmark on top of it
    bench = NB101Benchmark("full", path=dest)
    h0, c0 = hashes[0], cells[0]
    runs = expected[(h0, 108)]
    assert bench.query(c0, "valid") == pytest.approx(
        100 * np.mean([r[0] for r in runs])
    )
    assert bench.query(h0, "test", 12, repeat=1) == pytest.approx(
        100 * expected[(h0, 12)][1][1]
    )
    assert bench.query(h0, "train_time_s@4", repeat=2) == expected[(h0, 4)][2][2]
    assert bench.query(c0, "params") == params[h0]
    all_runs = bench.query([c0, h0], "valid@36", repeat="all")
    assert all_runs.shape == (2, 3)
    np.testing.assert_allclose(all_runs[0], [100 * r[0] for r in expected[(h0, 36)]])
    vector = bench.query(hashes, "valid")
    assert vector.shape == (len(cells),) and np.isfinite(vector).all()
    drawn = bench.query(hashes, "valid", repeat="random", rng=np.random.default_rng(0))
    assert all(
        any(abs(v - 100 * r[0]) < 1e-9 for r in expected[(h, 108)])
        for v, h in zip(drawn, hashes, strict=True)
    )
    value, best = bench.optimum("valid")
    assert value == pytest.approx(np.max(vector)) and best in hashes
    assert bench.optimum("params")[0] == min(params.values())


def test_import_reads_only108_and_prefers_the_full_file(
    full_file: Any, tmp_path: Path
) -> None:
    path, *_ = full_file
    cells = sampled_cells(5, seed=3)
    only = tmp_path / "nasbench_only108.tfrecord"
    expected, _ = write_official(only, cells, epochs=(108,), seed=3)
    dest = import_nb101_tfrecord(tmp_path, dest=tmp_path / "a.npz")
    table = load_table("full", dest)
    assert table.epochs == (108,) and len(table) == 5
    row = int(table.lookup(nb101_hash(cells[0]))[0])
    assert table.arrays["test"][row, 0].tolist() == [
        pytest.approx(r[1]) for r in expected[(nb101_hash(cells[0]), 108)]
    ]
    # with both files present the full one wins
    (tmp_path / "nasbench_full.tfrecord").write_bytes(path.read_bytes())
    assert nb.find_nb101_records(tmp_path).name == "nasbench_full.tfrecord"
    with pytest.raises(BenchmarkDataMissingError, match=r"nasbench_only108\.tfrecord"):
        nb.find_nb101_records(tmp_path / "nowhere")


def test_import_prunes_stored_cells(tmp_path: Path) -> None:
    # an unpruned 5-vertex spec (vertex 3 dangles) stored under its official hash
    raw = NB101Cell(
        ((0, 1, 0, 0, 1), (0, 0, 1, 0, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0), (0,) * 5),
        ("input", INTERIOR_OPS[0], INTERIOR_OPS[2], INTERIOR_OPS[1], "output"),
    )
    path = tmp_path / "x.tfrecord"
    write_official(path, [raw], epochs=(108,))
    table = load_table("full", import_nb101_tfrecord(path, dest=tmp_path / "t.npz"))
    assert table.cell(0) == prune(raw) and table.cell(0).num_vertices == 4


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x20
    path.write_bytes(bytes(raw))


def test_corrupted_record_is_rejected_naming_file_and_offset(
    full_file: Any, tmp_path: Path
) -> None:
    path, *_ = full_file
    bad = tmp_path / "nasbench_full.tfrecord"
    bad.write_bytes(path.read_bytes())
    offsets = [o for o, _ in iter_records_with_offsets(bad)]
    _flip(bad, offsets[7] + 40)  # a data byte of record 7
    with pytest.raises(CorruptDataError) as info:
        import_nb101_tfrecord(bad, dest=tmp_path / "t.npz")
    assert str(bad) in str(info.value)
    assert f"byte offset {offsets[7]} fails its data CRC-32C" in str(info.value)
    assert not (tmp_path / "t.npz").exists()


def test_truncated_file_is_rejected(full_file: Any, tmp_path: Path) -> None:
    path, *_ = full_file
    bad = tmp_path / "nasbench_only108.tfrecord"
    bad.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptDataError, match="truncated") as info:
        import_nb101_tfrecord(bad, dest=tmp_path / "t.npz")
    assert str(bad) in str(info.value)


@pytest.mark.parametrize(
    ("record", "match"),
    [
        (b"not json", "not a JSON NB101 record"),
        (b'["a", 1, "0", "input"]', r"expected \[module_hash"),
        (b'["' + b"0" * 32 + b'", 0, "01", "input,output", ""]', "positive int"),
        (b'["' + b"0" * 32 + b'", 4, 1, "input,output", ""]', "must be strings"),
        (b'["' + b"0" * 32 + b'", 4, "0100", "input,output", 5]', "base64"),
        (b'["' + b"0" * 32 + b'", 4, "0100", "input,output", "AAEC"]', "ModelMetrics"),
        (
            b'["' + b"0" * 32 + b'", 4, "0100", "input,output", ""]',
            "no evaluation_data",
        ),
        (
            b'["xyz", 4, "0100", "input,output", "CgkJAAAAAAAAEEA="]',
            "not an NB101 hash",
        ),
        (
            b'["' + b"0" * 32 + b'", 4, "010", "input,output", "CgkJAAAAAAAAEEA="]',
            "binary digits",
        ),
        (
            b'["' + b"0" * 32 + b'", 4, "0000", "input,output", "CgkJAAAAAAAAEEA="]',
            "does not reach",
        ),
        (
            b'["' + b"0" * 32 + b'", 4, "0100", "input,conv7", "CgkJAAAAAAAAEEA="]',
            "unknown NB101 op",
        ),
        (
            b'["' + b"0" * 32 + b'", 4, "0100", "input,output", "CgkJAAAAAAAAEEA="]',
            "has official hash",
        ),
    ],
)
def test_malformed_records_name_the_offset(
    tmp_path: Path, record: bytes, match: str
) -> None:
    good = encode_nb101_record(
        nb101_hash(sampled_cells(1)[0]),
        4,
        sampled_cells(1)[0],
        make_metrics(np.random.default_rng(0), 4, 10),
    )
    path = tmp_path / "x.tfrecord"
    write_records(path, [good, record])
    offset = 16 + len(good)
    with pytest.raises(CorruptDataError, match=match) as info:
        import_nb101_tfrecord(path, dest=tmp_path / "t.npz")
    assert f"{path}: record at byte offset {offset}" in str(info.value)


def test_params_must_agree_across_runs(tmp_path: Path) -> None:
    c = sampled_cells(1)[0]
    rng = np.random.default_rng(0)
    path = tmp_path / "x.tfrecord"
    write_records(
        path,
        [
            encode_nb101_record(nb101_hash(c), 4, c, make_metrics(rng, 4, p))
            for p in (1, 2)
        ],
    )
    with pytest.raises(CorruptDataError, match="trainable_parameters"):
        import_nb101_tfrecord(path, dest=tmp_path / "t.npz")


def test_empty_record_file(tmp_path: Path) -> None:
    path = tmp_path / "x.tfrecord"
    write_records(path, [])
    with pytest.raises(CorruptDataError, match="no NB101 runs"):
        import_nb101_tfrecord(path, dest=tmp_path / "t.npz")


# --------------------------------------------------------------------------
# tables, lookups, benchmark API
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_bench(
    full_file: Any, tmp_path_factory: pytest.TempPathFactory
) -> NB101Benchmark:
    path, *_ = full_file
    dest = import_nb101_tfrecord(path, dest=tmp_path_factory.mktemp("t") / "nb101.npz")
    return NB101Benchmark("full", path=dest.parent)


def test_lookup_is_vectorised_and_reports_absent(small_bench: NB101Benchmark) -> None:
    table = small_bench.data
    hashes = table.hashes_hex()
    absent = "f" * 32
    rows = table.lookup([*hashes[::-1], absent])
    assert rows.tolist() == [*range(len(hashes))[::-1], -1]
    as_bytes = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), np.uint8)
    assert table.lookup(as_bytes.reshape(-1, 16)).tolist() == list(range(len(hashes)))
    assert table.lookup(bytes.fromhex(hashes[3])).tolist() == [3]
    for bad in ("xyz", ["A" * 32], np.zeros((2, 8), np.uint8)):
        with pytest.raises(InvalidArchitectureError):
            table.lookup(bad)
    assert len(table.cells) == len(table) and table.cells[2] == table.cell(2)
    assert list(table.cells[1:3]) == [table.cell(1), table.cell(2)]
    hist = table.vertex_edge_histogram()
    assert hist.shape == (8, 10) and hist.sum() == len(table)


def test_benchmark_errors(small_bench: NB101Benchmark) -> None:
    c = small_bench.cells[0]
    with pytest.raises(UnknownOptionError, match="valid"):
        small_bench.query(c, "accuracy")
    with pytest.raises(UnknownOptionError, match="energy_kwh"):
        NB101Benchmark("full", path=small_bench.data.path).query(c, "energy_kwh")
    with pytest.raises(UnknownOptionError, match="no 200-epoch data"):
        small_bench.query(c, "valid", 200)
    with pytest.raises(UnknownOptionError, match="conflicts"):
        small_bench.query(c, "valid@12", 108)
    with pytest.raises(UnknownOptionError):
        small_bench.query(c, "valid@x")
    with pytest.raises(UnknownOptionError, match="repeat"):
        small_bench.query(c, "valid", repeat=3)
    with pytest.raises(UnknownOptionError, match="repeat"):
        small_bench.query(c, "valid", repeat="median")
    with pytest.raises(UnknownOptionError, match="rng"):
        small_bench.query(c, "valid", repeat="random")
    with pytest.raises(UnknownOptionError, match="missing"):
        small_bench.query(c, "valid", missing="skip")
    with pytest.raises(UnknownOptionError, match="full"):
        NB101Benchmark("nb101")
    with pytest.raises(UnknownOptionError, match="ecnas"):
        NB101Benchmark("full", subspace="4V9E")
    invalid = NB101Cell(((0, 0), (0, 0)), ("input", "output"))
    with pytest.raises(InvalidArchitectureError, match="does not reach"):
        small_bench.query(invalid)
    other = next(x for x in sampled_cells(200, seed=9) if not small_bench.contains(x))
    with pytest.raises(InvalidArchitectureError, match="is not in nb101"):
        small_bench.query(other)
    values = small_bench.query([other, c], missing="nan")
    assert np.isnan(values[0]) and np.isfinite(values[1])
    assert np.isnan(small_bench.query(other, missing="nan"))
    assert small_bench.indices([]).shape == (0,)


def test_samplers_over_a_table(small_bench: NB101Benchmark) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert small_bench.contains(
            sample(rng, "uniform", population=small_bench.cells)
        )
    hist = small_bench.vertex_edge_histogram()
    for _ in range(20):
        c = sample(rng, "nb101-dist", histogram=hist)
        assert hist[c.num_vertices, c.num_edges] > 0 and is_valid(c)


def test_missing_table_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataMissingError) as info:
        NB101Benchmark().query(sampled_cells(1)[0])
    message = str(info.value)
    assert "nb101.npz not found" in message
    assert "`nasgym data import nb101 PATH`" in message
    assert "nasbench_only108.tfrecord" in message
    with pytest.raises(BenchmarkDataMissingError) as info:
        _ = NB101Benchmark("ecnas").data
    assert "`nasgym data import ecnas PATH`" in str(info.value)
    with pytest.raises(
        BenchmarkDataMissingError, match="nasgym data import nb101 PATH"
    ):
        load_table("full", tmp_path / "elsewhere.npz")
    with pytest.raises(UnknownOptionError):
        load_table("nb201")
    data = tmp_path / "data"
    (data / "ec-nas-bench").mkdir(parents=True)
    (data / ECNAS).write_bytes(b"")
    monkeypatch.setenv("NASGYM_DATA_DIR", str(data))
    assert f"`nasgym data import ecnas {data / ECNAS}`" in nb.missing_table_message(
        "ecnas"
    )


def test_corrupt_or_wrong_table(small_bench: NB101Benchmark, tmp_path: Path) -> None:
    arrays = {k: np.array(v) for k, v in small_bench.data.arrays.items()}
    arrays["kind"] = np.asarray("ecnas")
    write_table(tmp_path / "nb101.npz", arrays)
    with pytest.raises(CorruptDataError, match="expected 'full'"):
        load_table("full", tmp_path)
    arrays["kind"] = np.asarray("full")
    arrays["hash"] = arrays["hash"][::-1].copy()
    write_table(tmp_path / "nb101.npz", arrays)
    with pytest.raises(CorruptDataError, match="sorted"):
        load_table("full", tmp_path)
    raw = bytearray((tmp_path / "nb101.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "nb101.npz").write_bytes(bytes(raw))
    with pytest.raises(CorruptDataError):
        load_table("full", tmp_path)


# --------------------------------------------------------------------------
# real data: EC-NAS-Bench
# --------------------------------------------------------------------------
def _archive(root: Path) -> Path:
    path = root / ECNAS
    if not path.is_file():
        missing_data(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def ecnas_table(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_ecnas(
        _archive(data_root), dest=tmp_path_factory.mktemp("ec") / "ecnas.npz"
    )


@pytest.mark.data
def test_ecnas_counts_and_optima(ecnas_table: Path) -> None:
    bench = NB101Benchmark("ecnas", path=ecnas_table)
    table = bench.data
    assert table.kind == "ecnas" and table.epochs == (4,)
    assert table.group_names == ("4V9E", "5V9E") and len(table) == 2532
    assert table.sources[0]["records"] == 2805
    assert set(bench.metrics) == {
        "valid",
        "test",
        "train_time_s",
        "params",
        "energy_kwh",
        "co2_g",
    }
    small = NB101Benchmark("ecnas", path=ecnas_table, subspace="4V9E")
    large = NB101Benchmark("ecnas", path=ecnas_table, subspace="5V9E")
    assert (len(small), small.num_repeats) == (91, 3)
    assert (len(large), large.num_repeats) == (2532, 1)
    runs_small = small.query(small.hashes(), "test", repeat="all")
    runs_large = large.query(large.hashes(), "test", repeat="all")
    assert np.isfinite(runs_small).all() and np.isfinite(runs_large).all()
    # docs/data.md#ec-nas-bench: best final test accuracy 0.7498 (4V9E) / 0.7625
    # (5V9E), mean 0.4265
    assert round(float(runs_small.max()), 2) == 74.98
    assert round(float(runs_large.max()), 2) == 76.25
    assert round(float(runs_large.mean()), 2) == 42.65
    energy = small.query(small.hashes(), "energy_kwh", repeat="all")
    assert (round(float(energy.min()), 4), round(float(energy.max()), 4)) == (
        0.0068,
        0.0468,
    )
    energy = large.query(large.hashes(), "energy_kwh", repeat="all")
    assert (round(float(energy.min()), 4), round(float(energy.max()), 4)) == (
        0.0064,
        0.0626,
    )
    assert large.optimum("test")[0] == pytest.approx(runs_large.max())
    # the 91 shared cells pool 4 runs (3 from 4V9E, then 1 from 5V9E)
    pooled = bench.query(small.hashes(), "valid", repeat="all")
    assert pooled.shape == (91, 4) and np.isfinite(pooled).all()
    np.testing.assert_array_equal(
        pooled[:, :3], small.query(small.hashes(), "valid", repeat="all")
    )
    np.testing.assert_array_equal(
        pooled[:, 3], large.query(small.hashes(), "valid", repeat=0)
    )
    assert bench.query(small.hashes()[0], "params") > 0
    with pytest.raises(UnknownOptionError, match="4-epoch runs only"):
        bench.query(small.hashes()[0], "valid", 108)
    with pytest.raises(UnknownOptionError, match="subspace"):
        _ = NB101Benchmark("ecnas", path=ecnas_table, subspace="7V9E").rows


@pytest.mark.data
def test_ecnas_values_match_the_results_files(
    data_root: Path, ecnas_table: Path
) -> None:
    table = load_table("ecnas", ecnas_table)
    checked = 0
    with tarfile.open(_archive(data_root), "r:xz") as tar:
        for member in tar:
            if not member.name.endswith("results.json") or "/4V9E/" not in member.name:
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            result = json.load(handle)
            parts = member.name.split("/")
            row = int(table.lookup(parts[-3])[0])
            repeat = int(parts[-2].removeprefix("repeat_")) - 1
            final = result["evaluation_results"][-1]
            assert table.arrays["valid"][row, 0, repeat] == final["validation_accuracy"]
            assert table.arrays["test"][row, 0, repeat] == final["test_accuracy"]
            assert (
                table.arrays["train_time_s"][row, 0, repeat] == final["training_time"]
            )
            assert (
                table.arrays["energy_kwh"][row, 0, repeat]
                == result["total_energy (kWh)"]
            )
            assert table.arrays["co2_g"][row, 0, repeat] == result["total_co2eq (g)"]
            assert table.arrays["params"][row] == result["trainable_params"]
            checked += 1
    assert checked == 273


@pytest.mark.data
def test_ecnas_from_an_extracted_directory(
    data_root: Path, ecnas_table: Path, tmp_path: Path
) -> None:
    with tarfile.open(_archive(data_root), "r:xz") as tar:
        tar.extractall(tmp_path / "tree", filter="data")
    dest = import_ecnas(tmp_path / "tree", dest=tmp_path / "ecnas.npz")
    a = load_table("ecnas", dest).arrays
    b = load_table("ecnas", ecnas_table).arrays
    for key in (
        "hash",
        "adjacency",
        "ops",
        "params",
        "valid",
        "test",
        "energy_kwh",
        "run_group",
    ):
        np.testing.assert_array_equal(a[key], b[key])
    # a directory holding the archive (as NASGYM_DATA_DIR does) is understood too
    assert nb._find_ecnas(data_root) == _archive(data_root)


def test_ecnas_errors(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataMissingError, match="does not exist"):
        import_ecnas(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkDataMissingError, match="no EC-NAS results"):
        import_ecnas(tmp_path / "empty")
    (tmp_path / "bad.tar.xz").write_bytes(b"not an archive")
    with pytest.raises(CorruptDataError, match="cannot read EC-NAS archive"):
        import_ecnas(tmp_path / "bad.tar.xz")
    # a synthetic tree whose graph does not hash to its key
    cell = sampled_cells(1)[0]
    graph = tmp_path / "tree" / "graphs" / "generated_graphs_3V.json"
    graph.parent.mkdir(parents=True)
    codes = [-1, *(INTERIOR_OPS.index(op) for op in cell.ops[1:-1]), -2]
    wrong = "0" * 32
    graph.write_text(json.dumps({wrong: [[list(r) for r in cell.matrix], codes]}))
    result = (
        tmp_path
        / "tree"
        / "energy"
        / "3V"
        / "4_epochs"
        / "00"
        / wrong
        / "repeat_1"
        / "results.json"
    )
    result.parent.mkdir(parents=True)
    result.write_text(
        json.dumps(
            {
                "trainable_params": 5,
                "total_energy (kWh)": 0.1,
                "total_co2eq (g)": 1.0,
                "evaluation_results": [
                    {
                        "epochs": 4.0,
                        "validation_accuracy": 0.5,
                        "test_accuracy": 0.5,
                        "training_time": 9.0,
                    }
                ],
            }
        )
    )
    with pytest.raises(CorruptDataError, match="not its key"):
        import_ecnas(tmp_path / "tree")
    right = nb101_hash(cell)
    graph.write_text(json.dumps({right: [[list(r) for r in cell.matrix], codes]}))
    moved = result.parent.parent.parent / right / "repeat_1"
    moved.mkdir(parents=True)
    (moved / "results.json").write_text(
        result.read_text().replace('"epochs": 4.0', '"epochs": 2.0')
    )
    result.unlink()
    with pytest.raises(CorruptDataError, match=r"last evaluation at epoch 2\.0"):
        import_ecnas(tmp_path / "tree")
    (moved / "results.json").write_text(json.dumps({"model_hash": wrong}))
    with pytest.raises(CorruptDataError, match="differs from its folder"):
        import_ecnas(tmp_path / "tree")


@pytest.mark.data
def test_import_cells_from_ecnas_graphs_with_official_hashes(
    data_root: Path, tmp_path: Path
) -> None:
    """Official-layout records for real EC-NAS cells under their official hashes."""
    with tarfile.open(_archive(data_root), "r:xz") as tar:
        handle = tar.extractfile(
            "ecnas/vendors/ec_nasbench/nasbench/data/graphs/generated_graphs_4V9E.json"
        )
        assert handle is not None
        graphs = json.load(handle)
    hashes = sorted(graphs)[:30]
    cells = [
        NB101Cell.from_numpy(np.array(graphs[h][0]), [LABELS[x] for x in graphs[h][1]])
        for h in hashes
    ]
    path = tmp_path / "nasbench_only108.tfrecord"
    expected, _ = write_official(path, cells, epochs=(108,), hashes=hashes)
    table = load_table("full", import_nb101_tfrecord(path, dest=tmp_path / "t.npz"))
    assert table.hashes_hex() == hashes
    for h in hashes:
        row = int(table.lookup(h)[0])
        assert table.arrays["valid"][row, 0].tolist() == [
            r[0] for r in expected[(h, 108)]
        ]


# --------------------------------------------------------------------------
# real data: verification against NASLib's 108-epoch values
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _reference(root: Path) -> list[tuple[NB101Cell, float]]:
    path = root / NASLIB
    if not path.is_file():
        missing_data(f"{path} is missing")
    return nb.read_naslib_reference(path)


def _reference_file(root: Path, path: Path, *, shift: float = 0.0) -> tuple[int, int]:
    """Records holding each reference cell's distinct values among its 3 runs."""
    values: dict[str, set[float]] = defaultdict(set)
    cells: dict[str, NB101Cell] = {}
    for cell, value in _reference(root):
        h = nb101_hash(cell)
        values[h].add(value)
        cells[h] = prune(cell)
    rng = np.random.default_rng(0)
    records = []
    for i, (h, seen) in enumerate(sorted(values.items())):
        assert len(seen) <= 3  # NASLib's values are single runs of 3 repeats
        runs = sorted(seen)
        while len(runs) < 3:
            runs.append(runs[0] + 0.5)
        for v in runs:
            valid = v / 100 + (shift if i == 0 else 0.0)
            m = make_metrics(rng, 108, 1000)
            final = m.evaluation_data[-1]
            metrics = ModelMetrics(
                (
                    *m.evaluation_data[:2],
                    EvaluationData(
                        108.0, final.training_time, 1.0, valid, final.test_accuracy
                    ),
                ),
                1000,
                1.0,
            )
            records.append(encode_nb101_record(h, 108, cells[h], metrics))
    write_records(path, records)
    return len(values), len(records)


@pytest.mark.data
def test_verify_passes_on_a_table_holding_the_reference_runs(
    data_root: Path, tmp_path: Path
) -> None:
    cells, records = _reference_file(data_root, tmp_path / "nasbench_only108.tfrecord")
    assert (cells, records) == (292, 876)
    dest = import_nb101_tfrecord(tmp_path, dest=tmp_path / "nb101.npz")
    report = verify_nb101(dest, reference=data_root / NASLIB)
    assert report.ok and report.covered, report.message
    assert (report.num_reference, report.num_found, report.num_matched) == (
        500,
        500,
        500,
    )
    assert report.num_matched_any_repeat == 500 and report.num_matched_mean < 500
    assert report.message.startswith("OK")
    by_mean = verify_nb101(dest, reference=data_root / NASLIB, criterion="mean")
    assert not by_mean.ok and by_mean.num_matched == by_mean.num_matched_mean
    with pytest.raises(UnknownOptionError):
        verify_nb101(dest, reference=data_root / NASLIB, criterion="median")


@pytest.mark.data
def test_verify_reports_mismatches(data_root: Path, tmp_path: Path) -> None:
    _reference_file(data_root, tmp_path / "nasbench_only108.tfrecord", shift=-0.2)
    dest = import_nb101_tfrecord(tmp_path, dest=tmp_path / "nb101.npz")
    report = verify_nb101(load_table("full", dest), reference=data_root / NASLIB)
    assert not report.ok and report.num_found == 500
    assert 0 < 500 - report.num_matched <= 19 and report.mismatches
    assert report.message.startswith("MISMATCH")
    assert 19.0 < report.max_abs_diff < 20.0 + 1e-6


@pytest.mark.data
def test_verify_says_ecnas_does_not_cover_the_reference(
    data_root: Path, ecnas_table: Path
) -> None:
    report = verify_nb101(ecnas_table, reference=data_root / NASLIB)
    assert not report.covered and not report.ok
    assert report.message.startswith("NOT COVERED")
    assert "108-epoch" in report.message and "none can be checked" in report.message


def test_verify_needs_a_reference(
    small_bench: NB101Benchmark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataMissingError, match="NASGYM_DATA_DIR"):
        verify_nb101(small_bench.data)
    with pytest.raises(BenchmarkDataMissingError, match="not found"):
        verify_nb101(small_bench.data, reference=tmp_path / "missing.json.xz")
    broken = tmp_path / "broken.json.xz"
    broken.write_bytes(lzma.compress(b"{}"))
    with pytest.raises(CorruptDataError, match="cannot read NASLib reference"):
        verify_nb101(small_bench.data, reference=broken)
