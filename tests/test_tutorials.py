"""Run every tutorial in docs/tutorials/ as written.

Each ``docs/tutorials/*.md`` runs in order in one fresh temporary working directory
(on ``sys.path``, so a block may write a module a later block imports):

* every ```python block is executed in one namespace shared by the file's blocks;
* in every ```bash block, each command line (``\\`` continuations joined) whose
  command, after optional leading ``NAME=value`` environment assignments, is
  ``nasgym`` or ``python`` runs through a subprocess in that directory with this
  interpreter (``sys.executable``) or the ``nasgym`` script beside it, and must exit
  with status 0; other lines are not run;
* ```text, ```console and other blocks are not run.

A tutorial whose ``python`` blocks together form a module (the text says "save the
blocks above as NAME.py") declares it in a line ``<!-- module: NAME.py -->``: before
each ``bash`` block the runner writes the ``python`` blocks seen so far to that file,
up to a line ``<!-- module-end -->`` where there is one (blocks after it, e.g. a search
that uses the module, run in the namespace but stay out of the module file).
A tutorial that needs an optional package names its import name in a line
``<!-- requires: PACKAGE -->``; without the package the test skips with a reason,
except under ``NASGYM_REQUIRE_DATA=1``, where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
_BLOCK = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
_REQUIRES = re.compile(r"<!--\s*requires:\s*([A-Za-z0-9_.,\s-]+?)\s*-->")
_MODULE = re.compile(r"<!--\s*module:\s*([A-Za-z0-9_]+\.py)\s*-->")
_MODULE_END = "<!-- module-end -->"
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def blocks(text: str) -> list[tuple[str, str, int]]:
    """``(language, code, offset)`` of every fenced block, in order."""
    return [(m.group(1).lower(), m.group(2), m.start()) for m in _BLOCK.finditer(text)]


def commands(code: str) -> list[tuple[dict[str, str], list[str]]]:
    """The runnable ``(environment, argv)`` commands of a bash block."""
    joined = re.sub(r"\\\n", " ", code)
    out = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        env: dict[str, str] = {}
        while words and _ASSIGN.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if words and words[0] in ("nasgym", "python"):
            out.append((env, words))
    return out


def executable(name: str) -> str:
    if name == "python":
        return sys.executable
    script = Path(sys.executable).parent / name
    if not script.exists():
        pytest.fail(f"no {name} script next to {sys.executable}; pip install -e .")
    return str(script)


def test_commands_parser() -> None:
    code = "A=1 B=x nasgym data status\npip install foo\npython -c \\\n  'print(1)'\n"
    assert commands(code) == [
        ({"A": "1", "B": "x"}, ["nasgym", "data", "status"]),
        ({}, ["python", "-c", "print(1)"]),
    ]


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs(
    tutorial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tutorial.read_text(encoding="utf-8")
    for match in _REQUIRES.finditer(text):
        for package in filter(None, re.split(r"[,\s]+", match.group(1))):
            if importlib.util.find_spec(package) is None:
                reason = f"{tutorial.name} needs the {package!r} package"
                if os.environ.get("NASGYM_REQUIRE_DATA") == "1":
                    pytest.fail(f"{reason} (NASGYM_REQUIRE_DATA=1)")
                pytest.skip(reason)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    namespace: dict[str, Any] = {"__name__": "__tutorial__"}
    module = _MODULE.search(text)
    module_end = text.find(_MODULE_END)
    seen: list[str] = []
    try:
        for number, (language, code, offset) in enumerate(blocks(text), 1):
            if language == "python":
                if module_end < 0 or offset < module_end:
                    seen.append(code)
                exec(
                    compile(code, f"{tutorial.name}[block {number}]", "exec"), namespace
                )
            elif language in ("bash", "sh", "shell"):
                if module is not None:
                    (tmp_path / module.group(1)).write_text("\n".join(seen))
                for extra, argv in commands(code):
                    env = {**os.environ, **extra}
                    result = subprocess.run(
                        [executable(argv[0]), *argv[1:]],
                        cwd=tmp_path,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=600,
                    )
                    assert result.returncode == 0, (
                        f"{tutorial.name} block {number}: `{shlex.join(argv)}` exited "
                        f"{result.returncode}\n{result.stdout[-3000:]}\n"
                        f"{result.stderr[-3000:]}"
                    )
    finally:
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
                del sys.modules[name]
