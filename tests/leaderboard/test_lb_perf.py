"""The leaderboard's fast paths give what the slow ones gave, and see new installs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
import types
from importlib import metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasgym import _metadata
from nasgym.leaderboard import execute, perf, store
from nasgym.leaderboard.agents import registered_agents
from nasgym.leaderboard.execute import package_versions
from nasgym.leaderboard.protocol import ENTRY_POINT_GROUP, agent_entry_points
from nasgym.leaderboard.store import (
    OPTIONAL_RECORD_KEYS,
    RECORD_KEYS,
    DirectorySync,
    atomic_write,
    encode_run,
    read_run,
)
from nasgym.wrappers.query_log import QueryRecord

AGENT = "cachetest_agent"


def _install(site, dist="cachetest", agent=AGENT):
    """A ``.dist-info`` declaring one agent, the way an installer leaves it."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n"
    (info / "METADATA").write_text(meta)
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{agent} = nasgym_agents.baselines.random_search:"
        "RandomSearch\n"
    )
    return info


def _age(path):
    """Set ``path``'s modification time to a fixed past one (no clock can tie)."""
    os.utime(path, (1_000_000_000, 1_000_000_000))


def test_entry_point_cache_sees_an_install_into_a_known_directory(
    tmp_path, monkeypatch
):
    site = tmp_path / "site"
    site.mkdir()
    _age(site)
    monkeypatch.syspath_prepend(str(site))
    assert AGENT not in agent_entry_points()  # cached, with site on sys.path
    _install(site)  # changes site's modification time, as pip does
    assert AGENT in agent_entry_points()
    assert AGENT in registered_agents()


