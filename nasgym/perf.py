"""Speed and memory benchmark of nasgym (the ``nasgym perf`` command).

Speed is measured here, by a command a person runs and reads, never by timed unit
tests. :func:`run_perf` measures, in one process (cold loads and the nats_bench
comparison each start a fresh interpreter):

1. **env steps**: steps per second of every registered environment made with
   ``gym.make(id)`` (random legal actions; Edit envs draw them from
   ``env.unwrapped.action_masks()`` every step), interleaved round by round with
   Gymnasium's ``CartPole-v1`` driven the same way, and the ratio of the two
   (NB101 envs fall back to ``table="ecnas"`` when the full table is missing, and
   say so);
2. **vector envs**: env-steps per second of ``gym.make_vec(id, num_envs=N)`` (the
   batched vector env of the tabular ids; the graph envs' entry points) against
   ``vectorization_mode="sync"`` (``SyncVectorEnv``), fresh random actions every
   round; for the NB301 and OFA vector envs, which share one model call per step,
   also its *ceiling*: the sync step time over the batched model call's time per
   env-step (what batching could give were everything else free);
3. **queries**: scalar ``benchmark.query(arch)`` and vectorised
   ``benchmark.query_codes(codes, metric)`` over every valid code; for NBGraph also
   ``query(arch)`` against the wheel's own lookup of the same architectures
   (``light_read(d)[Arch(link, ops).valid_hash()]``), interleaved rounds;
4. **load**: time and resident-memory increase of loading a benchmark table (and
   then making and resetting an env) in a fresh Python process;
5. **nats_bench**: the official ``nats_bench`` API's ``get_more_info`` against
   nasgym's lookup of the same architectures (skipped without ``nats_bench`` or the
   ``NATS-tss-v1_0-3ffb9-simple`` archive under ``NASGYM_DATA_DIR/nats-bench``);
6. **NB301 surrogate** (NB301 envs selected): architectures per second of
   ``NB301Surrogate.predict`` on batches of random valid (BANANAS) genotypes, and
   the time of one ``predict_one(genotype)`` against a raw onnxruntime ``run`` on
   that genotype's encoded row (interleaved rounds);
7. **NB101 table load** (NB101 envs selected): load time and resident-memory
   increase of a full-size NB101 table (423,624 cells x epochs 4/12/36/108 x 3
   repeats) in fresh processes. The imported ``nb101.npz`` is measured when present;
   otherwise a synthetic table of that shape, in nasgym's own format and written by
   the importer's writer, is built in a temporary directory only to time the loader
   (``quick`` builds a small one and reports it without the targets).

Rows that need data which is absent (e.g. the NB201 table before ``nasgym data import
nb201``) are reported as skipped with the reason; nothing here fails for lack of
data. :func:`format_report` renders the results as an aligned plain-text table.

Example:
    >>> from nasgym.perf import format_report, run_perf
    >>> results = run_perf(quick=True, envs=["NBGraphQuery-v0"])  # doctest: +SKIP
    >>> print(format_report(results))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import nasgym
from nasgym.data import json_safe
from nasgym.envs.floor import FLOOR_ID, register_floor
from nasgym.error import BenchmarkDataMissingError, Error, UnknownOptionError
from nasgym.registration import (
    ALL_ENVS,
    ENVS,
    FIDELITY_ENVS,
    GRAPH_ENVS,
    SUPERNET_ENVS,
)

#: Gymnasium's reference environment for the env-step ratios.
CARTPOLE = "CartPole-v1"
#: Minimum env-steps/s as a multiple of CartPole's, per env id.
STEP_RATIO_TARGETS: dict[str, float] = {
    "nasgym/NB201Edit-v0": 0.5,
    "nasgym/NB201Query-v0": 0.5,
}
#: Minimum env-steps/s as a multiple of the floor env's (the same spaces at the cost
#: of one list lookup per step, :mod:`nasgym.envs.floor`), per env id.
FLOOR_RATIO_TARGETS: dict[str, float] = {
    "nasgym/NB201Edit-v0": 0.33,
    "nasgym/NB201Query-v0": 0.33,
}
#: Minimum env-steps/s (absolute), per env id.
STEP_RATE_TARGETS: dict[str, float] = {
    "nasgym/NB101Edit-v0": 20_000.0,
    "nasgym/NB301Edit-v0": 2_000.0,
}
#: Keyword arguments an env is measured with when its default data is missing (the
#: full NB101 table is rarely imported; EC-NAS-Bench's table often is).
FALLBACK_KWARGS: dict[str, dict[str, Any]] = {
    "nasgym/NB101Edit-v0": {"table": "ecnas"},
    "nasgym/NB101Query-v0": {"table": "ecnas"},
}
#: Minimum speed-up of the batched vector env over ``SyncVectorEnv``, which applies
#: from :data:`VECTOR_TARGET_MIN_ENVS` sub-envs on.
VECTOR_RATIO_TARGET = 10.0
VECTOR_TARGET_MIN_ENVS = 64
#: Maximum time (ms) of one vectorised query of every NB201 cell.
NB201_QUERY_ALL_MS_TARGET = 50.0
#: Maximum cold load time (s) and resident-memory increase (MB) of the NB201 table.
NB201_LOAD_S_TARGET = 1.0
NB201_LOAD_MB_TARGET = 100.0
#: Minimum speed of NB201 ``query(arch)`` as a multiple of each peer API's lookup.
PEER_RATIO_TARGET = 2.0
#: Architectures (random NB201 indices) looked up per peer round.
PEER_QUERIES = 2000
#: Maximum cold load of an NBGraph dataset (``NBGraphBenchmark(d).tables`` in a
#: fresh process, modules imported) as a multiple of the wheel's own ``light_read(d)``.
NBGRAPH_LOAD_RATIO_TARGET = 2.0
#: Minimum speed of NBGraph ``query(arch)`` as a multiple of the wheel's own lookup
#: (``Arch.valid_hash()`` and a dict read) of the same architectures.
NBGRAPH_QUERY_RATIO_TARGET = 1.0
#: Minimum NB301 surrogate throughput (architectures/s) of a batched ``predict``.
NB301_PREDICT_RATE_TARGET = 20_000.0
#: Maximum time of one ``NB301Surrogate.predict_one`` as a multiple of a raw
#: onnxruntime ``run`` on the same genotype's encoded row.
NB301_SINGLE_RATIO_TARGET = 1.3
#: Genotypes predicted one at a time per round of the single-prediction rows.
NB301_SINGLE_QUERIES = 400
#: Batch sizes of the NB301 surrogate rows.
NB301_PREDICT_BATCHES: tuple[int, ...] = (1_000, 10_000)
#: Shape of the official NB101 table (``nasbench_full.tfrecord``): cells, epoch
#: budgets and repeats.
NB101_FULL_CELLS = 423_624
NB101_EPOCHS: tuple[int, ...] = (4, 12, 36, 108)
NB101_REPEATS = 3
#: Maximum cold load time (s) and resident-memory increase (MB) of the full table.
NB101_LOAD_S_TARGET = 1.0
NB101_LOAD_MB_TARGET = 300.0
#: Official NATS-Bench indices held by the 3-architecture ``nats_bench`` archive.
NATS_INDICES: tuple[int, ...] = (0, 11, 284)
#: Directory name of the official NATS-Bench topology archive.
NATS_ARCHIVE = "NATS-tss-v1_0-3ffb9-simple"

#: Section keys, in report order, with their report titles.
SECTIONS: dict[str, str] = {
    "env": "env steps: gym.make(id), random legal actions, reset on episode end",
    "vector": "vector envs: batched make_vec vs SyncVectorEnv (env-steps = calls x N)",
    "query": "benchmark queries (tables in memory)",
    "surrogate": "NB301 surrogate: batched predict of random valid genotypes",
    "load": "cold load in a fresh process (OS file cache warm)",
    "nats": "official nats_bench API vs nasgym, same architectures",
    "peers": "NB201 query(arch) vs peer APIs built from the same table (in memory)",
    "leaderboard": "leaderboard harness (nasgym.leaderboard.perf)",
}

_QUICK_STEPS = 1500
_QUICK_MAX_VECTOR_ENVS = 16  # SyncVectorEnv makes N envs; keep the smoke run short
_QUICK_NB101_CELLS = 20_000  # the synthetic table of a quick run (~1 s to build)
_STATUSES = ("pass", "fail", "info", "skip", "error")


@dataclass
class _Scale:
    """How much work each measurement does (full run or ``quick``)."""

    steps: int
    rounds: int
    vector_rounds: int
    scalar_queries: int
    vector_query_reps: int
    load_repeats: int
    nats_loops: int
    surrogate_rounds: int
    nb101_cells: int


@dataclass
class Row:
    """One line of the report.

    Attributes:
        section: Key of :data:`SECTIONS`.
        name: What was measured.
        value: The measurement (``None`` when skipped or failed).
        unit: Unit of :attr:`value`.
        target: ``{"op": ">=" or "<", "value": x}`` or ``None``.
        status: ``"pass"``/``"fail"`` (against the target), ``"info"`` (no target),
            ``"skip"`` (data or package missing) or ``"error"``.
        note: Context: reference figures, spread, or why the row was skipped.
    """

    section: str
    name: str
    value: float | None
    unit: str
    target: dict[str, Any] | None = None
    status: str = "info"
    note: str = ""


def _row(
    section: str,
    name: str,
    value: float,
    unit: str,
    target: tuple[str, float] | None = None,
    note: str = "",
) -> Row:
    """Build a measured row; its status compares ``value`` with ``target``."""
    if target is None:
        return Row(section, name, value, unit, None, "info", note)
    op, bound = target
    ok = value >= bound if op == ">=" else value < bound
    return Row(
        section,
        name,
        value,
        unit,
        {"op": op, "value": bound},
        "pass" if ok else "fail",
        note,
    )


def _not_measured(
    section: str,
    name: str,
    unit: str,
    reason: str,
    target: tuple[str, float] | None = None,
    status: str = "skip",
) -> Row:
    """Build a row that was skipped (or failed) with ``reason``."""
    tgt = None if target is None else {"op": target[0], "value": target[1]}
    return Row(section, name, None, unit, tgt, status, reason)


def _first_line(exc: BaseException) -> str:
    """``"ErrorType: first sentence of the message"``, short enough for a row note."""
    lines = str(exc).strip().splitlines()
    first = lines[0].split(". ", 1)[0] if lines else ""
    return f"{type(exc).__name__}: {first}"


# ---------------------------------------------------------------------------
# Host
# ---------------------------------------------------------------------------
def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def host_info() -> dict[str, Any]:
    """Describe the machine and the package versions the figures depend on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity(0)) if affinity is not None else os.cpu_count(),
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
        "nasgym": nasgym.__version__,
        "psutil": _version("psutil"),
        "nats_bench": _version("nats_bench"),
        "NASGYM_DATA_DIR": os.environ.get("NASGYM_DATA_DIR"),
        "NASGYM_CACHE_DIR": os.environ.get("NASGYM_CACHE_DIR"),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------------------
