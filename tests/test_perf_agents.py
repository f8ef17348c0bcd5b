"""``nasgym perf --agents``: structure and error paths only, never speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasgym.cli import main
from nasgym.perf_agents import format_agent_report, run_agent_perf

ENV = "nasgym/NBGraphQuery-v0"


def test_one_run_per_agent_in_its_env_mode() -> None:
    result = run_agent_perf(
        ["random", "maskable_ppo"],
        env_id=ENV,
        env_kwargs={"dataset": "cora"},
        budget=20,
    )
    rows = {row["agent"]: row for row in result["rows"]}
    assert rows["random"]["env"] == ENV
    assert rows["maskable_ppo"]["env"] == "nasgym/NBGraphEdit-v0"
    for row in rows.values():
        assert row["queries"] == 20
        assert row["steps"] >= 19  # an Edit env queries its start cell on reset
        assert row["steps_per_s"] == pytest.approx(row["steps"] / row["wall_s"])
        assert row["ratio_to_cartpole"] == pytest.approx(
            row["steps_per_s"] / row["cartpole_steps_per_s"]
        )
    text = format_agent_report(result)
    assert "maskable_ppo" in text and "NBGraphEdit-v0" in text


def test_cli_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "agents.json"
    args = ["perf", "--agents", "random", "--env", ENV, "--env-kwargs", "dataset=cora"]
    assert main([*args, "--budget", "10", "--json", str(out)]) == 0
    assert "random" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved["budget"] == 10 and saved["rows"][0]["queries"] == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["perf", "--budget", "10"], "go with --agents"),
        (["perf", "--agents", "nosuch", "--env", ENV], "nosuch"),
        (["perf", "--agents", "random", "--env", ENV, "--env", ENV], "one --env"),
    ],
)
def test_bad_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    assert message in capsys.readouterr().err
