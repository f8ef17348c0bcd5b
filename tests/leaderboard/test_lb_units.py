"""Unit tests of the leaderboard's configuration, file format and statistics."""

import json
import os

import numpy as np
import pytest

from nasgym.leaderboard.config import (
    EnvConfig,
    LeaderboardConfig,
    check_checkpoints,
    default_checkpoints,
    derive_seeds,
    parse_checkpoints,
    parse_env_kwarg,
    parse_value,
)
from nasgym.leaderboard.errors import CorruptRunFileError, LeaderboardError
from nasgym.leaderboard.report import iqm_columns, markdown_table
from nasgym.leaderboard.store import (
    RECORD_KEYS,
    atomic_write,
    clean_temp_files,
    directory_lock,
    encode_run,
    read_run,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("0.25", 0.25),
        ("1e3", 1000.0),
        ("True", True),
        ("False", False),
        ("None", None),
        ("cifar10", "cifar10"),
        ("ImageNet16-120", "ImageNet16-120"),
        ("'7'", "7"),
        ("[1, 2]", "[1, 2]"),
        ("nan", "nan"),
        ("", ""),
    ],
)
def test_parse_value(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_env_kwarg():
    assert parse_env_kwarg("horizon=50") == ("horizon", 50)
    assert parse_env_kwarg("reward_metric=valid@12") == ("reward_metric", "valid@12")
    assert parse_env_kwarg("x=a=b") == ("x", "a=b")
    for bad in ("horizon", "=3", "1x=2", "a-b=1"):
        with pytest.raises(ValueError):
            parse_env_kwarg(bad)


def test_env_key_is_readable_and_unique():
    plain = EnvConfig("nasgym/NB201Query-v0", {"dataset": "cifar10", "horizon": 50})
    assert plain.key == "NB201Query-v0_dataset=cifar10_horizon=50"
    as_int = EnvConfig("nasgym/NB201Query-v0", {"x": 1})
    as_str = EnvConfig("nasgym/NB201Query-v0", {"x": "1"})
    as_float = EnvConfig("nasgym/NB201Query-v0", {"x": 1.0})
    keys = {as_int.key, as_str.key, as_float.key}
    assert len(keys) == 3
    odd = EnvConfig("nasgym/NB201Query-v0", {"name": "a/b c"})
    assert "/" not in odd.key and " " not in odd.key
    long = EnvConfig("nasgym/NB201Query-v0", {"name": "x" * 300})
    assert len(long.key) < 140
    assert EnvConfig.from_json(plain.to_json()) == plain
    assert plain.label == "nasgym/NB201Query-v0 (dataset=cifar10, horizon=50)"


def test_derive_seeds_is_stable_and_distinct():
    pairs = [derive_seeds(s) for s in range(200)]
    assert pairs == [derive_seeds(s) for s in range(200)]
    flat = [x for pair in pairs for x in pair]
    assert len(set(flat)) == len(flat)
    assert all(0 <= x < 2**32 for x in flat)


def test_checkpoints():
    assert default_checkpoints(300) == [25, 50, 100, 150, 300]
    assert default_checkpoints(1000) == [25, 50, 100, 150, 300, 1000]
    assert default_checkpoints(20) == [20]
    assert parse_checkpoints("100, 25,25") == [25, 100]
    for bad in ("", "a", "0", "10,-1"):
        with pytest.raises(ValueError):
            parse_checkpoints(bad)
    assert check_checkpoints([10, 20], 20) == [10, 20]
    with pytest.raises(LeaderboardError, match="exceed the budget"):
        check_checkpoints([10, 30], 20)


def test_config_differences_name_the_setting():
    env = EnvConfig("nasgym/NB201Query-v0", {"dataset": "cifar10"})
    other = EnvConfig("nasgym/NB201Query-v0", {"dataset": "cifar100"})
    stored = LeaderboardConfig((env,), 300, (25, 300))
    assert stored.differences(LeaderboardConfig((env,), 300, (25, 300))) == []
    assert (
        LeaderboardConfig.from_json(json.loads(json.dumps(stored.to_json()))) == stored
    )
    (diff,) = stored.differences(LeaderboardConfig((env,), 100, (25, 100)))
    assert "budget: 300 there, 100 here" in diff
    (diff,) = stored.differences(LeaderboardConfig((env,), 300, (50, 300)))
    assert "checkpoints" in diff
    (diff,) = stored.differences(LeaderboardConfig((other,), 300, (25, 300)))
    assert "dataset=cifar10" in diff and "dataset=cifar100" in diff


def _record(q):
    return {
        "query": q, "arch": f"a{q}", "valid": 50.0 + q, "test": 49.0 + q,
        "best_valid": 50.0 + q, "best_test": 49.0 + q, "regret": 10.0 - q,
        "sim_time_s": None, "wall_time_s": 0.001 * q,
    }  # fmt: skip


def _write_run(path, n=3):
    data = encode_run(
        {"seed": 0, "budget": n}, [_record(q) for q in range(1, n + 1)], {}
    )
    atomic_write(path, data)
    return data


def test_run_file_round_trip(tmp_path):
    path = tmp_path / "seed-0.jsonl"
    _write_run(path)
    run = read_run(path)
    assert [r["query"] for r in run.records] == [1, 2, 3]
    assert run.header["format"] == "nasgym-leaderboard-run"
    assert run.summary["records"] == 3
    assert list(run.records[0]) == list(RECORD_KEYS)
    assert os.listdir(tmp_path) == ["seed-0.jsonl"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated mid-file
        lambda b: b[: b.rfind(b"\n", 0, len(b) - 1) + 1],  # summary line missing
        lambda b: b[:-1],  # final newline missing
        lambda b: b.replace(b'"a2"', b'"a9"'),  # modified record
        lambda b: b"",
        lambda b: b"\x00\xff" * 20 + b"\n",
    ],
)
def test_damaged_run_files_are_detected(tmp_path, damage):
    path = tmp_path / "seed-0.jsonl"
    data = _write_run(path)
    path.write_bytes(damage(data))
    with pytest.raises(CorruptRunFileError, match=r"seed-0\.jsonl"):
        read_run(path)


def test_clean_temp_files(tmp_path):
    run_dir = tmp_path / "runs" / "env" / "rs"
    run_dir.mkdir(parents=True)
    stale = [run_dir / ".seed-0.jsonl.abc.tmp", tmp_path / ".leaderboard.json.x.tmp"]
    for path in stale:
        path.write_text("partial")
    keep = run_dir / "seed-1.jsonl"
    keep.write_text("x")
    assert sorted(clean_temp_files(tmp_path)) == sorted(stale)
    assert [p.name for p in run_dir.iterdir()] == ["seed-1.jsonl"]


def test_directory_lock_refuses_a_second_writer(tmp_path):
    with directory_lock(tmp_path):
        with pytest.raises(LeaderboardError, match="another 'nasgym leaderboard run'"):
            with directory_lock(tmp_path):
                pass
    with directory_lock(tmp_path):  # released
        pass


def test_iqm_columns_matches_rliable():
    from rliable import metrics

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 4, 7, 10, 101):
        scores = rng.normal(size=(n, 5))
        expected = [metrics.aggregate_iqm(scores[:, j]) for j in range(5)]
        np.testing.assert_allclose(iqm_columns(scores), expected)


def test_markdown_table_is_aligned():
    text = markdown_table(["agent", "n"], [["random", "100"], ["ls", "7"]], "lr")
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1] == "| :----- | --: |"
    assert lines[3] == "| ls     |   7 |"
