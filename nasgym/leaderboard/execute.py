"""One run: make the env, let the agent spend the budget, return the run file's bytes.

:func:`execute_run` is a pure function of its :class:`RunTask` (the wall-clock fields
aside): the local process pool and Ray call the same function, so both backends give
the same per-query records for the same seeds. It never raises; a failure comes back
as a :class:`RunOutcome` with the error and its traceback.

Rules the harness enforces on an agent (see :class:`HarnessMonitor`):

* The first ``reset`` of a run is made with the run's env seed (whatever seed the
  agent passes); the action space is seeded with it before the agent is built. A later
  ``reset(seed=...)`` would restart the search and refund the budget, so it fails the
  run; ``reset()`` without a seed starts a new episode of the same search.
* The agent sees the env through :class:`~nasgym.wrappers.HideTestInfo`: no
  ``info`` it gets carries test accuracy or regret (they are logged below that
  wrapper, on the harness side, for the run file).
* A run fails if the agent takes :data:`MAX_IDLE_STEPS` steps in a row without a new
  query (e.g. it keeps stepping after the budget is spent).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym

from nasgym import __version__
from nasgym.error import Error, UnknownKeywordError
from nasgym.leaderboard.config import (
    BENCHMARK_KWARG,
    RESERVED_ENV_KWARGS,
    EnvConfig,
    derive_seeds,
    load_benchmark,
)
from nasgym.leaderboard.contract import InfoContract
from nasgym.leaderboard.errors import LeaderboardError, RunFailedError
from nasgym.leaderboard.objectives import ObjectiveRecorder, env_kwargs
from nasgym.leaderboard.protocol import SearchAgent
from nasgym.leaderboard.store import encode_run, query_line
from nasgym.wrappers.hide_test import HideTestInfo

#: Steps in a row without a new query after which a run fails as stalled.
MAX_IDLE_STEPS = 1_000_000

#: Runs :func:`execute_run` started in this process (the first one starts cold).
_RUNS_HERE = 0


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to perform one run (picklable)."""

    env: EnvConfig
    agent: str
    seed: int
    budget: int
    argv: tuple[str, ...] = ()
    backend: str = "local"
    agent_config: Mapping[str, Any] = field(default_factory=dict)
    #: The registered agent to run when ``agent`` is an alias (empty: ``agent``).
    agent_entry: str = ""
    #: Directories the worker puts first on ``sys.path`` (where the parent imported
    #: ``module:`` ids and benchmark factories from: its working directory).
    sys_path: tuple[str, ...] = ()

    @property
    def agent_name(self) -> str:
        """The registered agent this run builds."""
        return self.agent_entry or self.agent

    @property
    def name(self) -> str:
        """``<env key>/<agent>/seed-<n>``: the run's name in messages."""
        return f"{self.env.key}/{self.agent}/seed-{self.seed}"


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back: the run file's bytes, or an error."""

    task: RunTask
    data: bytes | None = None
    queries: int = 0
    error: str | None = None
    traceback: str | None = None
    #: Seconds the worker spent in ``agent.run()`` (0 for a run that failed first).
    agent_s: float = 0.0
    #: Seconds the worker spent on the whole run (:func:`execute_run`, start to end).
    worker_s: float = 0.0
    #: Whether this was the first run of its worker process (which pays the imports
    #: and table loads: the cold start).
    cold: bool = False


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def prepare_process(sys_path: Sequence[str] = ()) -> None:
    """Make a (worker) process see the envs of the parent: plugins and paths.

    Puts ``sys_path`` (the directories ``module:`` ids and benchmark factories were
    imported from in the parent) first on ``sys.path`` and loads the ``nasgym.envs``
    plugins. Every worker calls it before its first run (local and Ray backends);
    :func:`make_env` imports the module of a ``module:id`` env id itself.
    """
    from nasgym.registration import load_env_plugins

    for path in reversed(sys_path):
        if path not in sys.path:
            sys.path.insert(0, path)
    load_env_plugins()


