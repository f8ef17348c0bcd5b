"""Ape-X training, the reusable searcher, and the ``apex`` leaderboard agent.

:func:`train` runs N actors against one :class:`~nasgym_agents.apex.learner.Learner` on
any graph-edit env and returns an :class:`ApexSearcher`; the searcher is saved,
loaded and used on other datasets or seeds without retraining
(docs/methods/cassimon.md#evaluation-protocol-and-baselines).
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from ..baselines.common import check_positive_int, query_budget
from ..torch_state import forked_torch, torch_threads
from .actor import (
    Actor,
    action_mask,
    build_network,
    masked_epsilon_greedy,
    to_tensors,
)
from .backends import (
    ActorPool,
    EnvFactory,
    InlinePool,
    LocalPool,
    RayPool,
    make_env_factory,
)
from .config import ApexConfig
from .learner import Learner
from .network import ObsLayout, QNetwork, infer_layout, stack_obs

#: Tag of the files :meth:`ApexSearcher.save` writes.
FILE_FORMAT = "nasgym-apex-v1"

#: Settings of the ``apex`` leaderboard agent that differ from :class:`ApexConfig`'s
#: the paper's defaults (docs/methods/cassimon.md#ape-x-learner), because it trains
#: online within a budget of a few hundred
#: queries ([I]); any of them can be overridden.
LEADERBOARD_DEFAULTS: dict[str, Any] = {
    "num_actors": 4,
    "learning_starts": 64,
    "batch_size": 32,
    "target_update_period": 200,
    "env_steps_per_update": 1,
    "lr": 5e-4,
    "rollout_steps": 1,
}


def env_layout(env: gym.Env[Any, Any]) -> tuple[ObsLayout, int]:
    """Observation layout and action count of a graph-edit env.

    Raises:
        ValueError: The env has no ``Discrete`` actions or no graph observation.
    """
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(
            "the Ape-X agent edits architectures and needs a Discrete action space "
            f"with action masks (a nasgym ...Edit-v0 env); got {env.action_space!r}"
        )
    return infer_layout(env.observation_space), int(env.action_space.n)


@dataclasses.dataclass(frozen=True)
class TrainStats:
    """What a training run did.

    Attributes:
        env_steps: Env steps taken by all actors.
        transitions: n-step transitions the learner received.
        updates: Learner updates.
        per_actor_steps: Env steps of each actor.
        per_actor_transitions: Transitions the learner received from each actor.
        losses: Loss of every update.
    """

    env_steps: int
    transitions: int
    updates: int
    per_actor_steps: tuple[int, ...]
    per_actor_transitions: tuple[int, ...]
    losses: tuple[float, ...]


def drive(
    learner: Learner,
    pool: ActorPool,
    quotas: list[int],
    config: ApexConfig,
) -> TrainStats:
    """The learner's loop, the same for every backend.

    Each actor gets rollouts until it has taken its quota of env steps (or its env's
    budget is spent); after each rollout the learner stores it, runs the updates
    owed, and sends its weights along with the next request once the actor has
    taken ``weight_sync_period`` steps since its last copy.
    """
    n = len(quotas)
    left = list(quotas)
    since_sync = [0] * n
    done_steps = [0] * n
    received = [0] * n
    weights = learner.weights()
    active = 0
    for i in range(n):
        if left[i] > 0:
            pool.submit(i, min(config.rollout_steps, left[i]), weights)
            active += 1
    while active:
        i, batch, priorities, taken, exhausted = pool.next_result()
        learner.add(batch, priorities, taken)
        learner.catch_up()
        left[i] -= taken
        done_steps[i] += taken
        received[i] += len(priorities)
        since_sync[i] += taken
        if left[i] <= 0 or exhausted or taken == 0:
            active -= 1
            continue
        sync = None
        if since_sync[i] >= config.weight_sync_period:
            sync, since_sync[i] = learner.weights(), 0
        pool.submit(i, min(config.rollout_steps, left[i]), sync)
    return TrainStats(
        env_steps=learner.env_steps,
        transitions=learner.replay.added,
        updates=learner.updates,
        per_actor_steps=tuple(done_steps),
        per_actor_transitions=tuple(received),
        losses=tuple(learner.losses),
    )


def _split_steps(total: int, n: int) -> list[int]:
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def train(
    env: str | EnvFactory,
    total_steps: int,
    *,
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    **config: Any,
) -> tuple[ApexSearcher, TrainStats]:
    """Train an Ape-X searcher on a graph-edit env.

    Args:
        env: An env id (made with ``gym.make(env, **env_kwargs)`` once per actor)
            or a zero-argument factory; it must pickle for the ``local`` and
            ``ray`` backends.
        total_steps: Env steps of all actors together.
        env_kwargs: Keyword arguments of ``gym.make`` (e.g. ``dataset=``,
            ``benchmark=``, ``surrogate=``).
        seed: Seeds the networks, the replay, and each actor's env and generator.
        **config: Fields of :class:`ApexConfig` (``backend`` picks the backend).

    Returns:
        The trained searcher (the online network) and the run's statistics.
    """
    cfg = ApexConfig(**config)
    check_positive_int("total_steps", total_steps)
    factory = make_env_factory(env, dict(env_kwargs or {}))
    probe = factory()
    layout, num_actions = env_layout(probe)
    seeds = np.random.SeedSequence(seed).generate_state(cfg.num_actors + 1)
    learner_seed, actor_seeds = int(seeds[0]) % 2**31, [int(s) for s in seeds[1:]]
    epsilons = cfg.epsilons()
    quotas = _split_steps(total_steps, cfg.num_actors)
    with forked_torch(cfg.num_threads):
        learner = Learner(layout, num_actions, cfg, learner_seed)
        if cfg.init_from is not None:
            start = ApexSearcher.load(cfg.init_from)
            _check_compatible(start, layout, num_actions)
            learner.online.load_state_dict(start.net.state_dict())
            learner.target.load_state_dict(start.net.state_dict())
        pool: ActorPool
        if cfg.backend == "inline":
            envs = [probe] + [factory() for _ in range(cfg.num_actors - 1)]
            actors = [
                Actor(e, layout, num_actions, cfg, [eps], s)
                for e, eps, s in zip(envs, epsilons, actor_seeds, strict=True)
            ]
            pool = InlinePool(actors)
        else:
            probe.close()
            workers = [
                {
                    "index": i,
                    "make_env": factory,
                    "layout": layout,
                    "num_actions": num_actions,
                    "config": cfg,
                    "epsilon": epsilons[i],
                    "seed": actor_seeds[i],
                    "num_threads": 1,
                }
                for i in range(cfg.num_actors)
            ]
            if cfg.backend == "local":
                pool = LocalPool(workers, cfg.mp_start_method)
            else:
                pool = RayPool(workers, cfg.ray_address)
        try:
            stats = drive(learner, pool, quotas, cfg)
        finally:
            pool.close()
    return ApexSearcher(learner.online, cfg), stats


def _check_compatible(
    searcher: ApexSearcher, layout: ObsLayout, num_actions: int
) -> None:
    if searcher.layout != layout or searcher.num_actions != num_actions:
        raise ValueError(
            f"the searcher was trained on observations {searcher.layout} with "
            f"{searcher.num_actions} actions; this env has {layout} and "
            f"{num_actions} actions"
        )


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """One greedy search (docs/methods/cassimon.md#evaluation-protocol-and-baselines).

    Attributes:
        best_valid: ``best_valid[q - 1]``: best validation accuracy (%) after ``q``
            queries.
        valid: Validation accuracy (%) of each query, in order.
        queries_to_optimum: Queries until ``info["regret"] == 0`` (the env's
            optimum found), ``None`` if not reached or unknown (always under the
            leaderboard harness, which hides test-derived keys from agents).
        best_test: Test accuracy of the best-validation architecture at the end
            (NaN when the env hides it, as the harness does).
        steps: Env steps taken.
    """

    best_valid: tuple[float, ...]
    valid: tuple[float, ...]
    queries_to_optimum: int | None
    best_test: float
    steps: int


class ApexSearcher:
    """A trained Q-network that searches greedily with masking.

    Args:
        net: The Q-network.
        config: The settings it was trained with (``search_epsilon``,
            ``max_steps_per_query`` and ``num_threads`` are used here).
    """

    def __init__(self, net: QNetwork, config: ApexConfig) -> None:
        self.net = net
        self.net.eval()
        self.config = config

    @property
    def layout(self) -> ObsLayout:
        """The observation layout the network reads."""
        return self.net.layout

    @property
    def num_actions(self) -> int:
        """``|A|``."""
        return self.net.num_actions

    @classmethod
    def untrained(
        cls, env: gym.Env[Any, Any], seed: int = 0, **config: Any
    ) -> ApexSearcher:
        """A searcher with freshly initialised weights (a baseline)."""
        cfg = ApexConfig(**config)
        layout, num_actions = env_layout(env)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = build_network(layout, num_actions, cfg)
        return cls(net, cfg)

    def q_values(self, obs: dict[str, Any], mask: np.ndarray) -> np.ndarray:
        """Masked Q-values of one observation (``-inf`` where illegal)."""
        with torch.no_grad():
            q = self.net(
                to_tensors(stack_obs(self.layout, [obs])), torch.as_tensor(mask[None])
            )
        out: np.ndarray = q[0].double().numpy()
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network and its settings to ``path``."""
        torch.save(
            {
                "format": FILE_FORMAT,
                "config": dataclasses.asdict(self.config),
                "layout": dataclasses.asdict(self.layout),
                "num_actions": self.num_actions,
                "state_dict": self.net.state_dict(),
            },
            Path(path),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ApexSearcher:
        """Read a searcher written by :meth:`save`.

        Raises:
            ValueError: The file is not an Ape-X searcher.
        """
        data = torch.load(Path(path), map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not a {FILE_FORMAT} file")
        cfg = ApexConfig(**data["config"])
        layout = ObsLayout(**data["layout"])
        net = build_network(layout, int(data["num_actions"]), cfg)
        net.load_state_dict(data["state_dict"])
        return cls(net, cfg)

    def search(self, env: gym.Env[Any, Any], seed: int, budget: int) -> SearchResult:
        """Search ``env`` greedily (epsilon ``search_epsilon``) for ``budget`` queries.

        Starts with ``env.reset(seed=seed)``; a truncation with queries left is
        followed by ``env.reset()`` (the search continues from a new start). Stops
        once ``budget`` queries are made or ``info["budget_exhausted"]``.

        Raises:
            ValueError: The env's observations or actions differ from training's.
            RuntimeError: ``max_steps_per_query * budget`` steps did not spend it.
        """
        check_positive_int("budget", budget)
        layout, num_actions = env_layout(env)
        _check_compatible(self, layout, num_actions)
        rng = np.random.default_rng(seed)
        best: list[float] = []
        valid: list[float] = []
        to_optimum: int | None = None
        steps = 0

        def record(info: dict[str, Any]) -> None:
            nonlocal to_optimum
            if info["new_query"] and len(valid) < budget:
                valid.append(float(info["valid_accuracy"]))
            while len(best) < min(int(info["queries"]), budget):
                best.append(float(info["best_valid_accuracy"]))
            # Test-derived keys are absent under the harness (HideTestInfo).
            regret = float(info.get("regret", math.nan))
            if to_optimum is None and math.isfinite(regret) and regret <= 1e-9:
                to_optimum = int(info["queries"])

        with torch_threads(self.config.num_threads):
            obs, info = env.reset(seed=seed)
            record(info)
            while len(best) < budget and not info["budget_exhausted"]:
                if steps >= self.config.max_steps_per_query * budget:
                    raise RuntimeError(
                        f"Ape-X search took {steps} steps for {len(best)} of "
                        f"{budget} queries (max_steps_per_query="
                        f"{self.config.max_steps_per_query})"
                    )
                mask = action_mask(info, num_actions)
                q = self.q_values(obs, mask)
                action = masked_epsilon_greedy(q, mask, self.config.search_epsilon, rng)
                obs, _, terminated, truncated, info = env.step(action)
                steps += 1
                record(info)
                if (terminated or truncated) and not info["budget_exhausted"]:
                    obs, info = env.reset()
                    record(info)
        return SearchResult(
            best_valid=tuple(best),
            valid=tuple(valid),
            queries_to_optimum=to_optimum,
            best_test=float(info.get("best_test_accuracy", math.nan)),
            steps=steps,
        )


class Apex:
    """The ``apex`` leaderboard agent.

    Without ``init_from`` it trains online on the budgeted env with the inline
    backend: one actor whose episodes cycle through the Ape-X epsilons of
    ``num_actors`` actors, until ``info["budget_exhausted"]``. With ``init_from``
    (a file of :meth:`ApexSearcher.save`) it only searches with that network.
    Settings: :class:`ApexConfig`, with :data:`LEADERBOARD_DEFAULTS`.

    Args:
        env: A graph-edit env made with ``max_queries``.
        seed: Seeds the search.
        **config: Fields of :class:`ApexConfig`.
    """

    #: The leaderboard runs Ape-X on the Edit env of the space it is given.
    env_mode: ClassVar[str] = "Edit"

    def __init__(self, env: gym.Env[Any, Any], seed: int = 0, **config: Any) -> None:
        self.env = env
        self.seed = int(seed)
        self.config = ApexConfig(**{**LEADERBOARD_DEFAULTS, **config})
        self.max_queries = query_budget(env, "apex")
        self.layout, self.num_actions = env_layout(env)
        self.searcher: ApexSearcher | None = None
        self.stats: TrainStats | None = None

    def run(self) -> None:
        """Train (or load) and search until the env's budget is spent."""
        cfg = self.config
        if cfg.init_from is not None:
            self.searcher = ApexSearcher.load(cfg.init_from)
            self.searcher.search(self.env, self.seed, self.max_queries)
            return
        with forked_torch(cfg.num_threads):
            learner = Learner(self.layout, self.num_actions, cfg, self.seed)
            actor = Actor(
                self.env, self.layout, self.num_actions, cfg, cfg.epsilons(), self.seed
            )
            cap = cfg.max_steps_per_query * self.max_queries
            self.stats = drive(learner, InlinePool([actor]), [cap], cfg)
            if not actor.exhausted:
                raise RuntimeError(
                    f"apex took {cap} env steps without spending max_queries="
                    f"{self.max_queries}"
                )
        self.searcher = ApexSearcher(learner.online, cfg)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the trained searcher (after :meth:`run`)."""
        if self.searcher is None:
            raise RuntimeError("run() the agent before saving it")
        self.searcher.save(path)
