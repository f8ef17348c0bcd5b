"""End to end: the AnalogNAS-Bench tutorial module as a third-party package.

The package's module is the tutorial's own code, extracted from
``docs/tutorials/own-benchmark.md`` at test time (the ``python`` blocks of its
sections 1 to 4), so the tutorial and what is tested cannot drift apart. It is
installed with a ``nasgym.envs`` entry point and run through the ``nasgym``
command, on the local backend and on Ray, as a user would. The tutorial's search
script (section 5) and its last shell command are run as written too.

Needs the ``analog-nasbench`` wheel (the real AnalogNAS-Bench table).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from lb_helpers import ROOT, read_lines, run_files
from thirdparty import install_package, nasgym, write_package

from conftest import missing_data

pytestmark = pytest.mark.data

TUTORIAL = ROOT / "docs" / "tutorials" / "own-benchmark.md"
BASELINES = ["random", "rea", "ls", "reinforce"]
QUERY_ID = "analognas/Analog201Query-v0"
_PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_BASH = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def tutorial_parts() -> tuple[str, str, str]:
    """(module source, search script source, last shell command) of the tutorial."""
    text = TUTORIAL.read_text()
    module_part, heading, rest = text.partition("\n## 5.")
    assert heading, f"{TUTORIAL} has no section 5 (the search script)"
    module = "\n\n".join(_PYTHON.findall(module_part))
    script = "\n\n".join(_PYTHON.findall(rest))
    commands = _BASH.findall(rest)
    assert module and script and commands, f"{TUTORIAL} lost a code block"
    return module, script, commands[-1]


@pytest.fixture
def wheel() -> None:
    if importlib.util.find_spec("analognasbench") is None:
        missing_data("the analog-nasbench wheel is not installed")


@pytest.fixture
def site(wheel, tmp_path, monkeypatch) -> Path:
    """The tutorial module installed as package ``analognas_env`` (an env plugin)."""
    module, _, _ = tutorial_parts()
    src = write_package(
        tmp_path / "pkg",
        "analognas_env",
        {"__init__.py": module},
        {"nasgym.envs": {"analognas": "analognas_env"}},
        dist_name="analognas-env",
    )
    return install_package(src, tmp_path / "site", monkeypatch)


def test_every_id_of_the_package_passes_check_nas_env(site):
    from nasgym.registration import load_env_plugins, third_party_env_ids
    from nasgym.testing import check_nas_env

    plugins = {plugin.name: plugin for plugin in load_env_plugins()}
    assert "analognas" in plugins
    ids = sorted(i for i in third_party_env_ids() if i.startswith("analognas/"))
    assert ids == [
        "analognas/Analog201Continuous-v0",
        "analognas/Analog201Edit-v0",
        "analognas/Analog201Query-v0",
    ]
    for env_id in ids:
        env = gym.make(env_id, max_queries=30)
        try:
            check_nas_env(env, steps=15, seed=3)
        finally:
            env.close()


def _board(tmp_path: Path, backend: str) -> None:
    root, cwd = tmp_path / f"lb-{backend}", tmp_path
    nasgym(
        "leaderboard", "run", "--env", QUERY_ID, "--agents", ",".join(BASELINES),
        "--seeds", "2", "--budget", "20", "--workers", "2", "--backend", backend,
        "--no-progress", "--out", str(root), cwd=cwd,
    )  # fmt: skip
    files = run_files(root)
    assert len(files) == len(BASELINES) * 2
    reasons = set()
    for path in files:
        lines = read_lines(path)
        header = lines[0]
        assert header["backend"] == backend
        assert header["env"]["id"] == QUERY_ID
        assert len(lines) == 20 + 2  # header, 20 queries, summary
        bench = header["benchmark"]
        assert bench["name"] == "analog201/cifar10"
        assert bench["reward_split"] == "test"
        assert "test accuracies only" in bench["reward_split_reason"]
        reasons.add(bench["reward_split_reason"])
    (reason,) = reasons
    report = nasgym("leaderboard", "report", str(root), cwd=cwd)
    written = root / "report" / "report.md"
    assert written.is_file()
    for text in (report.stdout, written.read_text()):
        assert f"## {QUERY_ID}" in text
        for agent in BASELINES:
            assert re.search(rf"^\| {agent} +\|", text, re.M), agent
        assert f"rewards use TEST-split numbers ({reason})" in text


def test_baselines_on_the_plugin_through_the_cli_local(site, tmp_path):
    _board(tmp_path, "local")


@pytest.mark.ray
def test_baselines_on_the_plugin_through_the_cli_ray(site, tmp_path):
    pytest.importorskip("ray")
    _board(tmp_path, "ray")


def test_the_tutorial_script_and_command_work_as_written(wheel, tmp_path):
    module, script, command = tutorial_parts()
    work = tmp_path / "work"
    work.mkdir()
    (work / "analognas_env.py").write_text(module)
    # The tutorial's way to run section 5 as a script of its own.
    (work / "search.py").write_text("from analognas_env import IDS, np\n" + script)
    search = subprocess.run(
        [sys.executable, "search.py"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert search.returncode == 0, search.stderr
    assert "after 60 queries" in search.stdout and "edit walk" in search.stdout
    # Importing the module (as every worker does) runs no search and prints nothing.
    quiet = subprocess.run(
        [sys.executable, "-c", "import analognas_env"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stderr

    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:3] == ["nasgym", "leaderboard", "run"]
    env_id = argv[argv.index("--env") + 1]
    out = work / argv[argv.index("--out") + 1]
    result = nasgym(*argv[1:], "--no-progress", cwd=work)
    assert ", 0 failed" in result.stdout
    runs = run_files(out)
    agents = argv[argv.index("--agents") + 1].split(",")
    seeds = int(argv[argv.index("--seeds") + 1])
    assert len(runs) == len(agents) * seeds
    assert {read_lines(p)[0]["env"]["id"] for p in runs} == {env_id}
    report = nasgym("leaderboard", "report", str(out), cwd=work)
    assert "rewards use TEST-split numbers" in report.stdout

    # An unknown --env-kwargs key of a third-party id: refused before any run,
    # naming the key and the valid ones (those of its own entry point).
    bad = nasgym(
        "leaderboard", "run", "--env", env_id, "--env-kwargs", "no_such_kwarg=1",
        "--agents", "random", "--seeds", "1", "--budget", "5", "--no-progress",
        "--out", str(work / "bad"), cwd=work, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "unknown keyword argument 'no_such_kwarg'" in bad.stderr, bad.stderr
    valid = bad.stderr.split("valid keyword arguments:")[1]
    assert "reward_metric," in valid and "horizon," in valid
    assert not (work / "bad").exists()


def test_env_kwarg_names_of_third_party_entry_points(site):
    from nasgym.leaderboard.execute import env_kwarg_names

    # A class entry point (registered by register_benchmark_envs, via the plugin).
    names = env_kwarg_names(QUERY_ID)
    assert {"max_queries", "reward_metric", "horizon"} <= set(names)
    assert "self" not in names and "kwargs" not in names

    # A function entry point, given as an object and as a "module:attr" string.
    def make(max_queries: int = 10, *, depth: int = 2, **rest: object) -> gym.Env:
        raise AssertionError("only inspected, never called")

    gym.register(id="lbanalog/Fn-v0", entry_point=make, kwargs={"depth": 3})
    gym.register(id="lbanalog/Str-v0", entry_point="nasgym.extend:GraphView")
    try:
        assert env_kwarg_names("lbanalog/Fn-v0") == ["max_queries", "depth"]
        assert env_kwarg_names("lbanalog/Str-v0") == [
            "node_types",
            "max_nodes",
            "build",
        ]
    finally:
        for env_id in ("lbanalog/Fn-v0", "lbanalog/Str-v0"):
            gym.registry.pop(env_id)
