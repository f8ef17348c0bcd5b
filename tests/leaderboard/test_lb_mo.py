"""Multi-objective runs: recorded objectives, true fronts, hypervolume (regret), plots.

The runs use the hand-made 64-architecture env of lb_mo_env.py in this process (no
worker pool), so every number can be recomputed from its tables.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from lb_helpers import use_test_agents
from lb_mo_env import ENV_ID, N, tables

from nasgym.leaderboard.config import EnvConfig, LeaderboardConfig
from nasgym.leaderboard.execute import RunTask, execute_run
from nasgym.leaderboard.objectives import env_kwargs
from nasgym.leaderboard.report import MO_CSV_NAME, write_report
from nasgym.leaderboard.store import (
    RECORD_KEYS,
    atomic_write,
    encode_run,
    read_run,
    run_path,
    write_manifest,
)
from nasgym.pareto import REFERENCE_POINT, Bounds, front_of_table

OBJ = "valid_accuracy,latency"
THRESHOLD = 8.0


@pytest.fixture(autouse=True)
def _fake_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from nasgym import registration

    use_test_agents(monkeypatch)
    monkeypatch.setitem(registration.ALL_ENVS, ENV_ID, ("lb_mo_env", "MOFakeEnv"))
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point="lb_mo_env:MOFakeEnv")


def _board(
    root: Path,
    kwargs: dict[str, Any],
    budget: int,
    seeds: int = 4,
    agents: tuple[str, ...] = ("rs", "slow"),
    checkpoints: tuple[int, ...] | None = None,
) -> EnvConfig:
    """Run agents x seeds in this process and lay the files out as a leaderboard."""
    env = EnvConfig(ENV_ID, kwargs)
    config = LeaderboardConfig((env,), budget, checkpoints or (budget,))
    write_manifest(
        root,
        {
            **config.to_json(),
            "agents": list(agents),
            "seeds": seeds,
            "requested": dict.fromkeys(agents, seeds),
        },
    )
    for agent in agents:
        for seed in range(seeds):
            outcome = execute_run(RunTask(env, agent, seed, budget))
            assert outcome.error is None, outcome.traceback
            assert outcome.data is not None
            atomic_write(run_path(root, env.key, agent, seed), outcome.data)
    return env


def _mo_csv(report_dir: Path) -> list[dict[str, str]]:
    text = (report_dir / MO_CSV_NAME).read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_env_kwargs_split_comma_separated_objectives() -> None:
    assert env_kwargs({"objectives": "valid_accuracy, latency:pi5-litert"}) == {
        "objectives": ["valid_accuracy", "latency:pi5-litert"]
    }
    assert env_kwargs({"dataset": "cora"}) == {"dataset": "cora"}


def test_run_file_records_every_objective_and_the_true_front(tmp_path: Path) -> None:
    env = _board(tmp_path, {"objectives": OBJ}, budget=20, seeds=1, agents=("rs",))
    run = read_run(run_path(tmp_path, env.key, "rs", 0))
    t = tables()
    assert run.header["objectives"] == ["valid_accuracy", "latency"]
    for record in run.records:
        code = int(record["arch"])
        assert record["objectives"] == {
            "valid_accuracy": t["valid_accuracy"][code],
            "latency": t["latency"][code],
        }
        assert "constraint_violated" not in record
    true = run.header["true_front"]
    expected = front_of_table(
        ["valid_accuracy", "latency"], np.column_stack([t["test"], t["latency"]])
    )
    np.testing.assert_array_equal(true["front"], expected.front.tolist())
    assert true["hypervolume"] == pytest.approx(expected.hypervolume)
    assert true["accuracy"] == "test" and true["archs"] == N


def test_scalar_runs_keep_the_old_record_format(tmp_path: Path) -> None:
    env = _board(tmp_path, {}, budget=10, seeds=1, agents=("rs",))
    run = read_run(run_path(tmp_path, env.key, "rs", 0))
    assert all(list(r) == list(RECORD_KEYS) for r in run.records)
    assert "objectives" not in run.header and "true_front" not in run.header
    # and a report of it has no multi-objective part
    result = write_report(tmp_path, reps=50, log=lambda _: None)
    assert "multi-objective" not in result.markdown
    assert not (tmp_path / "report" / MO_CSV_NAME).exists()


def test_hypervolume_regret_is_recomputable_and_zero_with_every_arch(
    tmp_path: Path,
) -> None:
    # budget N: every architecture is queried, so the whole true front is found
    env = _board(
        tmp_path, {"objectives": OBJ}, budget=N, agents=("rs",), checkpoints=(10, N)
    )
    result = write_report(tmp_path, reps=200, log=lambda _: None)
    rows = {(r["agent"], int(r["checkpoint"])): r for r in _mo_csv(tmp_path / "report")}
    t = tables()
    bounds = Bounds.of(
        ["valid_accuracy", "latency"], np.column_stack([t["test"], t["latency"]])
    )
    true_hv = float(rows[("rs", N)]["true_hv"])
    for agent in ("rs",):
        assert float(rows[(agent, N)]["hv_regret_mean"]) == pytest.approx(
            0.0, abs=1e-12
        )
        hvs = []
        for seed in range(4):
            run = read_run(run_path(tmp_path, env.key, agent, seed))
            pts = [[r["test"], r["objectives"]["latency"]] for r in run.records[:10]]
            hvs.append(bounds.hypervolume(pts))
        row = rows[(agent, 10)]
        assert float(row["hv_mean"]) == pytest.approx(np.mean(hvs))
        assert float(row["hv_regret_mean"]) == pytest.approx(true_hv - np.mean(hvs))
        assert float(row["hv_regret_mean"]) > 0
        assert float(row["hv_regret_iqm_ci_low"]) <= float(row["hv_regret_iqm"])
        assert float(row["hv_regret_iqm"]) <= float(row["hv_regret_iqm_ci_high"])
    assert 0 < true_hv <= REFERENCE_POINT**2
    assert "HV regret IQM [95% CI]" in result.markdown
    report = tmp_path / "report"
    for name in (f"pareto-{env.key}.png", f"hv-regret-{env.key}.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG")
        assert name in result.markdown


def test_constrained_runs_report_feasible_accuracy_and_violations(
    tmp_path: Path,
) -> None:
    kwargs = {
        "objectives": OBJ,
        "mo_reward": "constrained",
        "cost_threshold": THRESHOLD,
    }
    env = _board(tmp_path, kwargs, budget=30, seeds=3)
    result = write_report(tmp_path, reps=200, log=lambda _: None)
    rows = {r["agent"]: r for r in _mo_csv(tmp_path / "report")}
    t = tables()
    feasible = t["latency"] <= THRESHOLD
    assert float(rows["rs"]["feasible_optimum"]) == pytest.approx(
        t["test"][feasible].max()
    )
    for agent in ("rs", "slow"):
        shares, best = [], []
        for seed in range(3):
            run = read_run(run_path(tmp_path, env.key, agent, seed))
            flags = [r["constraint_violated"] for r in run.records]
            codes = [int(r["arch"]) for r in run.records]
            assert flags == [bool(t["latency"][c] > THRESHOLD) for c in codes]
            shares.append(np.mean(flags))
            ok = [c for c in codes if feasible[c]]
            best.append(t["test"][max(ok, key=lambda c: t["valid_accuracy"][c])])
        assert float(rows[agent]["violation_share_mean"]) == pytest.approx(
            np.mean(shares)
        )
        assert float(rows[agent]["feasible_test_mean"]) == pytest.approx(np.mean(best))
    assert "feasible test acc. IQM [95% CI]" in result.markdown
    assert "violations mean ± s.e." in result.markdown


def test_benchmark_without_table_gets_hypervolume_and_a_note(tmp_path: Path) -> None:
    env = _board(tmp_path, {"objectives": OBJ, "tabular": False}, budget=15, seeds=2)
    run = read_run(run_path(tmp_path, env.key, "rs", 0))
    assert run.header["true_front"] is None
    assert "no objective table" in run.header["true_front_error"]
    notes: list[str] = []
    result = write_report(tmp_path, reps=100, log=notes.append)
    assert any("no true Pareto front" in n for n in notes)
    assert "HV IQM [95% CI]" in result.markdown and "HV regret" not in result.markdown
    rows = _mo_csv(tmp_path / "report")
    assert all(r["hv_regret_mean"] == "" and float(r["hv_mean"]) > 0 for r in rows)
    assert (tmp_path / "report" / f"pareto-{env.key}.png").exists()


def test_optional_record_keys_round_trip(tmp_path: Path) -> None:
    record = {
        "query": 1, "arch": "a", "valid": 50.0, "test": 49.0, "best_valid": 50.0,
        "best_test": 49.0, "regret": 1.0, "sim_time_s": None, "wall_time_s": 0.1,
    }  # fmt: skip
    rich = {**record, "objectives": {"valid_accuracy": 50.0, "params": 1.5}}
    path = tmp_path / "seed-0.jsonl"
    atomic_write(path, encode_run({"seed": 0}, [rich], {}))
    (back,) = read_run(path).records
    assert back["objectives"] == rich["objectives"]
    atomic_write(path, encode_run({"seed": 0}, [record], {}))
    (plain,) = read_run(path).records
    assert list(plain) == list(RECORD_KEYS)
    assert json.loads(path.read_text().splitlines()[1]) == record
