from __future__ import annotations

import sys

import numpy as np
import pytest

import nasgym.benchmarks.nbgraph as nbg_module
from nasgym.benchmarks.nbgraph import DATASETS, NBGraphBenchmark
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidArchitectureError,
    UnknownOptionError,
)
from nasgym.spaces.nbgraph import GNNArch, import_wheel

FIELDS = {
    "valid": "valid_perf",
    "test": "perf",
    "latency_s": "latency",
    "params_m": "para",
}
SCALE = {"valid": 100.0, "test": 100.0, "latency_s": 1.0, "params_m": 1.0}


def wheel_bench(dataset: str) -> dict[int, dict[str, float]]:
    from nas_bench_graph import light_read

    return light_read(dataset)  # type: ignore[no-any-return]


def test_datasets() -> None:
    assert DATASETS == (
        "cora",
        "citeseer",
        "pubmed",
        "cs",
        "physics",
        "photo",
        "computers",
        "arxiv",
        "proteins",
    )


def test_unknown_dataset_lists_valid_ones() -> None:
    with pytest.raises(UnknownOptionError, match="unknown dataset 'mnist'") as info:
        NBGraphBenchmark("mnist")
    for dataset in DATASETS:
        assert repr(dataset) in str(info.value)


def test_attributes() -> None:
    bench = NBGraphBenchmark()
    assert bench.dataset == "cora"
    assert bench.metrics == ("valid", "test", "latency_s", "params_m")
    assert bench.cost_metrics == ("latency_s", "params_m")
    assert bench.reward_metric == "valid" and bench.report_metric == "test"
    assert bench.name == "nbgraph/cora"
    assert not bench.space.proteins
    proteins = NBGraphBenchmark("proteins")
    assert proteins.space.proteins and proteins.name == "nbgraph/proteins"
    assert repr(proteins) == "NBGraphBenchmark(dataset='proteins')"


@pytest.mark.parametrize("dataset", DATASETS)
def test_tables_cover_valid_codes(dataset: str) -> None:
    bench = NBGraphBenchmark(dataset)
    valid = bench.space.valid_mask
    for metric in bench.metrics:
        table = bench.table(metric)
        assert table.dtype == np.float64 and table.shape == (bench.space.size,)
        assert not np.isnan(table[valid]).any()
        assert np.isnan(table[~valid]).all()
        assert not table.flags.writeable
    # accuracies in percent, costs positive
    for metric in ("valid", "test"):
        assert (
            1.0 < np.nanmin(bench.table(metric))
            and np.nanmax(bench.table(metric)) <= 100
        )
    for metric in bench.cost_metrics:
        assert np.nanmin(bench.table(metric)) > 0
    # one value per isomorphism class
    canon = bench.space.canonical_codes
    codes = bench.space.valid_codes
    for metric in bench.metrics:
        table = bench.table(metric)
        assert np.array_equal(table[codes], table[canon[codes]])


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [("cora", 83.13), ("citeseer", 71.57), ("pubmed", 78.6), ("arxiv", 72.39)],
)
def test_optimum_test_accuracy(dataset: str, expected: float) -> None:
    bench = NBGraphBenchmark(dataset)
    wheel_max = max(float(v["perf"]) for v in wheel_bench(dataset).values()) * 100
    assert abs(bench.optimum("test") - wheel_max) < 1e-6
    assert bench.optimum() == bench.optimum("test")
    assert round(bench.optimum("test"), 2) == pytest.approx(expected)
    best = bench.space.from_code(bench.best_code("test"))
    assert bench.query(best, "test") == bench.optimum("test")


@pytest.mark.parametrize("dataset", ["cora", "arxiv", "proteins"])
def test_values_match_wheel(dataset: str) -> None:
    from nas_bench_graph import Arch

    bench = NBGraphBenchmark(dataset)
    raw = wheel_bench(dataset)
    rng = np.random.default_rng(7)
    for code in bench.space.sample_codes(rng, 200).tolist():
        arch = bench.space.from_code(code)
        entry = raw[Arch(*bench.space.to_wheel(arch)).valid_hash()]
        for metric, field in FIELDS.items():
            expected = float(entry[field]) * SCALE[metric]
            assert bench.query(arch, metric) == pytest.approx(expected, rel=1e-12)
    # default query metric is the validation accuracy
    arch = bench.space.from_code(int(bench.space.valid_codes[0]))
    assert bench.query(arch) == bench.query(arch, "valid")


def test_optimum_of_costs_is_minimum() -> None:
    bench = NBGraphBenchmark("pubmed")
    raw = wheel_bench("pubmed").values()
    assert bench.optimum("params_m") == pytest.approx(
        min(float(v["para"]) for v in raw)
    )
    assert bench.optimum("latency_s") == pytest.approx(min(v["latency"] for v in raw))


def test_query_invalid_and_unknown_metric() -> None:
    bench = NBGraphBenchmark("cora")
    with pytest.raises(InvalidArchitectureError, match="skip"):
        bench.query(GNNArch(0, (8, 8, 8, 8)))
    with pytest.raises(UnknownOptionError, match="'valid'"):
        bench.table("valid@200")


def test_dataset_read_once_per_process() -> None:
    first = NBGraphBenchmark("citeseer")
    second = NBGraphBenchmark("citeseer")
    assert first.table("test") is second.table("test")


def test_missing_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nas_bench_graph", None)
    with pytest.raises(BenchmarkDataMissingError, match="pip install nas-bench-graph"):
        import_wheel()
    # the uncached loader reports the same error
    with pytest.raises(BenchmarkDataMissingError, match="pip install nas-bench-graph"):
        nbg_module._dataset_tables.__wrapped__("cora")
