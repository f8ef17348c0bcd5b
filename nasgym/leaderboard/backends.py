"""Where runs execute: a local process pool, or Ray tasks.

Both backends call :func:`nasgym.leaderboard.execute.execute_run` on the same
:class:`~nasgym.leaderboard.execute.RunTask` objects and hand every
:class:`~nasgym.leaderboard.execute.RunOutcome` back to the caller in this process,
which writes the run files: workers never write to the output directory, so a run on
a remote Ray node still lands in the driver's ``--out``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from nasgym.error import require
from nasgym.leaderboard.errors import LeaderboardError
from nasgym.leaderboard.execute import RunOutcome, RunTask, execute_run

#: Backend names accepted by ``--backend``.
BACKENDS = ("local", "ray")

OutcomeHandler = Callable[[RunOutcome], None]
#: Called with the live total of queries done by all workers (local backend only).
QueryCountHandler = Callable[[int], None]

_POLL_S = 0.25


# ------------------------------------------------------------------ local backend
_counter: Any = None
_parent_pid: int | None = None


def _init_worker(counter: Any, parent_pid: int) -> None:
    global _counter, _parent_pid
    _counter = counter
    _parent_pid = parent_pid
    _watch_parent(parent_pid)
    # Ctrl-C goes to the whole process group; the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")


#: How often a worker's watchdog checks that the harness is alive.
_WATCHDOG_S = 0.5


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker soon after the harness dies, even mid-computation.

    Nobody would write its run (the harness writes run files), so it must not keep
    computing. A daemon thread polls the parent pid (portable; Linux's
    ``PR_SET_PDEATHSIG`` would fire when the *thread* that started the worker ends,
    which need not be the harness).
    """

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(_WATCHDOG_S)

    threading.Thread(target=watch, name="nasgym-parent-watchdog", daemon=True).start()


def _count_query() -> None:
    if os.getppid() != _parent_pid:
        # The harness died (e.g. SIGKILL): nobody will write this run. Stop at once.
        os._exit(3)
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += 1


def _local_run(task: RunTask) -> RunOutcome:
    return execute_run(task, _count_query)


def run_local(
    tasks: Sequence[RunTask],
    workers: int,
    on_outcome: OutcomeHandler,
    on_queries: QueryCountHandler | None = None,
) -> None:
    """Run ``tasks`` in a pool of ``workers`` spawned processes.

    Raises:
        LeaderboardError: A worker process died (out of memory, crashed).
    """
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(tasks))),
        mp_context=context,
        initializer=_init_worker,
        initargs=(counter, os.getpid()),
    )
    clean = False
    try:
        pending: set[Future[RunOutcome]] = {pool.submit(_local_run, t) for t in tasks}
        while pending:
            done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                on_outcome(future.result())
            if on_queries is not None:
                on_queries(int(counter.value))
        clean = True
    except BrokenProcessPool:
        raise LeaderboardError(
            "a worker process died (out of memory or crashed); the runs finished so "
            "far are saved: run the same command again to continue (try fewer "
            "--workers)"
        ) from None
    finally:
        if not clean:
            _terminate(pool)
        pool.shutdown(wait=clean, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now (after an error or Ctrl-C); their runs are lost anyway."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


# ------------------------------------------------------------------ Ray backend
def import_ray() -> Any:
    """Import Ray, or explain how to install it.

    Raises:
        MissingExtraError: Ray is not installed (the ``ray`` extra).
    """
    return require("ray", extra="ray", purpose="--backend ray")


def ray_init_options() -> dict[str, Any]:
    """Keyword arguments of ``ray.init`` for a cluster the harness starts."""
    return {
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "log_to_driver": False,
    }


def _ray_run(task: RunTask) -> RunOutcome:
    return execute_run(task)


def run_ray(
    tasks: Sequence[RunTask],
    workers: int,
    address: str | None,
    on_outcome: OutcomeHandler,
) -> None:
    """Run ``tasks`` as Ray tasks (one CPU each).

    Connects to the cluster at ``address`` when given, else starts a local Ray cluster
    with ``workers`` CPUs (and stops it at the end). An already initialised Ray
    session is reused as it is.

    Raises:
        MissingExtraError: Ray is not installed (the ``ray`` extra).
        LeaderboardError: The cluster cannot be reached.
    """
    if not tasks:
        return
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        options = ray_init_options()
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(address="local", num_cpus=workers, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = (
                f"the Ray cluster at {address}" if address else "a local Ray cluster"
            )
            raise LeaderboardError(f"could not start or reach {where}: {exc}") from None
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_run)
    refs: dict[Any, RunTask] = {}
    clean = False
    try:
        refs = {remote.remote(task): task for task in tasks}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=_POLL_S)
            for ref in done:
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    outcome = RunOutcome(refs[ref], error=f"Ray task failed: {exc}")
                on_outcome(outcome)
        clean = True
    finally:
        if not clean:
            for ref in refs:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # best effort while stopping
                    pass
        if started_here:
            ray.shutdown()