# Single envs
# ---------------------------------------------------------------------------
def resolve_env_id(env_id: str) -> str:
    """Return the registered id of ``env_id`` (``"NB201Edit-v0"`` -> with prefix)."""
    if env_id not in gym.registry and f"nasgym/{env_id}" in gym.registry:
        return f"nasgym/{env_id}"
    return env_id


def _short(env_id: str) -> str:
    return env_id.removeprefix("nasgym/")


def _action_picker(
    env: gym.Env[Any, Any], n: int, rng: np.random.Generator
) -> Callable[[int], Any]:
    """Return ``pick(i)``: the ``i``-th action (``0 <= i < n``) of a random agent.

    Discrete envs with ``action_masks()`` draw a uniform legal action from the masks
    of the current state (one ``action_masks()`` call and one ``flatnonzero`` per
    step); every other env replays ``n`` actions sampled beforehand, so the agent's
    cost is one list lookup.
    """
    space = env.action_space
    masks = getattr(env.unwrapped, "action_masks", None)
    if isinstance(space, gym.spaces.Discrete) and callable(masks):
        uniforms: list[float] = rng.random(n).tolist()
        start = int(space.start)

        def pick_masked(i: int) -> int:
            legal = np.flatnonzero(masks())
            return start + int(legal[int(uniforms[i] * legal.size)])

        return pick_masked
    space.seed(int(rng.integers(2**31)))
    if isinstance(space, gym.spaces.Discrete):
        ints = [int(space.sample()) for _ in range(n)]
        return ints.__getitem__
    samples = [space.sample() for _ in range(n)]
    return samples.__getitem__


def _step_loop(env: gym.Env[Any, Any], pick: Callable[[int], Any], n: int) -> float:
    """Run ``n`` steps (resetting at episode end); return the elapsed seconds."""
    step = env.step
    reset = env.reset
    start = time.perf_counter()
    for i in range(n):
        _, _, terminated, truncated, _ = step(pick(i))
        if terminated or truncated:
            reset()
    return time.perf_counter() - start


class _StepBench:
    """A made env with its random agent, measured in rounds of ``n`` steps."""

    def __init__(
        self, env_id: str, n: int, seed: int, kwargs: dict[str, Any] | None = None
    ) -> None:
        self.env: gym.Env[Any, Any] = gym.make(env_id, **(kwargs or {}))
        self.env.reset(seed=seed)
        self.n = n
        self.pick = _action_picker(self.env, n, np.random.default_rng(seed))

    def round(self, n: int | None = None) -> float:
        """Steps per second of one round."""
        steps = self.n if n is None else n
        return steps / _step_loop(self.env, self.pick, steps)

    def close(self) -> None:
        self.env.close()


def _interleave(
    first: Callable[[], float], second: Callable[[], float], rounds: int
) -> tuple[list[float], list[float]]:
    """Alternate rounds of two measurements (ABBA order) to share machine noise."""
    a: list[float] = []
    b: list[float] = []
    for r in range(rounds):
        if r % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def _rotate(fns: Sequence[Callable[[], float]], rounds: int) -> list[list[float]]:
    """Rounds of several measurements, the order rotated each round to share noise."""
    out: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        for k in range(len(fns)):
            j = (k + r) % len(fns)
            out[j].append(fns[j]())
    return out


def _spread(values: Sequence[float]) -> str:
    med = statistics.median(values)
    if len(values) < 2 or med == 0:
        return ""
    return f"spread {min(values) / med:.2f}-{max(values) / med:.2f}x median"


def _make_reset_ms(env_id: str, kwargs: dict[str, Any]) -> float:
    """Milliseconds to make and reset one more instance of an env."""
    start = time.perf_counter()
    env = gym.make(env_id, **kwargs)
    env.reset(seed=1)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed * 1e3


