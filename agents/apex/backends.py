"""Where the actors run: inline (round-robin), local processes, or Ray actors.

Every backend offers the same two calls to the learner's loop in
:func:`nasgym_agents.apex.training.drive`: ``submit(i, steps, weights)`` asks
actor ``i`` for a rollout of ``steps`` env steps (loading ``weights`` first when
given), and ``next_result()`` returns the next finished rollout as ``(i, batch,
priorities, steps_taken, budget_exhausted)``.
Inline results come back in submission order, so inline runs are exactly reproducible.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import queue
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch

import nasgym  # noqa: F401  (registers the env ids, also in a fresh actor process)
from nasgym.error import require

from .actor import Actor, Weights
from .config import ApexConfig
from .network import ObsLayout
from .replay import Batch

EnvFactory = Callable[[], gym.Env[Any, Any]]
Result = tuple[int, Batch, np.ndarray, int, bool]


def make_env_factory(env: str | EnvFactory, env_kwargs: dict[str, Any]) -> EnvFactory:
    """A picklable zero-argument env factory from an env id (plus kwargs)."""
    if isinstance(env, str):
        return functools.partial(gym.make, env, **env_kwargs)
    if env_kwargs:
        raise ValueError("env_kwargs apply only when the env is given by its id")
    return env


class ActorPool(Protocol):
    """The learner's view of its actors."""

    def submit(self, index: int, steps: int, weights: Weights | None) -> None:
        """Ask actor ``index`` for ``steps`` env steps."""

    def next_result(self) -> Result:
        """Block until a rollout is done; return it."""

    def close(self) -> None:
        """Stop the actors."""


class ActorWorker:
    """An :class:`Actor` that makes its own env (the unit every backend runs)."""

    def __init__(
        self,
        index: int,
        make_env: EnvFactory,
        layout: ObsLayout,
        num_actions: int,
        config: ApexConfig,
        epsilon: float,
        seed: int,
        num_threads: int | None = None,
    ) -> None:
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        self.index = index
        self.actor = Actor(make_env(), layout, num_actions, config, [epsilon], seed)

    def rollout(self, steps: int, weights: Weights | None) -> Result:
        """Load ``weights`` (if any) and take ``steps`` env steps."""
        if weights is not None:
            self.actor.set_weights(weights)
        batch, priorities, taken = self.actor.rollout(steps)
        return self.index, batch, priorities, taken, self.actor.exhausted


class InlinePool:
    """Actors in this process, each rollout run when its result is asked for."""

    def __init__(self, actors: list[Actor]) -> None:
        self.actors = actors
        self.pending: deque[tuple[int, int, Weights | None]] = deque()

    def submit(self, index: int, steps: int, weights: Weights | None) -> None:
        """Queue a rollout."""
        self.pending.append((index, steps, weights))

    def next_result(self) -> Result:
        """Run the oldest queued rollout."""
        index, steps, weights = self.pending.popleft()
        actor = self.actors[index]
        if weights is not None:
            actor.set_weights(weights)
        batch, priorities, taken = actor.rollout(steps)
        return index, batch, priorities, taken, actor.exhausted

    def close(self) -> None:
        """Nothing to stop."""


def _local_worker(
    kwargs: dict[str, Any], commands: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    worker = ActorWorker(**kwargs)
    while True:
        command = commands.get()
        if command is None:
            return
        results.put(worker.rollout(*command))


class LocalPool:
    """One process per actor, fed through a command queue each and one result queue."""

    def __init__(self, workers: list[dict[str, Any]], start_method: str) -> None:
        ctx: Any = mp.get_context(start_method)
        self.results: Any = ctx.Queue()
        self.commands: list[Any] = []
        self.processes: list[Any] = []
        for kwargs in workers:
            commands = ctx.Queue()
            proc = ctx.Process(
                target=_local_worker, args=(kwargs, commands, self.results), daemon=True
            )
            proc.start()
            self.commands.append(commands)
            self.processes.append(proc)

    def submit(self, index: int, steps: int, weights: Weights | None) -> None:
        """Send the command to actor ``index``'s process."""
        self.commands[index].put((steps, weights))

    def next_result(self) -> Result:
        """The next rollout any process finishes.

        Raises:
            RuntimeError: An actor process died.
        """
        while True:
            try:
                result: Result = self.results.get(timeout=5.0)
                return result
            except queue.Empty:
                dead = [p.exitcode for p in self.processes if not p.is_alive()]
                if dead:
                    raise RuntimeError(
                        f"an Ape-X actor process exited (exit codes {dead})"
                    ) from None

    def close(self) -> None:
        """Stop and join every process."""
        for commands in self.commands:
            commands.put(None)
        for proc in self.processes:
            proc.join(timeout=10.0)
            if proc.is_alive():
                proc.terminate()
                proc.join()


class RayPool:
    """Actors as Ray actors; joins ``address`` or starts a local cluster."""

    def __init__(self, workers: list[dict[str, Any]], address: str | None) -> None:
        ray = require("ray", extra="ray", purpose="the Ape-X Ray backend")

        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            if address is None:
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self.started = True
        remote: Any = ray.remote(num_cpus=0)(ActorWorker)
        self.handles: list[Any] = [remote.remote(**kwargs) for kwargs in workers]
        self.inflight: dict[Any, int] = {}

    def submit(self, index: int, steps: int, weights: Weights | None) -> None:
        """Call the actor's ``rollout`` remotely."""
        ref = self.handles[index].rollout.remote(steps, weights)
        self.inflight[ref] = index

    def next_result(self) -> Result:
        """The first finished rollout."""
        done, _ = self.ray.wait(list(self.inflight), num_returns=1)
        self.inflight.pop(done[0])
        result: Result = self.ray.get(done[0])
        return result

    def close(self) -> None:
        """Kill the actors; stop the cluster if this pool started it."""
        for handle in self.handles:
            self.ray.kill(handle)
        if self.started:
            self.ray.shutdown()
