"""Agent aliases, ``--agent-kwargs`` and agents that ask for another env mode."""

import json

import pytest
from lb_helpers import read_lines, records, run_args, run_files, use_test_agents

from nasgym.cli import main
from nasgym.leaderboard.agents import (
    AgentSpec,
    env_id_for_mode,
    parse_agent_specs,
)
from nasgym.leaderboard.errors import LeaderboardError


@pytest.fixture(autouse=True)
def _agents(monkeypatch):
    use_test_agents(monkeypatch)


def _header(root, agent, seed=0):
    (path,) = (root / "runs").glob(f"*/{agent}/seed-{seed}.jsonl")
    return read_lines(path)[0]


def test_parse_aliases_and_kwargs():
    specs = parse_agent_specs(
        ["rs", "far=shifted", "near=shifted"],
        ["far:shift=3", "near:shift=1", "far:tag=x"],
    )
    assert specs == [
        AgentSpec("rs", "rs", {}),
        AgentSpec("far", "shifted", {"shift": 3, "tag": "x"}),
        AgentSpec("near", "shifted", {"shift": 1}),
    ]
    assert AgentSpec.from_json("far", specs[1].to_json()) == specs[1]


@pytest.mark.parametrize(
    ("agents", "kwargs", "match"),
    [
        (["=rs"], [], "ALIAS=NAME"),
        (["a="], [], "ALIAS=NAME"),
        (["rs"], ["rs-shift=1"], "NAME:KEY=VALUE"),
        (["rs"], ["rs:shift"], "NAME:KEY=VALUE"),
        (["rs"], ["mut:shift=1"], "not in --agents"),
        (["rs"], ["rs:1x=1"], "not a valid keyword"),
        (["rs"], ["rs:a=1", "rs:a=2"], "twice"),
    ],
)
def test_malformed_specs_are_refused(agents, kwargs, match):
    with pytest.raises(LeaderboardError, match=match):
        parse_agent_specs(agents, kwargs)


def test_env_ids_per_mode():
    assert env_id_for_mode("nasgym/NB201Query-v0", None) == "nasgym/NB201Query-v0"
    assert env_id_for_mode("nasgym/NB201Query-v0", "Edit") == "nasgym/NB201Edit-v0"
    assert env_id_for_mode("nasgym/NB301Edit-v0", "Edit") == "nasgym/NB301Edit-v0"
    with pytest.raises(LeaderboardError, match="NB101Continuous-v0 is not registered"):
        env_id_for_mode("nasgym/NB101Query-v0", "Continuous", "sac")


def test_kwargs_reach_the_agent_and_aliases_keep_apart(tmp_path):
    out = tmp_path / "lb"
    args = run_args(out, "--agent-kwargs", "far:shift=3", agents="rs,far=shifted")
    assert main(args) == 0
    header = _header(out, "far")
    assert header["agent"]["name"] == "far"
    assert header["agent"]["agent"] == "shifted"
    assert header["agent"]["config"] == {"shift": 3}
    manifest = json.loads((out / "leaderboard.json").read_text())
    stored = manifest["agents_config"]["far"]
    assert stored == {"agent": "shifted", "kwargs": {"shift": 3}}
    # The keyword argument changes the search: a different query stream than shift=0.
    plain = tmp_path / "plain"
    assert main(run_args(plain, agents="far=shifted")) == 0
    assert records(run_files(out)[0]) != records(run_files(plain)[0])


def _far(out, shift):
    return run_args(out, "--agent-kwargs", f"far:shift={shift}", agents="far=shifted")


def test_other_kwargs_under_a_stored_name_are_refused(tmp_path, capsys):
    out = tmp_path / "lb"
    assert main(_far(out, 3)) == 0
    before = sorted(p.read_bytes() for p in run_files(out))
    code = main(_far(out, 4))
    err = capsys.readouterr().err
    assert code == 1
    assert "shift=3" in err and "shift=4" in err and "another name" in err
    assert sorted(p.read_bytes() for p in run_files(out)) == before
    # The same settings again resume (nothing to do); a new alias adds runs.
    assert main(_far(out, 3)) == 0
    assert main(run_args(out, agents="far2=shifted")) == 0
    assert len(run_files(out)) == 4


def test_an_agent_with_env_mode_runs_on_that_mode(tmp_path, capsys):
    out = tmp_path / "lb"
    assert main(run_args(out, agents="rs,edits")) == 0
    assert "edits runs on nasgym/NBGraphEdit-v0" in capsys.readouterr().err
    edits, rs = _header(out, "edits"), _header(out, "rs")
    assert edits["run_env_id"] == "nasgym/NBGraphEdit-v0"
    assert rs["run_env_id"] == "nasgym/NBGraphQuery-v0"
    # Both are stored (and reported) under the leaderboard's env.
    assert edits["env"] == rs["env"]
    assert len({p.parent.parent.name for p in run_files(out)}) == 1
    last = read_lines(next((out / "runs").glob("*/edits/seed-0.jsonl")))[-1]
    assert last["queries"] == 20


def test_an_unknown_env_mode_is_refused(tmp_path, capsys):
    assert main(run_args(tmp_path / "lb", agents="badmode")) == 1
    assert "env_mode is 'Sideways'" in capsys.readouterr().err
