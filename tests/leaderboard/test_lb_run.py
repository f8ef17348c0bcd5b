"""`nasgym leaderboard run`: files, headers, resume, refusals and failing agents."""

import json
import shutil

import gymnasium as gym
import pytest
from lb_helpers import (
    ENV,
    read_lines,
    records,
    run_args,
    run_files,
    snapshot,
    temp_files,
    use_test_agents,
)

import nasgym
from nasgym.cli import main
from nasgym.leaderboard.config import derive_seeds
from nasgym.leaderboard.errors import RunFailedError
from nasgym.leaderboard.execute import HarnessMonitor
from nasgym.leaderboard.store import directory_lock, encode_run, read_run


@pytest.fixture(autouse=True)
def _agents(monkeypatch):
    use_test_agents(monkeypatch)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A finished leaderboard: NBGraphQuery cora, agents rs and mut, 2 seeds, 20."""
    out = tmp_path_factory.mktemp("lb") / "base"
    with pytest.MonkeyPatch.context() as mp:
        use_test_agents(mp)
        assert main(run_args(out)) == 0
    return out


@pytest.fixture
def board(base, tmp_path):
    out = tmp_path / "board"
    shutil.copytree(base, out)
    return out


def test_one_complete_file_per_run(base):
    files = run_files(base)
    names = [str(p.relative_to(base / "runs")) for p in files]
    assert names == [
        "NBGraphQuery-v0_dataset=cora/mut/seed-0.jsonl",
        "NBGraphQuery-v0_dataset=cora/mut/seed-1.jsonl",
        "NBGraphQuery-v0_dataset=cora/rs/seed-0.jsonl",
        "NBGraphQuery-v0_dataset=cora/rs/seed-1.jsonl",
    ]
    assert temp_files(base) == []
    manifest = json.loads((base / "leaderboard.json").read_text())
    assert manifest["budget"] == 20 and manifest["checkpoints"] == [20]
    assert manifest["envs"] == [
        {
            "key": "NBGraphQuery-v0_dataset=cora",
            "id": ENV,
            "kwargs": {"dataset": "cora"},
        }
    ]
    assert manifest["agents"] == ["rs", "mut"] and manifest["seeds"] == 2


def test_header_and_records(base):
    path = base / "runs" / "NBGraphQuery-v0_dataset=cora" / "mut" / "seed-1.jsonl"
    run = read_run(path)
    head = run.header
    assert head["nasgym_version"] == nasgym.__version__
    assert head["env"]["id"] == ENV and head["env"]["kwargs"] == {"dataset": "cora"}
    assert head["env_spec"]["id"] == ENV
    assert head["env_spec"]["kwargs"] == {"dataset": "cora", "max_queries": 20}
    assert head["agent"]["name"] == "mut"
    assert head["agent"]["entry_point"] == "lb_agents:Mutation"
    assert head["agent"]["config"] == {"sleep_s": 0.0}
    assert head["seed"] == 1 and head["budget"] == 20
    assert (head["env_seed"], head["agent_seed"]) == derive_seeds(1)
    assert head["argv"][:3] == ["nasgym", "leaderboard", "run"]
    assert head["started"] <= head["finished"]
    assert head["host"]["hostname"] and head["backend"] == "local"
    optimum = head["benchmark"]["optimum"]
    assert optimum == pytest.approx(gym.make(ENV).unwrapped.benchmark.optimum())
    assert [r["query"] for r in run.records] == list(range(1, 21))
    best = -1.0
    for record in run.records:
        assert record["regret"] == pytest.approx(optimum - record["best_test"])
        assert record["best_valid"] >= best
        best = record["best_valid"]
    assert run.summary["queries"] == 20 and run.summary["budget_exhausted"] is True
    assert run.summary["regret"] == run.records[-1]["regret"]


def test_rerun_skips_finished_runs_and_adds_seeds_and_agents(board, capsys):
    before = snapshot(board)
    assert main(run_args(board)) == 0
    assert "0 runs done, 4 skipped" in capsys.readouterr().out
    assert snapshot(board) == before
    assert main(run_args(board, agents="rs,mut,slow", seeds=3)) == 0
    assert "5 runs done, 4 skipped" in capsys.readouterr().out
    after = snapshot(board)
    assert len(after) == 9
    assert {k: after[k] for k in before} == before
    manifest = json.loads((board / "leaderboard.json").read_text())
    assert manifest["agents"] == ["rs", "mut", "slow"] and manifest["seeds"] == 3


def test_same_seed_same_records(base, tmp_path):
    out = tmp_path / "again"
    assert main(run_args(out, agents="mut", seeds=1)) == 0
    name = "NBGraphQuery-v0_dataset=cora/mut/seed-0.jsonl"
    again = records(out / "runs" / name)
    assert again == records(base / "runs" / name)
    assert again != records(base / "runs" / name.replace("seed-0", "seed-1"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("--budget", "30"), "budget: 20 there, 30 here"),
        (("--env-kwargs", "dataset=citeseer"), "dataset=cora) there"),
        (("--checkpoints", "10,20"), "checkpoints: 20 there, 10,20 here"),
    ],
)
def test_other_configuration_is_refused(board, capsys, change, expected):
    argv = run_args(board)
    option, value = change
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    before = snapshot(board)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert expected in err and "new --out" in err and "Traceback" not in err
    assert snapshot(board) == before


def test_run_file_with_a_disagreeing_header_is_refused(board, capsys):
    path = board / "runs" / "NBGraphQuery-v0_dataset=cora" / "rs" / "seed-1.jsonl"
    run = read_run(path)
    header = {k: v for k, v in run.header.items() if k not in ("type", "format")}
    header["budget"] = 50
    summary = {k: v for k, v in run.summary.items() if k not in ("type", "sha256")}
    path.write_bytes(encode_run(header, run.records, summary))
    assert main(run_args(board)) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "budget 50" in err and "new --out" in err


def test_directory_without_manifest_is_refused(board, capsys):
    (board / "leaderboard.json").unlink()
    assert main(run_args(board)) == 1
    assert "no leaderboard.json" in capsys.readouterr().err


def test_second_writer_is_refused(board, capsys):
    with directory_lock(board):
        assert main(run_args(board)) == 1
    assert "is writing to" in capsys.readouterr().err


def test_damaged_file_and_stale_temp_files_are_redone(board, capsys):
    path = board / "runs" / "NBGraphQuery-v0_dataset=cora" / "rs" / "seed-0.jsonl"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    stale = path.with_name(".seed-1.jsonl.abcd.tmp")
    stale.write_bytes(good[:100])
    assert main(run_args(board)) == 0
    captured = capsys.readouterr()
    assert str(path) in captured.err and "redone" in captured.err
    assert "1 runs done, 3 skipped" in captured.out
    assert records(path) == [
        {k: v for k, v in json.loads(line).items() if k != "wall_time_s"}
        for line in good.decode().splitlines()[1:-1]
    ]
    assert path.with_name("seed-0.jsonl.corrupt").exists()
    assert temp_files(board) == []


def test_failed_runs_are_logged_and_redone_later(tmp_path, capsys):
    out = tmp_path / "fail"
    assert main(run_args(out, agents="rs,crash,reseed,nope", seeds=1)) == 1
    err = capsys.readouterr().err
    assert "3 of 4 runs failed" in err and "Traceback" not in err
    assert "boom: this agent always fails" in err
    assert "reset(seed=...)" in err
    assert "has no run() method" in err
    assert [p.parent.name for p in run_files(out)] == ["rs"]
    log = out / "logs" / "NBGraphQuery-v0_dataset=cora" / "crash" / "seed-0.log"
    assert "RuntimeError: boom" in log.read_text()
    assert main(run_args(out, agents="rs,crash", seeds=1)) == 1
    err = capsys.readouterr().err
    assert "1 of 1 runs failed" in err


def test_env_kwargs_attach_to_the_env_before_them(tmp_path):
    out = tmp_path / "two"
    argv = [
        "leaderboard", "run", "--env-kwargs", "horizon=50",
        "--env", ENV, "--env-kwargs", "dataset=cora",
        "--env", ENV, "--env-kwargs", "dataset=citeseer", "reward=power",
        "--agents", "rs", "--seeds", "1", "--budget", "5", "--out", str(out),
        "--workers", "2", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    manifest = json.loads((out / "leaderboard.json").read_text())
    assert [env["kwargs"] for env in manifest["envs"]] == [
        {"dataset": "cora", "horizon": 50},
        {"dataset": "citeseer", "horizon": 50, "reward": "power"},
    ]
    for path in run_files(out):
        header = read_lines(path)[0]
        assert header["env_spec"]["kwargs"]["horizon"] == 50
    assert len(run_files(out)) == 2


def test_monitor_stops_a_stalled_agent():
    env = HarnessMonitor(gym.make(ENV, max_queries=2), env_seed=0, max_idle_steps=50)
    env.reset()
    action = env.action_space.sample()
    env.step(action)
    with pytest.raises(RunFailedError, match="without a new query"):
        for _ in range(100):
            env.step(action)


def test_settings_of_a_directory_without_finished_runs_can_change(tmp_path, capsys):
    out = tmp_path / "fresh"
    assert main(run_args(out, agents="crash", seeds=1)) == 1  # manifest, no runs
    assert run_files(out) == []
    assert main(run_args(out, agents="rs", seeds=1, budget=10)) == 0
    assert "settings are replaced" in capsys.readouterr().err
    manifest = json.loads((out / "leaderboard.json").read_text())
    assert manifest["budget"] == 10 and manifest["agents"] == ["rs"]
    assert manifest["requested"] == {"rs": 1}
