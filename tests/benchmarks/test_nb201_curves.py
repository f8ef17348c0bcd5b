"""NB201 per-epoch curves: the archive importer, the curves file and curve fidelities.

Real-data tests import the staged NATS-Bench archive sample and compare every epoch
with the official ``nats_bench`` API; the others build synthetic curves (random
numbers, never real data) in ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasgym.benchmarks import nb201
from nasgym.benchmarks.nb201 import (
    ARCHIVE_NAME,
    CURVE_EPOCHS,
    DATASETS,
    NUM_ARCHS,
    curves_path,
    import_nats_archive,
    load_curves,
    load_table,
)
from nasgym.error import BenchmarkDataMissingError, CorruptDataError
from nasgym.mf.fidelity import Ledger, NB201Fidelity
from nasgym.mf.simulate import simulate
from nasgym.mf.testing import TinyOptimizer
from nasgym.spaces.nb201 import NB201Space

try:  # the conftest module as pytest imported it (rootdir/tests on sys.path)
    from conftest import missing_data
except ImportError:  # pragma: no cover - tests/ became a package
    from tests.conftest import missing_data

RECORDED = (0, 11, 284)


def synthetic_part(
    indices: range | list[int], seed: int = 0, *, shift: float = 0.0
) -> nb201._Imported:
    """Archive-like import: every code's ops in official order, curves on cifar10."""
    ops = NB201Space().codes_to_vectors(np.arange(NUM_ARCHS)).astype(np.uint8)
    test = np.full(NUM_ARCHS, np.nan)
    test[list(indices)] = [10.0 + i % 80 for i in indices]
    curves: dict[int, dict[str, np.ndarray]] = {}
    for i in indices:
        rng = np.random.default_rng([seed, i])
        valid = np.sort(rng.uniform(10, 90, CURVE_EPOCHS)) + shift
        times = np.cumsum(rng.uniform(5, 20, CURVE_EPOCHS))
        curves[i] = {"cifar10/valid": valid, "cifar10/train_time_s": times}
    source = nb201._Source("nats-archive", f"synthetic-{seed}", "0" * 64, len(indices))
    return nb201._Imported(
        ops=ops, columns={"cifar10/test@200": test}, sources=[source], curves=curves
    )


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nb201._Imported]:
    part = synthetic_part(range(NUM_ARCHS))
    table = nb201._write([part], tmp_path_factory.mktemp("curves") / "nb201.npz")
    return table, part


def test_curve_fidelities_are_resumable_seconds(complete) -> None:
    table, part = complete
    bench = NB201Fidelity("cifar10", path=table, curve=True)
    assert bench.fidelities == tuple(range(1, CURVE_EPOCHS + 1))
    assert bench.resumable and bench.cost_unit == "s"
    assert bench.header()["fidelities"] == [1, CURVE_EPOCHS]
    assert set(bench.score_splits.values()) == {"valid"}
    space = NB201Space()
    vector = (1, 2, 3, 4, 0, 1)
    code = int(space.vectors_to_codes(np.asarray([vector]))[0])
    index = code  # the synthetic ops are in code order
    curve = part.curves[index]
    ev = bench.evaluate(vector, 50)
    assert ev.score == curve["cifar10/valid"][49]
    assert ev.cost == curve["cifar10/train_time_s"][49]
    assert ev.report == part.columns["cifar10/test@200"][index]
    ledger = Ledger(bench, budget=1e9, unit="seconds")
    first = ledger.book(vector, 50, ev.cost)
    more = ledger.book(vector, 120, bench.evaluate(vector, 120).cost)
    assert first.cost == ev.cost and first.resumed_from is None
    times = curve["cifar10/train_time_s"]
    assert more.cost == pytest.approx(times[119] - times[49])
    assert more.epochs == 70 and more.resumed_from == 50
    again = ledger.book(vector, 30, bench.evaluate(vector, 30).cost)
    assert again.cost == 0.0 and again.epochs == 0


def test_curve_fidelities_under_simulated_workers(complete) -> None:
    table, _ = complete
    bench = NB201Fidelity("cifar10", path=table, curve=True)

    def run(workers: int) -> list[tuple[object, ...]]:
        opt = TinyOptimizer(nvec=bench.nvec, fidelities=bench.fidelities, seed=3)
        trace = simulate(
            opt, bench, Ledger(bench, budget=20_000, unit="seconds"), workers=workers
        )
        assert trace.stop_reason == "budget" and trace.time_unit == "s"
        return [(r.job, r.worker, r.start, r.end, r.score) for r in trace.rows]

    assert run(4) == run(4)
    assert len(run(4)) > 0