def make_env(env: EnvConfig, budget: int) -> gym.Env[Any, Any]:
    """``gym.make(env.id, max_queries=budget, **env.kwargs)`` with clear errors.

    A multi-fidelity env whose ``budget_unit`` (``--budget-unit``) is ``"epochs"``
    or ``"seconds"`` is made with ``budget=budget`` instead.

    The id is resolved through Gymnasium's registry after loading the
    ``nasgym.envs`` plugins (:func:`nasgym.registration.resolve_env_id`; a
    ``module:id`` imports its module first), and ``benchmark='module:callable'`` is
    built by calling the factory (:func:`~nasgym.leaderboard.config.load_benchmark`).

    Raises:
        UnknownOptionError: Not a registered env id (the message lists them).
        LeaderboardError: An unknown or ill-typed keyword argument, a bad benchmark
            factory.
        Error: Any other nasgym error (bad dataset, missing data, a plugin that
            fails, ...).
    """
    from nasgym.registration import resolve_env_id

    env_id = resolve_env_id(env.id)
    for reserved in RESERVED_ENV_KWARGS:
        if reserved in env.kwargs:
            raise LeaderboardError(
                f"{reserved} is set by --budget; remove it from --env-kwargs"
            )
    kwargs: dict[str, Any] = env_kwargs(env.kwargs)
    # A multi-fidelity env counts --budget in its budget_unit (--budget-unit).
    unit = env.budget_unit
    limit: dict[str, Any] = (
        {"max_queries": budget} if unit == "queries" else {"budget": budget}
    )
    spec = kwargs.get(BENCHMARK_KWARG)
    if isinstance(spec, str):
        kwargs[BENCHMARK_KWARG] = load_benchmark(spec, env.id)
    try:
        return gym.make(env_id, **limit, **kwargs)
    except UnknownKeywordError as exc:
        flags = [
            flag
            for key, flag in (
                ("budget_unit", "--budget-unit"),
                ("sim_workers", "--sim-workers"),
            )
            if key in kwargs and f"'{key}'" in str(exc)
        ]
        if flags:
            raise LeaderboardError(
                f"{' and '.join(flags)} need a multi-fidelity env (an epoch budget per "
                "query: nasgym/NB201Fidelity-v0, nasgym/NB101Fidelity-v0, "
                f"nasgym/NB301Fidelity-v0); {env.id} is not one"
            ) from None
        raise
    except Error:
        raise
    except TypeError as exc:
        if "unexpected keyword argument 'max_queries'" in str(exc):
            raise LeaderboardError(
                f"{env.id} takes no max_queries keyword argument: the leaderboard "
                "makes every env with max_queries=<budget> and needs the info keys "
                f"of its contract; {env_id} is not a NAS env that follows it (see "
                "docs/leaderboard.md#bring-your-own-env)"
            ) from None
        if "unexpected keyword argument" in str(exc):
            valid = sorted(set(env_kwarg_names(env_id)) - {"max_queries"})
            bad = sorted(set(env.kwargs) - set(valid))
            raise LeaderboardError(
                f"unknown keyword argument(s) {', '.join(map(repr, bad))} for "
                f"{env.id}; valid --env-kwargs: {', '.join(valid)}"
            ) from None
        raise LeaderboardError(f"{env.label}: {exc}") from None
    except (ValueError, gym.error.Error) as exc:
        raise LeaderboardError(f"{env.label}: {exc}") from None


def env_kwarg_names(env_id: str) -> list[str]:
    """Keyword arguments accepted by the env registered as ``env_id``.

    Those of its entry point (a class, a function, or a ``"module:attr"`` string
    naming one), for any registered id, nasgym's or a third party's (``module:id``
    ids import their module first). Keywords its registration sets are included:
    ``gym.make`` keywords override them. ``*args``/``**kwargs`` are not names; the
    list is empty when the entry point cannot be inspected.
    """
    import importlib

    from nasgym.registration import resolve_env_id

    spec = gym.spec(resolve_env_id(env_id))
    target: Any = spec.entry_point
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
    try:
        function = target.__init__ if inspect.isclass(target) else target
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return []
    return [
        name
        for name, param in params.items()
        if name != "self"
        and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    ]


