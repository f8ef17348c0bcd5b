"""Every bad input of `nasgym leaderboard` gives a clear error, never a traceback."""

import json
import sys
from importlib.metadata import EntryPoint

import pytest
from lb_helpers import ENV, run_args, use_test_agents

from nasgym.cli import main
from nasgym.leaderboard import protocol


@pytest.fixture(autouse=True)
def _agents(monkeypatch):
    use_test_agents(monkeypatch)


def _fails(argv, capsys, code=1):
    if code == 2:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    else:
        assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _replace(argv, option, value):
    argv = list(argv)
    if option not in argv:
        return [*argv, option, value]
    argv[argv.index(option) + 1] = value
    return argv


def test_unknown_env_id_lists_nasgym_ids(tmp_path, capsys):
    err = _fails(
        _replace(run_args(tmp_path / "o"), "--env", "nasgym/NoSuch-v0"), capsys
    )
    assert "nasgym/NoSuch-v0" in err
    assert "nasgym/NB201Query-v0" in err and "nasgym/NBGraphEdit-v0" in err
    assert not (tmp_path / "o").exists()


def test_non_nas_gymnasium_env_is_refused(tmp_path, capsys):
    # Any registered Gymnasium id is accepted as an id; CartPole fails the contract.
    err = _fails(_replace(run_args(tmp_path / "o"), "--env", "CartPole-v1"), capsys)
    assert "CartPole-v1 takes no max_queries" in err
    assert "bring-your-own-env" in err
    assert not (tmp_path / "o").exists()


def test_unknown_agent_lists_registered_ones(tmp_path, capsys, monkeypatch):
    mine = EntryPoint("mine", "my_package.agents:Mine", protocol.ENTRY_POINT_GROUP)
    monkeypatch.setattr(protocol, "agent_entry_points", lambda: {"mine": mine})
    err = _fails(run_args(tmp_path / "o", agents="rs,nosuch"), capsys)
    assert "'nosuch'" in err and "'mine'" in err and "'rs'" in err and "'mut'" in err


def test_agent_listed_twice(tmp_path, capsys):
    err = _fails(run_args(tmp_path / "o", agents="rs,rs"), capsys)
    assert "twice" in err


def test_malformed_extra_agents_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NASGYM_EXTRA_AGENTS", "oops")
    err = _fails(run_args(tmp_path / "o"), capsys)
    assert "NASGYM_EXTRA_AGENTS" in err and "name=module:attribute" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--budget", "0"),
        ("--budget", "1000000001"),
        ("--budget", "ten"),
        ("--budget-unit", "hours"),
        ("--sim-workers", "0"),
        ("--seeds", "0"),
        ("--seeds", "10001"),
        ("--seeds", "2.5"),
        ("--workers", "0"),
        ("--checkpoints", "10,x"),
        ("--checkpoints", "0"),
        ("--agents", "rs,,mut"),
        ("--env-kwargs", "dataset"),
        ("--backend", "dask"),
    ],
)
def test_malformed_arguments_exit_2(tmp_path, capsys, option, value):
    err = _fails(_replace(run_args(tmp_path / "o"), option, value), capsys, code=2)
    assert "usage: nasgym leaderboard run" in err
    assert option in err


def test_query_budget_above_its_range(tmp_path, capsys):
    err = _fails(_replace(run_args(tmp_path / "o"), "--budget", "100001"), capsys)
    assert "--budget must be in 1..100000, got 100001" in err


@pytest.mark.parametrize(
    ("extra", "flags"),
    [
        (("--sim-workers", "4"), "--sim-workers need"),
        (("--budget-unit", "epochs"), "--budget-unit need"),
    ],
)
def test_fidelity_options_need_a_fidelity_env(tmp_path, capsys, extra, flags):
    err = _fails(run_args(tmp_path / "o", *extra), capsys)
    assert flags in err and "multi-fidelity env" in err
    assert "nasgym/NB201Fidelity-v0" in err


