"""nasgym.oneshot: its lazy face, the old paths as aliases, no import circle."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ONESHOT = ROOT / "nasgym" / "oneshot"

#: Former top-level path -> module it now aliases.
ALIASES = {
    "nasgym.supernet": "nasgym.oneshot.supernet",
    "nasgym.nn": "nasgym.oneshot.nn",
    "nasgym.nn.nb201": "nasgym.oneshot.nn.nb201",
    "nasgym.nn.supernet": "nasgym.oneshot.nn.supernet",
    "nasgym.zero_cost": "nasgym.oneshot.zero_cost",
    "nasgym.zc_reward": "nasgym.oneshot.zc_reward",
    "nasgym.datasets": "nasgym.oneshot.datasets",
}


def _fresh(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_old_path_is_the_same_module_object(old: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(ALIASES[old])


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_old_path_imported_first_in_a_fresh_process(old: str) -> None:
    # Importing the old path before the new one must not create a second copy.
    got = _fresh(
        "import importlib, json, sys\n"
        f"a = importlib.import_module({old!r})\n"
        f"b = importlib.import_module({ALIASES[old]!r})\n"
        "print(json.dumps({'same': a is b, 'name': a.__name__}))"
    )
    assert got == {"same": True, "name": ALIASES[old]}


def test_classes_are_shared_between_paths() -> None:
    from nasgym.nn.supernet import NB201Supernet as Old
    from nasgym.oneshot import NB201Supernet, Supernet
    from nasgym.supernet import Supernet as OldSupernet

    assert Old is NB201Supernet
    assert OldSupernet is Supernet
    import nasgym

    assert nasgym.supernet is nasgym.oneshot.supernet


def test_face_is_lazy_and_torch_free() -> None:
    got = _fresh(
        "import json, sys\n"
        "import nasgym.oneshot as o\n"
        "before = sorted(m for m in sys.modules if m.startswith('nasgym.oneshot.'))\n"
        "torch_before = 'torch' in sys.modules\n"
        "names = o.PROXIES, o.DATASETS\n"
        "print(json.dumps({'sub': before, 'torch': torch_before,\n"
        "                  'torch_after': 'torch' in sys.modules}))"
    )
    assert got == {"sub": [], "torch": False, "torch_after": False}


def test_every_public_name_resolves() -> None:
    oneshot = importlib.import_module("nasgym.oneshot")
    for name in oneshot.__all__:
        value = getattr(oneshot, name)
        module = importlib.import_module(oneshot._EXPORTS[name])
        assert value is getattr(module, name), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        oneshot.nope  # noqa: B018


def _module_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_level_import_circle_in_oneshot() -> None:
    files = {
        "nasgym.oneshot." + ".".join(p.relative_to(ONESHOT).with_suffix("").parts): p
        for p in ONESHOT.rglob("*.py")
        if p.name != "__init__.py"
    }
    graph = {
        mod: {m for m in _module_level_imports(p) if m in files}
        for mod, p in files.items()
    }
    assert "nasgym.oneshot.zc_reward" not in graph["nasgym.oneshot.zero_cost"]
    assert "nasgym.oneshot.zero_cost" not in graph["nasgym.oneshot.zc_reward"]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = [mod for mod in graph if reaches(mod, mod, set())]
    assert circles == []
