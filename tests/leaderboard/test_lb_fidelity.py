"""Multi-fidelity runs on the leaderboard: budget units, simulated workers, report.

The runs use the real NB201 table (the multi-fidelity env on the CSV tables: the
12- and 200-epoch schedules, costed by the epochs proxy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nasgym.cli import main
from nasgym.leaderboard.store import read_run
from nasgym.mf.fidelity import Ledger, NB201Fidelity
from nasgym.mf.simulate import simulate
from nasgym_agents.mf import ASHA, Hyperband

ENV = "nasgym/NB201Fidelity-v0"


def board(out: Path, *extra: str, workers: int = 2, budget: int = 1500) -> None:
    argv = [
        "leaderboard", "run", "--env", ENV, "--agents", "hyperband,asha,rs-time",
        "--seeds", "2", "--budget", str(budget), "--budget-unit", "epochs",
        "--out", str(out), "--workers", str(workers), "--no-progress", *extra,
    ]  # fmt: skip
    assert main(argv) == 0


def runs(out: Path) -> dict[str, Any]:
    files = sorted((out / "runs").glob("*/*/seed-*.jsonl"))
    return {f"{p.parent.name}/{p.name}": read_run(p) for p in files}


@pytest.mark.data
def test_results_do_not_depend_on_real_processes(
    nb201_table: Path, tmp_path: Path
) -> None:
    board(tmp_path / "one", "--sim-workers", "4", workers=1)
    board(tmp_path / "two", "--sim-workers", "4", workers=2)
    one, two = runs(tmp_path / "one"), runs(tmp_path / "two")
    assert sorted(one) == sorted(two) and len(one) == 6
    for name, run in one.items():
        strip = [
            {k: v for k, v in r.items() if k != "wall_time_s"} for r in run.records
        ]
        other = [
            {k: v for k, v in r.items() if k != "wall_time_s"}
            for r in two[name].records
        ]
        assert strip == other
        header = run.header
        assert header["budget"] == 1500 and header["budget_unit"] == "epochs"
        fidelity = header["fidelity"]
        assert fidelity["sim_workers"] == 4 and fidelity["budget_unit"] == "epochs"
        assert fidelity["cost_unit"] == "epochs" and "proxy" in fidelity["cost_source"]
        assert run.summary["budget_exhausted"] and run.summary["sim_time_s"] > 0


@pytest.mark.data
@pytest.mark.parametrize(
    ("agent", "factory"), [("hyperband", Hyperband), ("asha", ASHA)]
)
def test_a_leaderboard_run_is_the_simulation(
    nb201_table: Path, tmp_path: Path, agent: str, factory: Any
) -> None:
    from nasgym.leaderboard.config import derive_seeds

    board(tmp_path / "b", "--sim-workers", "3")
    run = runs(tmp_path / "b")[f"{agent}/seed-1.jsonl"]
    bench = NB201Fidelity("cifar10", path=nb201_table)
    _, agent_seed = derive_seeds(1)
    trace = simulate(
        factory(nvec=bench.nvec, fidelities=bench.fidelities, seed=agent_seed),
        bench,
        Ledger(bench, 1500, "epochs"),
        workers=3,
    )
    started = sorted(trace.rows, key=lambda r: (r.start, r.worker))
    assert [r["valid"] for r in run.records] == [r.score for r in started]
    assert run.summary["best_test"] == trace.rows[-1].incumbent_report
    assert run.summary["sim_time_s"] == trace.makespan


@pytest.mark.data
def test_report_has_the_time_budget_table_and_time_curve(
    nb201_table: Path, tmp_path: Path, capsys: Any
) -> None:
    board(tmp_path / "b")
    assert main(["leaderboard", "report", str(tmp_path / "b")]) == 0
    text = (tmp_path / "b" / "report" / "report.md").read_text()
    assert "budget 1500 epochs per run" in text
    assert "end of the budget" in text and "the epochs proxy" in text
    for agent in ("hyperband", "asha", "rs-time"):
        assert f"| {agent} " in text
    pngs = sorted(p.name for p in (tmp_path / "b" / "report").glob("*.png"))
    assert any(name.startswith("time-") for name in pngs)
    assert any(name.startswith("regret-") for name in pngs)
    assert "stopped before" not in text  # no query checkpoints under a time budget
    capsys.readouterr()


@pytest.mark.data
def test_query_env_without_training_times_says_so(
    nb201_table: Path, tmp_path: Path
) -> None:
    argv = [
        "leaderboard", "run", "--env", "nasgym/NB201Query-v0", "--agents", "random",
        "--seeds", "2", "--budget", "10", "--out", str(tmp_path / "q"),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    assert main(["leaderboard", "report", str(tmp_path / "q")]) == 0
    text = (tmp_path / "q" / "report" / "report.md").read_text()
    assert "Simulated time: not recorded" in text and "sim_time_s" in text


@pytest.mark.data
def test_agents_refuse_a_plain_query_env_before_running(
    nb201_table: Path, tmp_path: Path, capsys: Any
) -> None:
    argv = [
        "leaderboard", "run", "--env", "nasgym/NB201Query-v0", "--agents", "hyperband",
        "--seeds", "1", "--budget", "10", "--out", str(tmp_path / "q"),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "agent hyperband cannot run on nasgym/NB201Query-v0" in err
    assert "needs a multi-fidelity env" in err
    assert not (tmp_path / "q" / "runs").exists()


@pytest.mark.data
def test_seconds_budget_on_csv_tables_is_refused(
    nb201_table: Path, tmp_path: Path, capsys: Any
) -> None:
    argv = [
        "leaderboard", "run", "--env", ENV, "--agents", "asha", "--seeds", "1",
        "--budget", "5000", "--budget-unit", "seconds", "--out", str(tmp_path / "s"),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "no simulated training times" in err and "'epochs'" in err


def test_bad_agent_settings_are_named(tmp_path: Path) -> None:
    from nasgym.error import UnknownKeywordError
    from nasgym.mf.env import FidelityQueryEnv
    from nasgym.mf.testing import TinyBenchmark
    from nasgym_agents.mf.leaderboard import HyperbandAgent

    env = FidelityQueryEnv(TinyBenchmark(), max_queries=10)
    with pytest.raises(UnknownKeywordError, match="'et'"):
        HyperbandAgent(env, seed=0, et=3)
    agent = HyperbandAgent(env, seed=0, eta=3)
    assert agent.config() == {"eta": 3}
    agent.run()
    assert env.exhausted and len(env.rows) == 10
    json.dumps(agent.config())


@pytest.mark.data
def test_query_budget_runs_with_training_times_get_a_time_curve(
    ecnas_bench: Any, tmp_path: Path
) -> None:
    argv = [
        "leaderboard", "run", "--env", "nasgym/NB101Query-v0", "--env-kwargs",
        "table=ecnas", f"path={ecnas_bench.data.path}", "--agents", "random,rea",
        "--seeds", "2", "--budget", "12", "--out", str(tmp_path / "q"),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    assert main(["leaderboard", "report", str(tmp_path / "q")]) == 0
    report = tmp_path / "q" / "report"
    text = (report / "report.md").read_text()
    assert "Simulated time: not recorded" not in text
    assert "end of the budget" not in text  # a query budget keeps its checkpoints
    assert [p.name for p in report.glob("time-*.png")]
