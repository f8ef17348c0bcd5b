"""Build a tiny third-party package for tests (a plain module, not a test file).

:func:`write_package` writes a source tree with its own ``pyproject.toml`` (entry
points included); :func:`install_package` makes it importable and its entry points
visible to ``importlib.metadata``, for this process and its subprocesses (local
workers, a local Ray cluster), by putting its files and a ``.dist-info`` directory
in a site directory added to ``sys.path`` and ``PYTHONPATH``. ``method="pip"``
installs the source tree with ``pip install --no-deps --no-build-isolation
--target`` instead (slower; checks that the ``pyproject.toml`` really builds).

Reuse: ``install_package(write_package(tmp, "mypkg", {"__init__.py": SOURCE},
{"nasgym.envs": {"mypkg": "mypkg"}}), tmp / "site", monkeypatch)``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

#: Module source registering three NBGraph ids (another dataset) named by the
#: naming rule, and one family named otherwise, declared with register_modes.
THEIRPKG_SOURCE = """
import gymnasium as gym

from nasgym.registration import register_modes

DATASET = "citeseer"

for mode in ("Query", "Edit", "Continuous"):
    gym.register(
        id=f"theirpkg/Their{mode}-v0",
        entry_point=f"nasgym.envs.nbgraph:NBGraph{mode}Env",
        kwargs={"dataset": DATASET},
    )
for name, mode in (("Ask", "Query"), ("Tweak", "Edit")):
    gym.register(
        id=f"theirpkg/{name}-v0",
        entry_point=f"nasgym.envs.nbgraph:NBGraph{mode}Env",
        kwargs={"dataset": DATASET},
    )
register_modes(query="theirpkg/Ask-v0", edit="theirpkg/Tweak-v0")
"""

#: A benchmark factory module of the package: ``theirpkg.bench:make``.
THEIRPKG_BENCH = """
from nasgym.benchmarks.nbgraph import NBGraphBenchmark


def make():
    return NBGraphBenchmark("photo")


not_callable = 3


def broken():
    raise RuntimeError("no such table")
"""


def nasgym(
    *args: str, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the ``nasgym`` console script (not ``python -m``: no cwd on sys.path)."""
    script = Path(sys.executable).with_name("nasgym")
    result = subprocess.run(
        [str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NASGYM_EXTRA_AGENTS": ""},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def write_package(
    root: Path,
    name: str,
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    *,
    dist_name: str | None = None,
    version: str = "0.1.0",
) -> Path:
    """Write a source tree ``root/<dist>`` of package ``name``; return its path.

    Args:
        root: Where to write it.
        name: The import name of the package.
        modules: ``file name -> source`` of the package's modules (e.g.
            ``{"__init__.py": ...}``).
        entry_points: ``group -> {name: value}``, e.g.
            ``{"nasgym.envs": {"theirpkg": "theirpkg"}}``.
        dist_name: The distribution name (default ``name``).
        version: Its version.
    """
    dist = dist_name or name
    src = root / dist
    package = src / name
    package.mkdir(parents=True, exist_ok=True)
    for filename, source in modules.items():
        (package / filename).write_text(textwrap.dedent(source))
    if "__init__.py" not in modules:
        (package / "__init__.py").write_text("")
    groups = "".join(
        f'\n[project.entry-points."{group}"]\n'
        + "".join(f'{key} = "{value}"\n' for key, value in items.items())
        for group, items in entry_points.items()
    )
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "{version}"

            [tool.setuptools]
            packages = ["{name}"]
            """
        )
        + groups
    )
    return src


def install_package(
    src: Path,
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    method: str = "dist-info",
) -> Path:
    """Make the package at ``src`` importable here and in subprocesses.

    ``method="dist-info"`` copies the package into ``site`` and writes its
    ``.dist-info`` (``METADATA`` and ``entry_points.txt`` from ``pyproject.toml``);
    ``method="pip"`` runs ``pip install --no-deps --no-build-isolation --target``.
    ``site`` goes first on ``sys.path`` and ``PYTHONPATH`` (undone by
    ``monkeypatch``). Returns ``site``.
    """
    import shutil

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    site.mkdir(parents=True, exist_ok=True)
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    dist, version = project["name"], project["version"]
    if method == "pip":
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                "--no-build-isolation", "--no-index", "--target", str(site), str(src),
            ],
            check=True,
        )  # fmt: skip
    elif method == "dist-info":
        for package in (p for p in src.iterdir() if (p / "__init__.py").exists()):
            shutil.copytree(package, site / package.name, dirs_exist_ok=True)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        )
        lines = []
        for group, items in project.get("entry-points", {}).items():
            lines.append(f"[{group}]")
            lines += [f"{key} = {value}" for key, value in items.items()]
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines))
        (info / "top_level.txt").write_text("")
    else:
        raise ValueError(f"unknown method {method!r}: 'dist-info' or 'pip'")
    monkeypatch.syspath_prepend(str(site))
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(site) if not path else os.pathsep.join([str(site), path])
    )
    importlib.invalidate_caches()
    return site


def theirpkg(
    root: Path, monkeypatch: pytest.MonkeyPatch, *, source: str = THEIRPKG_SOURCE
) -> Path:
    """Write and install ``theirpkg`` (a ``nasgym.envs`` plugin); return its site."""
    src = write_package(
        root,
        "theirpkg",
        {"__init__.py": source, "bench.py": THEIRPKG_BENCH},
        {"nasgym.envs": {"theirpkg": "theirpkg"}},
        dist_name="theirpkg-nas",
    )
    return install_package(src, root / "site", monkeypatch)
