"""Real-data fixtures of the NB101 and NB301 env tests (``@pytest.mark.data``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_env_api import _missing_data as missing_data

ECNAS = Path("ec-nas-bench") / "ec_nasbench_energy_results_and_graphs.tar.xz"
NB301 = Path("nas-bench-301-yahpo") / "v1_iaml_ex"


@pytest.fixture(scope="session")
def ecnas_bench(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """EC-NAS-Bench imported once per session into a temporary directory."""
    from nasgym.benchmarks.nb101 import NB101Benchmark, import_ecnas

    archive = data_root / ECNAS
    if not archive.is_file():
        missing_data(f"{archive} is not a file")
    path = import_ecnas(archive, dest=tmp_path_factory.mktemp("ecnas") / "ecnas.npz")
    return NB101Benchmark("ecnas", path=path)


@pytest.fixture(scope="session")
def nb301_surrogate(data_root: Path) -> Any:
    """The real YAHPO NB301 surrogate."""
    from nasgym.benchmarks.nb301 import NB301Surrogate

    directory = data_root / NB301
    if not directory.is_dir():
        missing_data(f"{directory} is not a directory")
    return NB301Surrogate(directory)
