"""How much of a leaderboard's time goes to the searches: ``nasgym perf --leaderboard``.

:func:`measure_leaderboard` runs one small leaderboard (one cheap agent on one cheap
env, ``runs`` seeds) end to end with :func:`~nasgym.leaderboard.runner.run_leaderboard`
into a temporary directory, once per backend, and reads two things:

* **the share of worker time inside ``agent.run()``**: every worker times the whole
  run (:func:`~nasgym.leaderboard.execute.execute_run`, from receiving the task to
  returning the encoded run file) and the agent's ``run()`` call with
  :func:`time.perf_counter`; the share is the sum of the second over the sum of the
  first. The rest is the harness's cost per run: finding the agent, making the env,
  building the run file's header and records, encoding;
* **wall time**: of the whole command (validation, manifest, workers or Ray cluster
  start, the runs, the driver writing every run file), per backend, and the ratio
  Ray / local. Ray starts its own local cluster here, as ``--backend ray`` does
  without ``--ray-address``; its start is part of the Ray figure.

:func:`leaderboard_rows` turns the measurement into rows of the ``nasgym perf``
report (section ``"leaderboard"``).

Example:
    >>> from nasgym.leaderboard.perf import measure_leaderboard
    >>> m = measure_leaderboard(runs=20, backends=("local",))  # doctest: +SKIP
    >>> m["local"]["agent_share"]  # doctest: +SKIP
    0.8...
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasgym.leaderboard.config import EnvConfig

#: The leaderboard measured by default: random search on the NAS-Bench-Graph Query
#: env (embedded table, no data import needed), 300 queries a run.
DEFAULT_ENV = "nasgym/NBGraphQuery-v0"
DEFAULT_AGENT = "random"
DEFAULT_BUDGET = 300
DEFAULT_RUNS = 200
DEFAULT_WORKERS = 2

#: Minimum share of worker time spent inside ``agent.run()``.
AGENT_SHARE_TARGET = 0.75
#: Maximum wall time of ``--backend ray`` as a multiple of the local backend's.
RAY_RATIO_TARGET = 1.3


def _quiet(_message: str) -> None:
    pass


def measure_backend(
    backend: str,
    *,
    runs: int = DEFAULT_RUNS,
    workers: int = DEFAULT_WORKERS,
    env: str = DEFAULT_ENV,
    agent: str = DEFAULT_AGENT,
    budget: int = DEFAULT_BUDGET,
    env_kwargs: dict[str, Any] | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """Run ``runs`` seeds of ``agent`` on ``env`` with ``backend`` and time them.

    Args:
        backend: ``"local"`` or ``"ray"``.
        runs: Seeds (= runs: one env, one agent).
        workers: Worker processes (local) or CPUs of the local Ray cluster.
        env: Env id.
        agent: Registered agent name.
        budget: Queries per run.
        env_kwargs: Keyword arguments of the env.
        out: Leaderboard directory (default: a fresh temporary one, removed after).

    Returns:
        ``{"backend", "runs", "workers", "wall_s", "agent_s", "worker_s",
        "agent_share", "utilisation"}``: ``agent_share`` is ``agent_s / worker_s``,
        ``utilisation`` is ``agent_s / (wall_s * workers)`` (the share of the
        command's whole CPU allowance that went to searching).

    Raises:
        LeaderboardError: The leaderboard could not run (e.g. a run failed).
    """
    from nasgym.leaderboard.runner import run_leaderboard

    def once(root: Path) -> dict[str, Any]:
        started = time.perf_counter()
        report = run_leaderboard(
            envs=[EnvConfig(env, dict(env_kwargs or {}))],
            agents=[agent],
            seeds=runs,
            budget=budget,
            out=root,
            workers=workers,
            backend=backend,
            progress=False,
            log=_quiet,
        )
        wall = time.perf_counter() - started
        return {
            "backend": backend,
            "runs": report.completed,
            "workers": workers,
            "wall_s": wall,
            "agent_s": report.agent_s,
            "worker_s": report.worker_s,
            "agent_share": report.agent_s / report.worker_s
            if report.worker_s
            else 0.0,
            "utilisation": report.agent_s / (wall * workers) if wall else 0.0,
        }

    if out is not None:
        return once(Path(out))
    with tempfile.TemporaryDirectory(prefix="nasgym-lbperf-") as tmp:
        return once(Path(tmp) / "lb")


def measure_leaderboard(
    *,
    runs: int = DEFAULT_RUNS,
    workers: int = DEFAULT_WORKERS,
    env: str = DEFAULT_ENV,
    agent: str = DEFAULT_AGENT,
    budget: int = DEFAULT_BUDGET,
    backends: Sequence[str] = ("local", "ray"),
) -> dict[str, Any]:
    """:func:`measure_backend` for each of ``backends`` (same leaderboard).

    Returns:
        ``{backend: measurement}`` plus ``"ray_vs_local"`` (wall-time ratio) when
        both were measured, and ``"config"``.
    """
    result: dict[str, Any] = {
        "config": {
            "runs": runs,
            "workers": workers,
            "env": env,
            "agent": agent,
            "budget": budget,
        }
    }
    for backend in backends:
        result[backend] = measure_backend(
            backend, runs=runs, workers=workers, env=env, agent=agent, budget=budget
        )
    if "local" in result and "ray" in result:
        result["ray_vs_local"] = result["ray"]["wall_s"] / result["local"]["wall_s"]
    return result


def leaderboard_rows(quick: bool = False) -> list[Any]:
    """Rows of the ``nasgym perf`` report's ``leaderboard`` section.

    ``quick`` runs 40 runs of 100 queries instead of 200 of 300 (a smoke run: the
    ratios are reported without their targets). The Ray rows are skipped when Ray is
    not installed (the ``ray`` extra).
    """
    from nasgym.perf import _not_measured, _row

    runs, budget = (40, 100) if quick else (DEFAULT_RUNS, DEFAULT_BUDGET)
    has_ray = importlib.util.find_spec("ray") is not None
    m = measure_leaderboard(
        runs=runs, budget=budget, backends=("local", "ray") if has_ray else ("local",)
    )
    what = f"{runs} runs of {DEFAULT_AGENT}, {budget} queries, {DEFAULT_WORKERS} workers"
    share_target = None if quick else (">=", 100 * AGENT_SHARE_TARGET)
    ratio_target = None if quick else ("<", RAY_RATIO_TARGET)
    rows = []
    for backend in ("local", "ray"):
        if backend not in m:
            rows.append(
                _not_measured(
                    "leaderboard",
                    f"worker time in agent.run ({backend})",
                    "%",
                    "ray is not installed (pip install 'nasgym[ray]')",
                    share_target,
                )
            )
            continue
        b = m[backend]
        rows.append(
            _row(
                "leaderboard",
                f"worker time in agent.run ({backend})",
                100 * b["agent_share"],
                "%",
                share_target,
                f"{b['agent_s']:.2f} of {b['worker_s']:.2f} worker-s; {what}",
            )
        )
        rows.append(
            _row(
                "leaderboard",
                f"wall time ({backend})",
                b["wall_s"],
                "s",
                None,
                f"{b['runs'] / b['wall_s']:.1f} runs/s; agent.run is "
                f"{100 * b['utilisation']:.0f} % of wall x workers",
            )
        )
    if "ray_vs_local" in m:
        rows.append(
            _row(
                "leaderboard",
                "wall time ray / local",
                m["ray_vs_local"],
                "x",
                ratio_target,
                "Ray's figure includes starting its local cluster",
            )
        )
    else:
        rows.append(
            _not_measured(
                "leaderboard",
                "wall time ray / local",
                "x",
                "ray is not installed (pip install 'nasgym[ray]')",
                ratio_target,
            )
        )
    return rows
