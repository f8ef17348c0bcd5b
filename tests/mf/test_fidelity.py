"""Fidelities, costs and the charge ledger of :mod:`nasgym.mf.fidelity`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasgym.benchmarks.nb101 import (
    EvaluationData,
    ModelMetrics,
    encode_nb101_record,
    import_nb101_tfrecord,
)
from nasgym.benchmarks.tfrecord import write_records
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownOptionError,
)
from nasgym.mf.fidelity import (
    Ledger,
    NB101Fidelity,
    NB201Fidelity,
    NB301Fidelity,
)
from nasgym.spaces.nb101 import nb101_hash, sample

EPOCHS = (4, 12, 36, 108)


def _official_tfrecord(path: Path, n: int = 6) -> dict[tuple[str, int], float]:
    """An official-layout record file: n cells x 4 budgets x 1 repeat."""
    rng = np.random.default_rng(0)
    cells: dict[str, Any] = {}
    while len(cells) < n:
        c = sample(rng)
        cells.setdefault(nb101_hash(c), c)
    records, times = [], {}
    for h, cell in cells.items():
        for e in EPOCHS:
            t = float(10.0 * e + rng.uniform(0, 5))
            valid = float(np.float32(rng.uniform(0.5, 0.9)))
            metrics = ModelMetrics(
                (
                    EvaluationData(0.0, 0.0, 0.1, 0.1, 0.1),
                    EvaluationData(float(e), t, 0.99, valid, valid),
                ),
                1000,
                t,
            )
            records.append(encode_nb101_record(h, e, cell, metrics))
            times[(h, e)] = t
    write_records(path, records)
    return times


def test_nb101_four_budgets_from_official_layout(tmp_path: Path) -> None:
    times = _official_tfrecord(tmp_path / "nasbench_only108.tfrecord")
    table = import_nb101_tfrecord(tmp_path, dest=tmp_path / "nb101.npz")
    bench = NB101Fidelity("full", path=table)
    assert bench.fidelities == EPOCHS and not bench.resumable
    hashes = bench.bench.hashes()
    for row, h in enumerate(hashes):
        for e in EPOCHS:
            ev = bench.evaluate([row], e)
            assert ev.cost == pytest.approx(times[(h, e)], rel=1e-6)
    # Not resumable: 4 then 12 epochs pays both runs in full.
    ledger = Ledger(bench, budget=1e9, unit="seconds")
    a = ledger.book((0,), 4, bench.evaluate([0], 4).cost)
    b = ledger.book((0,), 12, bench.evaluate([0], 12).cost)
    assert a.resumed_from is None and b.resumed_from is None
    assert ledger.cost == pytest.approx(times[(hashes[0], 4)] + times[(hashes[0], 12)])
    assert ledger.epochs == 16
    with pytest.raises(UnknownOptionError, match="fidelity"):
        bench.evaluate([0], 50)
    with pytest.raises(InvalidActionError, match=r"expected 0\.\.5"):
        bench.evaluate([6], 4)


@pytest.mark.data
def test_ecnas_has_one_budget(ecnas_bench: Any) -> None:
    bench = NB101Fidelity("ecnas", path=ecnas_bench.data.path)
    assert bench.fidelities == (4,)
    ev = bench.evaluate([0], 4)
    assert ev.cost > 0 and 0 < ev.score <= 100
    with pytest.raises(UnknownOptionError, match="fidelity"):
        bench.evaluate([0], 108)


@pytest.mark.data
def test_nb201_csv_tables_use_epochs_proxy(nb201_table: Path) -> None:
    bench = NB201Fidelity("cifar10", path=nb201_table)
    assert bench.fidelities == (12, 200)
    assert bench.cost_unit == "epochs" and "proxy" in bench.cost_source
    # The CSVs have no valid@200: the 200-epoch score is declared as test.
    assert bench.score_splits == {12: "valid", 200: "test"}
    code_6111 = bench.bench.arch_at(6111)
    vector = bench.bench.space.encode(code_6111)
    ev = bench.evaluate(vector, 200)
    assert ev.score == pytest.approx(94.37333, abs=1e-4) and ev.cost == 200.0
    assert bench.evaluate(vector, 12).cost == 12.0
    with pytest.raises(BenchmarkDataMissingError, match="budget_unit='epochs'"):
        Ledger(bench, budget=1e5, unit="seconds")
    with pytest.raises(UnknownOptionError, match="budget unit"):
        Ledger(bench, budget=1e5, unit="hours")
    header = bench.header()
    assert header["cost_unit"] == "epochs" and header["resumable"] is False


@pytest.mark.data
def test_nb301_resumable_charges_difference(nb301_surrogate: Any) -> None:
    bench = NB301Fidelity(path=nb301_surrogate.path)
    assert bench.fidelities[0] == 1 and bench.fidelities[-1] == 98
    vector = tuple(0 for _ in bench.nvec)
    low, high = bench.evaluate(vector, 10), bench.evaluate(vector, 50)
    ledger = Ledger(bench, budget=1e9, unit="seconds")
    ledger.book(vector, 10, low.cost)
    charge = ledger.book(vector, 50, high.cost)
    assert charge.resumed_from == 10 and charge.epochs == 40
    assert charge.cost == pytest.approx(max(high.cost - low.cost, 0.0))
    assert ledger.cost == pytest.approx(low.cost + charge.cost)
    # Asking again at a lower fidelity is free (the curve was recorded).
    assert ledger.book(vector, 20, bench.evaluate(vector, 20).cost).cost == 0.0
    with pytest.raises(UnknownOptionError, match=r"integer in 1\.\.98"):
        bench.evaluate(vector, 99)


def test_ledger_budget_units(tmp_path: Path) -> None:
    _official_tfrecord(tmp_path / "nasbench_only108.tfrecord")
    bench = NB101Fidelity(
        "full", path=import_nb101_tfrecord(tmp_path, dest=tmp_path / "t.npz")
    )
    for unit, budget in (("queries", 2), ("epochs", 16), ("seconds", 1.0)):
        ledger = Ledger(bench, budget=budget, unit=unit)
        booked = 0
        for e in (4, 12, 36):
            full = bench.evaluate([1], e).cost
            charge = ledger.price((1,), e, full)
            if not ledger.fits(charge):
                break
            ledger.book((1,), e, full)
            booked += 1
        assert booked == {"queries": 2, "epochs": 2, "seconds": 0}[unit]
        assert ledger.used() <= budget
