"""``nasgym perf`` peer and cold-load rows: structure and agreement, never speed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nasgym.perf as perf
from nasgym.benchmarks.nb201 import NB201Benchmark
from nasgym.error import InvalidArchitectureError
from nasgym.spaces.nb201 import NB201Arch


@pytest.mark.data
def test_peer_rows_agree_with_nasgym(nb201_table: Path) -> None:
    rows = perf._peer_rows(perf._scale(1000, True))
    assert [r.section for r in rows] == ["peers"] * 4
    for rate, ratio in zip(rows[::2], rows[1::2], strict=True):
        assert ratio.name == f"nasgym / {rate.name}"
        assert ratio.target == {"op": ">=", "value": perf.PEER_RATIO_TARGET}
        if rate.status == "skip":  # the peer is not installed
            assert "pip install" in rate.note
            continue
        assert rate.status == "info" and rate.value is not None and rate.value > 0
        assert ratio.status in {"pass", "fail"}
        # both APIs return nasgym's own numbers for the same architectures
        assert "agree with nasgym to 0;" in rate.note or rate.note.endswith(
            "agree with nasgym to 0"
        )


def test_peer_rows_say_how_to_install(
    nb201_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in {"nasbenchapi", "syne_tune"} else real(name),
    )
    rows = perf._peer_rows(perf._scale(1000, True))
    assert [r.status for r in rows] == ["skip"] * 4
    assert "pip install nasbenchapi" in rows[0].note
    assert "pip install syne-tune" in rows[2].note


def test_nbgraph_cold_rows_structure() -> None:
    rows = perf._nbgraph_cold_rows("proteins", perf._scale(1000, True))
    assert [r.unit for r in rows] == ["ms", "ms", "x"]
    assert all(r.status != "error" for r in rows), rows
    assert rows[2].target == {"op": "<", "value": perf.NBGRAPH_LOAD_RATIO_TARGET}
    assert rows[0].value is not None and rows[1].value is not None
    assert rows[2].value == pytest.approx(rows[1].value / rows[0].value)


@pytest.mark.data
def test_query_memo_gives_the_same_values(nb201_table: Path) -> None:
    bench = NB201Benchmark("cifar10")
    space = bench.space
    rng = np.random.default_rng(3)
    codes = space.sample_codes(rng, 500).tolist()
    for metric in ("test@200", "valid@12"):
        table = bench.table(metric)
        for code in codes + codes:  # second pass hits the memo
            arch = space.from_code(code)
            value = bench.query(arch, metric)
            assert type(value) is float
            assert value == float(table[code]) or np.isnan(table[code])
    assert space.valid_code(space.from_code(codes[0])) == codes[0]


def test_valid_code_still_rejects_bad_input() -> None:
    from nasgym.spaces.nb201 import NB201Space

    space = NB201Space()
    with pytest.raises(InvalidArchitectureError):
        space.valid_code("not an arch")  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError):
        space.valid_code([0, 1, 2])  # type: ignore[arg-type]  # unhashable
    arch: Any = space.from_code(5)
    assert space.valid_code(arch) == 5 == space.valid_code(NB201Arch(arch.ops))


def test_nbgraph_peer_rows_agree_with_the_wheel() -> None:
    rows = perf._nbgraph_peer_rows("cora", perf._scale(1000, True))
    assert [(r.section, r.unit) for r in rows] == [("query", "q/s"), ("query", "x")]
    assert all(r.status != "error" for r in rows), rows
    rate, ratio = rows
    assert rate.value is not None and rate.value > 0
    assert ratio.target == {"op": ">=", "value": perf.NBGRAPH_QUERY_RATIO_TARGET}
    assert ratio.status in {"pass", "fail"}
    # the wheel's lookup returns nasgym's own numbers for the same architectures
    assert "agree with nasgym to 0" in rate.note


@pytest.mark.data
def test_nb301_single_rows_agree_with_the_raw_call() -> None:
    rows = perf._surrogate_rows(perf._scale(1000, True))
    if rows[0].status == "skip":
        try:
            from conftest import missing_data  # type: ignore[import-not-found]
        except ImportError:  # pragma: no cover
            from tests.conftest import missing_data
        missing_data(rows[0].note)
    raw, ratio = rows[1:3]
    assert (raw.unit, ratio.unit) == ("calls/s", "x")
    assert raw.status == "info" and raw.value is not None and raw.value > 0
    assert ratio.target == {"op": "<", "value": perf.NB301_SINGLE_RATIO_TARGET}
    assert ratio.status in {"pass", "fail"}
    # predict_one returns what the raw onnxruntime call on its row returns
    assert raw.note.endswith("agree with predict_one to 0")
