"""`nasgym leaderboard report`: Markdown, CSV and plots, and damaged inputs."""

import csv
import shutil
from urllib.parse import quote

import numpy as np
import pytest
from lb_helpers import ENV, run_files, use_test_agents

from nasgym.cli import main
from nasgym.leaderboard.store import encode_run, read_run

CHECKPOINTS = (10, 30)
HEADER = (
    "| agent | n | test acc. mean ± s.e. | regret mean ± s.e. | "
    "test acc. IQM [95% CI] | regret IQM [95% CI] |"
)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """Two envs (cora, citeseer) x agents rs, mut x 3 seeds, budget 30."""
    out = tmp_path_factory.mktemp("report") / "board"
    argv = [
        "leaderboard", "run",
        "--env", ENV, "--env-kwargs", "dataset=cora",
        "--env", ENV, "--env-kwargs", "dataset=citeseer",
        "--agents", "rs,mut", "--seeds", "3", "--budget", "30",
        "--checkpoints", "10,30", "--out", str(out), "--workers", "2",
        "--no-progress",
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        use_test_agents(mp)
        assert main(argv) == 0
    return out


@pytest.fixture
def copy(board, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(board, target)
    return target


def _report(directory, capsys, *extra):
    assert main(["leaderboard", "report", str(directory), "--reps", "200", *extra]) == 0
    return capsys.readouterr()


def _tables(markdown):
    """Every pipe table of a Markdown text, as lists of lines."""
    tables, current = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _squash(line):
    return "| " + " | ".join(c.strip() for c in line.strip("|").split("|")) + " |"


def test_report_files_tables_and_csv(board, capsys):
    captured = _report(board, capsys)
    report = board / "report"
    markdown = (report / "report.md").read_text()
    assert captured.out.strip() == markdown.strip()
    assert "warning" not in captured.err
    for name in (
        "regret-NBGraphQuery-v0_dataset=cora.png",
        "regret-NBGraphQuery-v0_dataset=citeseer.png",
        "performance-profile.png",
    ):
        assert (report / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"({quote(name)})" in markdown
    tables = _tables(markdown)
    # The last table is the provenance of the runs (all made here: one row).
    provenance = tables.pop()
    assert "## Provenance" in markdown and "Every run recorded the same" in markdown
    fields = [c.strip() for c in provenance[0].strip("|").split("|")]
    for name in ("python", "os", "machine", "nasgym", "numpy", "torch", "gymnasium"):
        assert name in fields
    assert "stable-baselines3" in fields and "onnxruntime" in fields
    assert len(provenance) == 3 and provenance[2].split("|")[1].strip() == "12"
    assert len(tables) == 2 * len(CHECKPOINTS)
    for table in tables:
        assert _squash(table[0]) == HEADER
        assert len({len(line) for line in table}) == 1  # aligned in a terminal
        rule = [cell.strip() for cell in table[1].strip("|").split("|")]
        assert rule[0].startswith(":-") and all(c.endswith("-:") for c in rule[1:])
        assert [row.split("|")[1].strip() for row in table[2:]] == ["rs", "mut"]
        assert all(row.split("|")[2].strip() == "3" for row in table[2:])
    for env in ("(dataset=cora)", "(dataset=citeseer)"):
        for checkpoint in CHECKPOINTS:
            assert f"### nasgym/NBGraphQuery-v0 {env}, {checkpoint} queries" in markdown

    with open(report / "leaderboard.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(CHECKPOINTS) * 2
    for row in rows:
        assert int(row["n"]) == 3
        optimum = float(row["optimum"])
        assert float(row["test_mean"]) + float(row["regret_mean"]) == pytest.approx(
            optimum
        )
        for metric in ("test", "regret"):
            low, mid, high = (
                float(row[f"{metric}_iqm_ci_low"]),
                float(row[f"{metric}_iqm"]),
                float(row[f"{metric}_iqm_ci_high"]),
            )
            assert low <= mid <= high
    # The numbers are those of the run files.
    cora_rs = [
        read_run(p)
        for p in run_files(board)
        if "cora" in p.parent.parent.name and p.parent.name == "rs"
    ]
    row = next(
        r
        for r in rows
        if r["env_key"].endswith("cora")
        and r["agent"] == "rs"
        and r["checkpoint"] == "30"
    )
    values = np.array([run.records[29]["best_test"] for run in cora_rs])
    assert float(row["test_mean"]) == pytest.approx(values.mean())
    assert float(row["test_se"]) == pytest.approx(values.std(ddof=1) / np.sqrt(3))
    # Seeded bootstrap: the same report twice.
    first = (report / "leaderboard.csv").read_text()
    _report(board, capsys)
    assert (report / "leaderboard.csv").read_text() == first


def test_corrupted_file_is_named_and_skipped(copy, capsys, tmp_path):
    victim = next(p for p in run_files(copy) if p.parent.name == "mut")
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])
    out = tmp_path / "elsewhere"
    captured = _report(copy, capsys, "--out", str(out))
    assert str(victim) in captured.err and "corrupted" in captured.err
    markdown = (out / "report.md").read_text()
    assert "## Warnings" in markdown and str(victim) in markdown
    assert "1 requested run(s) have no valid result" in markdown
    with open(out / "leaderboard.csv", newline="") as handle:
        counts = {
            (r["env_key"], r["agent"]): int(r["n"]) for r in csv.DictReader(handle)
        }
    assert counts[(victim.parent.parent.name, "mut")] == 2
    assert sum(counts.values()) == 4 * 3 - 1


def test_short_run_is_reported_not_padded(copy, capsys):
    path = next(p for p in run_files(copy) if p.parent.name == "rs")
    run = read_run(path)
    header = {k: v for k, v in run.header.items() if k not in ("type", "format")}
    summary = {k: v for k, v in run.summary.items() if k not in ("type", "sha256")}
    path.write_bytes(encode_run(header, run.records[:15], summary))
    captured = _report(copy, capsys)
    seed = run.header["seed"]
    assert f"seed {seed} (15 queries)" in captured.err
    assert "stopped before 30 queries" in captured.out
    with open(copy / "report" / "leaderboard.csv", newline="") as handle:
        n = {
            r["checkpoint"]: int(r["n"])
            for r in csv.DictReader(handle)
            if r["env_key"] == path.parent.parent.name and r["agent"] == "rs"
        }
    assert n == {"10": 3, "30": 2}


def test_foreign_run_file_is_skipped_with_a_warning(copy, capsys):
    path = next(p for p in run_files(copy) if p.parent.name == "rs")
    run = read_run(path)
    header = {k: v for k, v in run.header.items() if k not in ("type", "format")}
    header["budget"] = 99
    summary = {k: v for k, v in run.summary.items() if k not in ("type", "sha256")}
    path.write_bytes(encode_run(header, run.records, summary))
    captured = _report(copy, capsys)
    assert str(path) in captured.err and "budget 99" in captured.err


def test_single_env_has_no_performance_profile(copy, capsys):
    shutil.rmtree(next((copy / "runs").glob("*citeseer*")))
    captured = _report(copy, capsys)
    assert not (copy / "report" / "performance-profile.png").exists()
    assert "citeseer" in captured.err  # requested but missing
    assert (copy / "report" / "regret-NBGraphQuery-v0_dataset=cora.png").exists()
