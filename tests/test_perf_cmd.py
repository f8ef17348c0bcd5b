"""Smoke test of the ``nasgym perf`` machinery: structure only, never speed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nasgym.perf import SECTIONS, format_report, run_perf

ENV_ID = "nasgym/NBGraphQuery-v0"
STATUSES = {"pass", "fail", "info", "skip", "error"}


@pytest.fixture(scope="module")
def perf_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("perf") / "perf.json"
    return run_perf(quick=True, envs=[ENV_ID], out=out), out


def test_results_structure(perf_run: tuple[dict[str, Any], Path]) -> None:
    results, _ = perf_run
    assert set(results) >= {"host", "config", "rows", "summary", "wall_s"}
    host = results["host"]
    for key in ("python", "cpu_count", "numpy", "gymnasium", "nasgym"):
        assert host[key] is not None, key
    assert results["config"]["envs"] == [ENV_ID]
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
