"""Data errors say what is wrong and where to read more (issue 15.15, 15.20, anchors).

Every "missing file", "table not found" and corrupt-file error ends with the section of
the data page (``docs/data.md#<anchor>``) of its benchmark.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import nasgym  # noqa: F401  (registers the envs)
from nasgym.benchmarks import hw360, nb101, nb201, nb301, tfrecord
from nasgym.error import (
    DATA_PAGE_ANCHORS,
    BenchmarkDataMissingError,
    CorruptDataError,
    data_page,
)

ANCHORS = {
    "nbgraph": "nas-bench-graph",
    "nb201": "nas-bench-201",
    "nb101": "nas-bench-101",
    "ecnas": "ec-nas-bench",
    "hw-nas-bench-360": "hw-nas-bench-360",
    "nb301": "nas-bench-301",
    "ofa": "once-for-all-mobilenetv3",
    "zero-cost": "zero-cost-proxy-scores",
}


def test_the_anchors_of_the_data_page() -> None:
    assert DATA_PAGE_ANCHORS == ANCHORS
    assert data_page("ecnas") == "see docs/data.md#ec-nas-bench"


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(cache))
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path / "data"))
    return cache


def _junk(path: Path) -> Path:
    path.write_bytes(b"\x00not what nasgym expects\xff" * 10)
    return path


def _cases(tmp: Path) -> dict[str, tuple[str, Callable[[], Any]]]:
    """``case -> (benchmark, call that raises)`` with an empty cache under ``tmp``."""
    return {
        "nb201 table missing": ("nb201", lambda: nb201.load_table()),
        "nb201 table corrupt": (
            "nb201",
            lambda: nb201.load_table(_junk(tmp / "a.npz")),
        ),
        "nb201 import missing": ("nb201", lambda: nb201.import_nb201(tmp / "nowhere")),
        "nb201 archive corrupt": (
            "nb201",
            lambda: nb201.import_nats_archive(_archive(tmp), dest=tmp / "x.npz"),
        ),
        "nb101 table missing": ("nb101", lambda: nb101.load_table("full")),
        "nb101 table corrupt": (
            "nb101",
            lambda: nb101.load_table("full", _junk(tmp / "nb101.npz")),
        ),
        "nb101 import not tfrecord": (
            "nb101",
            lambda: nb101.import_nb101_tfrecord(_junk(tmp / "x.tfrecord")),
        ),
        "ecnas table missing": ("ecnas", lambda: nb101.load_table("ecnas")),
        "ecnas import corrupt": (
            "ecnas",
            lambda: nb101.import_ecnas(_junk(tmp / "e.tar.xz")),
        ),
        "hw360 table missing": ("hw-nas-bench-360", lambda: hw360.load_table()),
        "hw360 table corrupt": (
            "hw-nas-bench-360",
            lambda: hw360.load_table(_junk(tmp / "hw360.npz")),
        ),
        "nb301 files missing": ("nb301", lambda: nb301.NB301Surrogate(tmp)),
        "nb301 file corrupt": ("nb301", lambda: _corrupt_surrogate(tmp)),
        "naslib reference missing": (
            "zero-cost",
            lambda: nb101._reference_path(tmp / "nope.json.xz"),
        ),
    }


def _archive(tmp: Path) -> Path:
    archive = tmp / "NATS-tss-v1_0-3ffb9-simple"
    archive.mkdir(exist_ok=True)
    _junk(archive / "meta.pickle.pbz2")
    return archive


def _corrupt_surrogate(tmp: Path) -> Any:
    directory = tmp / "surrogate"
    directory.mkdir(exist_ok=True)
    for name in nb301.REQUIRED_FILES:
        _junk(directory / name)
    return nb301.NB301Surrogate(directory, verify=False)


CASES = list(_cases(Path("/unused")))


@pytest.mark.parametrize("case", CASES)
def test_every_data_error_ends_with_its_data_page(
    case: str, tmp_path: Path, empty_cache: Path
) -> None:
    benchmark, call = _cases(tmp_path)[case]
    with pytest.raises((BenchmarkDataMissingError, CorruptDataError)) as err:
        call()
    assert str(err.value).endswith(f"see docs/data.md#{ANCHORS[benchmark]}"), str(
        err.value
    )


def test_status_rows_point_to_the_data_page(empty_cache: Path) -> None:
    from nasgym.datastore import status

    for row in status():
        if row["name"] in ("nbgraph",) or row["present"]:
            continue
        assert "docs/data.md#" in row["error"], row


def test_nb101_import_of_another_file_says_not_a_tfrecord(tmp_path: Path) -> None:
    path = tmp_path / "nasbench_only108.tfrecord"
    path.write_text('{"this": "is json"}\n')
    with pytest.raises(CorruptDataError, match="is not a TFRecord file"):
        nb101.import_nb101_tfrecord(path, dest=tmp_path / "nb101.npz")
    # A real TFRecord file still reads.
    good = tmp_path / "good.tfrecord"
    tfrecord.write_records(good, [b"abc", b""])
    assert list(tfrecord.iter_records(good)) == [b"abc", b""]


# ------------------------------------------------ a directory at the table's path
@pytest.mark.parametrize(
    ("load", "name"),
    [
        (lambda: nb201.load_table(), nb201.TABLE_FILE),
        (lambda: nb101.load_table("full"), nb101.TABLE_FILES["full"]),
        (lambda: nb101.load_table("ecnas"), nb101.TABLE_FILES["ecnas"]),
        (lambda: hw360.load_table(), hw360.TABLE_FILE),
    ],
    ids=["nb201", "nb101", "ecnas", "hw360"],
)
def test_a_directory_at_the_table_path_is_named(
    empty_cache: Path, load: Callable[[], Any], name: str
) -> None:
    (empty_cache / name).mkdir()
    with pytest.raises(BenchmarkDataMissingError) as err:
        load()
    assert f"{empty_cache / name} (a directory is there, not a table file" in str(
        err.value
    )


def test_explicit_directory_path_is_named(tmp_path: Path) -> None:
    (tmp_path / nb201.TABLE_FILE).mkdir()
    with pytest.raises(BenchmarkDataMissingError, match="a directory is there"):
        nb201.load_table(tmp_path)


# ----------------------------------------------- NB101 with only EC-NAS imported
@pytest.mark.data
def test_nb101_missing_table_mentions_the_imported_ecnas(
    ecnas_bench: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(ecnas_bench._path, cache / nb101.TABLE_FILES["ecnas"])
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(cache))
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(BenchmarkDataMissingError) as err:
        gym.make("nasgym/NB101Query-v0")
    text = str(err.value)
    assert "table='ecnas'" in text and "ecnas.npz is imported" in text
    assert text.endswith("see docs/data.md#nas-bench-101")
    env = gym.make("nasgym/NB101Query-v0", table="ecnas")
    env.reset(seed=0)
