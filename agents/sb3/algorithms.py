"""Ready stable-baselines3 / sb3-contrib configurations for the three env kinds.

=================  ==========================  ===============================
agent (entry)      algorithm                   env kind
=================  ==========================  ===============================
``sac``            SAC                         ``...Continuous-v0`` (Box)
``td3``            TD3                         ``...Continuous-v0`` (Box)
``ppo``            PPO                         ``...Query-v0`` (MultiDiscrete)
``maskable_ppo``   sb3-contrib MaskablePPO     ``...Edit-v0`` (Discrete+masks)
=================  ==========================  ===============================

Defaults are chosen for searches of a few hundred queries, where every env step is
one (possibly free) benchmark query: learning starts after 20 steps (as L2NAS's 20
random warm-up queries), updates follow every step, and on-policy rollouts are 32 or
64 steps instead of 2048. The continuous envs are treated as one-step problems
(``gamma=0``, as L2NAS, docs/methods/l2nas.md#actor): a proposed architecture's reward
does not
depend on later actions. Every other value is stable-baselines3's default.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from .agent import SB3Agent, SB3Config
from .common import NoiseFeedback, RevisitNoise


@dataclasses.dataclass(frozen=True)
class OffPolicyConfig(SB3Config):
    """The replay settings SAC and TD3 share (stable-baselines3 keyword arguments).

    Attributes:
        learning_rate: Adam step size of every network.
        buffer_size: Replay buffer capacity (steps); larger than any budget here.
        learning_starts: Random steps before the first update (20, as L2NAS's N0).
        batch_size: Minibatch size (64, as L2NAS).
        tau: Polyak coefficient of the target networks.
        gamma: Discount; 0 treats each query as a one-step episode
            (docs/methods/l2nas.md#actor).
        train_freq: Env steps between updates.
        gradient_steps: Gradient steps per update.
    """

    learning_rate: float = 3e-4
    buffer_size: int = 100_000
    learning_starts: int = 20
    batch_size: int = 64
    tau: float = 0.005
    gamma: float = 0.0
    train_freq: int = 1
    gradient_steps: int = 1


@dataclasses.dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    """Settings of :class:`SACAgent` (stable-baselines3 ``SAC`` keyword arguments).

    The replay settings of :class:`OffPolicyConfig` (``learning_rate`` 3e-4 for
    actor, critics and entropy coefficient), plus:

    Attributes:
        ent_coef: Entropy coefficient, or ``"auto"`` to tune it.
    """

    ent_coef: str | float = "auto"


@dataclasses.dataclass(frozen=True)
class TD3Config(OffPolicyConfig):
    """Settings of :class:`TD3Agent` (stable-baselines3 ``TD3`` keyword arguments).

    The replay settings of :class:`OffPolicyConfig` with ``learning_rate`` 1e-3 for
    actor and critics, plus:

    Attributes:
        learning_rate: Adam step size of actor and critics (1e-3, TD3's default).
        action_noise_sigma: Standard deviation of the Gaussian exploration noise
            added to every action score (0.1, as L2NAS's sigma); 0 disables it.
        revisit_noise_growth: The noise's factor per step in a row without a new
            query (2.0, as L2NAS's; [I], see
            :class:`nasgym_agents.sb3.common.RevisitNoise`);
            1.0 keeps it constant. Without it, TD3's deterministic actor can settle
            on architectures already evaluated and never spend the budget (3 of 90
            NB201 runs at budget 300 did).
        policy_delay: Critic updates per actor update.
        target_policy_noise: Noise of the target policy smoothing.
        target_noise_clip: Clip of that noise.
    """

    learning_rate: float = 1e-3
    action_noise_sigma: float = 0.1
    revisit_noise_growth: float = 2.0
    policy_delay: int = 2
    target_policy_noise: float = 0.2
    target_noise_clip: float = 0.5

    OWN_FIELDS: ClassVar[tuple[str, ...]] = (
        *SB3Config.OWN_FIELDS,
        "action_noise_sigma",
        "revisit_noise_growth",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (np.isfinite(self.action_noise_sigma) and self.action_noise_sigma >= 0):
            raise ValueError(
                f"action_noise_sigma must be >= 0, got {self.action_noise_sigma!r}"
            )
        growth = self.revisit_noise_growth
        if not (np.isfinite(growth) and growth >= 1.0):
            raise ValueError(f"revisit_noise_growth must be >= 1, got {growth!r}")


@dataclasses.dataclass(frozen=True)
class PPOConfig(SB3Config):
    """Settings of :class:`PPOAgent` and :class:`MaskablePPOAgent` (PPO arguments).

    Attributes:
        learning_rate: Adam step size.
        n_steps: Rollout length between updates (32: several updates within a
            budget of a few hundred queries).
        batch_size: Minibatch size (``n_steps`` must be a multiple of it).
        n_epochs: Passes over each rollout.
        gamma: Discount.
        gae_lambda: GAE parameter.
        clip_range: PPO's clipping parameter.
        ent_coef: Entropy bonus coefficient.
        vf_coef: Value-loss coefficient.
        max_grad_norm: Gradient clipping norm.
    """

    learning_rate: float = 3e-4
    n_steps: int = 32
    batch_size: int = 32
    n_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    net_arch: tuple[int, ...] = (64, 64)


class SACAgent(SB3Agent[SACConfig]):
    """stable-baselines3 SAC on a ``...Continuous-v0`` env, as a leaderboard agent.

    The action is one score per (slot, choice) in ``[-1, 1]``, which the env decodes
    by argmax; the observation is the env's top-K history statistics. Training runs
    from the seeded first reset until ``info["budget_exhausted"]``. Settings: the
    fields of :class:`SACConfig` (and :class:`~nasgym_agents.sb3.agent.SB3Config`).

    Example:
        >>> import gymnasium as gym, nasgym
        >>> env = gym.make("nasgym/NBGraphContinuous-v0", max_queries=25)
        >>> agent = SACAgent(env, seed=0, net_arch=(16,))
        >>> agent.run()
        >>> env.unwrapped.search_info()["queries"]
        25
    """

    algorithm = SAC
    config_class = SACConfig
    action_kind = gym.spaces.Box
    env_mode = "Continuous"


class TD3Agent(SB3Agent[TD3Config]):
    """stable-baselines3 TD3 on a ``...Continuous-v0`` env, as a leaderboard agent.

    As :class:`SACAgent`, with TD3's deterministic actor explored by Gaussian action
    noise (``action_noise_sigma``). Settings: the fields of :class:`TD3Config`.
    """

    algorithm = TD3
    config_class = TD3Config
    action_kind = gym.spaces.Box
    env_mode = "Continuous"

    noise: RevisitNoise | None = None

    def build_model(self) -> BaseAlgorithm:
        """A fresh, seeded TD3 model with the configured Gaussian action noise."""
        kwargs: dict[str, Any] = self.settings.algorithm_kwargs()
        sigma = self.settings.action_noise_sigma
        self.noise = None
        if sigma > 0:
            dim = int(np.prod(self.env.action_space.shape or ()))
            self.noise = RevisitNoise(dim, sigma, self.settings.revisit_noise_growth)
            kwargs["action_noise"] = self.noise
        return TD3("MlpPolicy", self.env, seed=self.seed, **kwargs)

    def extra_callbacks(self) -> list[BaseCallback]:
        """Widen the action noise while no new architecture is found."""
        return [] if self.noise is None else [NoiseFeedback(self.noise)]


class PPOAgent(SB3Agent[PPOConfig]):
    """stable-baselines3 PPO on a ``...Query-v0`` env, as a leaderboard agent.

    Each action names a whole architecture (one categorical choice per slot); the
    observation is the graph ``Dict`` of the last queried architecture, so the
    policy is ``MultiInputPolicy``. A vector the space rules out costs no query.
    Settings: the fields of :class:`PPOConfig`.
    """

    algorithm = PPO
    config_class = PPOConfig
    action_kind = gym.spaces.MultiDiscrete
    env_mode = "Query"


class MaskablePPOAgent(SB3Agent[PPOConfig]):
    """sb3-contrib MaskablePPO on a ``...Edit-v0`` env, as a leaderboard agent.

    Each action edits one slot of the current architecture; illegal edits are masked
    through the env's ``action_masks()``, at every rollout step and in
    :meth:`predict`. Settings: the fields of :class:`PPOConfig`.
    """

    algorithm = MaskablePPO
    config_class = PPOConfig
    action_kind = gym.spaces.Discrete
    env_mode = "Edit"

    def predict(self, observation: Any, action_masks: Any = None) -> Any:
        """The deterministic masked action (masks default to the env's current).

        Raises:
            RuntimeError: There is no model yet (call :meth:`run` or :meth:`load`).
        """
        model: Any = self.model  # a MaskablePPO (sb3-contrib is untyped)
        if model is None:
            raise RuntimeError(
                f"{type(self).__name__} has no model yet: call run() or load()"
            )
        if action_masks is None:
            action_masks = self.env.get_wrapper_attr("action_masks")()
        action, _ = model.predict(
            observation, deterministic=True, action_masks=action_masks
        )
        return action
