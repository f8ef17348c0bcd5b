"""Shared helpers of the leaderboard tests (a plain module, not a test file)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: The test agents of lb_agents.py, by harness name.
EXTRA_AGENTS = ",".join(
    [
        "rs=lb_agents:RandomQueries",
        "mut=lb_agents:Mutation",
        "slow=lb_agents:SlowRandom",
        "crash=lb_agents:Crashing",
        "reseed=lb_agents:Reseeding",
        "nope=lb_agents:NotAnAgent",
        "edits=lb_agents:RandomEdits",
        "shifted=lb_agents:Shifted",
        "badmode=lb_agents:BadMode",
        "peek=lb_agents:Peeking",
    ]
)
ENV = "nasgym/NBGraphQuery-v0"


def use_test_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test agents for this process and the workers it starts."""
    monkeypatch.setenv("NASGYM_EXTRA_AGENTS", EXTRA_AGENTS)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(HERE) if not path else os.pathsep.join([str(HERE), path])
    )


def run_args(
    out: Path, *extra: str, agents: str = "rs,mut", seeds: int = 2, budget: int = 20
) -> list[str]:
    return [
        "leaderboard", "run", "--env", ENV, "--env-kwargs", "dataset=cora",
        "--agents", agents, "--seeds", str(seeds), "--budget", str(budget),
        "--out", str(out), "--workers", "2", "--no-progress", *extra,
    ]  # fmt: skip


def run_files(root: Path) -> list[Path]:
    return sorted((root / "runs").glob("*/*/seed-*.jsonl"))


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def records(
    path: Path, drop: tuple[str, ...] = ("wall_time_s",)
) -> list[dict[str, Any]]:
    """The query records of a run file, without the wall-clock fields."""
    lines = read_lines(path)[1:-1]
    return [{k: v for k, v in line.items() if k not in drop} for line in lines]


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every run file under ``root``."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in run_files(root)
    }


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]