def _env_rows(env_ids: Sequence[str], scale: _Scale) -> list[Row]:
    rows: list[Row] = []
    round_steps = max(1, scale.steps // scale.rounds)
    warmup = min(200, round_steps)
    cartpole = _StepBench(CARTPOLE, round_steps, seed=12345)
    cartpole.round(warmup)
    all_cartpole: list[float] = []
    for env_id in env_ids:
        target = STEP_RATIO_TARGETS.get(env_id)
        tgt = None if target is None else (">=", target)
        name = _short(env_id)
        kwargs: dict[str, Any] = {}
        try:
            try:
                bench = _StepBench(env_id, round_steps, seed=0)
            except BenchmarkDataMissingError:
                if env_id not in FALLBACK_KWARGS:
                    raise
                kwargs = FALLBACK_KWARGS[env_id]
                bench = _StepBench(env_id, round_steps, seed=0, kwargs=kwargs)
        except (Error, ImportError) as exc:
            rows.append(_not_measured("env", name, "steps/s", _first_line(exc)))
            rows.append(
                _not_measured("env", f"{name} / CartPole", "x", "not measured", tgt)
            )
            continue
        try:
            bench.round(warmup)
            make_ms = _make_reset_ms(env_id, kwargs)
            floor = _StepBench(
                register_floor(),
                round_steps,
                seed=0,
                kwargs={
                    "template": env_id,
                    "template_kwargs": kwargs,
                    "check_actions": False,
                },
            )
            floor.round(warmup)
            gc.collect()
            env_rates, cp_rates, floor_rates = _rotate(
                (bench.round, cartpole.round, floor.round), scale.rounds
            )
            floor.close()
        except Exception as exc:  # a broken env must not hide the other rows
            bench.close()
            rows.append(
                _not_measured("env", name, "steps/s", _first_line(exc), None, "error")
            )
            continue
        bench.close()
        floor_target = FLOOR_RATIO_TARGETS.get(env_id)
        floor_ratios = [e / f for e, f in zip(env_rates, floor_rates, strict=True)]
        all_cartpole += cp_rates
        ratios = [e / c for e, c in zip(env_rates, cp_rates, strict=True)]
        rate = STEP_RATE_TARGETS.get(env_id)
        made_with = f"; made with {kwargs} (default data missing)" if kwargs else ""
        rows.append(
            _row(
                "env",
                name,
                statistics.median(env_rates),
                "steps/s",
                None if rate is None else (">=", rate),
                note=f"median of {scale.rounds} x {round_steps} steps; "
                f"{_spread(env_rates)}{made_with}",
            )
        )
        rows.append(
            _row(
                "env",
                f"{name} / CartPole",
                statistics.median(ratios),
                "x",
                tgt,
                note=f"CartPole {statistics.median(cp_rates):,.0f} steps/s in the same "
                f"rounds; median of per-round ratios",
            )
        )
        rows.append(
            _row(
                "env",
                f"{name} / floor",
                statistics.median(floor_ratios),
                "x",
                None if floor_target is None else (">=", floor_target),
                note=f"floor env ({FLOOR_ID}, same spaces, one list lookup a step) "
                f"{statistics.median(floor_rates):,.0f} steps/s in the same rounds; "
                "median of per-round ratios",
            )
        )
        rows.append(
            _row(
                "env",
                f"{name} make+reset",
                make_ms,
                "ms",
                note="one more gym.make + reset(seed) with the tables already loaded",
            )
        )
    cartpole.close()
    if all_cartpole:
        rows.insert(
            0,
            _row(
                "env",
                CARTPOLE,
                statistics.median(all_cartpole),
                "steps/s",
                note=f"reference, all {len(all_cartpole)} interleaved rounds; "
                f"{_spread(all_cartpole)}",
            ),
        )
    return rows


# ---------------------------------------------------------------------------
# Vector envs
# ---------------------------------------------------------------------------
class _VectorBench:
    """A vector env with a random agent; actions come from ``infos["action_mask"]``.

    Unmasked actions are sampled before the clock, ``rounds`` rounds' worth, and
    each round takes the next ones: replaying one round's actions would make every
    later Query step a revisit (free in the model-backed envs).
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        calls: int,
        sync: bool,
        seed: int,
        rounds: int = 1,
    ) -> None:
        kwargs: dict[str, Any] = {"vectorization_mode": "sync"} if sync else {}
        self.env: gym.vector.VectorEnv[Any, Any, Any] = gym.make_vec(
            env_id, num_envs=num_envs, **kwargs
        )
        self.num_envs = num_envs
        self.calls = calls
        _, self.infos = self.env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        self.masked = isinstance(
            self.env.single_action_space, gym.spaces.Discrete
        ) and ("action_mask" in self.infos)
        if self.masked:
            self.uniforms = rng.random((calls, num_envs))
            self.actions: list[Any] = []
        else:
            self.env.action_space.seed(int(rng.integers(2**31)))
            total = calls * max(1, rounds)
            self.actions = [self.env.action_space.sample() for _ in range(total)]
        self._next = 0

    def round(self, calls: int | None = None) -> float:
        """Env-steps per second of one round of ``calls`` vector steps."""
        n = self.calls if calls is None else calls
        step = self.env.step
        start = time.perf_counter()
        if self.masked:
            infos = self.infos
            for i in range(n):
                mask = np.asarray(infos["action_mask"], dtype=bool)
                k = (self.uniforms[i] * mask.sum(axis=1)).astype(np.int64)
                actions = (np.cumsum(mask, axis=1) > k[:, None]).argmax(axis=1)
                infos = step(actions)[4]
            self.infos = infos
        else:
            actions = self.actions
            if self._next + n > len(actions):
                self._next = 0
            first = self._next
            self._next += n
            for i in range(first, first + n):
                step(actions[i])
        return n * self.num_envs / (time.perf_counter() - start)

    def model_share(self, calls: int) -> float | None:
        """Share of one round's time spent in the model call the sub-envs share.

        The NB301 and OFA vector envs predict every sub-env's next architecture in
        one ``predict`` call of their first sub-env, timed here for one round of
        ``calls`` steps; ``None`` for vector envs without one (the tabular ones).
        """
        subs = getattr(self.env.unwrapped, "unwrapped_envs", None)
        first: Any = subs[0] if subs else None
        predict = getattr(first, "predict", None)
        if predict is None:
            return None
        spent = [0.0]

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return predict(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        first.predict = timed
        try:
            rate = self.round(calls)
        finally:
            del first.predict  # the class's method again
        return spent[0] / (calls * self.num_envs / rate)

    def close(self) -> None:
        self.env.close()


def _vector_rows(
    env_ids: Sequence[str], sizes: Iterable[int], scale: _Scale
) -> list[Row]:
    rows: list[Row] = []
    for num_envs in sizes:
        # Rounds of a few hundred calls: a batched call takes ~0.1 ms, and shorter
        # rounds measure scheduler noise more than the env.
        calls = max(2, 4 * scale.steps // (num_envs * scale.vector_rounds))
        tgt = (
            (">=", VECTOR_RATIO_TARGET) if num_envs >= VECTOR_TARGET_MIN_ENVS else None
        )
        for env_id in env_ids:
            name = f"{_short(env_id)} x{num_envs}"
            made: list[_VectorBench] = []
            try:
                # Fresh actions for the warm-up, every timed round and the model
                # share round.
                rounds = scale.vector_rounds + 2
                batched = _VectorBench(
                    env_id, num_envs, calls, sync=False, seed=0, rounds=rounds
                )
                made.append(batched)
                sync = _VectorBench(
                    env_id, num_envs, calls, sync=True, seed=0, rounds=rounds
                )
                made.append(sync)
                # Warm-up: builds the lazily shared per-code tables before timing.
                batched.round(min(20, calls))
                sync.round(min(20, calls))
                gc.collect()
                fast, slow = _interleave(batched.round, sync.round, scale.vector_rounds)
                share = batched.model_share(calls)
            except (Error, ImportError) as exc:
                rows.append(_not_measured("vector", name, "x", _first_line(exc), tgt))
                continue
            except Exception as exc:  # keep reporting the other envs
                rows.append(
                    _not_measured("vector", name, "x", _first_line(exc), tgt, "error")
                )
                continue
            finally:
                for bench in made:
                    bench.close()
            ratios = [f / s for f, s in zip(fast, slow, strict=True)]
            note = f"median of {scale.vector_rounds} x {calls} calls"
            rows.append(
                _row(
                    "vector",
                    f"{name} batched",
                    statistics.median(fast),
                    "env-steps/s",
                    note=f"{note}; {_spread(fast)}",
                )
            )
            rows.append(
                _row(
                    "vector",
                    f"{name} sync",
                    statistics.median(slow),
                    "env-steps/s",
                    note=f"{note}; {_spread(slow)}",
                )
            )
            rows.append(
                _row(
                    "vector",
                    f"{name} batched / sync",
                    statistics.median(ratios),
                    "x",
                    tgt,
                    note="median of per-round ratios",
                )
            )
            if share is not None:
                # If all but the shared model call were free: sync step time over
                # the batched model time per env-step.
                model_rate = statistics.median(fast) / max(share, 1e-9)
                rows.append(
                    _row(
                        "vector",
                        f"{name} ceiling: sync step / batched model time",
                        model_rate / statistics.median(slow),
                        "x",
                        note=f"the batched model call is {100 * share:.0f} % of a "
                        "batched step: the most batching can give with this "
                        "model call (the rest free)",
                    )
                )
    return rows


# ---------------------------------------------------------------------------
# Benchmarks: which ones, raw queries
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _BenchSpec:
    """A benchmark the selected envs use, and the env used to load it cold."""

    key: str  # "nb201" | "nbgraph"
    label: str
    dataset: str
    env_id: str


_BENCHES: tuple[_BenchSpec, ...] = (
    _BenchSpec("nb201", "NB201/cifar10", "cifar10", "nasgym/NB201Edit-v0"),
    _BenchSpec("nbgraph", "NBGraph/cora", "cora", "nasgym/NBGraphEdit-v0"),
)


def _benches_for(env_ids: Sequence[str]) -> list[_BenchSpec]:
    """Benchmarks behind the selected envs, each loaded cold with the first of them."""
    first: dict[str, str] = {}
    for env_id in env_ids:
        if env_id in ENVS:
            first.setdefault(ENVS[env_id][0].rsplit(".", 1)[-1], env_id)
    return [replace(b, env_id=first[b.key]) for b in _BENCHES if b.key in first]


def _make_benchmark(key: str, dataset: str) -> Any:
    """Build (and load) a benchmark; raises :class:`Error` when its data is missing."""
    if key == "nb201":
        from nasgym.benchmarks.nb201 import NB201Benchmark

        bench: Any = NB201Benchmark(dataset)
    else:
        from nasgym.benchmarks.nbgraph import NBGraphBenchmark

        bench = NBGraphBenchmark(dataset)
    _ = bench.tables
    return bench


def _median_time(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure_queries(
    bench: Any, label: str, all_target: tuple[str, float] | None, scale: _Scale
) -> list[Row]:
    """Scalar and vectorised query rows of one loaded benchmark."""
    space = bench.space
    metric = bench.reward_metric
    rng = np.random.default_rng(0)
    codes = space.sample_codes(rng, scale.scalar_queries)
    archs = [space.from_code(int(c)) for c in codes]
    query = bench.query

    def scalar_loop() -> None:
        for arch in archs:
            query(arch)

    scalar_loop()  # warm-up
    scalar_s = _median_time(scalar_loop, 3)
    every = np.array(space.valid_codes, dtype=np.int64)
    query_codes = bench.query_codes
    query_codes(every, metric)  # warm-up
    vector_s = _median_time(lambda: query_codes(every, metric), scale.vector_query_reps)
    return [
        _row(
            "query",
            f"{label} query(arch)",
            len(archs) / scalar_s,
            "q/s",
            note=f"scalar loop over {len(archs)} random archs, metric {metric!r}",
        ),
        _row(
            "query",
            f"{label} query_codes(all)",
            vector_s * 1e3,
            "ms",
            all_target,
            note=f"one call over all {every.size:,} valid codes = "
            f"{every.size / vector_s:,.0f} q/s; median of {scale.vector_query_reps}",
        ),
    ]


def _query_rows(specs: Sequence[_BenchSpec], scale: _Scale) -> list[Row]:
    rows: list[Row] = []
    for spec in specs:
        nb201 = spec.key == "nb201"
        all_target = ("<", NB201_QUERY_ALL_MS_TARGET) if nb201 else None
        try:
            bench = _make_benchmark(spec.key, spec.dataset)
        except (Error, ImportError) as exc:
            reason = _first_line(exc)
            rows.append(
                _not_measured("query", f"{spec.label} query(arch)", "q/s", reason)
            )
            rows.append(
                _not_measured(
                    "query", f"{spec.label} query_codes(all)", "ms", reason, all_target
                )
            )
            continue
        rows += _measure_queries(bench, spec.label, all_target, scale)
    return rows


def _nbgraph_wheel_lookup(bench: Any, archs: Sequence[Any]) -> Callable[[int], float]:
    """``lookup(i)``: the wheel's valid accuracy (percent) of ``archs[i]``.

    The wheel's documented lookup: ``light_read(dataset)[Arch(link, ops)
    .valid_hash()]["valid_perf"]``, with the wheel's ``Arch`` objects built
    beforehand (as nasgym's archs are).
    """
    from nasgym.spaces.nbgraph import LINKS, OPS, OPS_PROTEINS, import_wheel

    wheel = import_wheel()
    table = wheel.light_read(bench.dataset)
    names = OPS_PROTEINS if bench.dataset == "proteins" else OPS
    theirs = [wheel.Arch(list(LINKS[a.link]), [names[o] for o in a.ops]) for a in archs]

    def lookup(i: int) -> float:
        return float(table[theirs[i].valid_hash()]["valid_perf"]) * 100.0

    return lookup


def _nbgraph_peer_rows(dataset: str, scale: _Scale) -> list[Row]:
    """NBGraph ``query(arch)`` against the wheel's own lookup of the same archs."""
    label = f"NBGraph/{dataset}"
    target = (">=", NBGRAPH_QUERY_RATIO_TARGET)
    rate_name = f"{label} wheel lookup (valid_hash)"
    ratio_name = f"{label} query(arch) / wheel lookup"
    try:
        bench = _make_benchmark("nbgraph", dataset)
        rng = np.random.default_rng(0)
        count = PEER_QUERIES if scale.rounds > 3 else PEER_QUERIES // 4
        codes = bench.space.sample_codes(rng, count).tolist()
        archs = [bench.space.from_code(c) for c in codes]
        lookup = _nbgraph_wheel_lookup(bench, archs)
    except (Error, ImportError, OSError) as exc:
        why = _first_line(exc)
        return [
            _not_measured("query", rate_name, "q/s", why),
            _not_measured("query", ratio_name, "x", why, target),
        ]
    query = bench.query
    diff = max(abs(lookup(i) - float(query(a, "valid"))) for i, a in enumerate(archs))

    def ours() -> float:
        start = time.perf_counter()
        for arch in archs:
            query(arch, "valid")
        return count / (time.perf_counter() - start)

    def theirs() -> float:
        start = time.perf_counter()
        for i in range(count):
            lookup(i)
        return count / (time.perf_counter() - start)

    ours()
    theirs()
    gc.collect()
    mine, peer = _interleave(ours, theirs, scale.rounds)
    ratios = [a / b for a, b in zip(mine, peer, strict=True)]
    return [
        _row(
            "query",
            rate_name,
            statistics.median(peer),
            "q/s",
            note=f"nas-bench-graph {_version('nas-bench-graph')}: table[Arch(link, "
            f"ops).valid_hash()]['valid_perf'], wheel Arch objects prebuilt; {count} "
            f"random archs a round, median of {scale.rounds}; values agree with "
            f"nasgym to {diff:.2g}",
        ),
        _row(
            "query",
            ratio_name,
            statistics.median(ratios),
            "x",
            target,
            note=f"NBGraphBenchmark({dataset!r}).query(arch, 'valid') "
            f"{statistics.median(mine):,.0f} q/s in the same rounds; median of "
            "per-round ratios",
        ),
    ]


# ---------------------------------------------------------------------------
# Fresh-process measurements
# ---------------------------------------------------------------------------
def _rss_bytes() -> int | None:
    """Resident set size of this process (psutil, else ``/proc``), or ``None``."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pass
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _mb(after: int | None, before: int | None) -> float | None:
    return None if after is None or before is None else (after - before) / 1e6


def _child_load(key: str, dataset: str, env_id: str) -> dict[str, Any]:
    """Body of the fresh process of the load section (see :func:`_run_child`)."""
    _rss_bytes()  # import psutil before the baseline
    gc.collect()
    rss0 = _rss_bytes()
    start = time.perf_counter()
    _make_benchmark(key, dataset)
    loaded = time.perf_counter()
    rss1 = _rss_bytes()
    env = gym.make(env_id)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    made = time.perf_counter()
    rss2 = _rss_bytes()
    env.close()
    return {
        "load_s": loaded - start,
        "load_mb": _mb(rss1, rss0),
        "total_s": made - start,
        "total_mb": _mb(rss2, rss0),
    }


def _child_nbgraph_cold(dataset: str, which: str) -> dict[str, Any]:
    """Body of a fresh process timing one NBGraph read, modules already imported.

    ``which`` is ``"wheel"`` (``nas_bench_graph.light_read(dataset)``) or
    ``"nasgym"`` (``NBGraphBenchmark(dataset).tables``, which reads nasgym's cache
    of the keys and tables, or builds it from the wheel).
    """
    import nas_bench_graph

    from nasgym.benchmarks.nbgraph import NBGraphBenchmark

    gc.collect()
    start = time.perf_counter()
    if which == "wheel":
        nas_bench_graph.light_read(dataset)
    else:
        _ = NBGraphBenchmark(dataset).tables
    return {"s": time.perf_counter() - start}


def _nats_bench_rates(archive: str, loops: int) -> dict[str, Any]:
    import nats_bench

    start = time.perf_counter()
    api = nats_bench.create(archive, "tss", fast_mode=True, verbose=False)
    created = time.perf_counter()
    infos = [
        api.get_more_info(i, "cifar10", hp="200", is_random=False) for i in NATS_INDICES
    ]
    first = time.perf_counter()

    def loop() -> None:
        for _ in range(loops):
            for i in NATS_INDICES:
                api.get_more_info(i, "cifar10", hp="200", is_random=False)

    seconds = _median_time(loop, 3)
    return {
        "create_s": created - start,
        "first_s": first - created,
        "rate": loops * len(NATS_INDICES) / seconds,
        "values": [float(info["test-accuracy"]) for info in infos],
    }


def _child_nats(archive: str, loops: int) -> dict[str, Any]:
    """Body of the fresh process of the nats_bench section."""
    out: dict[str, Any] = {"nats": _nats_bench_rates(archive, loops)}
    try:
        bench = _make_benchmark("nb201", "cifar10")
    except Error as exc:
        out["nasgym_error"] = _first_line(exc)
        return out
    archs = [bench.arch_at(i) for i in NATS_INDICES]
    codes = np.array([bench.space.code(a) for a in archs], dtype=np.int64)
    many = loops * 10

    def scalar() -> None:
        for _ in range(many):
            for arch in archs:
                bench.query(arch, "test@200")

    def vectorised() -> None:
        for _ in range(many):
            bench.query_codes(codes, "test@200")

    scalar()
    out["nasgym_rate"] = many * len(archs) / _median_time(scalar, 3)
    out["nasgym_vector_rate"] = many * len(archs) / _median_time(vectorised, 3)
    out["nasgym_values"] = [bench.query(a, "test@200") for a in archs]
    return out


def _child_nb101(path: str | None) -> dict[str, Any]:
    """Body of the fresh process of the NB101 load rows: load, then one query."""
    _rss_bytes()
    gc.collect()
    rss0 = _rss_bytes()
    start = time.perf_counter()
    from nasgym.benchmarks.nb101 import NB101Benchmark

    bench = NB101Benchmark("full", path=path)
    table = bench.data
    loaded = time.perf_counter()
    rss1 = _rss_bytes()
    value = bench.query(table.cell(0), "valid@108")
    queried = time.perf_counter()
    rss2 = _rss_bytes()
    return {
        "load_s": loaded - start,
        "load_mb": _mb(rss1, rss0),
        "total_s": queried - start,
        "total_mb": _mb(rss2, rss0),
        "cells": len(table),
        "epochs": list(table.epochs),
        "repeats": int(table.arrays["run_group"].shape[2]),
        "value": float(value),
    }


_CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "load": _child_load,
    "nbgraph_cold": _child_nbgraph_cold,
    "nats": _child_nats,
    "nb101": _child_nb101,
}


def _child_main(name: str, args_json: str) -> None:
    """Entry point of a measuring subprocess: print the result as one JSON line."""
    result = _CHILDREN[name](*json.loads(args_json))
    print("NASGYM_PERF_RESULT " + json.dumps(result))


def _run_child(name: str, *args: Any, timeout: float = 300.0) -> dict[str, Any]:
    """Run ``_CHILDREN[name](*args)`` in a fresh interpreter and return its result.

    Raises:
        RuntimeError: The child failed; the message holds the end of its stderr.
    """
    env = dict(os.environ)
    root = str(Path(nasgym.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    code = f"import nasgym.perf as p; p._child_main({name!r}, {json.dumps(args)!r})"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("NASGYM_PERF_RESULT "):
            result: dict[str, Any] = json.loads(line.split(" ", 1)[1])
            return result
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    raise RuntimeError(lines[-1] if lines else f"child exited with {proc.returncode}")


def _nb201_missing_reason() -> str | None:
    """Why the NB201 table cannot be used (``None`` when it is present)."""
    try:
        from nasgym.benchmarks.nb201 import TABLE_FILE, missing_table_message
    except ImportError as exc:
        return _first_line(exc)
    from nasgym.data import find_table

    if find_table(TABLE_FILE) is None:
        return missing_table_message().split(". ", 1)[0]
    return None


def _load_rows(specs: Sequence[_BenchSpec], scale: _Scale) -> list[Row]:
    rows: list[Row] = []
    for spec in specs:
        nb201 = spec.key == "nb201"
        t_s = ("<", NB201_LOAD_S_TARGET) if nb201 else None
        t_mb = ("<", NB201_LOAD_MB_TARGET) if nb201 else None
        names = (
            (f"{spec.label} table load", "s", t_s),
            (f"{spec.label} table RSS increase", "MB", t_mb),
            (f"{spec.label} table + make/reset/step", "s", t_s),
            (f"{spec.label} table + make/reset/step RSS", "MB", t_mb),
        )
        reason = _nb201_missing_reason() if nb201 else None
        if reason is not None:
            rows += [_not_measured("load", n, u, reason, t) for n, u, t in names]
            continue
        try:
            runs = [
                _run_child("load", spec.key, spec.dataset, spec.env_id)
                for _ in range(scale.load_repeats)
            ]
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            rows += [
                _not_measured("load", n, u, _first_line(exc), t, "error")
                for n, u, t in names
            ]
            continue
        how = f"median of {len(runs)} fresh processes"
        for (name, unit, target), key in zip(
            names, ("load_s", "load_mb", "total_s", "total_mb"), strict=True
        ):
            values = [r[key] for r in runs if r[key] is not None]
            if not values:
                rows.append(
                    _not_measured("load", name, unit, "cannot read RSS", target)
                )
                continue
            note = how
            if key == "load_s":
                note += "; includes importing the benchmark module"
            elif key == "total_s":
                note += f"; gym.make({spec.env_id!r})"
            rows.append(
                _row("load", name, statistics.median(values), unit, target, note)
            )
    return rows


def _nbgraph_cold_rows(dataset: str, scale: _Scale) -> list[Row]:
    """NBGraph cold load against the wheel's ``light_read``, in fresh processes."""
    label = f"NBGraph/{dataset}"
    target = ("<", NBGRAPH_LOAD_RATIO_TARGET)
    names = (
        (f"{label} light_read (wheel)", "ms", None),
        (f"{label} cold load (nasgym)", "ms", None),
        (f"{label} cold load / light_read", "x", target),
    )
    repeats = max(3, 2 * scale.load_repeats - 1)
    try:
        # An untimed first process builds nasgym's cache if it is not there yet.
        _run_child("nbgraph_cold", dataset, "nasgym")
        wheel: list[float] = []
        ours: list[float] = []
        for _ in range(repeats):
            wheel.append(_run_child("nbgraph_cold", dataset, "wheel")["s"])
            ours.append(_run_child("nbgraph_cold", dataset, "nasgym")["s"])
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return [
            _not_measured("load", n, u, _first_line(exc), t, "error")
            for n, u, t in names
        ]
    how = f"median of {repeats} fresh processes each, alternated; modules imported"
    w, o = statistics.median(wheel), statistics.median(ours)
    return [
        _row("load", names[0][0], w * 1e3, "ms", note=f"{how}; unpickles the table"),
        _row(
            "load",
            names[1][0],
            o * 1e3,
            "ms",
            note=f"{how}; NBGraphBenchmark({dataset!r}).tables from nasgym's verified "
            "cache (built by an earlier process)",
        ),
        _row("load", names[2][0], o / w, "x", target, note="ratio of the medians"),
    ]


def _nats_rows(scale: _Scale) -> list[Row]:
    names = (
        ("nats_bench get_more_info", "q/s"),
        ("nasgym query(arch)", "q/s"),
        ("nasgym / nats_bench", "x"),
        ("nasgym query_codes (3 per call)", "q/s"),
        ("max |test@200 - nats_bench|", "pct-pt"),
    )
    reason: str | None = None
    root = os.environ.get("NASGYM_DATA_DIR")
    archive = Path(root).expanduser() / "nats-bench" / NATS_ARCHIVE if root else None
    if importlib.util.find_spec("nats_bench") is None:
        reason = "nats_bench is not installed (pip install 'nasgym[dev]')"
    elif archive is None:
        reason = f"NASGYM_DATA_DIR is not set (needs nats-bench/{NATS_ARCHIVE})"
    elif not (archive / "meta.pickle.pbz2").is_file():
        reason = f"{archive} is not a NATS-Bench topology archive"
    if reason is not None:
        return [_not_measured("nats", n, u, reason) for n, u in names]
    try:
        result = _run_child("nats", str(archive), scale.nats_loops)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return [
            _not_measured("nats", n, u, _first_line(exc), None, "error")
            for n, u in names
        ]
    nats = result["nats"]
    indices = ", ".join(map(str, NATS_INDICES))
    rows = [
        _row(
            "nats",
            names[0][0],
            nats["rate"],
            "q/s",
            note=f"get_more_info(i, 'cifar10', hp='200') for i in ({indices}), warm; "
            f"create {nats['create_s'] * 1e3:.0f} ms, first 3 queries "
            f"{nats['first_s'] * 1e3:.0f} ms",
        )
    ]
    if "nasgym_error" in result:
        why = result["nasgym_error"]
        return rows + [_not_measured("nats", n, u, why) for n, u in names[1:]]
    diff = max(
        abs(a - b) for a, b in zip(result["nasgym_values"], nats["values"], strict=True)
    )
    rows += [
        _row(
            "nats",
            names[1][0],
            result["nasgym_rate"],
            "q/s",
            note="NB201Benchmark('cifar10').query(arch_at(i), 'test@200')",
        ),
        _row("nats", names[2][0], result["nasgym_rate"] / nats["rate"], "x"),
        _row("nats", names[3][0], result["nasgym_vector_rate"], "q/s"),
        _row(
            "nats",
            names[4][0],
            diff,
            "pct-pt",
            note="agreement check of the imported table, not a speed",
        ),
    ]
    return rows


# ---------------------------------------------------------------------------
# Peer APIs: nasbenchapi and syne-tune's BlackboxTabular, built from our table
# ---------------------------------------------------------------------------
def _nasbenchapi_lookup(
    bench: Any, indices: Sequence[int], tmp: Path
) -> Callable[[int], float]:
    """The NB201 ``query`` of nasbenchapi on a pickle written from nasgym's table.

    nasbenchapi reads the official NB201 layout (``arch2infos[i]["full"]`` with
    ``arch_str`` and ``all_results[(dataset, seed)]["eval_acc1es"]``); the pickle
    holds nasgym's ``test@200`` of every architecture as ``ori-test@199`` of seed
    777, so both APIs return the same number.
    """
    import pickle

    from nasbenchapi.nasbench201_api import NASBench201

    space = bench.space
    test = bench.table("test@200")
    infos: dict[int, Any] = {}
    for code, arch_str in zip(
        space.valid_codes.tolist(), space.strings_of(space.valid_codes), strict=True
    ):
        results = {
            ("cifar10", 777): {"eval_acc1es": {"ori-test@199": float(test[code])}}
        }
        infos[code] = {"full": {"arch_str": arch_str, "all_results": results}}
    path = tmp / "nb201-nasbenchapi.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"arch2infos": infos}, handle)
    api = NASBench201(str(path), verbose=False)
    strings = {i: space.to_string(space.from_code(i)) for i in indices}
    query = api.query

    def lookup(i: int) -> float:
        return float(query(strings[i], "cifar10", split="test", seed=777)["metric"])

    return lookup


def _syne_tune_lookup(bench: Any, indices: Sequence[int]) -> Callable[[int], float]:
    """syne-tune ``BlackboxTabular.objective_function`` on a blackbox of the table.

    One row per architecture (the six edge ops as hyperparameters), one seed, one
    fidelity (200 epochs) and one objective (``test@200``), built in memory.
    """
    import pandas as pd
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import choice, randint

    space = bench.space
    test = np.asarray(bench.table("test@200"), dtype=np.float64)
    vectors = space.codes_to_vectors(np.arange(space.size))
    names = list(space.slot_names)
    ops = list(space.slot_choices[0])
    frame = pd.DataFrame(
        {name: [ops[v] for v in vectors[:, k]] for k, name in enumerate(names)}
    )
    blackbox = BlackboxTabular(
        hyperparameters=frame,
        configuration_space={name: choice(ops) for name in names},
        fidelity_space={"epochs": randint(200, 200)},
        objectives_evaluations=test.reshape(-1, 1, 1, 1),
        fidelity_values=np.array([200]),
        objectives_names=["test_acc"],
    )
    configs = {
        i: dict(zip(names, frame.iloc[i].tolist(), strict=True)) for i in indices
    }
    function = blackbox.objective_function

    def lookup(i: int) -> float:
        return float(function(configs[i], fidelity={"epochs": 200}, seed=0)["test_acc"])

    return lookup


#: Peer APIs: row name, distribution to install, builder.
_PEERS: tuple[tuple[str, str, str], ...] = (
    ("nasbenchapi NB201 query", "nasbenchapi", "nasbenchapi"),
    ("syne-tune BlackboxTabular lookup", "syne-tune", "syne_tune"),
)


def _peer_rows(scale: _Scale) -> list[Row]:
    """NB201 ``query(arch)`` against each peer API, interleaved rounds."""
    target = (">=", PEER_RATIO_TARGET)
    names = [(f"{peer}", f"nasgym / {peer}") for peer, _, _ in _PEERS]
    try:
        bench = _make_benchmark("nb201", "cifar10")
    except (Error, ImportError) as exc:
        reason = _first_line(exc)
        return [
            row
            for rate, ratio in names
            for row in (
                _not_measured("peers", rate, "q/s", reason),
                _not_measured("peers", ratio, "x", reason, target),
            )
        ]
    rng = np.random.default_rng(0)
    count = PEER_QUERIES if scale.rounds > 3 else PEER_QUERIES // 4
    indices = bench.space.sample_codes(rng, count).tolist()  # codes = table rows
    archs = [bench.space.from_code(i) for i in indices]
    query = bench.query

    def ours() -> float:
        start = time.perf_counter()
        for arch in archs:
            query(arch, "test@200")
        return count / (time.perf_counter() - start)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="nasgym-perf-peers-") as tmp:
        for (_, dist, module), (rate_name, ratio_name) in zip(
            _PEERS, names, strict=True
        ):
            if importlib.util.find_spec(module) is None:
                why = f"skip: pip install {dist} (or nasgym[perf])"
                rows.append(_not_measured("peers", rate_name, "q/s", why))
                rows.append(_not_measured("peers", ratio_name, "x", why, target))
                continue
            try:
                if module == "nasbenchapi":
                    lookup = _nasbenchapi_lookup(bench, indices, Path(tmp))
                else:
                    lookup = _syne_tune_lookup(bench, indices)
                diff = max(
                    abs(lookup(i) - float(query(a, "test@200")))
                    for i, a in zip(indices[:50], archs[:50], strict=True)
                )

                def theirs(lookup: Callable[[int], float] = lookup) -> float:
                    start = time.perf_counter()
                    for i in indices:
                        lookup(i)
                    return count / (time.perf_counter() - start)

                ours()
                theirs()
                gc.collect()
                mine, peer_rates = _interleave(ours, theirs, scale.rounds)
            except Exception as exc:  # a peer's own failure must not stop the report
                why = _first_line(exc)
                rows.append(
                    _not_measured("peers", rate_name, "q/s", why, None, "error")
                )
                rows.append(
                    _not_measured("peers", ratio_name, "x", why, target, "error")
                )
                continue
            ratios = [a / b for a, b in zip(mine, peer_rates, strict=True)]
            rows.append(
                _row(
                    "peers",
                    rate_name,
                    statistics.median(peer_rates),
                    "q/s",
                    note=f"{_version(dist)}; {count} random archs (codes) a round, "
                    f"median of {scale.rounds}; values agree with nasgym to {diff:.2g}",
                )
            )
            rows.append(
                _row(
                    "peers",
                    ratio_name,
                    statistics.median(ratios),
                    "x",
                    target,
                    note=f"NB201Benchmark('cifar10').query(arch, 'test@200') "
                    f"{statistics.median(mine):,.0f} q/s in the same rounds; median "
                    "of per-round ratios",
                )
            )
    return rows


