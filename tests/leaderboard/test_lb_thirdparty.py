"""Third-party envs on the leaderboard: plugins, module:ID ids, benchmark factories.

Everything runs through the ``nasgym`` command in a subprocess, as a user would: the
package is found by its ``nasgym.envs`` entry point, in the parent and in every
worker (local processes and Ray).
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest
from lb_helpers import read_lines, run_files
from thirdparty import install_package, nasgym, theirpkg, write_package

from nasgym.leaderboard.config import EnvConfig
from nasgym.leaderboard.errors import LeaderboardError

BASELINES = "random,rea,ls,reinforce"

#: A module next to the user's shell (imported from the working directory).
MYMOD = '''
import gymnasium as gym

from nasgym.envs.nbgraph import NBGraphQueryEnv

for mode in ("Query", "Edit"):
    gym.register(
        id=f"mine/Mine{mode}-v0",
        entry_point=f"nasgym.envs.nbgraph:NBGraph{mode}Env",
        kwargs={"dataset": "pubmed"},
    )


class NoRegret(NBGraphQueryEnv):
    """Forgets the regret key of the info contract."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        del info["regret"]
        return obs, reward, terminated, truncated, info


class NoBudgetFlag(NBGraphQueryEnv):
    def reset(self, **kwargs):
        obs, info = super().reset(**kwargs)
        del info["budget_exhausted"]
        return obs, info


