"""The on-disk caches of NAS-Bench-Graph keys and tables: used only when intact."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import nasgym.benchmarks.nbgraph as nbg_bench
import nasgym.spaces.nbgraph as nbg_space
from nasgym.data import read_table, write_table


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    return tmp_path / "nbgraph"


def direct_keys(proteins: bool) -> np.ndarray:
    return nbg_space.compute_wheel_keys(nbg_space.import_wheel(), proteins)


def only(directory: Path, prefix: str) -> Path:
    files = sorted(directory.glob(f"{prefix}-*.npz"))
    assert len(files) == 1, files
    return files[0]


@pytest.mark.parametrize("proteins", [False, True], ids=["full", "proteins"])
def test_keys_cache_written_then_used(cache: Path, proteins: bool) -> None:
    expected = direct_keys(proteins)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = nbg_space._load_wheel_keys(proteins)
        path = only(cache, f"keys-{'proteins' if proteins else 'full'}")
        stamp = path.stat().st_mtime_ns
        second = nbg_space._load_wheel_keys(proteins)
    assert np.array_equal(first, expected) and np.array_equal(second, expected)
    assert not second.flags.writeable
    assert path.stat().st_mtime_ns == stamp  # read, not rewritten
    # The file holds the keys and the wheel's fingerprint.
    arrays = read_table(path, {"keys": (expected.size,)})
    wheel = nbg_space.import_wheel()
    fingerprint = nbg_space.wheel_fingerprint(wheel)
    assert str(arrays["stamp/wheel_sha256"]) == fingerprint["wheel_sha256"]
    assert str(arrays["stamp/wheel_version"]) == fingerprint["wheel_version"]


def test_cache_dir_is_nasgym_cache_dir(cache: Path) -> None:
    nbg_space._load_wheel_keys(False)
    assert list(cache.glob("keys-full-*.npz"))
    assert not list(cache.glob("*.tmp"))  # written atomically, nothing left over


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_keys_cache_is_detected_and_rebuilt(cache: Path, damage: str) -> None:
    nbg_space._load_wheel_keys(False)
    path = only(cache, "keys-full")
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00not a table" * 100,
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    with pytest.warns(RuntimeWarning, match="damaged cache of NAS-Bench-Graph"):
        keys = nbg_space._load_wheel_keys(False)
    assert np.array_equal(keys, direct_keys(False))
    # rewritten intact: the next read is silent and equal
    assert path.read_bytes() != damaged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(nbg_space._load_wheel_keys(False), keys)


def test_checksummed_but_wrong_keys_are_refused(cache: Path) -> None:
    nbg_space._load_wheel_keys(False)
    path = only(cache, "keys-full")
    arrays = read_table(path, {})
    bad = np.array(arrays["keys"])
    bad[bad == -1] = 7  # invalid codes get a key: a consistent but wrong file
    arrays["keys"] = bad
    write_table(path, arrays)
    with pytest.warns(RuntimeWarning, match="valid codes"):
        keys = nbg_space._load_wheel_keys(False)
    assert np.array_equal(keys, direct_keys(False))


def test_changed_wheel_gets_its_own_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbg_space._load_wheel_keys(False)
    before = only(cache, "keys-full")
    real = nbg_space.wheel_fingerprint

    def edited(wheel: object) -> dict[str, str]:
        return {**real(wheel), "wheel_sha256": "0" * 64}  # type: ignore[arg-type]

    monkeypatch.setattr(nbg_space, "wheel_fingerprint", edited)
    calls: list[bool] = []
    compute = nbg_space.compute_wheel_keys

    def counted(wheel: object, proteins: bool = False) -> np.ndarray:
        calls.append(proteins)
        return compute(wheel, proteins)  # type: ignore[arg-type]

    monkeypatch.setattr(nbg_space, "compute_wheel_keys", counted)
    keys = nbg_space._load_wheel_keys(False)
    assert calls == [False]  # recomputed for the "new" wheel, not read
    assert np.array_equal(keys, direct_keys(False))
    assert len(list(cache.glob("keys-full-*.npz"))) == 2 and before.is_file()


def test_unwritable_cache_dir_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(blocker))  # cache dir cannot be made
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keys = nbg_space._load_wheel_keys(False)
    assert np.array_equal(keys, direct_keys(False))


def test_tables_cache_equals_wheel_and_detects_damage(cache: Path) -> None:
    wheel = nbg_space.import_wheel()
    fresh = nbg_bench._read_wheel_tables(wheel, "citeseer")
    nbg_bench._dataset_tables.cache_clear()
    try:
        built = nbg_bench._dataset_tables("citeseer")  # writes the cache
        path = only(cache, "tables-citeseer")
        nbg_bench._dataset_tables.cache_clear()
        read = nbg_bench._dataset_tables("citeseer")  # reads it
        for metric, table in fresh.items():
            np.testing.assert_array_equal(built[metric], table)
            np.testing.assert_array_equal(read[metric], table)
            assert not read[metric].flags.writeable
        arrays = read_table(path, {})
        assert len(str(arrays["stamp/bench_sha256"])) == 64
        path.write_bytes(path.read_bytes()[:1000])
        nbg_bench._dataset_tables.cache_clear()
        with pytest.warns(RuntimeWarning, match="damaged cache"):
            again = nbg_bench._dataset_tables("citeseer")
        for metric, table in fresh.items():
            np.testing.assert_array_equal(again[metric], table)
    finally:
        nbg_bench._dataset_tables.cache_clear()


def test_tables_cache_follows_the_data_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbg_bench._dataset_tables.cache_clear()
    try:
        nbg_bench._dataset_tables("citeseer")
        monkeypatch.setattr(nbg_bench, "sha256_file", lambda path: "f" * 64)
        nbg_bench._dataset_tables.cache_clear()
        nbg_bench._dataset_tables("citeseer")
        assert len(list(cache.glob("tables-citeseer-*.npz"))) == 2
    finally:
        nbg_bench._dataset_tables.cache_clear()