def test_fidelity_option_given_twice(tmp_path, capsys):
    argv = run_args(tmp_path / "o", "--sim-workers", "2")
    argv[argv.index("dataset=cora")] = "sim_workers=3"
    err = _fails(argv, capsys)
    assert "--sim-workers and --env-kwargs sim_workers=... both set it" in err


def test_missing_required_arguments_exit_2(capsys):
    err = _fails(["leaderboard", "run", "--env", ENV], capsys, code=2)
    assert "required" in err
    _fails(["leaderboard"], capsys, code=2)
    _fails(["leaderboard", "report"], capsys, code=2)


def test_checkpoint_beyond_budget(tmp_path, capsys):
    err = _fails(run_args(tmp_path / "o", "--checkpoints", "10,25"), capsys)
    assert "25" in err and "budget of 20" in err


def test_budget_beyond_space_size(tmp_path, capsys):
    err = _fails(_replace(run_args(tmp_path / "o"), "--budget", "60000"), capsys)
    assert "60000" in err and "architectures" in err


def test_unknown_env_kwarg_names_valid_ones(tmp_path, capsys):
    argv = run_args(tmp_path / "o")
    argv.insert(argv.index("--agents"), "horizn=5")
    err = _fails(argv, capsys)
    assert "'horizn'" in err and "horizon" in err and "dataset" in err


def test_bad_env_kwarg_value(tmp_path, capsys):
    err = _fails(
        _replace(run_args(tmp_path / "o"), "--env-kwargs", "dataset=nope"), capsys
    )
    assert "nope" in err and "cora" in err


def test_max_queries_is_the_budget(tmp_path, capsys):
    argv = run_args(tmp_path / "o")
    argv.insert(argv.index("--agents"), "max_queries=5")
    err = _fails(argv, capsys)
    assert "--budget" in err


def test_same_kwarg_twice(tmp_path, capsys):
    argv = run_args(tmp_path / "o")
    argv.insert(argv.index("--agents"), "dataset=citeseer")
    err = _fails(argv, capsys)
    assert "'dataset' twice" in err


def test_same_env_twice(tmp_path, capsys):
    argv = [*run_args(tmp_path / "o"), "--env", ENV, "--env-kwargs", "dataset=cora"]
    err = _fails(argv, capsys)
    assert "twice" in err


def test_ray_address_needs_ray_backend(tmp_path, capsys):
    err = _fails(run_args(tmp_path / "o", "--ray-address", "auto"), capsys)
    assert "--backend ray" in err


def test_missing_ray_explains_the_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    err = _fails(run_args(tmp_path / "o", "--backend", "ray"), capsys)
    assert 'pip install "nasgym[ray]"' in err
    assert not (tmp_path / "o").exists()


def test_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    err = _fails(run_args(target), capsys)
    assert "not a directory" in err


def test_report_missing_directory(tmp_path, capsys):
    err = _fails(["leaderboard", "report", str(tmp_path / "nope")], capsys)
    assert "no such directory" in err and "nope" in err


def test_report_directory_without_results(tmp_path, capsys):
    err = _fails(["leaderboard", "report", str(tmp_path)], capsys)
    assert "no leaderboard results" in err
    manifest = {
        "format": "nasgym-leaderboard", "format_version": 1, "budget": 20,
        "checkpoints": [20], "envs": [{"id": ENV, "kwargs": {}}], "agents": ["rs"],
        "seeds": 1,
    }  # fmt: skip
    (tmp_path / "leaderboard.json").write_text(json.dumps(manifest))
    err = _fails(["leaderboard", "report", str(tmp_path)], capsys)
    assert "no finished runs" in err


def test_report_unreadable_manifest(tmp_path, capsys):
    (tmp_path / "leaderboard.json").write_text("{not json")
    err = _fails(["leaderboard", "report", str(tmp_path)], capsys)
    assert "leaderboard.json" in err