# ---------------------------------------------------------------------------
# NB301 surrogate and the full-size NB101 table (graph envs)
# ---------------------------------------------------------------------------
def _surrogate_rows(scale: _Scale) -> list[Row]:
    """Batched ``NB301Surrogate.predict`` throughput on random valid genotypes."""
    target = (">=", NB301_PREDICT_RATE_TARGET)
    names = [f"NB301 predict x{n:,}" for n in NB301_PREDICT_BATCHES]
    try:
        from nasgym.benchmarks.nb301 import NB301Surrogate
        from nasgym.spaces.darts import sample_bananas_array

        start = time.perf_counter()
        surrogate = NB301Surrogate()
        load_s = time.perf_counter() - start
    except (Error, ImportError) as exc:
        reason = _first_line(exc)
        return [_not_measured("surrogate", "NB301 surrogate load", "s", reason)] + [
            _not_measured("surrogate", name, "archs/s", reason, target)
            for name in names
        ]
    how = (
        f"intra_op_threads={surrogate.intra_op_threads}, batch_size="
        f"{surrogate.batch_size}, batched={surrogate.batched}"
    )
    rows = [
        _row(
            "surrogate",
            "NB301 surrogate load",
            load_s,
            "s",
            note=f"NB301Surrogate() after the env rows (modules imported, files in "
            f"the OS cache), files checked; {how}",
        )
    ]
    rows += _surrogate_single_rows(surrogate, scale)
    rng = np.random.default_rng(0)
    for name, n in zip(names, NB301_PREDICT_BATCHES, strict=True):
        batches = [sample_bananas_array(n, rng) for _ in range(scale.surrogate_rounds)]
        try:
            surrogate.predict(batches[0], 98)  # warm-up
            rates = []
            for batch in batches:
                t0 = time.perf_counter()
                surrogate.predict(batch, 98)
                rates.append(n / (time.perf_counter() - t0))
        except Exception as exc:  # keep reporting the other rows
            rows.append(
                _not_measured(
                    "surrogate", name, "archs/s", _first_line(exc), target, "error"
                )
            )
            continue
        rows.append(
            _row(
                "surrogate",
                name,
                statistics.median(rates),
                "archs/s",
                target,
                note=f"predict(batch of {n:,} random BANANAS genotypes, epoch 98), "
                f"validated; median of {scale.surrogate_rounds} batches; "
                f"{_spread(rates)}; {how}",
            )
        )
    return rows


