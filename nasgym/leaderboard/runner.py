"""``nasgym leaderboard run``: validate, plan, resume and execute a leaderboard.

Every (env, agent, seed) run is independent. Runs whose file exists are skipped, so
re-running a command after an interruption redoes exactly the unfinished runs; see
:mod:`nasgym.leaderboard.store` for why an interruption never corrupts a result.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasgym import __version__
from nasgym.leaderboard.agents import (
    AgentSpec,
    check_agent_names,
    load_agent,
    parse_agent_specs,
)
from nasgym.leaderboard.backends import BACKENDS, import_ray, run_local, run_ray
from nasgym.leaderboard.config import (
    BENCHMARK_KWARG,
    BUDGET_RANGE,
    BUDGET_UNITS,
    DEFAULT_CHECKPOINTS,
    SEEDS_RANGE,
    TIME_BUDGET_RANGE,
    EnvConfig,
    LeaderboardConfig,
    check_checkpoints,
)
from nasgym.leaderboard.contract import check_info
from nasgym.leaderboard.errors import (
    ConfigMismatchError,
    CorruptRunFileError,
    LeaderboardError,
    RunFailedError,
)
from nasgym.leaderboard.execute import (
    RunOutcome,
    RunTask,
    agent_env,
    make_env,
    now_iso,
)
from nasgym.leaderboard.store import (
    RUNS_DIR,
    DirectorySync,
    atomic_write,
    check_header,
    clean_temp_files,
    directory_lock,
    find_run_files,
    log_path,
    manifest_path,
    read_manifest,
    read_run,
    run_path,
    write_manifest,
)
from nasgym.registration import split_env_id

Logger = Callable[[str], None]


@dataclass
class RunReport:
    """What ``leaderboard run`` did."""

    out: Path
    total: int
    skipped: int
    completed: int = 0
    failed: list[RunOutcome] = field(default_factory=list)
    wall_s: float = 0.0
    #: ``(agent_s, worker_s, cold)`` of every run of this command, in the order they
    #: finished: seconds in ``agent.run()``, seconds of the whole run in its worker,
    #: and whether it was its worker's first run (see
    #: :class:`~nasgym.leaderboard.execute.RunOutcome`).
    run_times: list[tuple[float, float, bool]] = field(default_factory=list)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def validate_envs(
    envs: Sequence[EnvConfig], budget: int, agents: Sequence[AgentSpec] = ()
) -> None:
    """Make every env once: ids, keyword arguments, data and budget are checked.

    Agents with an ``env_mode`` run on their space's env in that mode: those envs
    are made too.

    Raises:
        UnknownOptionError: Unknown env id or dataset.
        LeaderboardError: Unknown keyword argument; budget above the space's size;
            the same env given twice.
        Error: Missing benchmark data (the message says how to import it).
    """
    seen: dict[str, EnvConfig] = {}
    for env in envs:
        if env.canonical() in seen:
            raise LeaderboardError(f"{env.label} is given twice in --env")
        seen[env.canonical()] = env
        variants = {env.id: env}
        checks: dict[str, list[tuple[str, Any]]] = {}
        for spec in agents:
            factory = load_agent(spec.agent)
            variant = agent_env(env, factory, spec.name)
            variants.setdefault(variant.id, variant)
            if callable(getattr(factory, "check_env", None)):
                checks.setdefault(variant.id, []).append((spec.label, factory))
        for variant in variants.values():
            _check_env(variant, budget, checks.get(variant.id, ()))
    keys = [env.key for env in envs]
    if len(set(keys)) != len(keys):  # pragma: no cover - keys carry a hash if lossy
        raise LeaderboardError(f"env configurations share a directory name: {keys}")


def worker_sys_path(envs: Sequence[EnvConfig]) -> tuple[str, ...]:
    """What workers put on ``sys.path``: the working directory, where needed.

    A ``module:id`` env id or a ``benchmark='module:callable'`` factory is imported
    from the working directory too (like ``uvicorn``); the workers (spawned
    processes, Ray workers with another working directory) get it explicitly.
    """
    needs = any(
        split_env_id(env.id)[0] is not None
        or isinstance(env.kwargs.get(BENCHMARK_KWARG), str)
        for env in envs
    )
    return (os.getcwd(),) if needs else ()


def _check_env(
    env: EnvConfig, budget: int, agent_checks: Sequence[tuple[str, Any]] = ()
) -> None:
    made = make_env(env, budget)
    try:
        for label, factory in agent_checks:
            # An agent class may refuse an env before any run starts.
            try:
                factory.check_env(made)
            except ValueError as exc:
                raise LeaderboardError(
                    f"agent {label} cannot run on {env.label}: {exc}"
                ) from None
        if not env.id.startswith("nasgym/"):
            # Fail before starting workers: a third-party env breaking the contract.
            _obs, info = made.reset(seed=0)
            check_info(info, env.id, "reset")
        space = getattr(made.unwrapped, "search_space", None)
        size = getattr(space, "num_valid", None)
        by_queries = env.budget_unit == "queries"
        if by_queries and size is not None and budget > int(size):
            raise LeaderboardError(
                f"--budget {budget} exceeds the {int(size)} architectures of "
                f"{env.label}: the budget could never be spent"
            )
    finally:
        made.close()


def budget_unit(envs: Sequence[EnvConfig]) -> str:
    """The unit ``--budget`` counts in: the envs' ``budget_unit`` (default queries).

    Raises:
        LeaderboardError: Envs with different units, or an unknown unit.
    """
    units = {env.budget_unit for env in envs}
    if len(units) > 1:
        raise LeaderboardError(
            f"every --env must count --budget in the same unit, got {sorted(units)}"
        )
    unit = units.pop() if units else "queries"
    if unit not in BUDGET_UNITS:
        raise LeaderboardError(
            f"unknown budget_unit {unit!r}; choose one of {', '.join(BUDGET_UNITS)}"
        )
    return unit


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    """Raise a :class:`LeaderboardError` unless ``bounds[0] <= value <= bounds[1]``."""
    low, high = bounds
    if not low <= value <= high:
        raise LeaderboardError(f"{name} must be in {low}..{high}, got {value}")


def _check_agents(root: Path, agents: Sequence[AgentSpec]) -> None:
    """Refuse an agent name stored with another agent or other keyword arguments."""
    stored = (read_manifest(root) or {}).get("agents_config") or {}
    for spec in agents:
        if spec.name not in stored:
            continue
        old = AgentSpec.from_json(spec.name, stored[spec.name])
        if old.to_json() != spec.to_json():
            raise ConfigMismatchError(
                f"{root} holds runs of agent {old.label}; this command asks for "
                f"{spec.label}. Results of different agent settings must not be "
                "mixed: give this one another name (--agents NEW=AGENT) or use a new "
                "--out directory"
            )


def _check_existing(root: Path, config: LeaderboardConfig, log: Logger) -> bool:
    """Refuse a directory of another configuration; set damaged run files aside.

    Returns:
        Whether the stored manifest stays (``False``: none, or it is replaced because
        no run finished under it).
    """
    manifest = read_manifest(root)
    if manifest is None:
        if find_run_files(root):
            raise ConfigMismatchError(
                f"{root} holds run files but no {manifest_path(root).name}, so its "
                "configuration is unknown; use a new --out directory"
            )
        return False
    try:
        stored = LeaderboardConfig.from_json(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise LeaderboardError(
            f"{manifest_path(root)} is malformed ({exc!r}); use a new --out directory"
        ) from None
    diffs = stored.differences(config)
    if diffs and not find_run_files(root):
        log(
            f"nasgym: {root} has no finished runs yet: its settings are replaced "
            f"({'; '.join(diffs)})"
        )
        return False
    if diffs:
        raise ConfigMismatchError(
            f"{root} holds a leaderboard with different settings: "
            + "; ".join(diffs)
            + ". Results of different settings must not be mixed: use a new --out "
            "directory (or repeat the settings stored there to add agents or seeds)"
        )
    envs = {env.key: env for env in config.envs}
    for path in find_run_files(root):
        try:
            run = read_run(path)
        except CorruptRunFileError as exc:
            aside = path.with_name(path.name + ".corrupt")
            path.replace(aside)
            log(f"nasgym: warning: {exc}; moved to {aside.name}, the run is redone")
            continue
        check_header(path, run.header, envs, config.budget)
    return True


def _merged_manifest(
    root: Path,
    config: LeaderboardConfig,
    specs: Sequence[AgentSpec],
    seeds: int,
    keep: bool,
) -> dict[str, Any]:
    old = (read_manifest(root) or {}) if keep else {}
    agents = [spec.name for spec in specs]
    known = [str(a) for a in old.get("agents", [])]
    merged_agents = known + [a for a in agents if a not in known]
    requested = {str(k): int(v) for k, v in (old.get("requested") or {}).items()}
    for agent in agents:
        requested[agent] = max(requested.get(agent, 0), seeds)
    agents_config = {
        name: AgentSpec.from_json(name, data).to_json()
        for name, data in (old.get("agents_config") or {}).items()
    }
    agents_config.update({spec.name: spec.to_json() for spec in specs})
    return {
        "nasgym_version": __version__,
        "created": old.get("created", now_iso()),
        "updated": now_iso(),
        **config.to_json(),
        "agents": merged_agents,
        "seeds": max(int(old.get("seeds", 0)), seeds),
        "requested": {agent: requested[agent] for agent in merged_agents},
        "agents_config": {
            agent: agents_config.get(agent, AgentSpec(agent, agent).to_json())
            for agent in merged_agents
        },
    }


def plan_tasks(
    root: Path,
    config: LeaderboardConfig,
    agents: Sequence[str | AgentSpec],
    seeds: int,
    argv: Sequence[str],
    backend: str,
    sys_path: Sequence[str] = (),
) -> tuple[list[RunTask], int]:
    """Tasks of the runs without a file, seed-major; and the number skipped.

    ``sys_path`` goes to every task: directories the workers put on ``sys.path``.
    """
    tasks, skipped = [], 0
    specs = agent_specs(agents)
    for seed in range(seeds):
        for env in config.envs:
            for spec in specs:
                if run_path(root, env.key, spec.name, seed).exists():
                    skipped += 1
                    continue
                tasks.append(
                    RunTask(
                        env,
                        spec.name,
                        seed,
                        config.budget,
                        tuple(argv),
                        backend,
                        agent_config=dict(spec.kwargs),
                        agent_entry="" if spec.agent == spec.name else spec.agent,
                        sys_path=tuple(sys_path),
                    )
                )
    return tasks, skipped


def agent_specs(agents: Sequence[str | AgentSpec]) -> list[AgentSpec]:
    """Specs of ``agents``: strings are ``NAME`` or ``ALIAS=NAME`` without kwargs."""
    return [
        a if isinstance(a, AgentSpec) else parse_agent_specs([a])[0] for a in agents
    ]


def run_leaderboard(
    *,
    envs: Sequence[EnvConfig],
    agents: Sequence[str | AgentSpec],
    seeds: int,
    budget: int,
    out: Path,
    checkpoints: Sequence[int] | None = None,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    argv: Sequence[str] = (),
    progress: bool = True,
    log: Logger = _stderr,
) -> RunReport:
    """Run every missing (env, agent, seed) of a leaderboard into ``out``.

    Raises:
        LeaderboardError: Bad settings (see the message), a directory of another
            configuration, or failed runs (after all other runs finished).
    """
    unit = budget_unit(envs)
    check_range(
        "--budget", budget, BUDGET_RANGE if unit == "queries" else TIME_BUDGET_RANGE
    )
    check_range("--seeds", seeds, SEEDS_RANGE)
    if workers < 1:
        raise LeaderboardError(f"--workers must be at least 1, got {workers}")
    if backend not in BACKENDS:
        raise LeaderboardError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    if ray_address and backend != "ray":
        raise LeaderboardError("--ray-address needs --backend ray")
    if not envs:
        raise LeaderboardError("give at least one --env")
    if not agents:
        raise LeaderboardError("give at least one agent in --agents")
    specs = agent_specs(agents)
    check_agent_names(specs)
    if unit == "queries":
        points = check_checkpoints(checkpoints, budget)
    else:  # the query count of a run under a time budget is not known in advance
        points = sorted(set(checkpoints or DEFAULT_CHECKPOINTS))
    validate_envs(envs, budget, specs)
    if backend == "ray":
        import_ray()
    config = LeaderboardConfig(tuple(envs), budget, tuple(points))
    root = out.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise LeaderboardError(f"--out {out} exists and is not a directory")
    start = time.perf_counter()
    with directory_lock(root):
        clean_temp_files(root)
        keep = _check_existing(root, config, log)
        if keep:
            _check_agents(root, specs)
        write_manifest(root, _merged_manifest(root, config, specs, seeds, keep))
        tasks, skipped = plan_tasks(
            root, config, specs, seeds, argv, backend, worker_sys_path(envs)
        )
        report = RunReport(root, total=len(tasks) + skipped, skipped=skipped)
        where = f"Ray cluster {ray_address}" if ray_address else f"{workers} workers"
        for spec in specs:
            factory = load_agent(spec.agent)
            ids = {agent_env(env, factory, spec.name).id for env in envs}
            if ids - {env.id for env in envs}:
                log(f"nasgym: {spec.label} runs on {', '.join(sorted(ids))}")
        log(
            f"nasgym leaderboard: {report.total} runs ({_n(len(envs), 'env')} x "
            f"{_n(len(agents), 'agent')} x {_n(seeds, 'seed')}, {budget} {unit} "
            "each): "
            f"{skipped} already done, {len(tasks)} to run on the {backend} backend "
            f"({where}) -> {root / RUNS_DIR}"
        )
        _execute(tasks, report, workers, backend, ray_address, progress, log)
    report.wall_s = time.perf_counter() - start
    if report.failed:
        first = report.failed[0]
        raise RunFailedError(
            f"{len(report.failed)} of {len(tasks)} runs failed (their tracebacks are "
            f"in {root / 'logs'}); the first: {first.task.name}: {first.error}. "
            f"{report.completed} runs finished and are saved; fix the cause and run "
            "the same command again to redo the failed ones"
        )
    return report


def _execute(
    tasks: list[RunTask],
    report: RunReport,
    workers: int,
    backend: str,
    ray_address: str | None,
    progress: bool,
    log: Logger,
) -> None:
    from tqdm.auto import tqdm

    root = report.out
    # Run files: their bytes are synced one by one, their directories once a second.
    synced = DirectorySync(interval_s=1.0)
    bar = tqdm(
        total=len(tasks),
        unit="run",
        desc="runs",
        disable=not progress or not tasks,
        dynamic_ncols=True,
        smoothing=0.05,
    )

    def write(message: str) -> None:
        if bar.disable:
            log(message)
        else:
            bar.write(message, file=sys.stderr)

    def on_outcome(outcome: RunOutcome) -> None:
        task = outcome.task
        report.run_times.append((outcome.agent_s, outcome.worker_s, outcome.cold))
        if outcome.data is not None:
            path = run_path(root, task.env.key, task.agent, task.seed)
            atomic_write(path, outcome.data, sync_directory=False)
            synced.add(path)
            log_path(root, task.env.key, task.agent, task.seed).unlink(missing_ok=True)
            report.completed += 1
            by_queries = task.env.budget_unit == "queries"
            if by_queries and outcome.queries < task.budget:
                write(
                    f"nasgym: warning: {task.name} stopped after {outcome.queries} of "
                    f"{task.budget} queries"
                )
        else:
            report.failed.append(outcome)
            text = (outcome.traceback or outcome.error or "") + "\n"
            atomic_write(
                log_path(root, task.env.key, task.agent, task.seed), text.encode()
            )
            write(f"nasgym: run {task.name} failed: {outcome.error}")
            bar.set_postfix(failed=len(report.failed), refresh=False)
        bar.update(1)

    def on_queries(count: int) -> None:
        postfix = {"queries": count}
        if report.failed:
            postfix["failed"] = len(report.failed)
        bar.set_postfix(postfix, refresh=True)

    try:
        if backend == "ray":
            run_ray(tasks, workers, ray_address, on_outcome)
        else:
            run_local(tasks, workers, on_outcome, on_queries)
    finally:
        synced.flush()
        bar.close()


def describe(report: RunReport) -> str:
    """One line for the end of ``leaderboard run``."""
    return (
        f"{report.completed} runs done, {report.skipped} skipped (already done), "
        f"{len(report.failed)} failed, in {report.wall_s:.1f} s; results in "
        f"{report.out}. Next: nasgym leaderboard report {report.out}"
    )
