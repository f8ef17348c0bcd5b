"""The report says where runs came from, which env an agent ran on, and is fast."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from lb_helpers import run_args, run_files, use_test_agents

from nasgym.cli import main
from nasgym.leaderboard.execute import PROVENANCE_PACKAGES, package_versions
from nasgym.leaderboard.report import (
    LINE_STYLES,
    MARKERS,
    iqm_batch,
    iqm_columns,
    iqm_columns_batch,
    line_style,
    optimum_text,
    score_distribution_batch,
    stratified_bootstrap,
)
from nasgym.leaderboard.store import atomic_write, encode_run, read_run


@pytest.fixture(autouse=True)
def _agents(monkeypatch):
    use_test_agents(monkeypatch)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """NBGraphQuery cora: rs (Query) and edits (routed to the Edit env), 3 seeds."""
    out = tmp_path_factory.mktemp("trust") / "board"
    with pytest.MonkeyPatch.context() as mp:
        use_test_agents(mp)
        assert main(run_args(out, agents="rs,edits", seeds=3, budget=20)) == 0
    return out


def _report(directory, capsys):
    assert main(["leaderboard", "report", str(directory), "--reps", "300"]) == 0
    return capsys.readouterr()


def test_run_headers_record_versions_and_platform(board) -> None:
    header = read_run(run_files(board)[0]).header
    assert set(header["versions"]) == set(PROVENANCE_PACKAGES)
    assert header["versions"]["numpy"] == np.__version__
    for key in ("python", "os", "os_release", "machine", "platform"):
        assert header["host"][key]


def test_package_versions_import_nothing() -> None:
    code = (
        "import sys; from nasgym.leaderboard.execute import package_versions; "
        "v = package_versions(); print('torch' in sys.modules, v['numpy'] is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
    assert package_versions()["nasgym"]


def test_report_names_the_env_a_routed_agent_ran_on(board, capsys) -> None:
    markdown = _report(board, capsys).out
    assert "| edits (on NBGraphEdit-v0) |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| rs ")]
    assert rows and all("(on" not in row for row in rows)
    assert "A regret curve can rise" in markdown


def test_report_flags_runs_with_other_versions(board, tmp_path, capsys) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(board, copy)
    path = run_files(copy)[0]
    run = read_run(path)
    header = {
        k: v
        for k, v in run.header.items()
        if k not in ("type", "format", "format_version")
    }
    header["versions"] = {**header["versions"], "torch": "0.0.1"}
    summary = {k: v for k, v in run.summary.items() if k not in ("type", "sha256")}
    summary.pop("records", None)
    atomic_write(path, encode_run(header, run.records, summary))
    captured = _report(copy, capsys)
    assert "different platforms or package versions (differing: torch)" in captured.out
    assert "warning" in captured.err and "torch" in captured.err


def test_optimum_at_table_precision(board, capsys) -> None:
    assert optimum_text(73.51333326009114) == "73.5133"
    assert optimum_text(94.37333333333333) == "94.3733"
    assert optimum_text(83.13) == "83.13"
    _report(board, capsys)
    with open(board / "report" / "leaderboard.csv", newline="") as handle:
        optima = {row["optimum"] for row in csv.DictReader(handle)}
    assert all(len(o.split(".")[-1]) <= 4 for o in optima)


def test_line_styles_differ_between_agents() -> None:
    pairs = {
        (line_style(i, 40)["linestyle"], line_style(i, 40)["marker"]) for i in range(8)
    }
    assert len(pairs) == 8
    assert len({line_style(i, 40)["linestyle"] for i in range(4)}) == len(LINE_STYLES)
    assert len({line_style(i, 40)["marker"] for i in range(8)}) == len(MARKERS)


def test_vectorised_statistics_equal_rliables_point_estimates() -> None:
    from rliable import library, metrics

    rng = np.random.default_rng(1)
    scores = rng.normal(size=(17, 3))
    assert iqm_batch(scores[None])[0, 0] == pytest.approx(metrics.aggregate_iqm(scores))
    np.testing.assert_allclose(iqm_columns_batch(scores[None])[0], iqm_columns(scores))
    taus = np.linspace(-2, 2, 21)
    np.testing.assert_allclose(
        score_distribution_batch(taus)(scores[None])[0],
        library.score_distributions(scores, taus),
    )


def test_bootstrap_intervals_match_rliable_within_monte_carlo_error() -> None:
    """Same method as rliable's stratified percentile bootstrap (other random draws)."""
    from rliable import library, metrics

    rng = np.random.default_rng(2)
    scores = rng.gamma(2.0, size=(30, 2))
    _, ours = stratified_bootstrap(scores, iqm_batch, 20_000, seed=3)
    np.random.seed(3)
    _, theirs = library.get_interval_estimates(
        {"x": scores},
        lambda x: np.array([metrics.aggregate_iqm(x)]),
        reps=20_000,
        random_state=np.random.RandomState(3),
    )
    spread = float(np.std(scores))
    np.testing.assert_allclose(ours[:, 0], theirs["x"][:, 0], atol=0.03 * spread)
    # Stratified: each column is resampled on its own; pointwise bands per column.
    point, bands = stratified_bootstrap(scores, iqm_columns_batch, 2000)
    assert point.shape == (2,) and bands.shape == (2, 2)
    assert np.all(bands[0] <= point) and np.all(point <= bands[1])
