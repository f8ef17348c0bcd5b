"""The distribution's package list matches the source tree, and ``agents/`` installs
as ``nasgym_agents`` (a top-level ``agents`` would collide with other packages)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _tree_packages() -> set[str]:
    packages = set()
    for base, name in (("nasgym", "nasgym"), ("agents", "nasgym_agents")):
        for init in (ROOT / base).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / base).parts
            packages.add(".".join((name, *parts)))
    return packages


def test_pyproject_lists_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"nasgym_agents": "agents"}
    assert set(config["packages"]) == _tree_packages()


def test_agents_import_as_nasgym_agents():
    spec = importlib.util.find_spec("nasgym_agents.baselines")
    assert spec is not None and spec.origin is not None
    assert pathlib.Path(spec.origin).resolve().parent == ROOT / "agents" / "baselines"


def test_entry_points_name_nasgym_agents():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for value in config["entry-points"]["nasgym.agents"].values():
        assert value.startswith("nasgym_agents."), value
