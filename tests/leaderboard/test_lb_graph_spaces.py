"""The harness on the NB101 and NB301 envs (real EC-NAS table, real NB301 surrogate).

The baselines need no per-space code, so ``nasgym leaderboard run`` takes the graph
spaces' ids as it takes the tabular ones, and the report reads their runs.
"""

from pathlib import Path

import pytest
from lb_helpers import read_lines, run_files

from nasgym.cli import main

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def ecnas_in_cache(data_root: Path) -> None:
    """EC-NAS-Bench imported into the session's cache, where ``table="ecnas"`` looks."""
    from conftest import ECNAS_ARCHIVE, missing_data
    from nasgym.benchmarks.nb101 import import_ecnas

    archive = data_root / ECNAS_ARCHIVE
    if not archive.is_file():
        missing_data(f"{archive} is not a file")
    import_ecnas(archive)


def test_graph_space_leaderboard_runs_and_reports(ecnas_in_cache, tmp_path, capsys):
    out = tmp_path / "lb"
    args = [
        "leaderboard", "run",
        "--env", "nasgym/NB301Query-v0",
        "--env", "nasgym/NB101Query-v0", "--env-kwargs", "table=ecnas",
        "--agents", "random,rea,ls,reinforce",
        "--seeds", "2", "--budget", "15", "--out", str(out),
        "--workers", "2", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    files = run_files(out)
    assert len(files) == 2 * 4 * 2
    for path in files:
        lines = read_lines(path)
        header, queries = lines[0], lines[1:-1]
        assert len(queries) == 15
        assert isinstance(header["benchmark"]["optimum"], float)
        assert all(q["regret"] >= 0 for q in queries)
    assert main(["leaderboard", "report", str(out)]) == 0
    report = (out / "report" / "report.md").read_text()
    assert "nasgym/NB301Query-v0" in report and "nasgym/NB101Query-v0" in report


def test_local_search_runs_on_graph_edit_envs(ecnas_in_cache, tmp_path):
    out = tmp_path / "lb-edit"
    args = [
        "leaderboard", "run",
        "--env", "nasgym/NB301Edit-v0",
        "--env", "nasgym/NB101Edit-v0", "--env-kwargs", "table=ecnas",
        "--agents", "ls", "--seeds", "2", "--budget", "15", "--out", str(out),
        "--workers", "2", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    assert len(run_files(out)) == 2 * 2