def _surrogate_single_rows(surrogate: Any, scale: _Scale) -> list[Row]:
    """``predict_one`` of one genotype against a raw onnxruntime call on its row."""
    from nasgym.spaces.darts import from_array, sample_bananas_array

    target = ("<", NB301_SINGLE_RATIO_TARGET)
    names = ("NB301 raw onnxruntime run (1 row)", "NB301 predict_one / raw run")
    count = NB301_SINGLE_QUERIES if scale.rounds > 3 else NB301_SINGLE_QUERIES // 4
    try:
        arr = sample_bananas_array(count, np.random.default_rng(1))
        genotypes = [from_array(a) for a in arr]
        x_cat = [np.ascontiguousarray(r[None]) for r in surrogate.encode(arr)]
        x_cont = np.full((1, 1), 98.0, dtype=np.float32)
        run = surrogate._session.run
        output = [surrogate._output]
        predict_one = surrogate.predict_one
        diff = max(
            abs(float(run(output, {"x_cat": x, "x_cont": x_cont})[0][0, 0]) - acc)
            for x, acc in zip(
                x_cat, (predict_one(g, 98)[0] for g in genotypes), strict=True
            )
        )

        def ours() -> float:
            start = time.perf_counter()
            for g in genotypes:
                predict_one(g, 98)
            return count / (time.perf_counter() - start)

        def raw() -> float:
            start = time.perf_counter()
            for x in x_cat:
                run(output, {"x_cat": x, "x_cont": x_cont})
            return count / (time.perf_counter() - start)

        gc.collect()
        mine, theirs = _interleave(ours, raw, scale.rounds)
    except Exception as exc:  # keep reporting the batched rows
        why = _first_line(exc)
        return [
            _not_measured("surrogate", names[0], "calls/s", why, None, "error"),
            _not_measured("surrogate", names[1], "x", why, target, "error"),
        ]
    ratios = [b / a for a, b in zip(mine, theirs, strict=True)]
    return [
        _row(
            "surrogate",
            names[0],
            statistics.median(theirs),
            "calls/s",
            note=f"InferenceSession.run on each genotype's encoded row (1, 34), "
            f"encoded beforehand; {count} random BANANAS genotypes a round, median of "
            f"{scale.rounds}; accuracies agree with predict_one to {diff:.2g}",
        ),
        _row(
            "surrogate",
            names[1],
            statistics.median(ratios),
            "x",
            target,
            note=f"time per call of NB301Surrogate.predict_one(genotype, 98) "
            f"(validate, encode, run, floats; {statistics.median(mine):,.0f} calls/s "
            "in the same rounds) over the raw run's; median of per-round ratios",
        ),
    ]


