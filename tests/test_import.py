"""``import nasgym`` is light: no torch, no benchmark data, no file I/O, fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Run in a fresh interpreter: audit every file opened while importing nasgym.
PROBE = r"""
import json, sys, time

opened = []

def audit(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, int)):
        opened.append(str(args[0]))

sys.addaudithook(audit)
before = set(sys.modules)
start = time.perf_counter()
import nasgym
seconds = time.perf_counter() - start
import gymnasium as gym

print(json.dumps({
    "seconds": seconds,
    "opened": opened,
    "new_modules": sorted(set(sys.modules) - before),
    "registered": sorted(k for k in gym.registry if k.startswith("nasgym/")),
}))
"""

#: Modules that ``import nasgym`` must not pull in.
HEAVY = (
    "torch",
    "stable_baselines3",
    "sb3_contrib",
    "nas_bench_graph",
    "matplotlib",
    "networkx",
    "tqdm",
    "platformdirs",
    "nasgym.benchmarks.nbgraph",
    "nasgym.benchmarks.nb201",
    "nasgym.envs.nb201",
    "nasgym.envs.nbgraph",
    "nasgym.data",
)

#: What the import system itself opens: sources, bytecode and extension modules.
IMPORT_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


def _probe() -> dict[str, Any]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    env.pop("PYTHONSTARTUP", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_import_is_light_and_fast() -> None:
    runs = [_probe() for _ in range(2)]
    data = runs[-1]
    for name in HEAVY:
        assert not any(
            m == name or m.startswith(f"{name}.") for m in data["new_modules"]
        ), f"import nasgym imported {name}"
    assert "nasgym.registration" in data["new_modules"]
    not_imports = [p for p in data["opened"] if not p.endswith(IMPORT_SUFFIXES)]
    assert not_imports == [], f"import nasgym opened files: {not_imports}"
    assert data["registered"] == sorted(
        [
            *(
                f"nasgym/{space}{mode}-v0"
                for space in ("NB201", "NBGraph")
                for mode in ("Edit", "Query", "Continuous")
            ),
            "nasgym/NB101Edit-v0",
            "nasgym/NB101Query-v0",
            "nasgym/NB301Edit-v0",
            "nasgym/NB301Continuous-v0",
            "nasgym/NB301Query-v0",
            *(f"nasgym/OFAMBv3{mode}-v0" for mode in ("Edit", "Query", "Continuous")),
            "nasgym/Supernet201-v0",
            *(
                f"nasgym/Supernet201{mode}-v0"
                for mode in ("Edit", "Query", "Continuous")
            ),
            *(f"nasgym/{space}Fidelity-v0" for space in ("NB201", "NB101", "NB301")),
        ]
    )
    # A guard, not a benchmark: the best of two fresh interpreters.
    seconds = min(run["seconds"] for run in runs)
    assert seconds < 0.3, f"import nasgym took {seconds:.3f} s"
