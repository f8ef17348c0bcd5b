"""How much of a leaderboard's time goes to the searches: ``nasgym perf --leaderboard``.

:func:`measure_leaderboard` runs one small leaderboard (one cheap agent on one cheap
env, ``runs`` seeds) end to end with :func:`~nasgym.leaderboard.runner.run_leaderboard`
into a temporary directory, once per backend, and reads two things:

* **the share of worker time inside ``agent.run()``**: every worker times the whole
  run (:func:`~nasgym.leaderboard.execute.execute_run`, from receiving the task to
  returning the encoded run file) and the agent's ``run()`` call with
  :func:`time.perf_counter`; the share is the sum of the second over the sum of the
  first. The rest is the harness's cost per run: finding the agent, making the env,
  building the run file's header and records, encoding. It is given over all runs
  and over *warm* runs: each worker's first run also pays the imports and the
  benchmark table's load (its cold start, reported on its own);
* **wall time**: of the whole ``run_leaderboard`` call (validation, manifest,
  workers or Ray cluster start, the runs, the driver writing every run file), per
  backend, and the ratio Ray / local. Ray is measured twice: starting and stopping
  its own local cluster inside the call (``--backend ray`` without
  ``--ray-address``), and on a local cluster started before the clock (the
  harness's own Ray cost, as on a running cluster). The ratio target applies to
  the second; the first adds Ray's start and stop, seconds whatever the size.

:func:`leaderboard_rows` turns the measurement into rows of the ``nasgym perf``
report (section ``"leaderboard"``).

Example:
    >>> from nasgym.leaderboard.perf import measure_leaderboard
    >>> m = measure_leaderboard(runs=20, backends=("local",))  # doctest: +SKIP
    >>> m["local"]["warm_agent_share"]  # doctest: +SKIP
    0.7...
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
#: Maximum wall time of ``--backend ray`` (on a running cluster) as a multiple of
#: the local backend's.
RAY_RATIO_TARGET = 1.3


def _quiet(_message: str) -> None:
    pass


def _shares(run_times: Sequence[tuple[float, float, bool]]) -> dict[str, float]:
    """Agent and worker seconds, all runs and warm runs (not a worker's first)."""
    agent = sum(t[0] for t in run_times)
    worker = sum(t[1] for t in run_times)
    warm = [t for t in run_times if not t[2]]
    warm_agent = sum(t[0] for t in warm)
    warm_worker = sum(t[1] for t in warm)
    cold = [t[1] for t in run_times if t[2]]
    return {
        "agent_s": agent,
        "worker_s": worker,
        "agent_share": agent / worker if worker else 0.0,
        "warm_agent_share": warm_agent / warm_worker if warm_worker else 0.0,
        "cold_runs": len(cold),
        "cold_run_s": sum(cold) / len(cold) if cold else 0.0,
        "warm_run_s": warm_worker / len(warm) if warm else 0.0,
        "agent_run_s": agent / len(run_times) if run_times else 0.0,
    }


def measure_backend(
    backend: str,
    *,
    runs: int = DEFAULT_RUNS,
    workers: int = DEFAULT_WORKERS,
    env: str = DEFAULT_ENV,
    agent: str = DEFAULT_AGENT,
    budget: int = DEFAULT_BUDGET,
    env_kwargs: dict[str, Any] | None = None,
    ray_session: bool = False,
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
        ray_session: With ``backend="ray"``: start the local Ray cluster before the
            clock starts (and stop it after it stops), as for a leaderboard sent to
            a running cluster; else the command starts and stops its own.
        out: Leaderboard directory (default: a fresh temporary one, removed after).

    Returns:
        ``{"backend", "runs", "workers", "wall_s", ...}`` and the figures of
        :func:`_shares`: ``agent_share`` is the seconds in ``agent.run()`` over
        the seconds of whole runs in the workers; ``warm_agent_share`` the same
        without each worker's first run (its cold start: imports and table loads,
        ``cold_run_s`` on average); ``utilisation`` is ``agent_s / (wall_s *
        workers)``, the share of the command's whole CPU allowance spent searching.

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
        shares = _shares(report.run_times)
        return {
            "backend": backend,
            "ray_session": ray_session,
            "runs": report.completed,
            "workers": workers,
            "wall_s": wall,
            **shares,
            "utilisation": shares["agent_s"] / (wall * workers) if wall else 0.0,
        }

    def measured() -> dict[str, Any]:
        if out is not None:
            return once(Path(out))
        with tempfile.TemporaryDirectory(prefix="nasgym-lbperf-") as tmp:
            return once(Path(tmp) / "lb")

    if not (backend == "ray" and ray_session):
        return measured()
    from nasgym.leaderboard.backends import import_ray, ray_init_options

    ray = import_ray()
    if ray.is_initialized():
        return measured()
    ray.init(address="local", num_cpus=workers, **ray_init_options())
    try:
        return measured()
    finally:
        ray.shutdown()


def measure_leaderboard(
    *,
    runs: int = DEFAULT_RUNS,
    workers: int = DEFAULT_WORKERS,
    env: str = DEFAULT_ENV,
    agent: str = DEFAULT_AGENT,
    budget: int = DEFAULT_BUDGET,
    backends: Sequence[str] = ("local", "ray", "ray-session"),
) -> dict[str, Any]:
    """:func:`measure_backend` for each of ``backends`` (same leaderboard).

    ``"ray-session"`` is the Ray backend on a cluster started beforehand
    (``ray_session=True``).

    Returns:
        ``{backend: measurement}``, ``"config"``, and the wall-time ratios
        ``"ray_vs_local"`` and ``"ray_session_vs_local"`` of those measured.
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
    for name in backends:
        result[name] = measure_backend(
            "ray" if name.startswith("ray") else name,
            ray_session=name == "ray-session",
            runs=runs,
            workers=workers,
            env=env,
            agent=agent,
            budget=budget,
        )
    for name in ("ray", "ray-session"):
        if "local" in result and name in result:
            ratio = result[name]["wall_s"] / result["local"]["wall_s"]
            result[f"{name.replace('-', '_')}_vs_local"] = ratio
    return result


def leaderboard_rows(quick: bool = False) -> list[Any]:
    """Rows of the ``nasgym perf`` report's ``leaderboard`` section.

    ``quick`` runs 40 runs of 100 queries instead of 200 of 300 (a smoke run: the
    figures are reported without their targets). The Ray rows are skipped when Ray
    is not installed (the ``ray`` extra).
    """
    from nasgym.perf import _not_measured, _row

    runs, budget = (40, 100) if quick else (DEFAULT_RUNS, DEFAULT_BUDGET)
    has_ray = importlib.util.find_spec("ray") is not None
    names = ("local", "ray", "ray-session") if has_ray else ("local",)
    m = measure_leaderboard(runs=runs, budget=budget, backends=names)
    what = f"{runs} runs of {DEFAULT_AGENT}, {budget} queries, {DEFAULT_WORKERS} "
    what += "workers"
    share_target = None if quick else (">=", 100 * AGENT_SHARE_TARGET)
    ratio_target = None if quick else ("<", RAY_RATIO_TARGET)
    no_ray = "ray is not installed (pip install 'nasgym[ray]')"
    labels = {
        "local": "local",
        "ray": "ray, own cluster",
        "ray-session": "ray, running cluster",
    }
    rows = []
    for name, label in labels.items():
        if name not in m:
            rows.append(
                _not_measured(
                    "leaderboard", f"agent.run share, warm ({label})", "%", no_ray
                )
            )
            continue
        b = m[name]
        if name != "ray":  # the same workers as ray-session: shares not repeated
            rows.append(
                _row(
                    "leaderboard",
                    f"agent.run share of worker time, warm runs ({label})",
                    100 * b["warm_agent_share"],
                    "%",
                    share_target,
                    f"{1000 * b['agent_run_s']:.1f} ms agent.run, "
                    f"{1000 * b['warm_run_s']:.1f} ms whole run; {what}",
                )
            )
            rows.append(
                _row(
                    "leaderboard",
                    f"agent.run share of worker time, all runs ({label})",
                    100 * b["agent_share"],
                    "%",
                    None,
                    f"with {b['cold_runs']} cold first runs of "
                    f"{b['cold_run_s']:.2f} s (imports, table load)",
                )
            )
        rows.append(
            _row(
                "leaderboard",
                f"wall time ({label})",
                b["wall_s"],
                "s",
                None,
                f"{b['runs'] / b['wall_s']:.1f} runs/s; agent.run is "
                f"{100 * b['utilisation']:.0f} % of wall x workers",
            )
        )
    for key, label, target, note in (
        (
            "ray_session_vs_local",
            "wall time ray / local (running cluster)",
            ratio_target,
            "the harness's Ray cost: the cluster is started before the clock",
        ),
        (
            "ray_vs_local",
            "wall time ray / local (own cluster)",
            None,
            "includes starting and stopping a local Ray cluster (seconds)",
        ),
    ):
        if key in m:
            rows.append(_row("leaderboard", label, m[key], "x", target, note))
        else:
            rows.append(_not_measured("leaderboard", label, "x", no_ray, target))
    return rows