gym.register(id="mine/NoRegret-v0", entry_point=NoRegret)
gym.register(id="mine/NoBudgetFlag-v0", entry_point=NoBudgetFlag)
'''


def lb_args(out: Path, envs: list[str], agents: str, *extra: str) -> list[str]:
    env_args = [a for env in envs for a in ("--env", env)]
    return [
        "leaderboard", "run", *env_args, "--agents", agents, "--seeds", "1",
        "--budget", "12", "--out", str(out), "--workers", "2", "--no-progress",
        *extra,
    ]  # fmt: skip


def headers(root: Path) -> dict[str, dict]:
    return {
        str(p.relative_to(root / "runs")): read_lines(p)[0] for p in run_files(root)
    }


@pytest.fixture
def site(tmp_path, monkeypatch):
    return theirpkg(tmp_path / "pkg", monkeypatch)


@pytest.fixture
def work(tmp_path):
    """A working directory holding mymod.py (not on the Python path)."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / "mymod.py").write_text(textwrap.dedent(MYMOD))
    return cwd


def _check_board(root: Path, cwd: Path, backend: str, runs: int) -> dict[str, dict]:
    """Check headers and record counts of a finished board; report it."""
    found = headers(root)
    assert len(found) == runs
    for name, header in found.items():
        assert header["backend"] == backend
        assert len(read_lines(root / "runs" / name)) == 12 + 2  # header, summary
    report = nasgym("leaderboard", "report", str(root), cwd=cwd)
    for header in found.values():
        assert header["env"]["id"] in report.stdout
    return found


def test_plugin_envs_through_the_cli_local(site, work, tmp_path):
    root = tmp_path / "lb"
    envs = ["theirpkg/TheirQuery-v0", "theirpkg/Ask-v0"]
    # sac needs a Continuous env; the declared family has none: a clear error.
    bad = nasgym(*lb_args(root, envs, "random,sac"), cwd=work, check=False)
    assert bad.returncode == 1
    assert "theirpkg/Ask-v0 has none" in bad.stderr
    assert "register_modes(edit=..., query=..., continuous=...)" in bad.stderr
    assert not root.exists()
    nasgym(*lb_args(root, envs, f"{BASELINES},maskable_ppo"), cwd=work)
    found = _check_board(root, work, "local", 2 * 5)
    for header in found.values():
        assert header["benchmark"]["dataset"] == "citeseer"
    routed = {k: h["run_env_id"] for k, h in found.items() if "maskable" in k}
    assert routed == {
        "theirpkg.TheirQuery-v0/maskable_ppo/seed-0.jsonl": "theirpkg/TheirEdit-v0",
        # The family declared with register_modes is known in the workers too.
        "theirpkg.Ask-v0/maskable_ppo/seed-0.jsonl": "theirpkg/Tweak-v0",
    }
    again = nasgym(*lb_args(root, envs, f"{BASELINES},maskable_ppo"), cwd=work)
    assert "0 runs done, 10 skipped" in again.stdout


def test_module_id_from_the_working_directory(work, tmp_path):
    root = tmp_path / "lb"
    env = "mymod:mine/MineQuery-v0"
    result = nasgym(*lb_args(root, [env], "random,maskable_ppo"), cwd=work)
    assert "maskable_ppo runs on mymod:mine/MineEdit-v0" in result.stderr
    found = _check_board(root, work, "local", 2)
    agent = found["mymod+mine.MineQuery-v0/maskable_ppo/seed-0.jsonl"]
    assert agent["env"]["id"] == env
    assert agent["run_env_id"] == "mymod:mine/MineEdit-v0"
    assert agent["benchmark"]["dataset"] == "pubmed"
    again = nasgym(*lb_args(root, [env], "random,maskable_ppo"), cwd=work)
    assert "0 runs done, 2 skipped" in again.stdout
    # Elsewhere the module is not importable: the error says where it looked.
    elsewhere = nasgym(*lb_args(root, [env], "random"), cwd=tmp_path, check=False)
    assert elsewhere.returncode == 1
    assert "importing 'mymod'" in elsewhere.stderr
    assert "working directory" in elsewhere.stderr


@pytest.mark.ray
def test_plugin_and_module_ids_on_ray(site, work, tmp_path):
    pytest.importorskip("ray")
    root = tmp_path / "lb"
    envs = ["theirpkg/Ask-v0", "mymod:mine/MineQuery-v0"]
    argv = lb_args(root, envs, f"{BASELINES},maskable_ppo", "--backend", "ray")
    nasgym(*argv, cwd=work)
    found = _check_board(root, work, "ray", 2 * 5)
    routed = {k: h["run_env_id"] for k, h in found.items() if "maskable" in k}
    assert routed == {
        "theirpkg.Ask-v0/maskable_ppo/seed-0.jsonl": "theirpkg/Tweak-v0",
        "mymod+mine.MineQuery-v0/maskable_ppo/seed-0.jsonl": "mymod:mine/MineEdit-v0",
    }


def test_continuous_sibling_by_name(site, work, tmp_path):
    root = tmp_path / "lb"
    nasgym(*lb_args(root, ["theirpkg/TheirQuery-v0"], "random,sac"), cwd=work)
    found = _check_board(root, work, "local", 2)
    sac = found["theirpkg.TheirQuery-v0/sac/seed-0.jsonl"]
    assert sac["run_env_id"] == "theirpkg/TheirContinuous-v0"


def test_a_plugin_that_raises_names_itself(tmp_path, monkeypatch):
    src = write_package(
        tmp_path,
        "badpkg",
        {"__init__.py": "raise RuntimeError('broken on purpose')\n"},
        {"nasgym.envs": {"bad": "badpkg"}},
        dist_name="badpkg-dist",
        version="2.0",
    )
    install_package(src, tmp_path / "site", monkeypatch)
    for args in (["list"], ["leaderboard", "run", "--help"]):
        result = nasgym(*args, cwd=tmp_path, check=False)
        assert result.returncode == 1
        text = result.stderr
        assert "Traceback" not in text and text.startswith("nasgym: error:")
        assert "'bad'" in text and "badpkg-dist 2.0" in text, text
        assert "broken on purpose" in text


def test_missing_info_keys_are_named(work, tmp_path):
    at_reset = nasgym(
        *lb_args(tmp_path / "a", ["mymod:mine/NoBudgetFlag-v0"], "random"),
        cwd=work,
        check=False,
    )
    assert at_reset.returncode == 1
    assert "mymod:mine/NoBudgetFlag-v0 breaks the leaderboard's info contract" in (
        at_reset.stderr
    )
    assert "no key 'budget_exhausted'" in at_reset.stderr
    assert not (tmp_path / "a").exists()  # refused before any run
    at_step = nasgym(
        *lb_args(tmp_path / "b", ["mymod:mine/NoRegret-v0"], "random"),
        cwd=work,
        check=False,
    )
    assert at_step.returncode == 1
    assert "mine/NoRegret-v0 breaks the leaderboard's info contract" in (at_step.stderr)
    assert "no key 'regret'" in at_step.stderr
    assert "bring-your-own-env" in at_step.stderr


def test_benchmark_factory_spec(site, work, tmp_path):
    root = tmp_path / "lb"
    spec = "theirpkg.bench:make"
    args = lb_args(root, ["nasgym/NBGraphQuery-v0"], "random,sac")
    nasgym(*args, "--env-kwargs", f"benchmark={spec}", cwd=work)
    found = _check_board(root, work, "local", 2)
    for header in found.values():
        assert header["benchmark"]["spec"] == spec
        assert header["benchmark"]["dataset"] == "photo"
        assert header["env"]["kwargs"] == {"benchmark": spec}
        assert header["env_spec"]["kwargs"]["benchmark"] == spec
    manifest = json.loads((root / "leaderboard.json").read_text())
    assert manifest["envs"][0]["kwargs"] == {"benchmark": spec}
    for bad, message in (
        ("make", "is not an importable factory"),
        ("nosuchmod:make", "cannot import it"),
        ("theirpkg.bench:not_callable", "not a callable"),
        ("theirpkg.bench:broken", "raised RuntimeError: no such table"),
    ):
        result = nasgym(
            *lb_args(tmp_path / "x", ["nasgym/NBGraphQuery-v0"], "random"),
            "--env-kwargs",
            f"benchmark={bad}",
            cwd=work,
            check=False,
        )
        assert result.returncode == 1 and message in result.stderr, result.stderr


def test_a_benchmark_object_points_to_the_spec_form():
    with pytest.raises(LeaderboardError, match="benchmark='module:callable'"):
        EnvConfig("nasgym/NBGraphQuery-v0", {"benchmark": object()})
    with pytest.raises(LeaderboardError, match="int, float, bool, str or None"):
        EnvConfig("nasgym/NBGraphQuery-v0", {"objectives": ["a", "b"]})


def test_pip_install_of_the_package_is_seen(tmp_path, monkeypatch):
    from importlib.metadata import entry_points, version

    import setuptools  # noqa: F401  (its version decides whether it builds wheels)

    major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        pytest.skip("this setuptools needs the wheel package to build offline")
    src = write_package(
        tmp_path,
        "pippkg",
        {"__init__.py": ""},
        {"nasgym.envs": {"pippkg": "pippkg"}},
    )
    install_package(src, tmp_path / "site", monkeypatch, method="pip")
    assert "pippkg" in [ep.name for ep in entry_points(group="nasgym.envs")]


def test_an_id_registered_by_a_script_alone_fails_in_the_workers(tmp_path):
    import gymnasium as gym

    from nasgym.leaderboard.errors import RunFailedError
    from nasgym.leaderboard.runner import run_leaderboard

    env_id = "scriptonly/OnlyQuery-v0"
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point="nasgym.envs.nbgraph:NBGraphQueryEnv")
    with pytest.raises(RunFailedError, match="registered by a script alone"):
        run_leaderboard(
            envs=[EnvConfig(env_id)],
            agents=["random"],
            seeds=1,
            budget=5,
            out=tmp_path / "lb",
            progress=False,
            log=lambda message: None,
        )
