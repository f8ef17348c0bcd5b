"""A fidelity-aware Query env on a simulated clock with asynchronous workers.

:class:`FidelityQueryEnv` turns a :class:`~nasgym.mf.fidelity.FidelityBenchmark`
into a Gymnasium env: each step proposes an architecture *and* an epoch budget, is
charged through a :class:`~nasgym.mf.fidelity.Ledger` and trains on one of
``sim_workers`` simulated workers. The clock follows the rules of
:func:`nasgym.mf.simulate.simulate`, so an ask/tell optimizer driven through the env
by :func:`run_optimizer` gives exactly the trace ``simulate`` gives (the tests check
it for 1, 4 and 16 workers).

The registered ids are ``nasgym/NB201Fidelity-v0``, ``nasgym/NB101Fidelity-v0`` and
``nasgym/NB301Fidelity-v0``.

Example:
    >>> from nasgym.mf.testing import TinyBenchmark
    >>> env = FidelityQueryEnv(TinyBenchmark(), budget=30, budget_unit="seconds")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step([2, 1, 1])
    >>> info["fidelity"], info["valid_accuracy"], info["sim_end"], info["worker"]
    (3, 59.0, 9.0, 0)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from nasgym.envs.keywords import StrictKeywords
from nasgym.error import InvalidActionError, UnknownOptionError, unknown_option
from nasgym.mf.fidelity import BUDGET_UNITS, FidelityBenchmark, Ledger
from nasgym.mf.protocol import Job, MFOptimizer
from nasgym.mf.simulate import (
    Incumbent,
    TraceRow,
    _Running,
    check_workers,
    duration,
    finish_next,
)
from nasgym.rewards import REWARDS, RewardShaping

ObsType = NDArray[np.float32]
ActType = NDArray[np.int64]


@dataclass(frozen=True)
class Finished:
    """A job that finished on the simulated clock: what an optimizer is told.

    It carries no test accuracy (an agent's ``info`` never does); the env's
    :attr:`FidelityQueryEnv.rows` hold the full :class:`~nasgym.mf.simulate.TraceRow`.

    Attributes:
        job: The job.
        score: Its search score (percent).
        worker: The worker that ran it.
        start: Simulated start.
        end: Simulated finish.
    """

    job: Job
    score: float
    worker: int
    start: float
    end: float


def _positive_budget(value: object, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UnknownOptionError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class FidelityQueryEnv(StrictKeywords, gym.Env[ObsType, ActType]):
    """Black-box multi-fidelity search: each step trains an architecture at a budget.

    The registered subclasses (``nasgym/NB201Fidelity-v0`` and its NB101 and NB301
    siblings, :mod:`nasgym.envs.fidelity`) carry the full documentation: action and
    observation spaces, rewards, episode end, ``info`` keys and arguments. This
    class takes any :class:`~nasgym.mf.fidelity.FidelityBenchmark`, a user's own
    included.

    Args:
        bench: The benchmark.
        max_queries: At most this many jobs (``None``: no limit).
        budget: The search budget in ``budget_unit`` (``None``: no limit).
        budget_unit: ``"queries"``, ``"epochs"`` or ``"seconds"``.
        sim_workers: Simulated parallel workers.
        reward: ``"valid"``, ``"power"``, ``"exp"`` or ``"improvement"``.
        alpha: Exponent of ``"power"`` and ``"exp"``.
        horizon: Steps per episode (``None``: the whole search).
        render_mode: ``"ansi"`` or ``None``.

    Attributes:
        bench: The benchmark.
        ledger: Charges the jobs of the current search.
        now: The simulated clock.
        rows: The finished jobs of the current search as
            :class:`~nasgym.mf.simulate.TraceRow` (report values and incumbent
            included: for the harness and for comparing with ``simulate``).

    Raises:
        UnknownOptionError: A bad option (the message names the valid values).
        BenchmarkDataMissingError: A seconds budget on a benchmark without
            training times.
    """

    mode = "fidelity"
    metadata: dict[str, Any] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        bench: FidelityBenchmark,
        *,
        max_queries: int | None = None,
        budget: float | None = None,
        budget_unit: str = "queries",
        sim_workers: int = 1,
        reward: str = "valid",
        alpha: float = 6.0,
        horizon: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(bench, FidelityBenchmark):
            raise UnknownOptionError(
                f"bench must be a nasgym.mf.fidelity.FidelityBenchmark, got "
                f"{type(bench).__name__}"
            )
        if budget_unit not in BUDGET_UNITS:
            raise unknown_option("budget_unit", budget_unit, BUDGET_UNITS)
        if max_queries is not None and (
            isinstance(max_queries, bool)
            or not isinstance(max_queries, (int, np.integer))
            or max_queries < 1
        ):
            raise UnknownOptionError(
                f"max_queries must be a positive integer or None, got {max_queries!r}"
            )
        if horizon is not None and (
            isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1
        ):
            raise UnknownOptionError(
                f"horizon must be a positive integer or None, got {horizon!r}"
            )
        if reward not in REWARDS:
            raise unknown_option("reward", reward, REWARDS)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_option("render_mode", render_mode, ("ansi", None))
        self.bench = bench
        self.max_queries = None if max_queries is None else int(max_queries)
        self.budget = math.inf if budget is None else _positive_budget(budget, "budget")
        self.budget_unit = budget_unit
        self.sim_workers = check_workers(sim_workers, name="sim_workers")
        self.shaping = RewardShaping(reward, alpha=float(alpha))
        self.horizon = horizon
        self.render_mode = render_mode
        self.action_space = gym.spaces.MultiDiscrete(
            np.array([*bench.nvec, len(bench.fidelities)], dtype=np.int64)
        )
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, shape=(len(bench.nvec) + 5,), dtype=np.float32
        )
        self._scale = np.array(
            [max(n - 1, 1) for n in bench.nvec] + [max(len(bench.fidelities) - 1, 1)],
            dtype=np.float64,
        )
        self.restart()  # builds the Ledger: a seconds budget without costs fails here

    # ------------------------------------------------------------------ state
    def restart(self) -> None:
        """Clear the search: budget, clock, workers and incumbent."""
        self.ledger = Ledger(self.bench, budget=self.budget, unit=self.budget_unit)
        self.now = 0.0
        self.idle: list[int] = list(range(self.sim_workers))
        self.running: list[_Running] = []
        self.jobs = 0
        self.exhausted = False
        self.rows: list[TraceRow] = []
        self.best: Incumbent | None = None
        self.steps = 0
        self._last = np.zeros(len(self.bench.nvec) + 1)
        self._last_score = 0.0
        self._info: dict[str, Any] = {}

    def idle_workers(self) -> int:
        """How many simulated workers are idle at the clock."""
        return len(self.idle)

    def _finish_next(self) -> list[Finished]:
        """Advance the clock to the next finish; return the jobs finishing then."""
        if not self.running:
            return []
        self.now, rows, self.best = finish_next(self.running, self.idle, self.best)
        self.rows += rows
        return [Finished(r.job, r.score, r.worker, r.start, r.end) for r in rows]

    def wait(self) -> list[Finished]:
        """Let the clock run to the next finish; the jobs finishing then.

        Returns:
            The finished jobs in worker order (empty when nothing is training).
        """
        return self._finish_next()

    def _drain(self) -> list[Finished]:
        out: list[Finished] = []
        while self.running:
            out += self._finish_next()
        return out

    # ------------------------------------------------------------------ gym
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        """Start a fresh search (``seed`` given) or a new episode of this one."""
        super().reset(seed=seed)
        if options:
            raise UnknownOptionError(
                f"{type(self).__name__}.reset takes no options, got {sorted(options)}"
            )
        if seed is not None:
            self.restart()
        self.steps = 0
        self._info = self._make_info(None, [])
        return self._observe(), dict(self._info)

    def _decode(self, action: Any) -> tuple[tuple[int, ...], int]:
        values = np.asarray(action).reshape(-1)
        if values.shape != (len(self.bench.nvec) + 1,) or values.dtype.kind not in "iu":
            raise InvalidActionError(
                f"{type(self).__name__}: action must be {len(self.bench.nvec) + 1} "
                f"integers (the architecture's slots, then a fidelity index), got "
                f"{action!r}"
            )
        if not self.action_space.contains(values.astype(np.int64)):
            raise InvalidActionError(
                f"{type(self).__name__}: action {values.tolist()} is outside "
                f"{self.action_space} (the last entry indexes fidelities "
                f"{self.bench.fidelities[0]}..{self.bench.fidelities[-1]})"
            )
        vector = tuple(int(v) for v in values[:-1])
        return vector, self.bench.fidelities[int(values[-1])]

    def step(
        self, action: ActType | Sequence[int]
    ) -> tuple[ObsType, float, bool, bool, dict[str, Any]]:
        """Start the job ``action`` names (see the class docstring)."""
        vector, fidelity = self._decode(action)
        self.steps += 1
        finished: list[Finished] = []
        started: _Running | None = None
        reward = 0.0
        if not self.exhausted:
            ev = self.bench.evaluate(vector, fidelity)
            charge = self.ledger.price(vector, fidelity, ev.cost)
            if self.ledger.fits(charge):
                before = 0.0 if self.best is None else self.best[1] / 100.0
                self.ledger.book(vector, fidelity, ev.cost)
                self.jobs += 1
                took = duration(self.bench, charge)
                started = _Running(
                    self.now + took,
                    self.idle.pop(0),
                    self.now,
                    Job(vector, fidelity),
                    ev.score,
                    ev.report,
                    took,
                    self.ledger.used(),
                )
                heapq.heappush(self.running, started)
                if not self.idle:  # every worker busy: run to the next finish
                    finished += self._finish_next()
                acc = np.array([ev.score / 100.0])
                reward = float(self.shaping(acc, np.array([before]))[0])
                self._last = np.array([*vector, self.bench.fidelities.index(fidelity)])
                self._last_score = ev.score / 100.0
                if self.max_queries is not None and self.jobs >= self.max_queries:
                    self.exhausted = True
                if self.budget_unit == "queries" and self.ledger.used() >= self.budget:
                    self.exhausted = True  # no further job can fit
            else:
                self.exhausted = True
            if self.exhausted:
                finished += self._drain()
        truncated = self.exhausted or (
            self.horizon is not None and self.steps >= self.horizon
        )
        self._info = self._make_info(started, finished)
        return self._observe(), reward, False, truncated, dict(self._info)

    # ------------------------------------------------------------------ views
    def _observe(self) -> ObsType:
        used = self.ledger.used()
        if math.isfinite(self.budget):
            fraction = min(used / self.budget, 1.0)
        elif self.max_queries is not None:
            fraction = min(self.jobs / self.max_queries, 1.0)
        else:
            fraction = 0.0
        best = 0.0 if self.best is None else self.best[1] / 100.0
        obs = np.concatenate(
            [
                self._last / self._scale,
                [self._last_score, best, fraction, len(self.idle) / self.sim_workers],
            ]
        )
        out: ObsType = np.clip(obs, 0.0, 1.0).astype(np.float32)
        return out

    def _make_info(
        self, started: _Running | None, finished: list[Finished]
    ) -> dict[str, Any]:
        bench = self.bench
        best = self.best
        best_test = math.nan if best is None else best[2]
        job = None if started is None else started.job
        return {
            "arch": None if job is None else bench.arch_string(job.vector),
            "fidelity": None if job is None else job.fidelity,
            "score_split": None
            if job is None
            else bench.score_splits.get(job.fidelity, "valid"),
            "valid_accuracy": None if started is None else started.score,
            "test_accuracy": None if started is None else started.report,
            "new_query": started is not None,
            "queries": self.jobs,
            "sim_cost": None if started is None else started.charge,
            "sim_start": None if started is None else started.start,
            "sim_end": None if started is None else started.end,
            "worker": None if started is None else started.worker,
            "sim_time_s": self.now,
            "time_unit": bench.cost_unit,
            "budget_used": self.ledger.used(),
            "budget_unit": self.budget_unit,
            "best_arch": None if best is None else bench.arch_string(best[3]),
            "best_fidelity": None if best is None else best[0],
            "best_valid_accuracy": math.nan if best is None else best[1],
            "best_test_accuracy": best_test,
            "regret": bench.optimum - best_test,
            "finished": finished,
            "budget_exhausted": self.exhausted,
        }

    def render(self) -> str | None:
        """``'ansi'``: one line on the clock, the budget and the incumbent."""
        if self.render_mode != "ansi":
            return None
        info = self._info
        return (
            f"{self.bench.name}: {self.jobs} jobs, clock {self.now:g} "
            f"{self.bench.cost_unit}, budget used {self.ledger.used():g} "
            f"{self.budget_unit}, incumbent {info.get('best_arch')} "
            f"@{info.get('best_fidelity')} valid {info.get('best_valid_accuracy')}"
        )

    def search_info(self) -> dict[str, Any]:
        """The ``info`` of the search now (no job), e.g. after the budget is spent."""
        return self._make_info(None, [])

    @property
    def optimum(self) -> float:
        """The benchmark's best report value (what ``regret`` is measured from)."""
        return self.bench.optimum

    def fidelity_header(self) -> dict[str, Any]:
        """What a run header records: benchmark, costs, budget and workers."""
        return {
            **self.bench.header(),
            "budget": None if math.isinf(self.budget) else self.budget,
            "budget_unit": self.budget_unit,
            "max_queries": self.max_queries,
            "sim_workers": self.sim_workers,
        }


def run_optimizer(env: gym.Env[Any, Any], optimizer: MFOptimizer) -> list[TraceRow]:
    """Drive ``optimizer`` through a :class:`FidelityQueryEnv` until the budget ends.

    Results are told only when their job finishes on the simulated clock, so the
    returned rows equal :func:`nasgym.mf.simulate.simulate`'s for the same
    optimizer, benchmark, budget and worker count. Call after ``env.reset(seed=...)``.

    Args:
        env: A :class:`FidelityQueryEnv`, possibly wrapped.
        optimizer: Any :class:`~nasgym.mf.protocol.MFOptimizer`.

    Returns:
        The finished jobs' rows, in finish order.

    Raises:
        UnknownOptionError: ``env`` is not a :class:`FidelityQueryEnv`.
    """
    base = env.unwrapped
    if not isinstance(base, FidelityQueryEnv):
        raise UnknownOptionError(
            f"run_optimizer needs a nasgym.mf.env.FidelityQueryEnv, got "
            f"{type(base).__name__}"
        )
    fidelities = base.bench.fidelities
    first = len(base.rows)
    done = base.exhausted
    while True:
        while not done and base.idle_workers():
            job = optimizer.ask()
            if job is None:
                break
            fidelity = base.bench.check_fidelity(job.fidelity)
            action = np.array([*job.vector, fidelities.index(fidelity)])
            *_, info = env.step(action)
            for item in info["finished"]:
                optimizer.tell(item.job, item.score)
            done = bool(info["budget_exhausted"])
        finished = base.wait()
        if not finished and not base.running:
            return base.rows[first:]
        for item in finished:
            optimizer.tell(item.job, item.score)
