"""Cost data per architecture: HW-NAS-Bench-360 on NB201, NAS-Bench-Graph costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym  # noqa: F401
from nasgym.benchmarks import hw360
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.datastore import format_status, import_data, status
from nasgym.error import BenchmarkDataMissingError, CorruptDataError, UnknownOptionError

try:
    from conftest import missing_data  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    from tests.conftest import missing_data

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def hw_table(data_root: Path, nb201_table: Path) -> Path:
    """HW-NAS-Bench-360 imported into the session cache (beside nb201.npz)."""
    source = data_root / "hw-nas-bench-360"
    if not (source / hw360.SOURCE_FILE).is_file():
        missing_data(f"{source / hw360.SOURCE_FILE} is not a file")
    paths = import_data("hw-nas-bench-360", source)
    assert paths == [nb201_table.parent / hw360.TABLE_FILE]
    return paths[0]


def _nb201(dataset: str = "cifar100") -> Any:
    from nasgym.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark(dataset)


def test_index_mapping_matches_nats_bench(hw_table: Path) -> None:
    """The file's cifar100 accuracy is NATS-Bench's 200-epoch test accuracy."""
    bench = _nb201()
    table = hw360.load_table(hw_table)
    by_code = np.empty(hw360.NUM_ARCHS)
    by_code[bench.index_to_code] = table.arrays["cifar100/accuracy"]
    diff = np.abs(by_code - bench.table("test@200"))
    assert int((diff < 1e-4).sum()) == 13_139  # 13,139 of 15,625 agree
    assert float(diff.max()) < 2.93
    # A shifted mapping would agree almost nowhere.
    assert (
        int((np.abs(np.roll(by_code, 1) - bench.table("test@200")) < 1e-4).sum()) < 500
    )


def test_costs_and_units(hw_table: Path) -> None:
    bench = _nb201("cifar10")  # every dataset reads the cifar100 task
    costs = bench.costs()
    assert {n: c.unit for n, c in costs.items() if ":" in n} == {
        "latency:pi5-litert": "ms",
        "latency:pi5-onnx": "ms",
        "latency:pi5-torchmobile": "ms",
        "latency:pixel-litert": "ms",
        "energy:pi5-litert": "mJ",
        "energy:pi5-onnx": "mJ",
        "energy:pi5-torchmobile": "mJ",
    }
    latency = bench.cost_table("latency:pi5-litert")
    assert latency.shape == (15_625,) and np.isfinite(latency).all()
    # Median over the cifar100 task rows of the source (docs/data.md#hw-nas-bench-360
    # lists 4.20 ms
    # over all three tasks).
    assert float(np.median(latency)) == pytest.approx(3.2615, abs=1e-3)
    index = int(bench.code_to_index[int(np.argmin(latency))])
    assert float(latency.min()) == pytest.approx(
        float(
            hw360.load_table(hw_table).arrays["cifar100/latency_ms/pi5-litert"][index]
        )
    )


def test_missing_costs_are_errors(
    hw_table: Path, data_root: Path, tmp_path: Path
) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark, import_nb201

    bench = _nb201()
    with pytest.raises(UnknownOptionError, match="'latency:pi5-litert'"):
        bench.cost_table("energy:pixel-litert")  # never measured on the Pixel
    with pytest.raises(UnknownOptionError, match="has no cost objective 'power'"):
        bench.cost_table("power")
    # The staged NATS-Bench archive holds FLOPs for 3 cells only: not offered.
    if not (data_root / "nats-bench").is_dir():
        missing_data(f"{data_root / 'nats-bench'} is not a directory")
    table = import_nb201(data_root, dest=tmp_path / "nb201.npz")
    merged = NB201Benchmark("cifar100", path=table, hw_path=hw_table)
    assert merged.coverage("flops_m") == 3
    assert "flops" not in merged.costs() and "latency:pi5-litert" in merged.costs()
    with pytest.raises(BenchmarkDataMissingError, match="covers only 3 of 15,625"):
        merged.cost_table("flops")


def test_missing_hw_table_says_how_to_import(nb201_table: Path, tmp_path: Path) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark

    bench = NB201Benchmark("cifar100", hw_path=tmp_path / "absent.npz")
    with pytest.raises(BenchmarkDataMissingError, match="data import hw-nas-bench-360"):
        bench.cost_table("latency:pi5-litert")


def test_bad_source_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / hw360.SOURCE_FILE
    bad.write_bytes(b"not parquet")
    with pytest.raises(CorruptDataError, match="Parquet"):
        hw360.import_hw360(bad, dest=tmp_path / "out.npz")
    with pytest.raises(BenchmarkDataMissingError, match="no HW-NAS-Bench-360 file"):
        hw360.import_hw360(tmp_path / "nowhere")


def test_status_lists_costs(hw_table: Path) -> None:
    rows = {row["name"]: row for row in status()}
    assert rows["hw-nas-bench-360"]["present"]
    assert "latency:pi5-litert (ms)" in rows["nb201"]["costs"]
    assert rows["nbgraph"]["costs"] == ["latency (s)", "params (M)"]
    assert rows["nb301"]["costs"] == ["train_time (s, predicted)"]
    assert "costs  latency:pi5-litert (ms)" in format_status(list(rows.values()))


def test_nb201_env_with_pi5_latency(hw_table: Path) -> None:
    names = ["valid_accuracy", "latency:pi5-litert"]
    env: Any = gym.make(
        "nasgym/NB201Query-v0",
        dataset="cifar100",
        objectives=names,
        disable_env_checker=True,
    )
    bench = env.unwrapped.benchmark
    latency = bench.cost_table("latency:pi5-litert")
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(10):
        _, reward, _, _, info = env.step(env.action_space.sample())
        code = info["arch_code"]
        assert info["objectives"]["latency:pi5-litert"] == latency[code]
        expected = -(latency[code] - latency.min()) / np.ptp(latency)
        assert reward[1] == pytest.approx(expected, rel=1e-6)
    front = env.unwrapped.objective_table(accuracy="test")
    assert front.shape == (15_625, 2)
    np.testing.assert_array_equal(front[:, 0], bench.table("test@200"))


def test_nbgraph_costs_match_the_wheel() -> None:
    wheel = pytest.importorskip("nas_bench_graph")
    bench = NBGraphBenchmark("citeseer")
    raw = wheel.light_read("citeseer")
    latency, params = bench.cost_table("latency"), bench.cost_table("params")
    assert np.isfinite(latency[bench.space.valid_mask]).all()
    codes = bench.space.valid_codes[::5000]
    from nasgym.spaces.nbgraph import wheel_keys

    keys = wheel_keys(False)
    for code in codes:
        entry = raw[int(keys[code])]
        assert latency[code] == pytest.approx(entry["latency"])
        assert params[code] == pytest.approx(entry["para"])
