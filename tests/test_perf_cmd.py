"""Smoke test of the ``nasgym perf`` machinery: structure only, never speed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nasgym.perf import (
    NB101_EPOCHS,
    NB101_REPEATS,
    NB301_PREDICT_BATCHES,
    SECTIONS,
    format_report,
    run_perf,
    write_synthetic_nb101_table,
)

ENV_ID = "nasgym/NBGraphQuery-v0"
GRAPH_ENV_IDS = ["nasgym/NB301Query-v0", "nasgym/NB101Query-v0"]
STATUSES = {"pass", "fail", "info", "skip", "error"}
MEASURED = {"info", "pass", "fail"}


@pytest.fixture(scope="module")
def perf_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("perf") / "perf.json"
    return run_perf(quick=True, envs=[ENV_ID], out=out), out


@pytest.fixture(scope="module")
def graph_run(nb301_surrogate: Any) -> dict[str, Any]:
    """A quick run over the NB301 and NB101 envs (with the real NB301 surrogate)."""
    return run_perf(quick=True, envs=GRAPH_ENV_IDS, steps=300)


def check_structure(results: dict[str, Any]) -> None:
    assert set(results) >= {"host", "config", "rows", "summary", "wall_s"}
    host = results["host"]
    for key in ("python", "cpu_count", "numpy", "gymnasium", "nasgym"):
        assert host[key] is not None, key
    assert results["config"]["quick"] is True
    rows = results["rows"]
    assert rows
    for row in rows:
        assert set(row) == {
            "section",
            "name",
            "value",
            "unit",
            "target",
            "status",
            "note",
        }
        assert row["section"] in SECTIONS
        assert row["status"] in STATUSES
        assert isinstance(row["name"], str) and row["name"]
        assert isinstance(row["unit"], str)
        if row["status"] in {"skip", "error"}:
            assert row["value"] is None and row["note"]
        else:
            assert isinstance(row["value"], float)
        if row["target"] is not None:
            assert row["target"]["op"] in {">=", "<"}
            assert isinstance(row["target"]["value"], float)
        if row["status"] in {"pass", "fail"}:
            assert row["target"] is not None
    summary = results["summary"]
    assert sum(summary.values()) == len(rows)
    assert summary["error"] == 0, [r for r in rows if r["status"] == "error"]


def test_results_structure(perf_run: tuple[dict[str, Any], Path]) -> None:
    results, _ = perf_run
    check_structure(results)
    assert results["config"]["envs"] == [ENV_ID]


def test_sections_cover_the_selected_env(perf_run: tuple[dict[str, Any], Path]) -> None:
    results, _ = perf_run
    by_name = {row["name"]: row for row in results["rows"]}
    measured = {
        "CartPole-v1",
        "NBGraphQuery-v0",
        "NBGraphQuery-v0 / CartPole",
        "NBGraphQuery-v0 make+reset",
        "NBGraph/cora query(arch)",
        "NBGraph/cora query_codes(all)",
        "NBGraph/cora table load",
    }
    for name in measured:
        assert by_name[name]["status"] in {"info", "pass", "fail"}, by_name[name]
    assert any(name.endswith("batched / sync") for name in by_name)
    # Only the benchmark behind the selected env is measured.
    assert not any(name.startswith(("NB201", "nats_bench")) for name in by_name)
    sections = {row["section"] for row in results["rows"]}
    assert sections == {"env", "vector", "query", "load"}


def test_json_written(perf_run: tuple[dict[str, Any], Path]) -> None:
    results, out = perf_run
    assert json.loads(out.read_text(encoding="utf-8")) == results


def test_format_report_renders(perf_run: tuple[dict[str, Any], Path]) -> None:
    results, _ = perf_run
    text = format_report(results)
    assert "python" in text and "numpy" in text and "gymnasium" in text
    for row in results["rows"]:
        assert row["name"] in text
    lines = text.splitlines()
    headers = [line for line in lines if line.strip().startswith("name")]
    assert len(headers) == 4
    # Columns line up: every value ends where the header's "value" column ends.
    header = headers[0]
    value_end = header.index("value") + len("value")
    row_lines = [line for line in lines if line.startswith("  NBGraph")]
    assert row_lines
    for line in row_lines:
        assert line[value_end] == " " and line[value_end - 1] != " "


def test_skipped_rows_render() -> None:
    results: dict[str, Any] = {
        "host": {},
        "config": {"quick": True},
        "rows": [
            {
                "section": "load",
                "name": "NB201/cifar10 table load",
                "value": None,
                "unit": "s",
                "target": {"op": "<", "value": 1.0},
                "status": "skip",
                "note": "NB201 table nb201.npz not found",
            }
        ],
        "summary": {"skip": 1},
        "wall_s": 0.0,
    }
    text = format_report(results)
    assert "SKIP" in text and "nb201.npz not found" in text and "< 1.00 s" in text


def test_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        run_perf(steps=0, envs=[ENV_ID])


def test_rejects_unknown_env() -> None:
    with pytest.raises(ValueError, match="NoSuchEnv"):
        run_perf(quick=True, envs=["NoSuchEnv-v0"])


def test_short_ids_resolve() -> None:
    from nasgym.perf import resolve_env_id

    assert resolve_env_id("NBGraphQuery-v0") == ENV_ID
    assert resolve_env_id("CartPole-v1") == "CartPole-v1"


# ------------------------------------------------ NB301 surrogate, full NB101 table
@pytest.mark.data
def test_graph_run_structure(graph_run: dict[str, Any]) -> None:
    check_structure(graph_run)
    assert graph_run["config"]["envs"] == GRAPH_ENV_IDS
    sections = {row["section"] for row in graph_run["rows"]}
    assert sections == {"env", "vector", "surrogate", "load"}
    text = format_report(graph_run)
    for row in graph_run["rows"]:
        assert row["name"] in text


@pytest.mark.data
def test_graph_vector_rows_measure_the_model_ceiling(graph_run: dict[str, Any]) -> None:
    # The NB301 vector env batches its surrogate calls: besides batched / sync,
    # the report gives the ceiling of that ratio (sync step time over the batched
    # model call's time per env-step) and the model call's share of a step.
    by_name = {row["name"]: row for row in graph_run["rows"]}
    size = graph_run["config"]["vector_sizes"][0]
    ratio = by_name[f"NB301Query-v0 x{size} batched / sync"]
    assert ratio["status"] in MEASURED and ratio["value"] > 0
    ceiling = by_name[f"NB301Query-v0 x{size} ceiling: sync step / batched model time"]
    assert ceiling["status"] == "info" and ceiling["value"] > 0
    assert "% of a batched step" in ceiling["note"]
    # NB101's vector env has no shared model call: no ceiling row.
    assert not any(n.startswith("NB101Query-v0") and "ceiling" in n for n in by_name)


@pytest.mark.data
def test_surrogate_rows_measured(graph_run: dict[str, Any]) -> None:
    by_name = {row["name"]: row for row in graph_run["rows"]}
    assert by_name["NB301 surrogate load"]["status"] == "info"
    for n in NB301_PREDICT_BATCHES:
        row = by_name[f"NB301 predict x{n:,}"]
        # A target row: PASS or FAIL is the command's verdict, never the test's.
        assert row["status"] in {"pass", "fail"}, row
        assert row["unit"] == "archs/s" and row["value"] > 0
        assert row["target"] == {"op": ">=", "value": 20_000.0}
        assert f"batch of {n:,}" in row["note"]


@pytest.mark.data
def test_nb101_load_rows_measured(graph_run: dict[str, Any]) -> None:
    by_name = {row["name"]: row for row in graph_run["rows"]}
    names = (
        "NB101 table load",
        "NB101 table RSS increase",
        "NB101 table + first query",
        "NB101 table + first query RSS",
    )
    for name in names:
        assert by_name[name]["status"] in MEASURED, by_name[name]
    # The session's cache holds no imported nb101.npz: a quick run times a small
    # synthetic table, labelled so, and keeps the full-size targets off its rows.
    build = by_name["NB101 synthetic table build"]
    assert build["status"] == "info"
    assert "SYNTHETIC" in build["note"] and "only to time the loader" in build["note"]
    assert "SYNTHETIC" in by_name["NB101 table load"]["note"]
    for name in names:
        assert by_name[name]["target"] is None
    assert "20,000 cells" in by_name["NB101 table load"]["note"]


def test_surrogate_rows_skip_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasgym.perf import _scale, _surrogate_rows

    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    rows = _surrogate_rows(_scale(100, quick=True))
    assert [r.name for r in rows] == ["NB301 surrogate load"] + [
        f"NB301 predict x{n:,}" for n in NB301_PREDICT_BATCHES
    ]
    for row in rows:
        assert row.status == "skip" and row.value is None
        assert "NB301 surrogate files missing" in row.note, row.note
    assert rows[1].target == {"op": ">=", "value": 20_000.0}
    monkeypatch.delenv("NASGYM_DATA_DIR")
    rows = _surrogate_rows(_scale(100, quick=True))
    assert all("NASGYM_DATA_DIR is not set" in r.note for r in rows)


def test_synthetic_nb101_table_is_a_full_format_table(tmp_path: Path) -> None:
    import numpy as np

    from nasgym.benchmarks.nb101 import NB101Benchmark, load_table

    path = write_synthetic_nb101_table(tmp_path / "nb101.npz", 600, distinct_cells=50)
    table = load_table("full", path)  # the loader's own checks pass
    assert len(table) == 600
    assert table.kind == "full" and table.epochs == NB101_EPOCHS
    for name in ("valid", "test", "train_time_s", "run_group"):
        assert table.arrays[name].shape == (600, len(NB101_EPOCHS), NB101_REPEATS)
    assert table.arrays["valid"].dtype == np.float32
    assert table.arrays["hash"].shape == (600, 16)
    assert table.sources[0]["kind"] == "synthetic"
    bench = NB101Benchmark("full", path=path)
    cell = table.cell(123)
    value = bench.query(cell, "valid@108")
    assert 10.0 <= value <= 95.0
    runs = bench.query(cell, "test@4", repeat="all")
    assert runs.shape == (NB101_REPEATS,) and not np.isnan(runs).any()