def test_curves_merge_and_disagreement(tmp_path: Path) -> None:
    table = tmp_path / "nb201.npz"
    nb201._write([synthetic_part([0, 1, 2], seed=1)], table)
    nb201._write([synthetic_part([3, 4], seed=2)], table)
    curves = load_curves(load_table(table), "cifar10")
    assert curves.covered == 5
    before = (table.read_bytes(), curves_path(table).read_bytes())
    with pytest.raises(CorruptDataError, match="disagree on the cifar10/valid curve"):
        nb201._write([synthetic_part([1], seed=1, shift=0.5)], table)
    assert (table.read_bytes(), curves_path(table).read_bytes()) == before
    nb201._write([synthetic_part([1], seed=1)], table)  # agreeing: accepted


def test_incomplete_curves_are_refused(tmp_path: Path) -> None:
    table = nb201._write([synthetic_part([0, 5])], tmp_path / "nb201.npz")
    with pytest.raises(BenchmarkDataMissingError, match="cover 2 of 15,625"):
        NB201Fidelity("cifar10", path=table, curve=True)
    with pytest.raises(BenchmarkDataMissingError, match="only after the last epoch"):
        NB201Fidelity("cifar100", path=table, curve=True)


def test_damaged_curves_file(tmp_path: Path) -> None:
    table = nb201._write([synthetic_part([0, 1])], tmp_path / "nb201.npz")
    path = curves_path(table)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError, match="nasgym data import"):
        load_curves(load_table(table), "cifar10")
    falling = synthetic_part([0])
    falling.curves[0]["cifar10/train_time_s"] = np.linspace(10, 1, CURVE_EPOCHS)
    with pytest.raises(CorruptDataError, match="negative or falling"):
        nb201._write([falling], tmp_path / "other" / "nb201.npz")


def test_data_status_reports_curves_and_their_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasgym import datastore

    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    table = nb201._write([synthetic_part([0, 7, 9])], tmp_path / "nb201.npz")
    row = {r["name"]: r for r in datastore.status()}["nb201"]
    assert row["present"] and row["curves"] == {
        "cifar10": 3,
        "cifar100": 0,
        "ImageNet16-120": 0,
    }
    assert "per-epoch curves (archs): cifar10 3" in datastore.format_status([row])
    curves_path(table).write_bytes(b"not a table")
    row = {r["name"]: r for r in datastore.status()}["nb201"]
    assert row["present"] and "per-epoch curves unusable" in row["error"]


def test_table_without_curves_says_what_to_import(tmp_path: Path) -> None:
    part = synthetic_part([0])
    part.curves = {}
    table = nb201._write([part], tmp_path / "nb201.npz")
    assert not curves_path(table).exists()
    with pytest.raises(BenchmarkDataMissingError, match=ARCHIVE_NAME):
        NB201Fidelity("cifar10", path=table, curve=True)


# --------------------------------------------------------------------------
# real data: the archive sample against the official API, every epoch
# --------------------------------------------------------------------------
@pytest.fixture
def archive(data_root: Path, tmp_path: Path) -> tuple[Path, Path]:
    directory = data_root / "nats-bench" / ARCHIVE_NAME
    if not (directory / "meta.pickle.pbz2").is_file():
        missing_data(f"{directory} is missing")
    return directory, import_nats_archive(directory, dest=tmp_path / "nb201.npz")


@pytest.mark.data
def test_real_import_command_writes_the_curves(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasgym import datastore

    directory = data_root / "nats-bench" / ARCHIVE_NAME
    if not (directory / "meta.pickle.pbz2").is_file():
        missing_data(f"{directory} is missing")
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    written = datastore.import_data("nb201", str(directory))
    assert written == [tmp_path / "nb201.npz", tmp_path / "nb201-curves.npz"]


@pytest.mark.data
def test_real_curves_equal_official_api(archive) -> None:
    nats_bench = pytest.importorskip("nats_bench")
    directory, table_path = archive
    api = nats_bench.create(str(directory), "tss", fast_mode=True, verbose=False)
    table = load_table(table_path)
    curves = load_curves(table, "cifar10")
    assert curves.covered == len(RECORDED)
    for index in RECORDED:
        code = int(table.index_to_code[index])
        for epoch in range(1, CURVE_EPOCHS + 1):
            info = api.get_more_info(
                index, "cifar10-valid", iepoch=epoch - 1, hp="200", is_random=False
            )
            assert curves.valid[code, epoch - 1] == info["valid-accuracy"]
            assert curves.train_time_s[code, epoch - 1] == info["train-all-time"]
    for dataset in DATASETS[1:]:
        assert load_curves(table, dataset).covered == 0
    with pytest.raises(BenchmarkDataMissingError, match="cover 3 of 15,625"):
        NB201Fidelity("cifar10", path=table_path, curve=True)
