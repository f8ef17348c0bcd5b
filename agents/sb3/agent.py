"""The leaderboard-agent shell around a stable-baselines3 algorithm.

:class:`SB3Agent` builds a seeded model on the env it is given, trains it until the
env's query budget is spent and keeps it for :meth:`SB3Agent.predict`,
:meth:`SB3Agent.save` and :meth:`SB3Agent.load`. The concrete agents
(:mod:`nasgym_agents.sb3.algorithms`) only name the algorithm, the env kind and a config
dataclass whose fields are the algorithm's keyword arguments.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import gymnasium as gym
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from nasgym.sb3 import StopOnBudget, quiet_logger

from ..baselines.common import check_positive_int, query_budget
from .common import (
    isolated_rngs,
    policy_name,
    require_action_space,
)


@dataclasses.dataclass(frozen=True)
class SB3Config:
    """Settings every stable-baselines3 agent has (besides the algorithm's own).

    Attributes:
        net_arch: Hidden layer sizes of the policy (and critic) networks, given to
            the policy as ``policy_kwargs={"net_arch": [...]}``.
        device: Torch device; ``"cpu"`` by default (small MLPs train fastest there).
        num_threads: Torch intra-op threads during training (restored afterwards);
            1 keeps CPU runs reproducible bit for bit. ``None`` leaves it unchanged.
        max_steps_per_query: Training fails (:class:`RuntimeError`) after
            ``max_steps_per_query * max_queries`` env steps without spending the
            budget, i.e. when the policy only proposes architectures it has already
            evaluated (free revisits).
        verbose: stable-baselines3's verbosity (0: silent).
    """

    net_arch: tuple[int, ...] = (256, 256)
    device: str = "cpu"
    num_threads: int | None = 1
    max_steps_per_query: int = 100
    verbose: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "net_arch", tuple(self.net_arch))
        for size in self.net_arch:
            check_positive_int("net_arch sizes", size)
        if self.num_threads is not None:
            check_positive_int("num_threads", self.num_threads)
        check_positive_int("max_steps_per_query", self.max_steps_per_query)

    #: Fields that are not keyword arguments of the algorithm.
    OWN_FIELDS: ClassVar[tuple[str, ...]] = (
        "net_arch",
        "num_threads",
        "max_steps_per_query",
    )

    def algorithm_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the stable-baselines3 algorithm."""
        kwargs = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in self.OWN_FIELDS
        }
        kwargs["policy_kwargs"] = {"net_arch": list(self.net_arch)}
        return kwargs


ConfigT = TypeVar("ConfigT", bound=SB3Config)


def make_config(cls: type[ConfigT], agent: str, config: dict[str, Any]) -> ConfigT:
    """Build ``cls(**config)``, naming the valid fields when one is unknown.

    Raises:
        ValueError: An unknown field, or a value the config rejects.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(config) - set(names))
    if unknown:
        raise ValueError(
            f"{agent}: unknown setting(s) {', '.join(map(repr, unknown))}; valid "
            f"settings: {', '.join(names)}"
        )
    return cls(**config)


class SB3Agent(Generic[ConfigT]):
    """A stable-baselines3 algorithm as a leaderboard agent (see the subclasses).

    Args:
        env: A nasgym env (possibly wrapped) of the kind the subclass needs, made
            with ``max_queries``.
        seed: Seeds the model (``seed=`` of the algorithm: torch, NumPy, Python and
            the action space) and the env's first ``reset``.
        **config: Fields of the subclass's config dataclass.

    Attributes:
        model: The model of the last :meth:`run` (or :meth:`load`), else ``None``.
        steps: Env steps the last :meth:`run` took.

    Raises:
        ValueError: The env is of the wrong kind (the message names the one
            needed), has no query budget, or a setting is unknown or out of range.
    """

    #: The stable-baselines3 algorithm class.
    algorithm: ClassVar[type[BaseAlgorithm]]
    #: The config dataclass.
    config_class: ClassVar[type[SB3Config]]
    #: The action-space class of the env kind the agent runs on.
    action_kind: ClassVar[type[gym.spaces.Space[Any]]]
    #: The env mode the leaderboard runs the agent on (see nasgym.leaderboard.agents).
    env_mode: ClassVar[str]

    def __init__(self, env: gym.Env[Any, Any], *, seed: int, **config: Any) -> None:
        name = type(self).__name__
        require_action_space(env, self.action_kind, name)
        self.env = env
        self.seed = int(seed)
        self.max_queries = query_budget(env, name)
        self.settings = cast(ConfigT, make_config(self.config_class, name, config))
        self.model: BaseAlgorithm | None = None
        self.steps = 0

    def config(self) -> dict[str, Any]:
        """The agent's settings (every config field), as recorded by the harness."""
        return dataclasses.asdict(self.settings)

    def extra_callbacks(self) -> list[BaseCallback]:
        """Callbacks of :meth:`run` besides the budget's (none by default)."""
        return []

    def build_model(self) -> BaseAlgorithm:
        """A fresh, seeded model on :attr:`env` (logging to no folder)."""
        return quiet_logger(
            self.algorithm(
                policy_name(self.env),
                self.env,
                seed=self.seed,
                **self.settings.algorithm_kwargs(),
            )
        )

    def run(self) -> None:
        """Train a fresh model from ``env.reset(seed=seed)`` until the budget is spent.

        Raises:
            RuntimeError: The budget was not spent within
                ``max_steps_per_query * max_queries`` env steps.
        """
        max_steps = self.settings.max_steps_per_query * self.max_queries
        with isolated_rngs(self.settings.num_threads):
            model = self.model = self.build_model()
            stop = StopOnBudget()
            model.learn(
                total_timesteps=max_steps, callback=[stop, *self.extra_callbacks()]
            )
        self.steps = stop.steps
        if not stop.exhausted:
            raise RuntimeError(
                f"{type(self).__name__}: {stop.steps} env steps without spending the "
                f"query budget (max_queries={self.max_queries}); the policy keeps "
                f"proposing architectures it has already evaluated "
                f"(max_steps_per_query={self.settings.max_steps_per_query})"
            )

    def predict(self, observation: Any) -> Any:
        """The trained policy's deterministic action for ``observation``.

        Raises:
            RuntimeError: There is no model yet (call :meth:`run` or :meth:`load`).
        """
        if self.model is None:
            raise RuntimeError(
                f"{type(self).__name__} has no model yet: call run() or load()"
            )
        action, _ = self.model.predict(observation, deterministic=True)
        return action

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the model (stable-baselines3's zip format) to ``path``.

        Raises:
            RuntimeError: There is no model yet.
        """
        if self.model is None:
            raise RuntimeError(
                f"{type(self).__name__} has no model to save: call run() first"
            )
        self.model.save(Path(path))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: gym.Env[Any, Any],
        *,
        seed: int = 0,
        **config: Any,
    ) -> SB3Agent[Any]:
        """An agent on ``env`` holding the model saved at ``path``.

        Args:
            path: A file written by :meth:`save`.
            env: The env to attach the model to (same spaces as the saved one's).
            seed: The agent's seed (for a later :meth:`run`).
            **config: Config fields of the new agent (``device`` is also used to
                load the model).
        """
        agent = cls(env, seed=seed, **config)
        with isolated_rngs(agent.settings.num_threads):
            agent.model = cls.algorithm.load(
                Path(path), env=env, device=agent.settings.device
            )
        return agent