def write_synthetic_nb101_table(
    dest: Path,
    cells: int = NB101_FULL_CELLS,
    *,
    seed: int = 0,
    distinct_cells: int = 512,
) -> Path:
    """Write a random NB101 table of the official shape, only to time the loader.

    The table has nasgym's ``nb101.npz`` layout (kind ``"full"``, epochs 4/12/36/108,
    3 repeats, every run present) and is written by the importer's own writer, so
    :func:`nasgym.benchmarks.nb101.load_table` reads it exactly as an imported table.
    Its numbers are random: accuracies are float32 (as NB101's are), training times
    float64. ``distinct_cells`` random valid cells keep their real hashes; every other
    row has a random unique hash and repeats one of those cells.

    Args:
        dest: The ``.npz`` file to write.
        cells: Rows of the table.
        seed: Seed of the random numbers.
        distinct_cells: How many real cells (and hashes) the table holds.

    Returns:
        ``dest``.
    """
    from nasgym.benchmarks.nb101 import (
        _PAD_OP,
        _compact_float,
        _Source,
        _split_hash,
        _write,
    )
    from nasgym.spaces.nb101 import MAX_VERTICES, nb101_hash, sample_bananas

    if cells < 1:
        raise ValueError("cells must be positive")
    rng = np.random.default_rng(seed)
    real: dict[str, Any] = {}
    while len(real) < min(distinct_cells, cells):
        cell = sample_bananas(rng)
        real.setdefault(nb101_hash(cell), cell)
    pool = list(real.values())
    keys = np.empty((cells, 16), dtype=np.uint8)
    keys[: len(pool)] = [list(bytes.fromhex(h)) for h in real]
    keys[len(pool) :] = rng.integers(0, 256, (cells - len(pool), 16), dtype=np.uint8)
    which = np.empty(cells, dtype=np.int64)
    which[: len(pool)] = np.arange(len(pool))
    which[len(pool) :] = rng.integers(0, len(pool), cells - len(pool))
    hi, lo = _split_hash(keys)
    order = np.lexsort((lo, hi))
    keys, which, hi, lo = keys[order], which[order], hi[order], lo[order]
    if np.any((hi[1:] == hi[:-1]) & (lo[1:] == lo[:-1])):  # pragma: no cover
        raise RuntimeError("random hashes collided; use another seed")
    num_vertices = np.zeros(len(pool), dtype=np.uint8)
    dense = np.zeros((len(pool), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    ops = np.full((len(pool), MAX_VERTICES), _PAD_OP, dtype=np.uint8)
    for i, cell in enumerate(pool):
        v = cell.num_vertices
        num_vertices[i] = v
        dense[i, :v, :v] = cell.matrix
        ops[i, :v] = cell.op_indices
    adjacency = np.packbits(dense.reshape(len(pool), -1), axis=1)
    shape = (cells, len(NB101_EPOCHS), NB101_REPEATS)
    accuracy = rng.uniform(0.1, 0.95, (2, *shape)).astype(np.float32)
    arrays: dict[str, np.ndarray] = {
        "hash": np.ascontiguousarray(keys),
        "num_vertices": num_vertices[which],
        "adjacency": adjacency[which],
        "ops": ops[which],
        "params": rng.integers(200_000, 50_000_000, cells, dtype=np.int64),
        "epochs": np.asarray(NB101_EPOCHS, dtype=np.int64),
        "valid": _compact_float(accuracy[0].astype(np.float64)),
        "test": _compact_float(accuracy[1].astype(np.float64)),
        "train_time_s": _compact_float(rng.uniform(100.0, 6000.0, shape)),
        "run_group": np.zeros(shape, dtype=np.int8),
    }
    source = _Source("synthetic", "random numbers (nasgym perf)", "-", 0)
    return _write(arrays, "full", ["synthetic"], [source], Path(dest))


def _nb101_load_rows(scale: _Scale) -> list[Row]:
    """Load time and RSS of the full NB101 table (imported, else synthetic)."""
    from nasgym.benchmarks.nb101 import TABLE_FILES
    from nasgym.data import find_table

    imported = find_table(TABLE_FILES["full"])
    full = imported is not None or scale.nb101_cells >= NB101_FULL_CELLS
    t_s = ("<", NB101_LOAD_S_TARGET) if full else None
    t_mb = ("<", NB101_LOAD_MB_TARGET) if full else None
    names = (
        ("NB101 table load", "s", t_s),
        ("NB101 table RSS increase", "MB", t_mb),
        ("NB101 table + first query", "s", t_s),
        ("NB101 table + first query RSS", "MB", t_mb),
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="nasgym-perf-nb101-") as tmp:
        if imported is not None:
            path: Path = imported
            what = f"imported table {imported}"
        else:
            start = time.perf_counter()
            try:
                path = write_synthetic_nb101_table(
                    Path(tmp) / TABLE_FILES["full"], scale.nb101_cells
                )
            except (Error, ImportError, OSError, MemoryError) as exc:
                reason = _first_line(exc)
                return [
                    _not_measured("load", n, u, reason, t, "error") for n, u, t in names
                ]
            build_s = time.perf_counter() - start
            size_mb = path.stat().st_size / 1e6
            what = (
                "SYNTHETIC table of random numbers in nasgym's nb101.npz format, "
                "used only to time the loader"
            )
            shape = (
                f"{scale.nb101_cells:,} cells x epochs "
                f"{'/'.join(map(str, NB101_EPOCHS))} x {NB101_REPEATS} repeats"
            )
            if not full:
                what += (
                    f"; quick: {NB101_FULL_CELLS:,} cells without --quick, where the "
                    f"targets apply"
                )
            rows.append(
                _row(
                    "load",
                    "NB101 synthetic table build",
                    build_s,
                    "s",
                    note=f"{what}; {shape}, {size_mb:.0f} MB file in a temporary "
                    f"directory (no official nb101.npz imported)",
                )
            )
        try:
            runs = [_run_child("nb101", str(path)) for _ in range(scale.load_repeats)]
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            return rows + [
                _not_measured("load", n, u, _first_line(exc), t, "error")
                for n, u, t in names
            ]
    first = runs[0]
    how = (
        f"median of {len(runs)} fresh processes; {first['cells']:,} cells x epochs "
        f"{'/'.join(map(str, first['epochs']))} x {first['repeats']} repeats"
    )
    short = "imported table" if imported is not None else "SYNTHETIC table"
    notes = {
        "load_s": f"NB101Benchmark('full', path).data incl. import + checksum; "
        f"{how}; {what}",
        "load_mb": f"{how}; {short}",
        "total_s": f"load, then query(cell, 'valid@108'); {how}; {short}",
        "total_mb": f"{how}; {short}",
    }
    for (name, unit, target), key in zip(names, notes, strict=True):
        values = [r[key] for r in runs if r[key] is not None]
        if not values:
            rows.append(_not_measured("load", name, unit, "cannot read RSS", target))
            continue
        rows.append(
            _row("load", name, statistics.median(values), unit, target, notes[key])
        )
    return rows


# ---------------------------------------------------------------------------
# Driver and report
# ---------------------------------------------------------------------------
def _scale(steps: int, quick: bool) -> _Scale:
    if quick:
        return _Scale(
            steps=min(steps, _QUICK_STEPS),
            rounds=3,
            vector_rounds=2,
            scalar_queries=1000,
            vector_query_reps=5,
            load_repeats=1,
            nats_loops=100,
            surrogate_rounds=3,
            nb101_cells=_QUICK_NB101_CELLS,
        )
    return _Scale(
        steps=steps,
        rounds=10,
        vector_rounds=7,
        scalar_queries=20000,
        vector_query_reps=30,
        load_repeats=3,
        nats_loops=1000,
        surrogate_rounds=7,
        nb101_cells=NB101_FULL_CELLS,
    )


def run_perf(
    *,
    envs: list[str] | None = None,
    steps: int = 20000,
    vector_sizes: Sequence[int] = (64,),
    quick: bool = False,
    out: Path | None = None,
    leaderboard: bool = False,
) -> dict[str, Any]:
    """Measure env, vector-env, query and load speed; see the module docstring.

    Args:
        envs: Env ids to measure (``"nasgym/"`` may be left off); default every
            registered nasgym env. The query, load and nats_bench sections cover the
            benchmarks behind these envs.
        steps: Timed steps per env (split into interleaved rounds), and env-steps per
            vector env.
        vector_sizes: ``num_envs`` values for the vector section.
        quick: Shrink every count for a CI smoke run (a few seconds per env); vector
            sizes are capped at 16, below which the 10x target does not apply.
        out: Write the results as JSON here too.
        leaderboard: Also time the leaderboard harness
            (:func:`nasgym.leaderboard.perf.leaderboard_rows`).

    Returns:
        ``{"host": ..., "config": ..., "rows": [...], "summary": ..., "wall_s": ...}``;
        every row is a :class:`Row` as a dict.

    Raises:
        ValueError: ``steps`` or a vector size is not positive, or an env id is not
            registered.
    """
    if steps < 1 or any(int(n) < 1 for n in vector_sizes):
        raise ValueError("steps and vector sizes must be positive")
    started = time.perf_counter()
    # Supernet envs train a network per step: timed by docs/supernet_evidence.py.
    # The multi-fidelity envs step the benchmarks the Query rows already time.
    every = [e for e in ALL_ENVS if e not in SUPERNET_ENVS and e not in FIDELITY_ENVS]
    env_ids = [resolve_env_id(e) for e in (envs if envs is not None else every)]
    unknown = [e for e in env_ids if e not in gym.registry]
    if unknown:
        raise UnknownOptionError(
            f"unknown env id(s) {', '.join(unknown)}; nasgym envs: {', '.join(every)}"
        )
    scale = _scale(steps, quick)
    specs = _benches_for(env_ids)
    rows = _env_rows(env_ids, scale)
    sizes = [int(n) for n in vector_sizes]
    if quick:
        sizes = sorted({min(n, _QUICK_MAX_VECTOR_ENVS) for n in sizes})
    # Tabular envs: batched NumPy vector envs; graph envs (NB101, NB301, OFA): their
    # make_vec entry points (NB301 and OFA batch the model calls).
    vector_ids = [e for e in env_ids if e in ENVS or e in GRAPH_ENVS]
    rows += _vector_rows(vector_ids, sizes, scale)
    rows += _query_rows(specs, scale)
    for spec in specs:
        if spec.key == "nbgraph":
            rows += _nbgraph_peer_rows(spec.dataset, scale)
    modules = {ALL_ENVS[e][0] for e in env_ids if e in ALL_ENVS}
    if "nasgym.envs.nb301" in modules:
        rows += _surrogate_rows(scale)
    rows += _load_rows(specs, scale)
    for spec in specs:
        if spec.key == "nbgraph":
            rows += _nbgraph_cold_rows(spec.dataset, scale)
    if "nasgym.envs.nb101" in modules:
        rows += _nb101_load_rows(scale)
    if any(s.key == "nb201" for s in specs):
        rows += _nats_rows(scale)
        rows += _peer_rows(scale)
    if leaderboard:
        from nasgym.leaderboard.perf import leaderboard_rows

        rows += leaderboard_rows(quick)
    summary = {status: sum(r.status == status for r in rows) for status in _STATUSES}
    results: dict[str, Any] = json_safe(
        {
            "host": host_info(),
            "config": {
                "envs": env_ids,
                "quick": quick,
                **asdict(scale),
                "vector_sizes": sizes,
                "leaderboard": leaderboard,
            },
            "rows": [asdict(r) for r in rows],
            "summary": summary,
            "wall_s": time.perf_counter() - started,
        }
    )
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _fmt_value(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _fmt_target(target: dict[str, Any] | None, unit: str) -> str:
    if not target:
        return ""
    return f"{target['op']} {_fmt_value(float(target['value']))} {unit}".rstrip()


def format_report(results: dict[str, Any]) -> str:
    """Render :func:`run_perf` results as an aligned plain-text report."""
    host = results.get("host", {})
    config = results.get("config", {})
    lines = [
        "nasgym perf" + (" (quick)" if config.get("quick") else ""),
        f"  python {host.get('python')} ({host.get('implementation')}), "
        f"{host.get('platform')}",
        f"  CPU: {host.get('cpu_model')}, {host.get('cpu_count')} CPUs "
        f"({host.get('cpus_usable')} usable)",
        f"  numpy {host.get('numpy')}, gymnasium {host.get('gymnasium')}, "
        f"nasgym {host.get('nasgym')}, psutil {host.get('psutil') or '-'}, "
        f"nats_bench {host.get('nats_bench') or '-'}",
        f"  NASGYM_DATA_DIR={host.get('NASGYM_DATA_DIR') or '-'}  "
        f"NASGYM_CACHE_DIR={host.get('NASGYM_CACHE_DIR') or '-'}",
        f"  {host.get('date', '')}",
    ]
    rows: list[dict[str, Any]] = list(results.get("rows", []))
    table = [
        (
            str(r["name"]),
            _fmt_value(r["value"]),
            str(r["unit"]),
            _fmt_target(r.get("target"), str(r["unit"])),
            str(r["status"]).upper(),
            str(r.get("note", "")),
        )
        for r in rows
    ]
    header = ("name", "value", "unit", "target", "status", "note")
    widths = [max([len(header[i])] + [len(t[i]) for t in table]) for i in range(5)]

    def fmt(cells: tuple[str, ...]) -> str:
        name, value, unit, target, status, note = cells
        return (
            f"  {name:<{widths[0]}}  {value:>{widths[1]}}  {unit:<{widths[2]}}  "
            f"{target:<{widths[3]}}  {status:<{widths[4]}}  {note}"
        ).rstrip()

    for key, title in SECTIONS.items():
        section = [t for r, t in zip(rows, table, strict=True) if r["section"] == key]
        if not section:
            continue
        lines += ["", f"== {title}", fmt(header)]
        lines += [fmt(t) for t in section]
    summary = results.get("summary", {})
    lines += [
        "",
        "summary: "
        + ", ".join(f"{summary.get(s, 0)} {s}" for s in _STATUSES)
        + f"; {results.get('wall_s', 0.0):.1f} s",
    ]
    return "\n".join(lines)
