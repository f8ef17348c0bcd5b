"""The baseline agents on NAS-Bench-201 under the NATS-Bench protocol (real data)."""

import pytest
from lb_helpers import run_files

from nasgym.cli import main
from nasgym.leaderboard.store import read_run

pytestmark = pytest.mark.data


def test_baselines_on_nb201_cifar10(nb201_table, tmp_path, capsys):
    out = tmp_path / "nb201"
    argv = [
        "leaderboard", "run", "--env", "nasgym/NB201Query-v0",
        "--env-kwargs", "dataset=cifar10", "--agents", "random,rea,ls,reinforce",
        "--seeds", "2", "--budget", "25", "--out", str(out), "--workers", "2",
        "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    files = run_files(out)
    assert len(files) == 8
    for path in files:
        run = read_run(path)
        bench = run.header["benchmark"]
        # NATS-Bench protocol: 12-epoch validation rewards, 200-epoch test reported.
        assert bench["reward_metric"] == "valid@12"
        assert bench["report_metric"] == "test@200"
        assert bench["optimum"] == pytest.approx(94.37, abs=0.01)
        assert len(run.records) == 25 and run.summary["budget_exhausted"]
    capsys.readouterr()
    assert main(["leaderboard", "report", str(out), "--reps", "200"]) == 0
    markdown = capsys.readouterr().out
    assert "### nasgym/NB201Query-v0 (dataset=cifar10), 25 queries" in markdown
    for agent in ("random", "rea", "ls", "reinforce"):
        assert f"| {agent} " in markdown


def test_a_zero_cost_leaderboard_records_the_proxy_as_its_reward(
    nb201_table, tmp_path, capsys
):
    out = tmp_path / "zc"
    argv = [
        "leaderboard", "run", "--env", "nasgym/NB201Query-v0",
        "--env-kwargs", "dataset=cifar10", "reward_metric=zc:flops",
        "--agents", "random,rea", "--seeds", "1", "--budget", "10",
        "--out", str(out), "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    for path in run_files(out):
        bench = read_run(path).header["benchmark"]
        assert bench["reward_metric"] == "zc:flops"
        assert bench["report_metric"] == "test@200"
