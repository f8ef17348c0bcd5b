"""The core install (``pip install nasgym``) works without any optional dependency.

A fresh interpreter runs with every optional module made unimportable (a
``sitecustomize`` on ``PYTHONPATH`` blocks them, in child processes too): the envs,
the baselines, a leaderboard run and ``nasgym data status`` work, and every path that
needs an extra raises :class:`nasgym.error.MissingExtraError` naming it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nasgym.error import Error, MissingExtraError, require

ROOT = Path(__file__).resolve().parents[1]

#: Every distribution the core install leaves out, by import name (and what they
#: pull in: scipy, pandas and friends).
OPTIONAL = (
    "torch",
    "stable_baselines3",
    "sb3_contrib",
    "onnxruntime",
    "onnx",
    "sklearn",
    "mlxtend",
    "scipy",
    "ray",
    "networkx",
    "matplotlib",
    "rliable",
    "pandas",
    "moocore",
    "pyarrow",
    "mo_gymnasium",
    "arch",
    "seaborn",
    "statsmodels",
)

BLOCKER = """
import importlib.abc, sys

BLOCKED = set({blocked!r})


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name!r}} is blocked", name=name)
        return None


sys.meta_path.insert(0, Blocker())
"""

PROBE = r"""
import contextlib, io, json, sys
import gymnasium as gym

results = {}
import nasgym
results["import"] = True

env = gym.make("nasgym/NBGraphQuery-v0", dataset="cora", max_queries=5)
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
results["step_arch"] = info["arch"]

import nasgym_agents.baselines  # numpy only
from nasgym.cli import main


def cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


lb = sys.argv[1]
results["run"] = cli(
    "leaderboard", "run", "--env", "nasgym/NBGraphQuery-v0", "--env-kwargs",
    "dataset=cora", "--agents", "random,rea,ls,reinforce", "--seeds", "2",
    "--budget", "20", "--out", lb, "--workers", "1",
)
results["status"] = cli("data", "status")
results["report"] = cli("leaderboard", "report", lb)
results["rl_agent"] = cli(
    "leaderboard", "run", "--env", "nasgym/NBGraphEdit-v0", "--env-kwargs",
    "dataset=cora", "--agents", "maskable_ppo", "--seeds", "1", "--budget", "5",
    "--out", lb + "-rl", "--workers", "1",
)


def error_of(thunk):
    try:
        thunk()
    except Exception as exc:
        return {"type": type(exc).__name__, "message": str(exc)}
    return None


def nb301():
    gym.make("nasgym/NB301Query-v0").reset(seed=0)


def supernet():
    gym.make("nasgym/Supernet201Query-v0").reset(seed=0)


def sb3_import():
    import nasgym_agents.sb3


def pareto():
    from nasgym.pareto import hypervolume
    hypervolume([[0.5, 0.5]], [1.0, 1.0])


def networkx():
    from nasgym.spaces.nb201 import NB201Space
    space = NB201Space()
    space.to_networkx(space.from_code(0))


def render():
    gym.make("nasgym/NBGraphQuery-v0", dataset="cora", render_mode="rgb_array")


def digits():
    from nasgym.oneshot.datasets import load_images
    load_images("digits")


results["draw"] = cli("draw", "link=[0,0,1,2] ops=[gcn,gat,skip,fc]", "--space",
    "nbgraph", "-o", lb + ".png")
results["render"] = error_of(render)
results["digits"] = error_of(digits)
results["nb301"] = error_of(nb301)
results["supernet"] = error_of(supernet)
results["sb3_import"] = error_of(sb3_import)
results["pareto"] = error_of(pareto)
results["networkx"] = error_of(networkx)
results["loaded"] = sorted(
    m for m in sys.modules if m.split(".")[0] in set(sys.argv[2].split(","))
)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    shim = tmp_path_factory.mktemp("shim")
    (shim / "sitecustomize.py").write_text(BLOCKER.format(blocked=list(OPTIONAL)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim), str(ROOT)])
    env["NASGYM_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    lb = tmp_path_factory.mktemp("lb") / "results"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(lb), ",".join(OPTIONAL)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path_factory.mktemp("cwd"),
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_core_paths_work_without_extras(light: dict[str, Any]) -> None:
    assert light["import"]
    assert light["step_arch"]
    assert light["run"]["code"] == 0, light["run"]["err"]
    assert light["status"]["code"] == 0, light["status"]["err"]
    assert "nbgraph           present" in light["status"]["out"]
    assert light["loaded"] == []


@pytest.mark.parametrize(
    ("key", "extra"),
    [
        ("nb301", "nb301"),
        ("supernet", "oneshot"),
        ("sb3_import", "rl"),
        ("pareto", "mo"),
        ("networkx", "graph"),
        ("render", "render"),
        ("digits", "oneshot"),
    ],
)
def test_extra_paths_name_their_extra(
    light: dict[str, Any], key: str, extra: str
) -> None:
    error = light[key]
    assert error is not None, f"{key} worked without its extra"
    assert error["type"] == "MissingExtraError", error
    assert f'pip install "nasgym[{extra}]"' in error["message"]


@pytest.mark.parametrize(
    ("key", "extra"), [("report", "report"), ("rl_agent", "rl"), ("draw", "render")]
)
def test_cli_paths_name_their_extra(
    light: dict[str, Any], key: str, extra: str
) -> None:
    assert light[key]["code"] == 1
    assert f'pip install "nasgym[{extra}]"' in light[key]["err"], light[key]["err"]


def test_require_returns_the_module() -> None:
    assert require("json", extra="core").__name__ == "json"


def test_require_names_extra_and_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # made unimportable
    with pytest.raises(MissingExtraError) as info:
        require("sklearn", extra="oneshot", purpose="the digits images")
    assert isinstance(info.value, Error) and isinstance(info.value, ImportError)
    assert (info.value.module, info.value.extra) == ("sklearn", "oneshot")
    message = str(info.value)
    assert message.startswith("the digits images: needs scikit-learn")
    assert 'pip install "nasgym[oneshot]"' in message