def test_entry_point_cache_sees_a_new_sys_path_directory(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    assert AGENT not in agent_entry_points()
    monkeypatch.syspath_prepend(str(site))
    assert AGENT in agent_entry_points()
    monkeypatch.undo()
    assert AGENT not in agent_entry_points()  # sys.path restored: key restored


def test_an_edit_inside_a_dist_info_needs_refresh(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    info = _install(site)
    _age(site)
    monkeypatch.syspath_prepend(str(site))
    assert AGENT in agent_entry_points()
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nrenamed_agent = nasgym_agents.baselines."
        "random_search:RandomSearch\n"
    )
    _age(site)  # an edit in place changes no listing of a sys.path directory
    assert AGENT in agent_entry_points()  # documented: stale until refresh()
    _metadata.refresh()
    names = agent_entry_points()
    assert "renamed_agent" in names and AGENT not in names


def test_entry_points_are_read_once_while_nothing_changes(monkeypatch):
    calls = []
    real = metadata.entry_points

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    _metadata.refresh()
    monkeypatch.setattr(metadata, "entry_points", counting)
    first = agent_entry_points()
    for _ in range(5):
        assert agent_entry_points() == first
    assert calls == [{"group": ENTRY_POINT_GROUP}]
    assert set(first) == {ep.name for ep in real(group=ENTRY_POINT_GROUP)}


def test_package_versions_match_the_metadata():
    for name, found in package_versions().items():
        try:
            expected: str | None = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = None
        assert found == expected, name


_finite = st.floats(allow_nan=False, allow_infinity=False)


def _query_records(number: st.SearchStrategy[float]) -> st.SearchStrategy[QueryRecord]:
    """QueryRecords whose numbers come from ``number`` (wall times finite)."""
    return st.builds(
        QueryRecord,
        query=st.integers(1, 10**6),
        arch=st.text(),
        valid=number,
        test=number,
        best_valid=number,
        best_test=number,
        regret=number,
        sim_time_s=st.none() | number,
        wall_time_s=_finite,
    )


_records = _query_records(_finite)


@given(_records)
def test_query_record_to_dict_equals_asdict(record):
    fast = record.to_dict()
    slow = dataclasses.asdict(record)
    assert fast == slow
    assert list(fast) == list(slow)  # the same key order: the same JSON bytes


def _old_encode_run(header, records, summary):
    """``encode_run`` as it was before the fast path (the reference bytes)."""

    def dumps(value):
        return json.dumps(value, allow_nan=False, separators=(", ", ": "))

    head = {"type": "header", "format": store.RUN_FORMAT, "format_version": 1}
    head.update(header)
    lines = [dumps(head)]
    lines.extend(
        dumps(
            {
                key: record[key]
                for key in (*RECORD_KEYS, *OPTIONAL_RECORD_KEYS)
                if key in RECORD_KEYS or key in record
            }
        )
        for record in records
    )
    body = ("\n".join(lines) + "\n").encode()
    tail = {"type": "summary", **summary, "records": len(records)}
    tail["sha256"] = hashlib.sha256(body).hexdigest()
    return body + (dumps(tail) + "\n").encode()


@given(st.lists(_records, max_size=8), st.booleans(), st.booleans())
def test_encode_run_bytes_equal_the_previous_encoder(records, objectives, shuffle):
    rows = []
    for r in records:
        row = r.to_dict()
        if objectives:
            row["objectives"] = {"latency": r.valid, "params": 3}
            row["constraint_violated"] = r.query % 2 == 0
        if shuffle:
            row = dict(reversed(list(row.items())))
        rows.append(row)
    header = {"seed": 0, "arch": "é", "nan_free": [1.5, None]}
    summary = {"queries": len(rows), "best": None}
    assert encode_run(header, rows, summary) == _old_encode_run(header, rows, summary)


_raw_records = _query_records(
    st.floats() | st.sampled_from([0.0, -0.0, math.inf, -math.inf])
)


@given(st.lists(_raw_records, max_size=8))
def test_query_lines_equal_the_record_dicts_encoding(records):
    # The harness writes a run's records with query_line straight from its
    # QueryRecords; the bytes must be those of the dicts execute._records builds
    # (non-finite numbers as None) encoded by encode_run.
    log = types.SimpleNamespace(records=records, values={}, record_fields=None)
    dicts = execute._records(log)
    header, summary = {"seed": 1}, {"queries": len(records)}
    lines = [store.query_line(r.as_tuple()) for r in records]
    fast = encode_run(header, None, summary, lines=lines)
    assert fast == encode_run(header, dicts, summary)
    assert fast == _old_encode_run(header, dicts, summary)


def test_query_line_refuses_a_non_finite_wall_time():
    record = QueryRecord(1, "a", 0.5, 0.5, 0.5, 0.5, 0.0, None, math.inf)
    with pytest.raises(ValueError, match="wall_time_s"):
        store.query_line(record.as_tuple())


def test_encode_run_takes_records_or_lines():
    with pytest.raises(TypeError, match="not both"):
        encode_run({}, [], {}, lines=[])
    with pytest.raises(TypeError, match="needs records or lines"):
        encode_run({}, None, {})


@given(_raw_records)
def test_query_record_as_tuple_equals_astuple(record):
    assert record.as_tuple() == dataclasses.astuple(record)


def test_run_file_round_trip_through_the_fast_encoder(tmp_path):
    rows = [
        QueryRecord(q, f"a{q}", 0.5, 0.4, 0.5, 0.4, 0.1, None, 0.01 * q).to_dict()
        for q in range(1, 6)
    ]
    path = tmp_path / "runs" / "e" / "a" / "seed-0.jsonl"
    atomic_write(path, encode_run({"seed": 0}, rows, {"queries": 5}))
    run = read_run(path)
    assert run.records == rows
    assert [list(r) for r in run.records] == [list(RECORD_KEYS)] * 5


def test_encode_run_refuses_non_finite_numbers():
    row = QueryRecord(1, "a", math.nan, 0.0, 0.0, 0.0, 0.0, None, 0.0).to_dict()
    with pytest.raises(ValueError):
        encode_run({}, [row], {})


def test_directory_sync_syncs_each_directory_once_per_interval(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(store, "_fsync_directory", synced.append)
    sync = DirectorySync(interval_s=3600.0)
    paths = [tmp_path / d / f"seed-{i}.jsonl" for d in "ab" for i in range(3)]
    for path in paths:
        atomic_write(path, b"x", sync_directory=False)
        sync.add(path)
    assert synced == []  # files written, their bytes synced; directories pending
    assert all(p.read_bytes() == b"x" for p in paths)
    sync.flush()
    assert synced == [tmp_path / "a", tmp_path / "b"]
    sync.flush()
    assert len(synced) == 2  # nothing new to sync


def test_directory_sync_syncs_after_the_interval_without_more_files(
    tmp_path, monkeypatch
):
    synced = []
    monkeypatch.setattr(store, "_fsync_directory", synced.append)
    sync = DirectorySync(interval_s=0.05)
    sync.add(tmp_path / "a" / "seed-0.jsonl")
    deadline = time.monotonic() + 10
    while not synced and time.monotonic() < deadline:
        time.sleep(0.01)
    assert synced == [tmp_path / "a"]  # the timer did it: no later add needed
    sync.flush()
    assert synced == [tmp_path / "a"]


def test_atomic_write_syncs_its_directory_by_default(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(store, "_fsync_directory", synced.append)
    atomic_write(tmp_path / "f", b"y")
    assert synced == [tmp_path]


def test_measure_backend_times_the_workers(tmp_path):
    m = perf.measure_backend("local", runs=4, workers=1, budget=20)
    assert m["runs"] == 4 and m["cold_runs"] == 1
    assert 0.0 < m["agent_share"] < m["warm_agent_share"] <= 1.0
    assert 0.0 < m["agent_s"] < m["worker_s"] < m["wall_s"]


def test_leaderboard_rows_carry_the_targets(monkeypatch):
    fake = {
        "local": {
            "warm_agent_share": 0.8,
            "agent_share": 0.6,
            "agent_run_s": 0.007,
            "warm_run_s": 0.009,
            "cold_runs": 2,
            "cold_run_s": 0.5,
            "wall_s": 2.0,
            "runs": 200,
            "utilisation": 0.3,
        }
    }
    fake["ray-session"] = dict(fake["local"], warm_agent_share=0.7)
    fake["ray"] = dict(fake["local"], wall_s=7.0)
    fake["ray_vs_local"], fake["ray_session_vs_local"] = 3.5, 1.1
    monkeypatch.setattr(perf, "measure_leaderboard", lambda **kwargs: fake)
    rows = {r.name: r for r in perf.leaderboard_rows(quick=False)}
    warm = rows["agent.run share of worker time, warm runs (local)"]
    assert (warm.value, warm.status) == (80.0, "pass")
    ray_warm = "agent.run share of worker time, warm runs (ray, running cluster)"
    assert rows[ray_warm].status == "fail"
    assert rows["wall time ray / local (running cluster)"].status == "pass"
    assert rows["wall time ray / local (own cluster)"].status == "info"


def test_perf_leaderboard_flag_measures_only_the_harness(monkeypatch, capsys):
    from nasgym.cli import main

    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        row = {
            "warm_agent_share": 0.9,
            "agent_share": 0.5,
            "agent_run_s": 0.007,
            "warm_run_s": 0.008,
            "cold_runs": 2,
            "cold_run_s": 0.4,
            "wall_s": 1.0,
            "runs": 40,
            "utilisation": 0.3,
        }
        return {
            "local": row,
            "ray": row,
            "ray-session": row,
            "ray_vs_local": 2.0,
            "ray_session_vs_local": 1.0,
        }

    monkeypatch.setattr(perf, "measure_leaderboard", fake)
    assert main(["perf", "--leaderboard", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "== leaderboard harness" in out and "== env steps" not in out
    assert "wall time ray / local (running cluster)" in out
    assert (seen["runs"], seen["budget"]) == (40, 100)  # quick: a smoke run


def test_scaling_readme_is_what_its_script_renders():
    import importlib.util

    from lb_helpers import ROOT

    here = ROOT / "docs" / "results" / "leaderboard-scaling"
    spec = importlib.util.spec_from_file_location("lb_scaling", here / "measure.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = json.loads((here / "results.json").read_text())
    assert (here / "README.md").read_text() == module.render(results)