def spec_json(env: gym.Env[Any, Any]) -> dict[str, Any]:
    """``env.spec.to_json()`` as a dict; a best-effort dict where that fails.

    Gymnasium refuses specs whose kwargs are not JSON (e.g. a benchmark object); the
    fallback keeps the fields and writes such values as their ``repr``.
    """
    spec = env.spec
    if spec is None:
        return {}
    try:
        data: dict[str, Any] = json.loads(spec.to_json())
        return data
    except (ValueError, TypeError) as exc:
        return {
            "id": spec.id,
            "entry_point": str(spec.entry_point),
            "kwargs": {k: _jsonable(v) for k, v in spec.kwargs.items()},
            "max_episode_steps": spec.max_episode_steps,
            "to_json_error": str(exc),
        }


def _benchmark_spec(env: EnvConfig) -> str | None:
    """The ``benchmark='module:callable'`` factory of ``env``, if it has one."""
    spec = env.kwargs.get(BENCHMARK_KWARG)
    return spec if isinstance(spec, str) else None


def _spec_json(base: gym.Env[Any, Any], env: EnvConfig) -> dict[str, Any]:
    """:func:`spec_json`, with a built benchmark written as its factory spec."""
    data = spec_json(base)
    spec = _benchmark_spec(env)
    kwargs = data.get("kwargs")
    if spec is not None and isinstance(kwargs, dict) and BENCHMARK_KWARG in kwargs:
        kwargs[BENCHMARK_KWARG] = spec
        if all(_jsonable(v) is v for v in kwargs.values()):
            data.pop("to_json_error", None)
    return data


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


#: Distributions whose versions every run header records (``None``: not installed).
PROVENANCE_PACKAGES = (
    "nasgym",
    "numpy",
    "torch",
    "gymnasium",
    "stable-baselines3",
    "onnxruntime",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of :data:`PROVENANCE_PACKAGES` (``None`` where absent).

    Read from the distributions' metadata, once per process and installation state
    (:mod:`nasgym._metadata`): nothing is imported (no torch).
    """
    from nasgym import _metadata

    return _metadata.versions(PROVENANCE_PACKAGES)


def host_info() -> dict[str, Any]:
    """Where a run ran: host name, platform, OS, machine, Python, process id."""
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "pid": os.getpid(),
    }


class HarnessMonitor(gym.Wrapper[Any, Any, Any, Any]):
    """The env an agent sees: seeds the search, counts queries, detects stalls."""

    def __init__(
        self,
        env: gym.Env[Any, Any],
        env_seed: int,
        on_query: Callable[[], None] | None = None,
        max_idle_steps: int = MAX_IDLE_STEPS,
    ) -> None:
        super().__init__(env)
        self._env_seed = env_seed
        self._on_query = on_query
        self._max_idle = max_idle_steps
        self._started = False
        self.steps = 0
        self.queries = 0
        self._idle = 0
        self._last_info: dict[str, Any] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset; the first reset of a run uses the run's env seed."""
        if not self._started:
            seed = self._env_seed
            self._started = True
        elif seed is not None:
            raise RunFailedError(
                "the agent called reset(seed=...) a second time: that restarts the "
                "search and refunds the query budget. Call reset() without a seed to "
                "start a new episode of the same search (the harness seeds the first "
                "reset of every run)"
            )
        obs, info = self.env.reset(seed=seed, options=options)
        self._observe(info)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step, counting new queries and steps without one."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        self._observe(info)
        return obs, reward, terminated, truncated, info

    @property
    def action_masks(self) -> Any:
        """The wrapped env's ``action_masks`` (for agents that call it here).

        Absent (``AttributeError``) where the env has no masks, so ``hasattr``
        tests (sb3-contrib's ``is_masking_supported``) see the truth.
        """
        return self.env.get_wrapper_attr("action_masks")

    def _observe(self, info: dict[str, Any]) -> None:
        self._last_info = info
        if info.get("new_query"):
            self.queries += 1
            self._idle = 0
            if self._on_query is not None:
                self._on_query()
            return
        self._idle += 1
        if self._idle >= self._max_idle:
            spent = bool(info.get("budget_exhausted"))
            why = (
                "it kept stepping after the budget was spent (stop when "
                'info["budget_exhausted"] is true)'
                if spent
                else "it is stuck revisiting architectures"
            )
            raise RunFailedError(
                f"the agent took {self._idle} steps without a new query: {why}"
            )


def _limit_threads() -> None:
    """One run per worker: keep numerical libraries to one thread each."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _agent_description(
    task: RunTask, factory: Callable[..., Any], agent: object, entry_point: str | None
) -> dict[str, Any]:
    """Name, entry point and configuration of the agent of a run.

    The configuration is the factory's keyword defaults, updated by the run's
    ``agent_config`` and by the agent's own ``config`` (a mapping, or a method
    returning one) when it has one.
    """
    config: dict[str, Any] = {}
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        params = []
    for param in params:
        if (
            param.name not in ("self", "env", "seed")
            and param.default is not param.empty
        ):
            config[param.name] = _jsonable(param.default)
    config.update({k: _jsonable(v) for k, v in task.agent_config.items()})
    own = getattr(agent, "config", None)
    if callable(own):
        own = own()
    if isinstance(own, Mapping):
        config.update({str(k): _jsonable(v) for k, v in own.items()})
    return {
        "name": task.agent,
        "agent": task.agent_name,
        "entry_point": entry_point,
        "config": config,
    }


def _reward_metric(env: gym.Env[Any, Any], benchmark: object) -> str | None:
    """What the env rewards: ``zc:<proxy>``, or the benchmark's validation metric."""
    signal = getattr(env.unwrapped, "zc_reward", None)
    name = getattr(signal, "name", None)
    return str(name) if name else getattr(benchmark, "reward_metric", None)


