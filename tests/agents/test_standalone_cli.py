"""The shared command-line plumbing of the standalone one-shot searches."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from nasgym.error import UnknownOptionError
from nasgym_agents import cli
from nasgym_agents.advantagenas import standalone as advantagenas
from nasgym_agents.darts import standalone as darts
from nasgym_agents.radars import standalone as radars
from nasgym_agents.unas import standalone as unas


def _help(parser: Any, option: str) -> str | None:
    for action in parser._actions:
        if option in action.option_strings:
            return action.help  # type: ignore[no-any-return]
    raise AssertionError(f"{option} missing")


@pytest.mark.parametrize("module", [darts, unas, radars])
def test_every_search_takes_the_shared_options(module: Any) -> None:
    parser = module.build_parser()
    args = parser.parse_args(
        ["--image-size", "16", "--seed", "3", "--table", "t", "--no-amp"]
    )
    assert (args.image_size, args.seed, args.table, args.no_amp) == (16, 3, "t", True)
    assert args.device == "cpu" and args.checkpoint_every == 0 and args.log_every == 50


def test_unas_keeps_its_own_options() -> None:
    args = unas.build_parser().parse_args(["--time-budget", "2.5", "--hw-table", "h"])
    assert args.time_budget == 2.5 and args.hw_table == "h"


def test_checkpoint_every_says_what_it_counts() -> None:
    assert _help(radars.build_parser(), "--checkpoint-every") == "DARTS steps"
    assert _help(darts.build_parser(), "--checkpoint-every") is None


def test_report_main_writes_non_finite_as_null(tmp_path: Path, capsys: Any) -> None:
    report = {"a": math.nan, "b": [1.0, math.inf], "c": {"d": -math.inf, "e": 2}}
    out = tmp_path / "sub" / "r.json"
    assert cli.report_main(lambda: report, lambda r: f"shown {r['c']['e']}", out) == 0
    assert capsys.readouterr().out.strip() == "shown 2"
    assert json.loads(out.read_text()) == {
        "a": None,
        "b": [1.0, None],
        "c": {"d": None, "e": 2},
    }


def test_report_main_turns_refused_input_into_status_2(
    tmp_path: Path, capsys: Any
) -> None:
    def refuse() -> dict[str, Any]:
        raise UnknownOptionError("bad option 'x'; use one of a, b")

    out = tmp_path / "r.json"
    assert cli.report_main(refuse, str, out) == 2
    assert capsys.readouterr().err == "error: bad option 'x'; use one of a, b\n"
    assert not out.exists()


def test_advantagenas_cli_writes_nested_non_finite_as_null(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake(**kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"x": math.nan, "nested": {"y": math.inf}}

    monkeypatch.setattr(advantagenas, "search_report", fake)
    monkeypatch.setattr(advantagenas, "format_report", lambda r: "ok")
    out = tmp_path / "r.json"
    assert advantagenas.main(["--arch-steps", "3", "--json", str(out)]) == 0
    assert seen["arch_steps"] == 3 and seen["device"] == "auto"
    assert json.loads(out.read_text()) == {"x": None, "nested": {"y": None}}
