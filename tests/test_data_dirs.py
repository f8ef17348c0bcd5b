import os
import stat

import pytest

from nasgym import data


def test_cache_dir_prefers_explicit_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    assert data.cache_dir() == (tmp_path / "c").resolve()


def test_cache_dir_uses_writable_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NASGYM_CACHE_DIR", raising=False)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    assert data.cache_dir() == tmp_path.resolve() / "nasgym"


def test_cache_dir_never_writes_into_read_only_data_dir(monkeypatch, tmp_path):
    # Root passes os.access(W_OK) even on r-x directories: the mode bits decide.
    readonly = tmp_path / "shared"
    readonly.mkdir()
    os.chmod(readonly, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        monkeypatch.delenv("NASGYM_CACHE_DIR", raising=False)
        monkeypatch.setenv("NASGYM_DATA_DIR", str(readonly))
        assert data.cache_dir() != readonly / "nasgym"
        assert readonly.resolve() / "nasgym" in data.table_search_path()
    finally:
        os.chmod(readonly, stat.S_IRWXU)


def test_search_path_has_no_duplicates(monkeypatch, tmp_path):
    monkeypatch.delenv("NASGYM_CACHE_DIR", raising=False)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    paths = data.table_search_path()
    assert len(paths) == len(set(paths))


@pytest.mark.parametrize("payload", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_read_table_names_corrupt_file(tmp_path, payload):
    path = tmp_path / "t.npz"
    path.write_bytes(payload)
    with pytest.raises(data.CorruptDataError, match=str(path)):
        data.read_table(path, {})


# ------------------------------------------------ file modes follow the umask (15.16)
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_tables_are_written_with_the_umask(tmp_path, mask):
    import stat

    import numpy as np

    from nasgym.data import write_table

    old = os.umask(mask)
    try:
        write_table(tmp_path / "sub" / "t.npz", {"x": np.arange(3.0)})
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "sub" / "t.npz").stat().st_mode)
    assert mode == 0o666 & ~mask, oct(mode)


@pytest.mark.data
def test_imported_nb201_table_is_group_readable(data_root, tmp_path):
    import stat

    from nasgym.benchmarks.nb201 import import_csv_tables

    old = os.umask(0o022)
    try:
        path = import_csv_tables(data_root / "nas-bench-201", dest=tmp_path / "t.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