def _entry_point(name: str) -> str | None:
    from nasgym.leaderboard.agents import registered_agents

    return registered_agents().get(name)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _records(log: ObjectiveRecorder) -> list[dict[str, Any]]:
    """The run file's query records: the log's, non-finite numbers as ``None``.

    Keys in :data:`~nasgym.leaderboard.store.RECORD_KEYS` order, then the optional
    objective keys of a multi-objective run (single-objective runs skip the dicts:
    :func:`~nasgym.leaderboard.store.query_line` encodes their records directly).
    Built field by field (``QueryRecord.to_dict`` plus key-by-key updates cost
    several times more).
    """
    extra = log.record_fields if log.values else None
    finite = math.isfinite  # QueryLog stores these five as float already
    rows = []
    for r in log.records:
        row = {
            "query": r.query,
            "arch": r.arch,
            "valid": r.valid if finite(r.valid) else None,
            "test": r.test if finite(r.test) else None,
            "best_valid": r.best_valid if finite(r.best_valid) else None,
            "best_test": r.best_test if finite(r.best_test) else None,
            "regret": r.regret if finite(r.regret) else None,
            "sim_time_s": _float(r.sim_time_s),
            "wall_time_s": r.wall_time_s,
        }
        if extra is not None:
            row.update(extra(r.query))
        rows.append(row)
    return rows


def execute_run(
    task: RunTask, on_query: Callable[[], None] | None = None
) -> RunOutcome:
    """Perform one run and return its encoded run file (never raises).

    Args:
        task: The run.
        on_query: Called after every new query (progress reporting).

    Returns:
        The outcome: ``data`` holds the run file's bytes, or ``error`` and
        ``traceback`` say why the run failed.
    """
    global _RUNS_HERE
    clock = time.perf_counter()
    cold = _RUNS_HERE == 0
    _RUNS_HERE += 1
    try:
        outcome = _execute(task, on_query)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        message = str(exc) if isinstance(exc, Error) else f"{type(exc).__name__}: {exc}"
        outcome = RunOutcome(task, error=message, traceback=traceback.format_exc())
    return replace(outcome, worker_s=time.perf_counter() - clock, cold=cold)


def agent_env(env: EnvConfig, factory: object, agent: str) -> EnvConfig:
    """The env an agent runs on.

    That is ``env``, or the env of its space in the agent's ``env_mode`` with the
    same keyword arguments.
    """
    from nasgym.leaderboard.agents import env_id_for_mode, env_mode

    env_id = env_id_for_mode(env.id, env_mode(factory), agent)
    return env if env_id == env.id else EnvConfig(env_id, dict(env.kwargs))


