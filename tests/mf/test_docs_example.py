"""The example of docs/multifidelity.md runs as written, on the real NB201 table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "multifidelity.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_page_has_the_simulate_example() -> None:
    assert any("simulate(" in b for b in _blocks())


@pytest.mark.data
def test_simulate_example_runs(
    nb201_table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block = next(b for b in _blocks() if "simulate(" in b)
    exec(compile(block, str(PAGE), "exec"), {})
    reason, makespan, report = capsys.readouterr().out.split()
    assert reason == "budget"
    assert float(makespan) > 0
    assert 0 < float(report) <= 100


@pytest.mark.data
def test_env_example_runs(
    nb201_table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block = next(b for b in _blocks() if "run_optimizer(" in b)
    exec(compile(block, str(PAGE), "exec"), {})
    jobs, clock, report = capsys.readouterr().out.split()
    assert int(jobs) > 10 and float(clock) > 0 and 0 < float(report) <= 100


def test_leaderboard_example_uses_real_options() -> None:
    from nasgym.cli import build_parser

    text = PAGE.read_text()
    command = re.search(r"(nasgym leaderboard run .*?)\n(?!    )", text, flags=re.S)
    assert command is not None
    argv = command.group(1).replace("\\\n", " ").split()[1:]
    args = build_parser().parse_args(argv)
    assert args.budget_unit == "epochs" and args.sim_workers == 4
