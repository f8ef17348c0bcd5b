"""Shared test configuration.

* ``@pytest.mark.data`` tests need the real benchmark files under ``NASGYM_DATA_DIR``.
  They skip when the data is absent, and *fail* when ``NASGYM_REQUIRE_DATA=1`` (CI).
* ``@pytest.mark.slow`` tests run only with ``--runslow``.
* ``@pytest.mark.gpu`` tests run only when CUDA is available.
* Every session writes imported tables to a fresh temporary ``NASGYM_CACHE_DIR``.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


_SESSION_CACHE: list[str] = []  # the cache dir this session made (removed at the end)


def pytest_configure(config: pytest.Config) -> None:
    if "NASGYM_CACHE_DIR" not in os.environ or not os.environ.get("NASGYM_KEEP_CACHE"):
        os.environ["NASGYM_CACHE_DIR"] = tempfile.mkdtemp(prefix="nasgym-cache-")
        _SESSION_CACHE.append(os.environ["NASGYM_CACHE_DIR"])


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    while _SESSION_CACHE:
        shutil.rmtree(_SESSION_CACHE.pop(), ignore_errors=True)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--runslow"):
        skip_slow = pytest.mark.skip(reason="slow test: run with --runslow")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip_slow)
    cuda = False
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        pass
    if not cuda:
        skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip_gpu)


def require_data() -> bool:
    return os.environ.get("NASGYM_REQUIRE_DATA", "") not in ("", "0")


def missing_data(reason: str) -> None:
    """Fail (CI, NASGYM_REQUIRE_DATA=1) or skip (elsewhere) a test lacking real data."""
    if require_data():
        pytest.fail(f"real benchmark data required but missing: {reason}")
    pytest.skip(f"real benchmark data missing: {reason}")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data directory (``NASGYM_DATA_DIR``)."""
    value = os.environ.get("NASGYM_DATA_DIR")
    if not value:
        missing_data("NASGYM_DATA_DIR is not set")
    root = Path(value).expanduser().resolve()  # type: ignore[arg-type]
    if not root.is_dir():
        missing_data(f"NASGYM_DATA_DIR={value} is not a directory")
    return root


@pytest.fixture(autouse=True)
def _prevent_leaking_rng() -> Iterator[None]:
    """Restore global RNG state after each test, so tests cannot couple."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Run torch on one CPU thread (small supernets thrash on shared cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def nb201_table(data_root: Path) -> Path:
    """Import the real NB201 CSV tables once per session; return the table path.

    The table goes to the session's temporary ``NASGYM_CACHE_DIR``, where
    ``NB201Benchmark()`` finds it. Request this fixture before monkeypatching
    ``NASGYM_CACHE_DIR``.
    """
    from nasgym.benchmarks.nb201 import import_csv_tables

    source = data_root / "nas-bench-201"
    if not source.is_dir():
        missing_data(f"{source} is not a directory")
    return import_csv_tables(source)


ECNAS_ARCHIVE = Path("ec-nas-bench") / "ec_nasbench_energy_results_and_graphs.tar.xz"
NB301_DIR = Path("nas-bench-301-yahpo") / "v1_iaml_ex"


@pytest.fixture(scope="session")
def ecnas_bench(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """EC-NAS-Bench imported once per session into a temporary directory."""
    from nasgym.benchmarks.nb101 import NB101Benchmark, import_ecnas

    archive = data_root / ECNAS_ARCHIVE
    if not archive.is_file():
        missing_data(f"{archive} is not a file")
    path = import_ecnas(archive, dest=tmp_path_factory.mktemp("ecnas") / "ecnas.npz")
    return NB101Benchmark("ecnas", path=path)


@pytest.fixture(scope="session")
def nb301_surrogate(data_root: Path) -> Any:
    """The real YAHPO NB301 surrogate."""
    from nasgym.benchmarks.nb301 import NB301Surrogate

    directory = data_root / NB301_DIR
    if not directory.is_dir():
        missing_data(f"{directory} is not a directory")
    return NB301Surrogate(directory)


@pytest.fixture(scope="session")
def ofa_table(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OFA predictor and Note10 tables imported once per session (``ofa.npz``)."""
    from nasgym.benchmarks.ofa import import_ofa

    source = data_root / "ofa"
    if not (source / "acc_predictor.pth").is_file():
        missing_data(f"{source / 'acc_predictor.pth'} is not a file")
    return import_ofa(source, dest=tmp_path_factory.mktemp("ofa") / "ofa.npz")


@pytest.fixture(scope="session")
def ofa_bench(ofa_table: Path) -> Any:
    """The OFA benchmark on the session's imported table."""
    from nasgym.benchmarks.ofa import OFABenchmark

    return OFABenchmark(path=ofa_table)