def _execute(task: RunTask, on_query: Callable[[], None] | None) -> RunOutcome:
    from nasgym.leaderboard.agents import load_agent

    _limit_threads()
    prepare_process(task.sys_path)
    env_seed, agent_seed = derive_seeds(task.seed)
    started = now_iso()
    factory = load_agent(task.agent_name)
    run_env = agent_env(task.env, factory, task.agent)
    base = make_env(run_env, task.budget)
    try:
        return _search(
            task, factory, base, run_env, env_seed, agent_seed, started, on_query
        )
    finally:
        base.close()


def _search(
    task: RunTask,
    factory: Callable[..., Any],
    base: gym.Env[Any, Any],
    run_env: EnvConfig,
    env_seed: int,
    agent_seed: int,
    started: str,
    on_query: Callable[[], None] | None,
) -> RunOutcome:
    # A QueryLog that keeps the objectives too, over the check of the info contract;
    # the agent sees it through HideTestInfo (no test-derived keys).
    log = ObjectiveRecorder(InfoContract(base, run_env.id))
    env = HarnessMonitor(HideTestInfo(log), env_seed, on_query)
    env.action_space.seed(env_seed)
    env.observation_space.seed(env_seed)
    agent = factory(env, seed=agent_seed, **dict(task.agent_config))
    if not isinstance(agent, SearchAgent):
        raise RunFailedError(
            f"agent {task.agent!r} built {type(agent).__name__}, which has no run() "
            "method (see nasgym.leaderboard.protocol.SearchAgent)"
        )
    _limit_threads()  # the agent may have imported torch
    clock = time.perf_counter()
    agent.run()
    wall = time.perf_counter() - clock
    info = (
        base.unwrapped.search_info() if hasattr(base.unwrapped, "search_info") else {}
    )
    benchmark = getattr(base.unwrapped, "benchmark", None)
    header = {
        "nasgym_version": __version__,
        "env": task.env.to_json(),
        "run_env_id": run_env.id,
        "env_spec": _spec_json(base, run_env),
        "benchmark": {
            "spec": _benchmark_spec(run_env),
            "name": getattr(benchmark, "name", None),
            "dataset": getattr(benchmark, "dataset", None),
            "reward_metric": _reward_metric(base, benchmark),
            "report_metric": getattr(benchmark, "report_metric", None),
            "reward_split": getattr(benchmark, "reward_split", "valid"),
            "reward_split_reason": getattr(benchmark, "reward_split_reason", None),
            "optimum": _float(getattr(base.unwrapped, "optimum", math.nan)),
            # NB301: the surrogate files' path, sha256 and whether they are the
            # published ones (None for tabular benchmarks).
            "surrogate": getattr(base.unwrapped, "surrogate_provenance", None),
        },
        "agent": _agent_description(
            task, factory, agent, _entry_point(task.agent_name)
        ),
        "seed": task.seed,
        "env_seed": env_seed,
        "agent_seed": agent_seed,
        "budget": task.budget,
        "budget_unit": run_env.budget_unit,
        # Multi-fidelity envs: fidelities, cost unit and source, workers, budget.
        "fidelity": base.unwrapped.fidelity_header()
        if hasattr(base.unwrapped, "fidelity_header")
        else None,
        "argv": list(task.argv),
        "backend": task.backend,
        "started": started,
        "finished": now_iso(),
        "host": host_info(),
        "versions": package_versions(),
        **log.header(base),
    }
    extra = log.values
    records = _records(log) if extra else None
    lines = None if extra else [query_line(r.as_tuple()) for r in log.records]
    count = len(log.records)
    summary = {
        "queries": int(info.get("queries", count)),
        "steps": env.steps,
        "budget_exhausted": bool(info.get("budget_exhausted", False)),
        "best_arch": None if info.get("best_arch") is None else str(info["best_arch"]),
        "best_valid": _float(info.get("best_valid_accuracy")),
        "best_test": _float(info.get("best_test_accuracy")),
        "regret": _float(info.get("regret")),
        "sim_time_s": _float(info.get("sim_time_s")),
        "wall_time_s": wall,
    }
    return RunOutcome(
        task,
        data=encode_run(header, records, summary, lines=lines),
        queries=count,
        agent_s=wall,
    )
